#include "secret_box.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "regsuite/common/check.h"

namespace regsuite::gateway {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
constexpr int kNonce = 12;
constexpr int kTag = 16;

}  // namespace

absl::StatusOr<SecretBox> SecretBox::FromHex(absl::string_view key_hex) {
  if (key_hex.size() != 64) {
    return absl::InvalidArgumentError("auth.master_key: must be 64 hex characters (32 bytes)");
  }
  for (char c : key_hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("auth.master_key: must be hexadecimal");
    }
  }
  return SecretBox(absl::HexStringToBytes(key_hex));
}

std::string SecretBox::Seal(absl::string_view plaintext, absl::string_view associated) const {
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  RS_CHECK(RAND_bytes(bytes, kNonce) == 1);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  RS_CHECK(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                              reinterpret_cast<const unsigned char*>(key_.data()), bytes) == 1);
  RS_CHECK(EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                             reinterpret_cast<const unsigned char*>(associated.data()),
                             static_cast<int>(associated.size())) == 1);
  RS_CHECK(EVP_EncryptUpdate(ctx.get(), bytes + kNonce, &len,
                             reinterpret_cast<const unsigned char*>(plaintext.data()),
                             static_cast<int>(plaintext.size())) == 1);
  RS_CHECK(EVP_EncryptFinal_ex(ctx.get(), bytes + kNonce + len, &len) == 1);
  RS_CHECK(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                               bytes + kNonce + plaintext.size()) == 1);
  return out;
}

absl::StatusOr<std::string> SecretBox::Open(absl::string_view sealed,
                                            absl::string_view associated) const {
  if (sealed.size() < kNonce + kTag) return absl::DataLossError("sealed secret too short");
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  const size_t body = sealed.size() - kNonce - kTag;
  std::string out(body, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  bool ok = EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                               reinterpret_cast<const unsigned char*>(key_.data()), bytes) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(associated.data()),
                              static_cast<int>(associated.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                              bytes + kNonce, static_cast<int>(body)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag,
                                const_cast<unsigned char*>(bytes + kNonce + body)) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len,
                                &len) == 1;
  if (!ok) return absl::DataLossError("sealed secret does not open with this master key");
  return out;
}

std::string NewClientSecret() {
  unsigned char bytes[32];
  RS_CHECK(RAND_bytes(bytes, sizeof bytes) == 1);
  return absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

}  // namespace regsuite::gateway
