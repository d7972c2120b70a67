#pragma once
// E-certificate signatures (电子证照): Ed25519 through OpenSSL 3 EVP over a canonical text form
// of the certificate's fixed fields. README.md "Offline verification" documents the format.

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "regsuite/licensing/v1/licensing.pb.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace regsuite::licensing {

/// The exact bytes that are signed: "regsuite-certificate-v1\n" then one `name=value\n` line per
/// field in a fixed order (values with '\\' and newline escaped). Status is not signed: it
/// changes after issue and is answered live by VerifyCertificate. A changed certificate
/// (revision ≥ 1, 变更) uses "regsuite-certificate-v2": the same lines plus `holder_address` and
/// `revision` before `signature_algorithm`.
std::string CanonicalCertificate(const v1::Certificate& certificate);

/// Signs and verifies certificates with the bureau's Ed25519 key. Thread-safe (const use).
class CertificateSigner {
 public:
  static constexpr absl::string_view kAlgorithm = "Ed25519";

  /// Reads a PEM private key (PKCS#8, `openssl genpkey -algorithm ed25519`).
  static absl::StatusOr<std::unique_ptr<CertificateSigner>> FromPemFile(absl::string_view path,
                                                                        std::string key_id);
  static absl::StatusOr<std::unique_ptr<CertificateSigner>> FromPem(absl::string_view pem,
                                                                    std::string key_id);
  /// A fresh random key (tests).
  static absl::StatusOr<std::unique_ptr<CertificateSigner>> Generate(std::string key_id);

  ~CertificateSigner();
  CertificateSigner(const CertificateSigner&) = delete;
  CertificateSigner& operator=(const CertificateSigner&) = delete;

  /// Sets signature, signature_algorithm and key_id on `certificate`.
  absl::Status SignCertificate(v1::Certificate& certificate) const;
  /// True when the signature verifies over the canonical form with this key.
  bool VerifyCertificate(const v1::Certificate& certificate) const;

  absl::StatusOr<std::string> Sign(absl::string_view data) const;
  bool Verify(absl::string_view data, absl::string_view signature) const;

  /// PKCS#8 PEM of the private key (to write a throwaway key file in tests).
  std::string PrivateKeyPem() const;
  /// SubjectPublicKeyInfo PEM of the public key, for offline verification.
  std::string PublicKeyPem() const;
  const std::string& key_id() const { return key_id_; }

 private:
  CertificateSigner(EVP_PKEY* key, std::string key_id) : key_(key), key_id_(std::move(key_id)) {}
  EVP_PKEY* key_;
  std::string key_id_;
};

/// Public keys by key id, for verifying certificates signed with earlier signing keys (key
/// rotation). Thread-safe once filled (const use).
class CertificateKeyRing {
 public:
  CertificateKeyRing() = default;
  ~CertificateKeyRing();
  CertificateKeyRing(const CertificateKeyRing&) = delete;
  CertificateKeyRing& operator=(const CertificateKeyRing&) = delete;

  /// Adds an Ed25519 public key (SubjectPublicKeyInfo PEM, `openssl pkey -pubout`) under
  /// `key_id`. INVALID_ARGUMENT when it is not one, or when `key_id` already names another key.
  absl::Status AddPublicKeyPem(const std::string& key_id, absl::string_view pem);
  /// Adds every `<key id>.pem` file of `dir` (other files are ignored).
  absl::Status AddDirectory(const std::string& dir);

  bool Has(const std::string& key_id) const { return keys_.count(key_id) > 0; }
  /// True when the key named by the certificate's key_id is here and its signature verifies;
  /// an unknown key id is false.
  bool VerifyCertificate(const v1::Certificate& certificate) const;
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, EVP_PKEY*> keys_;  // owned
};

/// A verification code of 12 characters from an unambiguous alphabet (OS CSPRNG).
std::string NewVerificationCode();

}  // namespace regsuite::licensing
