#include <catch2/catch.hpp>

#include "regsuite/common/signing.h"

using regsuite::common::BodyDigestHex;
using regsuite::common::ParseSignatureMethod;
using regsuite::common::SignatureBase64;
using regsuite::common::SignatureMethod;
using regsuite::common::SignaturesEqual;
using regsuite::common::StringToSign;

// Expected values come from independent implementations (RFC 4231 test case 2, GB/T 32905
// example "abc", and `openssl dgst -sm3 -hmac`), not from this code.
TEST_CASE("HMAC-SHA256 signature matches RFC 4231 test case 2, base64 padded") {
  CHECK(SignatureBase64(SignatureMethod::kHmacSha256, "Jefe", "what do ya want for nothing?") ==
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}

TEST_CASE("HMAC-SM3 signature matches openssl's, and SM3 of \"abc\" the GB/T 32905 example") {
  CHECK(SignatureBase64(SignatureMethod::kHmacSm3, "Jefe", "what do ya want for nothing?") ==
        "Lofx0Whi5tlktQpSAL8rELdk+qloCilqJAXyS+w5+II=");
  CHECK(BodyDigestHex(SignatureMethod::kHmacSm3, "abc") ==
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  CHECK(BodyDigestHex(SignatureMethod::kHmacSha256, "") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("string-to-sign joins method, path, query, timestamp, nonce and body hash by newlines") {
  CHECK(StringToSign("POST", "/regsuite.credit.v1.CreditService/CheckSubject", "", "1700000000",
                     "abcdefghijklmnop", "e3b0") ==
        "POST\n/regsuite.credit.v1.CreditService/CheckSubject\n\n1700000000\nabcdefghijklmnop\ne3b0");
}

TEST_CASE("signature method defaults to HMAC-SHA256 and rejects unknown names naming the header") {
  CHECK(*ParseSignatureMethod("") == SignatureMethod::kHmacSha256);
  CHECK(*ParseSignatureMethod("HMAC-SM3") == SignatureMethod::kHmacSm3);
  CHECK(ParseSignatureMethod("HMAC-MD5").status().message() ==
        "x-signature-method: must be HMAC-SHA256 or HMAC-SM3, got \"HMAC-MD5\"");
}

TEST_CASE("signature comparison: equal only for identical strings of equal length") {
  CHECK(SignaturesEqual("abc=", "abc="));
  CHECK_FALSE(SignaturesEqual("abc=", "abd="));
  CHECK_FALSE(SignaturesEqual("abc=", "abc"));
}

TEST_CASE("nonces are 32 characters from [A-Za-z0-9_-] and do not repeat") {
  std::string a = regsuite::common::NewNonce();
  std::string b = regsuite::common::NewNonce();
  CHECK(a.size() == 32);
  CHECK(a != b);
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
        std::string::npos);
}

// The worked examples of docs/integration.md (computed there with Python's hashlib/hmac).
TEST_CASE("docs/integration.md worked examples: HTTP GET with HMAC-SHA256, POST with HMAC-SM3") {
  const std::string secret = "example-secret-do-not-use";
  const std::string get = StringToSign("GET", "/v1/credit/subjects/91350100M000100Y43", "",
                                       "1795132800", "Zq3Xc9Lp0vA7Rt2B4mYk",
                                       BodyDigestHex(SignatureMethod::kHmacSha256, ""));
  CHECK(SignatureBase64(SignatureMethod::kHmacSha256, secret, get) ==
        "5VwcTU3U1Aupmo1fjPGjw17Y+bJr9oksqpGayab63TU=");
  const std::string body = R"({"usccs":["91350100M000100Y43","91110000802100433B"]})";
  const std::string post = StringToSign("POST", "/v1/credit/subjects:batchCheck", "", "1795132800",
                                        "Zq3Xc9Lp0vA7Rt2B4mYk",
                                        BodyDigestHex(SignatureMethod::kHmacSm3, body));
  CHECK(SignatureBase64(SignatureMethod::kHmacSm3, secret, post) ==
        "L3iASyfCBlFNi6JyfJxn+FlY4wWd9IqMbJP1d0LtZ+k=");
  const std::string query = StringToSign("GET", "/v1/licensing/certificates:expiring",
                                         "page_size=10&withinDays=90", "1795132800",
                                         "Zq3Xc9Lp0vA7Rt2B4mYk",
                                         BodyDigestHex(SignatureMethod::kHmacSha256, ""));
  CHECK(SignatureBase64(SignatureMethod::kHmacSha256, secret, query) ==
        "ndmSj1AKqTUQDlQdXBAwGm3VKVglGFO5KXMX764ZsIo=");
}
