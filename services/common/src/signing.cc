#include "regsuite/common/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/check.h"

namespace regsuite::common {
namespace {

const EVP_MD* Digest(SignatureMethod method) {
  return method == SignatureMethod::kHmacSm3 ? EVP_sm3() : EVP_sha256();
}

}  // namespace

absl::StatusOr<SignatureMethod> ParseSignatureMethod(absl::string_view name) {
  if (name.empty() || name == "HMAC-SHA256") return SignatureMethod::kHmacSha256;
  if (name == "HMAC-SM3") return SignatureMethod::kHmacSm3;
  return absl::InvalidArgumentError(
      absl::StrCat("x-signature-method: must be HMAC-SHA256 or HMAC-SM3, got \"", name, "\""));
}

absl::string_view SignatureMethodName(SignatureMethod method) {
  return method == SignatureMethod::kHmacSm3 ? "HMAC-SM3" : "HMAC-SHA256";
}

std::string BodyDigestHex(SignatureMethod method, absl::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  RS_CHECK(EVP_Digest(body.data(), body.size(), digest, &len, Digest(method), nullptr) == 1);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), len));
}

std::string StringToSign(absl::string_view http_method, absl::string_view path,
                         absl::string_view canonical_query, absl::string_view timestamp,
                         absl::string_view nonce, absl::string_view body_digest_hex) {
  return absl::StrCat(http_method, "\n", path, "\n", canonical_query, "\n", timestamp, "\n",
                      nonce, "\n", body_digest_hex);
}

std::string SignatureBase64(SignatureMethod method, absl::string_view secret,
                            absl::string_view string_to_sign) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  RS_CHECK(HMAC(Digest(method), secret.data(), static_cast<int>(secret.size()),
                reinterpret_cast<const unsigned char*>(string_to_sign.data()),
                string_to_sign.size(), mac, &len) != nullptr);
  return absl::Base64Escape(absl::string_view(reinterpret_cast<char*>(mac), len));
}

bool SignaturesEqual(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string NewNonce() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  unsigned char bytes[32];
  RS_CHECK(RAND_bytes(bytes, sizeof bytes) == 1);
  std::string nonce;
  for (unsigned char b : bytes) nonce.push_back(kAlphabet[b & 63]);
  return nonce;
}

}  // namespace regsuite::common
