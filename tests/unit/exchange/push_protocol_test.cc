// Push protocol: batch ids, batch JSON, retry/park classification, backoff, request signing.
#include "push_protocol.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>

#include "regsuite/common/signing.h"

namespace {

namespace v1 = regsuite::exchange::v1;
using namespace regsuite::exchange;  // NOLINT: test file

v1::Change Change(int64_t cursor) {
  v1::Change c;
  c.set_cursor(std::to_string(cursor));
  c.set_entity_type(v1::ENTITY_TYPE_CREDIT_LISTING);
  c.set_entity_id("L-" + std::to_string(cursor));
  c.set_operation(v1::CHANGE_OPERATION_UPSERT);
  (*c.mutable_payload()->mutable_fields())["subjectName"].set_string_value("某某公司");
  c.mutable_occurred_at()->set_seconds(1790000000);
  return c;
}

}  // namespace

TEST_CASE("the batch id is the cursor range, so a resend carries the same idempotency key") {
  CHECK(BatchIdFor(1, 64) == "exchange-1-64");
  CHECK(BatchIdFor(1, 64) == BatchIdFor(1, 64));
  CHECK(BatchIdFor(1, 64) != BatchIdFor(1, 65));
}

TEST_CASE("a batch body lists the changes in order with batchId and time") {
  const std::string body = BatchJson("exchange-7-8", {Change(7), Change(8)});
  google::protobuf::Struct parsed;
  REQUIRE(google::protobuf::util::JsonStringToMessage(body, &parsed).ok());
  CHECK(parsed.fields().at("batchId").string_value() == "exchange-7-8");
  const auto& changes = parsed.fields().at("changes").list_value().values();
  REQUIRE(changes.size() == 2);
  const auto& first = changes[0].struct_value().fields();
  CHECK(first.at("cursor").string_value() == "7");
  CHECK(first.at("entityType").string_value() == "ENTITY_TYPE_CREDIT_LISTING");
  CHECK(first.at("operation").string_value() == "CHANGE_OPERATION_UPSERT");
  CHECK(first.at("payload").struct_value().fields().at("subjectName").string_value() == "某某公司");
  CHECK(first.at("time").string_value() == "2026-09-21T14:13:20Z");
  CHECK(changes[1].struct_value().fields().at("cursor").string_value() == "8");
}

TEST_CASE("2xx acknowledges; no answer, 5xx, 401, 403, 408, 425 and 429 retry; other 4xx park") {
  CHECK(ClassifyHttpStatus(200) == PushOutcome::kAcknowledged);
  CHECK(ClassifyHttpStatus(204) == PushOutcome::kAcknowledged);
  for (int retry : {0, 500, 502, 503, 504, 401, 403, 408, 425, 429})
    CHECK(ClassifyHttpStatus(retry) == PushOutcome::kRetry);
  for (int park : {400, 404, 409, 413, 422}) CHECK(ClassifyHttpStatus(park) == PushOutcome::kPark);
}

TEST_CASE("backoff doubles from the initial delay and stops at the cap") {
  const absl::Duration initial = absl::Milliseconds(500), cap = absl::Seconds(10);
  CHECK(BackoffDelay(1, initial, cap) == absl::Milliseconds(500));
  CHECK(BackoffDelay(2, initial, cap) == absl::Seconds(1));
  CHECK(BackoffDelay(3, initial, cap) == absl::Seconds(2));
  CHECK(BackoffDelay(5, initial, cap) == absl::Seconds(8));
  CHECK(BackoffDelay(6, initial, cap) == cap);
  CHECK(BackoffDelay(1000, initial, cap) == cap);
}

TEST_CASE("URL path and sorted query are what API.md signs") {
  auto [path, query] =
      UrlPathAndQuery("https://platform.example:8443/api/v1/enterprises?offset=0&limit=5");
  CHECK(path == "/api/v1/enterprises");
  CHECK(query == "offset=0&limit=5");
  CHECK(SortedQuery(query) == "limit=5&offset=0");
  CHECK(SortedQuery("b=2&a=3&a=1") == "a=1&a=3&b=2");
  CHECK(UrlPathAndQuery("http://h:1").first == "/");
}

TEST_CASE("signed headers verify with the API.md string-to-sign") {
  PlatformCredentials credentials{.app_key = "bureau", .secret = "s3cret"};
  const std::string body = "{\"batchId\":\"exchange-1-1\",\"changes\":[]}";
  auto headers = SignedHeaders(credentials, "POST", "http://127.0.0.1:9/api/v1/feed/batches", body,
                               absl::FromUnixSeconds(1790000000), "nonce-0123456789abcdef");
  std::map<std::string, std::string> h(headers.begin(), headers.end());
  CHECK(h["x-app-key"] == "bureau");
  CHECK(h["x-timestamp"] == "1790000000");
  CHECK(h["x-nonce"] == "nonce-0123456789abcdef");
  CHECK(h["x-signature-method"] == "HMAC-SHA256");
  using namespace regsuite::common;  // NOLINT
  const std::string expected = SignatureBase64(
      SignatureMethod::kHmacSha256, "s3cret",
      StringToSign("POST", "/api/v1/feed/batches", "", "1790000000", "nonce-0123456789abcdef",
                   BodyDigestHex(SignatureMethod::kHmacSha256, body)));
  CHECK(h["x-signature"] == expected);
}
