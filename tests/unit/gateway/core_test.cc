// Pure logic of the gateway core: header parsing, signature verification, access patterns,
// secret sealing, audit chain hashing. No I/O.
#include <catch2/catch.hpp>

#include "audit.h"
#include "auth.h"
#include "clients.h"
#include "regsuite/common/signing.h"
#include "secret_box.h"

using regsuite::gateway::AccessRule;
using regsuite::gateway::Authenticator;
using regsuite::gateway::Client;
using regsuite::gateway::ClientSnapshot;
using regsuite::gateway::IncomingCall;
using regsuite::gateway::PatternMatches;

namespace {

constexpr char kMethod[] = "/regsuite.credit.v1.CreditService/CheckSubject";
const absl::Time kNow = absl::FromUnixSeconds(1795132800);

ClientSnapshot Snapshot() {
  ClientSnapshot s;
  Client c;
  c.app_key = "prov";
  c.secret = "example-secret-do-not-use";
  c.access = {{"regsuite.credit.v1.CreditService/*", 0}};
  s.by_app_key["prov"] = c;
  Client off = c;
  off.app_key = "off";
  off.disabled = true;
  s.by_app_key["off"] = off;
  return s;
}

IncomingCall SignedCall(const std::string& body, int64_t timestamp, const std::string& secret,
                        const std::string& nonce = "Zq3Xc9Lp0vA7Rt2B4mYk") {
  using namespace regsuite::common;  // NOLINT
  IncomingCall call;
  call.grpc_method = kMethod;
  call.signed_method = "POST";
  call.signed_path = kMethod;
  call.signed_body = body;
  call.request_bytes = body;
  const std::string to_sign = StringToSign("POST", kMethod, "", absl::StrCat(timestamp), nonce,
                                           BodyDigestHex(SignatureMethod::kHmacSha256, body));
  call.headers = {{"x-app-key", "prov"},
                  {"x-timestamp", absl::StrCat(timestamp)},
                  {"x-nonce", nonce},
                  {"x-signature", SignatureBase64(SignatureMethod::kHmacSha256, secret, to_sign)}};
  return call;
}

}  // namespace

TEST_CASE("a correctly signed call verifies; the method header may be absent (HMAC-SHA256 default)") {
  Authenticator auth(absl::Seconds(300));
  std::string reason;
  auto verified = auth.Verify(Snapshot(), SignedCall("body", 1795132800, "example-secret-do-not-use"),
                              kNow, &reason);
  REQUIRE(verified.ok());
  CHECK(verified->first.app_key == "prov");
}

TEST_CASE("signature rules: wrong secret, changed body, stale timestamp and disabled client refuse") {
  Authenticator auth(absl::Seconds(300));
  std::string reason;
  CHECK(auth.Verify(Snapshot(), SignedCall("body", 1795132800, "wrong"), kNow, &reason).status().message() ==
        "x-signature: does not match the request");
  CHECK(reason == "bad_signature");

  IncomingCall changed = SignedCall("body", 1795132800, "example-secret-do-not-use");
  changed.signed_body = "other body";
  CHECK(auth.Verify(Snapshot(), changed, kNow, &reason).status().code() ==
        absl::StatusCode::kUnauthenticated);

  // ±300 s is inclusive; 301 s is outside, in either direction.
  CHECK(auth.Verify(Snapshot(), SignedCall("b", 1795132800 - 300, "example-secret-do-not-use"), kNow, &reason).ok());
  CHECK(auth.Verify(Snapshot(), SignedCall("b", 1795132800 - 301, "example-secret-do-not-use"), kNow, &reason)
            .status().message().find("x-timestamp") == 0);
  CHECK(auth.Verify(Snapshot(), SignedCall("b", 1795132800 + 301, "example-secret-do-not-use"), kNow, &reason)
            .status().code() == absl::StatusCode::kUnauthenticated);

  IncomingCall off = SignedCall("b", 1795132800, "example-secret-do-not-use");
  off.headers.erase("x-app-key");
  off.headers.emplace("x-app-key", "off");
  CHECK(auth.Verify(Snapshot(), off, kNow, &reason).status().message() ==
        "x-app-key: unknown or disabled client");
  CHECK(reason == "disabled_client");
}

