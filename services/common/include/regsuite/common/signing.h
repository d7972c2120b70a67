#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace regsuite::common {

/// Signature algorithms of API.md "Authentication: signed requests".
enum class SignatureMethod { kHmacSha256, kHmacSm3 };

/// "HMAC-SHA256" (also when empty: the default) or "HMAC-SM3"; anything else is an error.
absl::StatusOr<SignatureMethod> ParseSignatureMethod(absl::string_view name);
absl::string_view SignatureMethodName(SignatureMethod method);

/// Lower-case hex of SHA-256 or SM3 of `body`, as the method requires.
std::string BodyDigestHex(SignatureMethod method, absl::string_view body);

/// METHOD \n PATH \n QUERY \n TIMESTAMP \n NONCE \n hex(H(body)).
std::string StringToSign(absl::string_view http_method, absl::string_view path,
                         absl::string_view canonical_query, absl::string_view timestamp,
                         absl::string_view nonce, absl::string_view body_digest_hex);

/// base64 (standard, padded) of HMAC(secret, string_to_sign) with SHA-256 or SM3.
std::string SignatureBase64(SignatureMethod method, absl::string_view secret,
                            absl::string_view string_to_sign);

/// Compares two signatures in time independent of where they differ.
bool SignaturesEqual(absl::string_view a, absl::string_view b);

/// A fresh nonce of 32 characters from [A-Za-z0-9_-] (API.md: 16–64 such characters).
std::string NewNonce();

}  // namespace regsuite::common
