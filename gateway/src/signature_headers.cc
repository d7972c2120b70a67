#include "signature_headers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace regsuite::gateway {
namespace {

const std::string* Header(const std::multimap<std::string, std::string>& headers,
                          const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? nullptr : &it->second;
}

bool NonceCharsetOk(absl::string_view nonce) {
  for (char c : nonce) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

absl::Status Unauthenticated(absl::string_view header, absl::string_view rule) {
  return absl::UnauthenticatedError(absl::StrCat(header, ": ", rule));
}

absl::StatusOr<SignatureHeaders> ParseSignatureHeaders(
    const std::multimap<std::string, std::string>& headers) {
  SignatureHeaders out;
  const std::string* app_key = Header(headers, "x-app-key");
  const std::string* timestamp = Header(headers, "x-timestamp");
  const std::string* nonce = Header(headers, "x-nonce");
  const std::string* method = Header(headers, "x-signature-method");
  const std::string* signature = Header(headers, "x-signature");
  if (app_key == nullptr || app_key->empty()) return Unauthenticated("x-app-key", "missing");
  if (timestamp == nullptr) return Unauthenticated("x-timestamp", "missing");
  if (nonce == nullptr) return Unauthenticated("x-nonce", "missing");
  if (signature == nullptr || signature->empty()) return Unauthenticated("x-signature", "missing");
  out.app_key = *app_key;
  if (timestamp->empty() || timestamp->size() > 12 || !absl::SimpleAtoi(*timestamp, &out.timestamp) ||
      timestamp->find_first_not_of("0123456789") != std::string::npos) {
    return Unauthenticated("x-timestamp", "must be Unix time in seconds");
  }
  if (nonce->size() < 16 || nonce->size() > 64 || !NonceCharsetOk(*nonce)) {
    return Unauthenticated("x-nonce", "must be 16-64 characters from [A-Za-z0-9_-]");
  }
  out.nonce = *nonce;
  auto parsed_method = common::ParseSignatureMethod(method == nullptr ? "" : *method);
  if (!parsed_method.ok()) return absl::UnauthenticatedError(parsed_method.status().message());
  out.method = *parsed_method;
  out.signature = *signature;
  return out;
}

}  // namespace regsuite::gateway
