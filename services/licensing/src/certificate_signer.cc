#include "certificate_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "regsuite/common/check.h"

namespace regsuite::licensing {
namespace {

void AppendField(std::string* out, absl::string_view name, absl::string_view value) {
  absl::StrAppend(out, name, "=");
  for (char c : value) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
  out->push_back('\n');
}

absl::StatusOr<std::string> ReadWholeFile(absl::string_view path, absl::string_view setting) {
  std::ifstream in{std::string(path)};
  if (!in)
    return absl::FailedPreconditionError(absl::StrCat(setting, ": cannot read '", path, "'"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool VerifyWithKey(EVP_PKEY* key, absl::string_view data, absl::string_view signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) > 0 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

}  // namespace

std::string CanonicalCertificate(const v1::Certificate& c) {
  const bool changed = c.revision() > 0;
  std::string out = changed ? "regsuite-certificate-v2\n" : "regsuite-certificate-v1\n";
  AppendField(&out, "certificate_no", c.certificate_no());
  AppendField(&out, "verification_code", c.verification_code());
  AppendField(&out, "certificate_name", c.certificate_name());
  AppendField(&out, "permit_type_code", c.permit_type_code());
  AppendField(&out, "permit_type_name", c.permit_type_name());
  AppendField(&out, "holder_uscc", c.holder().uscc());
  AppendField(&out, "holder_name", c.holder().name());
  AppendField(&out, "holder_legal_representative", c.holder().legal_representative());
  AppendField(&out, "application_id", c.application_id());
  AppendField(&out, "decision_no", c.decision_no());
  AppendField(&out, "scope", c.scope());
  AppendField(&out, "valid_from", c.valid_from());
  AppendField(&out, "valid_until", c.valid_until());
  AppendField(&out, "issued_at", absl::StrCat(c.issued_at().seconds()));
  AppendField(&out, "issuing_authority", c.issuing_authority());
  AppendField(&out, "previous_certificate_no", c.previous_certificate_no());
  if (changed) {
    AppendField(&out, "holder_address", c.holder().address());
    AppendField(&out, "revision", absl::StrCat(c.revision()));
  }
  AppendField(&out, "signature_algorithm", c.signature_algorithm());
  AppendField(&out, "key_id", c.key_id());
  return out;
}

absl::StatusOr<std::unique_ptr<CertificateSigner>> CertificateSigner::FromPemFile(
    absl::string_view path, std::string key_id) {
  auto pem = ReadWholeFile(path, "licensing.signing_key_file");
  if (!pem.ok()) return pem.status();
  return FromPem(*pem, std::move(key_id));
}

absl::StatusOr<std::unique_ptr<CertificateSigner>> CertificateSigner::FromPem(
    absl::string_view pem, std::string key_id) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    return absl::InvalidArgumentError("licensing.signing_key_file: not a PEM private key");
  }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError("licensing.signing_key_file: key is not Ed25519");
  }
  return std::unique_ptr<CertificateSigner>(new CertificateSigner(key, std::move(key_id)));
}

absl::StatusOr<std::unique_ptr<CertificateSigner>> CertificateSigner::Generate(
    std::string key_id) {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &key) <= 0) {
    EVP_PKEY_CTX_free(ctx);
    return absl::InternalError("Ed25519 key generation failed");
  }
  EVP_PKEY_CTX_free(ctx);
  return std::unique_ptr<CertificateSigner>(new CertificateSigner(key, std::move(key_id)));
}

CertificateSigner::~CertificateSigner() { EVP_PKEY_free(key_); }

absl::StatusOr<std::string> CertificateSigner::Sign(absl::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) > 0 &&
            EVP_DigestSign(ctx, nullptr, &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()) > 0;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(data.data()), data.size()) > 0;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return absl::InternalError("Ed25519 signing failed");
  return sig;
}

bool CertificateSigner::Verify(absl::string_view data, absl::string_view signature) const {
  return VerifyWithKey(key_, data, signature);
}

absl::Status CertificateSigner::SignCertificate(v1::Certificate& certificate) const {
  certificate.set_signature_algorithm(std::string(kAlgorithm));
  certificate.set_key_id(key_id_);
  auto sig = Sign(CanonicalCertificate(certificate));
  if (!sig.ok()) return sig.status();
  certificate.set_signature(*sig);
  return absl::OkStatus();
}

bool CertificateSigner::VerifyCertificate(const v1::Certificate& certificate) const {
  if (certificate.key_id() != key_id_ || certificate.signature_algorithm() != kAlgorithm) {
    return false;
  }
  return Verify(CanonicalCertificate(certificate), certificate.signature());
}

std::string CertificateSigner::PublicKeyPem() const { return PublicPem(key_); }

std::string CertificateSigner::PrivateKeyPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

CertificateKeyRing::~CertificateKeyRing() {
  for (auto& [id, key] : keys_) EVP_PKEY_free(key);
}

absl::Status CertificateKeyRing::AddPublicKeyPem(const std::string& key_id, absl::string_view pem) {
  if (key_id.empty()) return absl::InvalidArgumentError("verification key: empty key id");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError(
        absl::StrCat("verification key '", key_id, "': not a PEM Ed25519 public key"));
  }
  auto existing = keys_.find(key_id);
  if (existing != keys_.end()) {
    bool same = EVP_PKEY_eq(existing->second, key) == 1;
    EVP_PKEY_free(key);
    if (same) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("verification key '", key_id, "': the key id already names another key"));
  }
  keys_.emplace(key_id, key);
  return absl::OkStatus();
}

absl::Status CertificateKeyRing::AddDirectory(const std::string& dir) {
  constexpr absl::string_view kSetting = "licensing.verification_public_keys_dir";
  std::error_code error;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".pem") files.push_back(entry.path());
  }
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat(kSetting, ": cannot list '", dir, "': ", error.message()));
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto pem = ReadWholeFile(file.string(), kSetting);
    if (!pem.ok()) return pem.status();
    if (auto s = AddPublicKeyPem(file.stem().string(), *pem); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(kSetting, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

bool CertificateKeyRing::VerifyCertificate(const v1::Certificate& certificate) const {
  auto key = keys_.find(certificate.key_id());
  if (key == keys_.end() || certificate.signature_algorithm() != CertificateSigner::kAlgorithm) {
    return false;
  }
  return VerifyWithKey(key->second, CanonicalCertificate(certificate), certificate.signature());
}

std::string NewVerificationCode() {
  static constexpr char kAlphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";  // 32, no 0/1/I/O
  unsigned char bytes[12];
  RS_CHECK(RAND_bytes(bytes, sizeof(bytes)) == 1);
  std::string code;
  for (unsigned char b : bytes) code.push_back(kAlphabet[b % 32]);
  return code;
}

}  // namespace regsuite::licensing
