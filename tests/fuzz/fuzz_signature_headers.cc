// libFuzzer: the signature header parser (API.md x-app-key, x-timestamp, x-nonce,
// x-signature-method, x-signature) on arbitrary headers. The input is lines of
// "name:value"; a line without ':' is a header with an empty value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/strings/str_split.h"
#include "signature_headers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::multimap<std::string, std::string> headers;
  for (absl::string_view line : absl::StrSplit(input, '\n')) {
    const size_t colon = line.find(':');
    headers.emplace(std::string(line.substr(0, colon)),
                    colon == absl::string_view::npos ? "" : std::string(line.substr(colon + 1)));
  }
  auto parsed = regsuite::gateway::ParseSignatureHeaders(headers);
  if (!parsed.ok()) {
    if (parsed.status().code() != absl::StatusCode::kUnauthenticated) std::abort();
    return 0;
  }
  // What the parser accepts must satisfy API.md's rules for form.
  if (parsed->app_key.empty() || parsed->signature.empty() || parsed->timestamp < 0) std::abort();
  if (parsed->nonce.size() < 16 || parsed->nonce.size() > 64) std::abort();
  for (char c : parsed->nonce) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) std::abort();
  }
  return 0;
}
