#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace regsuite::gateway {

/// Seals client secrets with AES-256-GCM under the gateway master key. HMAC verification needs
/// the secret itself, so secrets are stored encrypted rather than hashed; the master key comes
/// from REGSUITE_AUTH_MASTER_KEY(_FILE), never from the repository or the database.
class SecretBox {
 public:
  /// `key_hex`: 64 hex characters (32 bytes).
  static absl::StatusOr<SecretBox> FromHex(absl::string_view key_hex);

  /// nonce (12 bytes) || ciphertext || tag (16 bytes); `associated` (the app key) is bound
  /// to the ciphertext so a sealed secret cannot be moved to another client's row.
  std::string Seal(absl::string_view plaintext, absl::string_view associated) const;
  absl::StatusOr<std::string> Open(absl::string_view sealed, absl::string_view associated) const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

/// A new client secret: 32 random bytes, base64url without padding (43 characters).
std::string NewClientSecret();

}  // namespace regsuite::gateway
