// E-certificate signatures: Ed25519 over the canonical form; any changed field fails.
#include <catch2/catch.hpp>

#include "certificate_signer.h"

namespace {

namespace v1 = regsuite::licensing::v1;
using regsuite::licensing::CanonicalCertificate;
using regsuite::licensing::CertificateSigner;

v1::Certificate SampleCertificate() {
  v1::Certificate c;
  c.set_certificate_no("QDYJ-WHJY-2026-000001");
  c.set_verification_code("ABCDEFGH2345");
  c.set_certificate_name("危险化学品经营许可证");
  c.set_permit_type_code("WHJY");
  c.set_permit_type_name("危险化学品经营许可证");
  c.mutable_holder()->set_uscc("91350100M000100Y43");
  c.mutable_holder()->set_name("青岛示例化工有限公司");
  c.set_scope("乙醇、丙酮（不带储存设施）");
  c.set_valid_from("2026-10-30");
  c.set_valid_until("2029-10-29");
  c.mutable_issued_at()->set_seconds(1793318400);
  c.set_issuing_authority("青岛市应急管理局");
  return c;
}

}  // namespace

TEST_CASE("certificate signature: a signed certificate verifies", "[licensing][signature]") {
  auto signer = CertificateSigner::Generate("test-key");
  REQUIRE(signer.ok());
  auto cert = SampleCertificate();
  REQUIRE((*signer)->SignCertificate(cert).ok());
  CHECK(cert.signature().size() == 64);
  CHECK(cert.signature_algorithm() == "Ed25519");
  CHECK((*signer)->VerifyCertificate(cert));
}

TEST_CASE("certificate signature: a tampered field fails verification", "[licensing][signature]") {
  auto signer = CertificateSigner::Generate("test-key");
  REQUIRE(signer.ok());
  auto cert = SampleCertificate();
  REQUIRE((*signer)->SignCertificate(cert).ok());
  auto tampered = cert;
  tampered.set_valid_until("2039-10-29");
  CHECK_FALSE((*signer)->VerifyCertificate(tampered));
  tampered = cert;
  tampered.mutable_holder()->set_name("另一家公司");
  CHECK_FALSE((*signer)->VerifyCertificate(tampered));
}

TEST_CASE("certificate signature: status is not signed (it changes after issue)",
          "[licensing][signature]") {
  auto signer = CertificateSigner::Generate("test-key");
  REQUIRE(signer.ok());
  auto cert = SampleCertificate();
  REQUIRE((*signer)->SignCertificate(cert).ok());
  cert.set_status(v1::CERTIFICATE_STATUS_REVOKED);
  CHECK((*signer)->VerifyCertificate(cert));
}

TEST_CASE("certificate signature: another key does not verify", "[licensing][signature]") {
  auto a = CertificateSigner::Generate("k");
  auto b = CertificateSigner::Generate("k");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto cert = SampleCertificate();
  REQUIRE((*a)->SignCertificate(cert).ok());
  CHECK_FALSE((*b)->VerifyCertificate(cert));
}

TEST_CASE("canonical form: newline in a value is escaped so fields cannot be shifted",
          "[licensing][signature]") {
  auto cert = SampleCertificate();
  cert.set_scope("a\nvalid_until=2099-01-01");
  std::string canonical = CanonicalCertificate(cert);
  CHECK(canonical.find("scope=a\\nvalid_until=2099-01-01\n") != std::string::npos);
}

TEST_CASE("certificate signature: a PEM key file round-trips", "[licensing][signature]") {
  auto signer = CertificateSigner::Generate("k");
  REQUIRE(signer.ok());
  CHECK((*signer)->PublicKeyPem().rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);
  auto bad = CertificateSigner::FromPem("not a key", "k");
  CHECK(absl::IsInvalidArgument(bad.status()));
}

TEST_CASE("canonical form: a changed certificate (revision ≥ 1) signs its address and revision",
          "[licensing][signature]") {
  auto cert = SampleCertificate();
  cert.mutable_holder()->set_address("青岛市市南区香港中路1号");
  CHECK(CanonicalCertificate(cert).rfind("regsuite-certificate-v1\n", 0) == 0);
  CHECK(CanonicalCertificate(cert).find("holder_address=") == std::string::npos);
  cert.set_revision(2);
  const std::string v2 = CanonicalCertificate(cert);
  CHECK(v2.rfind("regsuite-certificate-v2\n", 0) == 0);
  CHECK(v2.find("previous_certificate_no=\nholder_address=青岛市市南区香港中路1号\nrevision=2\n"
                "signature_algorithm=") != std::string::npos);

  auto signer = CertificateSigner::Generate("k");
  REQUIRE(signer.ok());
  REQUIRE((*signer)->SignCertificate(cert).ok());
  CHECK((*signer)->VerifyCertificate(cert));
  auto moved = cert;
  moved.mutable_holder()->set_address("别处");
  CHECK_FALSE((*signer)->VerifyCertificate(moved));
  auto older = cert;
  older.set_revision(1);
  CHECK_FALSE((*signer)->VerifyCertificate(older));
}

TEST_CASE("key ring: each certificate verifies with the key its key_id names",
          "[licensing][signature][rotation]") {
  auto old_key = CertificateSigner::Generate("bureau-ed25519-1");
  auto new_key = CertificateSigner::Generate("bureau-ed25519-2");
  REQUIRE(old_key.ok());
  REQUIRE(new_key.ok());
  auto before = SampleCertificate();
  REQUIRE((*old_key)->SignCertificate(before).ok());
  auto after = SampleCertificate();
  REQUIRE((*new_key)->SignCertificate(after).ok());

  regsuite::licensing::CertificateKeyRing ring;
  REQUIRE(ring.AddPublicKeyPem("bureau-ed25519-1", (*old_key)->PublicKeyPem()).ok());
  REQUIRE(ring.AddPublicKeyPem("bureau-ed25519-2", (*new_key)->PublicKeyPem()).ok());
  CHECK(ring.size() == 2);
  CHECK(ring.VerifyCertificate(before));
  CHECK(ring.VerifyCertificate(after));

  auto unknown = before;
  unknown.set_key_id("bureau-ed25519-9");
  CHECK_FALSE(ring.VerifyCertificate(unknown));
  auto swapped = before;  // signed by key 1, claims key 2
  swapped.set_key_id("bureau-ed25519-2");
  CHECK_FALSE(ring.VerifyCertificate(swapped));
  auto tampered = before;
  tampered.set_valid_until("2039-10-29");
  CHECK_FALSE(ring.VerifyCertificate(tampered));

  // The same id again with the same key is fine; with another key it is refused.
  CHECK(ring.AddPublicKeyPem("bureau-ed25519-1", (*old_key)->PublicKeyPem()).ok());
  CHECK(absl::IsInvalidArgument(
      ring.AddPublicKeyPem("bureau-ed25519-1", (*new_key)->PublicKeyPem())));
  CHECK(absl::IsInvalidArgument(ring.AddPublicKeyPem("k3", (*old_key)->PrivateKeyPem())));
}