TEST_CASE("signature headers: each malformed header is named") {
  std::multimap<std::string, std::string> h = {{"x-app-key", "k"}, {"x-timestamp", "12x"},
                                               {"x-nonce", "abcdefghijklmnop"}, {"x-signature", "s"}};
  CHECK(regsuite::gateway::ParseSignatureHeaders(h).status().message() ==
        "x-timestamp: must be Unix time in seconds");
  h.erase("x-timestamp");
  h.emplace("x-timestamp", "1795132800");
  h.erase("x-nonce");
  h.emplace("x-nonce", "short");
  CHECK(regsuite::gateway::ParseSignatureHeaders(h).status().message() ==
        "x-nonce: must be 16-64 characters from [A-Za-z0-9_-]");
  h.erase("x-nonce");
  h.emplace("x-nonce", "abcdefghijklmnop");
  h.emplace("x-signature-method", "HMAC-MD5");
  CHECK(regsuite::gateway::ParseSignatureHeaders(h).status().code() ==
        absl::StatusCode::kUnauthenticated);
  h.erase("x-app-key");
  CHECK(regsuite::gateway::ParseSignatureHeaders(h).status().message() == "x-app-key: missing");
}

TEST_CASE("access is deny by default: service wildcards and exact methods only") {
  CHECK(PatternMatches("regsuite.credit.v1.CreditService/*", "regsuite.credit.v1.CreditService/CheckSubject"));
  CHECK_FALSE(PatternMatches("regsuite.credit.v1.CreditService/*", "regsuite.credit.v1.CreditServiceX/CheckSubject"));
  CHECK_FALSE(PatternMatches("regsuite.credit.v1.CreditService/*", "regsuite.credit.v1.CreditService/"));
  CHECK(PatternMatches("regsuite.credit.v1.CreditService/CheckSubject", "regsuite.credit.v1.CreditService/CheckSubject"));
  CHECK_FALSE(PatternMatches("regsuite.credit.v1.CreditService/CheckSubject", "regsuite.credit.v1.CreditService/GetListing"));
  Client nobody;
  CHECK(regsuite::gateway::FindAccess(nobody, "regsuite.credit.v1.CreditService/CheckSubject") == nullptr);
  CHECK(regsuite::gateway::ValidatePatterns({{"regsuite.*", 0}}).message() ==
        "access[0]: must be package.Service/Method or package.Service/*");
}

TEST_CASE("client secrets are sealed with AES-256-GCM bound to their app key") {
  auto box = regsuite::gateway::SecretBox::FromHex(std::string(64, 'a'));
  REQUIRE(box.ok());
  const std::string sealed = box->Seal("s3cret", "prov");
  CHECK(sealed.find("s3cret") == std::string::npos);
  CHECK(*box->Open(sealed, "prov") == "s3cret");
  CHECK_FALSE(box->Open(sealed, "other").ok());  // moved to another client's row
  auto other = regsuite::gateway::SecretBox::FromHex(std::string(64, 'b'));
  CHECK_FALSE(other->Open(sealed, "prov").ok());  // another master key
  CHECK(regsuite::gateway::SecretBox::FromHex("abc").status().message() ==
        "auth.master_key: must be 64 hex characters (32 bytes)");
}

TEST_CASE("audit chain: a row's hash covers the previous hash and every field") {
  regsuite::gateway::AuditRecord r;
  r.client = "prov";
  r.method = kMethod;
  r.route = "grpc";
  r.status_code = 0;
  const std::string canonical = regsuite::gateway::CanonicalAuditRow(1, 1795132800000000, r);
  const std::string h1 = regsuite::gateway::ChainHash(regsuite::gateway::AuditHash::kSha256, std::string(64, '0'), canonical);
  CHECK(h1.size() == 64);
  r.status_code = 7;
  CHECK(regsuite::gateway::ChainHash(regsuite::gateway::AuditHash::kSha256, std::string(64, '0'),
                                     regsuite::gateway::CanonicalAuditRow(1, 1795132800000000, r)) != h1);
  CHECK(regsuite::gateway::ChainHash(regsuite::gateway::AuditHash::kSha256, std::string(64, '1'), canonical) != h1);
  CHECK(regsuite::gateway::ChainHash(regsuite::gateway::AuditHash::kSm3, std::string(64, '0'), canonical) != h1);
}

TEST_CASE("after a rotation the previous secret verifies only until its grace period ends") {
  ClientSnapshot clients = Snapshot();
  Client& prov = clients.by_app_key["prov"];
  prov.previous_secret = "the-previous-secret";
  prov.previous_secret_until = kNow + absl::Seconds(60);
  Authenticator auth(absl::Seconds(300));
  std::string reason;
  const int64_t ts = absl::ToUnixSeconds(kNow);
  CHECK(auth.Verify(clients, SignedCall("body", ts, "example-secret-do-not-use"), kNow, &reason).ok());
  CHECK(auth.Verify(clients, SignedCall("body", ts, "the-previous-secret"), kNow, &reason).ok());
  const absl::Time later = kNow + absl::Seconds(61);
  auto expired = auth.Verify(clients, SignedCall("body", ts + 61, "the-previous-secret"), later, &reason);
  CHECK(expired.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(reason == "bad_signature");
  CHECK(auth.Verify(clients, SignedCall("body", ts + 61, "example-secret-do-not-use"), later, &reason).ok());
}

TEST_CASE("mTLS: a registered certificate fingerprint names its client; others are refused") {
  using regsuite::gateway::NormalizeFingerprint;
  const std::string fp(64, 'a');
  CHECK(NormalizeFingerprint(std::string(64, 'A')) == fp);
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += i == 0 ? "AA" : ":AA";
  CHECK(NormalizeFingerprint(colons) == fp);
  CHECK(NormalizeFingerprint(std::string(63, 'a')).empty());
  CHECK(NormalizeFingerprint(std::string(64, 'g')).empty());

  ClientSnapshot clients = Snapshot();
  clients.app_key_by_cert_fingerprint[fp] = "prov";
  clients.app_key_by_cert_fingerprint[std::string(64, 'b')] = "off";
  Authenticator auth(absl::Seconds(300));
  std::string reason;
  IncomingCall call;
  call.grpc_method = kMethod;
  call.client_cert_fingerprint = fp;
  auto client = auth.VerifyCertificate(clients, call, &reason);
  REQUIRE(client.ok());
  CHECK(client->app_key == "prov");

  call.client_cert_fingerprint = std::string(64, 'c');
  CHECK(auth.VerifyCertificate(clients, call, &reason).status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(reason == "unknown_certificate");
  call.client_cert_fingerprint = std::string(64, 'b');
  CHECK(!auth.VerifyCertificate(clients, call, &reason).ok());
  CHECK(reason == "disabled_client");
  call.client_cert_fingerprint.clear();
  auto none = auth.VerifyCertificate(clients, call, &reason);
  CHECK(none.status().message() == "x-app-key: missing");

  // A signed call over mTLS: the certificate must be registered to the signing client or none.
  call.client_cert_fingerprint = std::string(64, 'b');
  CHECK(!auth.CheckCertificateMatches(clients, call, clients.by_app_key["prov"], &reason).ok());
  CHECK(reason == "certificate_mismatch");
  call.client_cert_fingerprint = fp;
  CHECK(auth.CheckCertificateMatches(clients, call, clients.by_app_key["prov"], &reason).ok());
  call.client_cert_fingerprint = std::string(64, 'c');
  CHECK(auth.CheckCertificateMatches(clients, call, clients.by_app_key["prov"], &reason).ok());
}
