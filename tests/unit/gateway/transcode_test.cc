// JSON ↔ protobuf transcoding of HTTP requests and responses (API.md: input accepts
// lowerCamelCase and snake_case, output lowerCamelCase, enums as names), and the canonical
// query string that signatures cover.
#include <catch2/catch.hpp>

#include <string>

#include "google/protobuf/util/time_util.h"
#include "http/query.h"
#include "http/server.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "regsuite/licensing/v1/licensing.pb.h"
#include "test_api.h"

namespace regsuite::gateway {
namespace {

using testing::Routes;
using testing::Transcoder;
using Params = JsonTranscoder::Params;

const HttpRoute& RouteOf(const char* method, const char* path) {
  RouteMatch match = Routes()->Match(method, path);
  if (match.outcome != RouteMatch::Outcome::kMatched) FAIL(path);
  return *match.route;
}

template <typename M>
M Parse(const absl::StatusOr<std::string>& bytes) {
  if (!bytes.ok()) FAIL(bytes.status().ToString());
  M message;
  REQUIRE(message.ParseFromString(*bytes));
  return message;
}

std::string ErrorOf(const absl::StatusOr<std::string>& bytes) {
  REQUIRE_FALSE(bytes.ok());
  CHECK(bytes.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(bytes.status().message());
}

TEST_CASE("request JSON accepts lowerCamelCase and snake_case field names", "[transcode]") {
  const auto& route = RouteOf("POST", "/v1/credit/listings");
  auto camel = Parse<credit::v1::ProposeListingRequest>(Transcoder()->RequestToBinary(
      route, {}, {},
      R"({"uscc":"91350100M000100Y43","subjectName":"Acme","listType":"LIST_TYPE_BLACK",
          "evidenceRefs":["e1","e2"]})"));
  CHECK(camel.subject_name() == "Acme");
  CHECK(camel.list_type() == credit::v1::LIST_TYPE_BLACK);
  CHECK(camel.evidence_refs_size() == 2);
  auto snake = Parse<credit::v1::ProposeListingRequest>(Transcoder()->RequestToBinary(
      route, {}, {}, R"({"subject_name":"Acme","list_type":"LIST_TYPE_RED","reason_code":"R1"})"));
  CHECK(snake.subject_name() == "Acme");
  CHECK(snake.list_type() == credit::v1::LIST_TYPE_RED);
  CHECK(snake.reason_code() == "R1");
}

TEST_CASE("an unknown JSON field is INVALID_ARGUMENT naming the field", "[transcode]") {
  const auto& route = RouteOf("POST", "/v1/credit/listings");
  std::string top = ErrorOf(Transcoder()->RequestToBinary(route, {}, {}, R"({"bogusField":1})"));
  CHECK_THAT(top, Catch::StartsWith("bogusField: unknown field"));
  const auto& submit = RouteOf("POST", "/v1/licensing/applications");
  std::string nested = ErrorOf(
      Transcoder()->RequestToBinary(submit, {}, {}, R"({"applicant":{"uscc":"x","nope":1}})"));
  CHECK_THAT(nested, Catch::StartsWith("applicant.nope: unknown field"));
}

TEST_CASE("enums are read by name and an unknown enum name names the field", "[transcode]") {
  const auto& route = RouteOf("POST", "/v1/credit/listings");
  std::string error = ErrorOf(
      Transcoder()->RequestToBinary(route, {}, {}, R"({"listType":"LIST_TYPE_PURPLE"})"));
  CHECK_THAT(error, Catch::StartsWith("listType: ") || Catch::StartsWith("list_type: "));
  CHECK_THAT(error, Catch::Contains("LIST_TYPE_PURPLE"));
}

TEST_CASE("malformed JSON is INVALID_ARGUMENT on the body", "[transcode]") {
  const auto& route = RouteOf("POST", "/v1/credit/listings");
  for (const char* bad : {"{", "[1,2]", "{\"uscc\":}", "nonsense", "{\"uscc\":\"a\"} trailing"}) {
    CAPTURE(bad);
    auto result = Transcoder()->RequestToBinary(route, {}, {}, bad);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(result.status().message()), Catch::Contains(": "));
  }
}

TEST_CASE("a wrongly typed JSON value names its field", "[transcode]") {
  const auto& route = RouteOf("POST", "/v1/licensing/applications");
  std::string error =
      ErrorOf(Transcoder()->RequestToBinary(route, {}, {}, R"({"commitmentSigned":"maybe"})"));
  CHECK_THAT(error, Catch::StartsWith("commitmentSigned: ") ||
                        Catch::StartsWith("commitment_signed: "));
}

TEST_CASE("path variables fill the request alongside the body", "[transcode]") {
  const auto& route = RouteOf("POST", "/v1/credit/listings/L-7:notify");
  auto request = Parse<credit::v1::NotifyListingRequest>(Transcoder()->RequestToBinary(
      route, {{"listing_id", "L-7"}}, {}, R"({"noticeRef":"N-1","listingId":"ignored"})"));
  CHECK(request.listing_id() == "L-7");
  CHECK(request.notice_ref() == "N-1");
  auto empty_body = Parse<credit::v1::NotifyListingRequest>(
      Transcoder()->RequestToBinary(route, {{"listing_id", "L-8"}}, {}, ""));
  CHECK(empty_body.listing_id() == "L-8");
}

TEST_CASE("query parameters fill the other fields: numbers, enums, bools, repeated",
          "[transcode]") {
  const auto& expiring = RouteOf("GET", "/v1/licensing/certificates:expiring");
  auto camel = Parse<licensing::v1::ListExpiringCertificatesRequest>(
      Transcoder()->RequestToBinary(expiring, {}, {{"withinDays", "90"}}, ""));
  CHECK(camel.within_days() == 90);
  auto snake = Parse<licensing::v1::ListExpiringCertificatesRequest>(Transcoder()->RequestToBinary(
      expiring, {}, {{"within_days", "30"}, {"permitTypeCode", "HC 01"}}, ""));
  CHECK(snake.within_days() == 30);
  CHECK(snake.permit_type_code() == "HC 01");

  const auto& listings = RouteOf("GET", "/v1/credit/listings");
  auto list = Parse<credit::v1::ListListingsRequest>(Transcoder()->RequestToBinary(
      listings, {}, {{"listType", "LIST_TYPE_BLACK"}, {"status", "LISTING_STATUS_ACTIVE"},
                     {"pageSize", "10"}},
      ""));
  CHECK(list.list_type() == credit::v1::LIST_TYPE_BLACK);
  CHECK(list.status() == credit::v1::LISTING_STATUS_ACTIVE);
  CHECK(list.page_size() == 10);

  const auto& profile = RouteOf("GET", "/v1/credit/subjects/X/profile");
  auto with_bool = Parse<credit::v1::GetCreditProfileRequest>(Transcoder()->RequestToBinary(
      profile, {{"uscc", "X"}}, {{"includeExpired", "true"}}, ""));
  CHECK(with_bool.uscc() == "X");
  CHECK(with_bool.include_expired());
}

TEST_CASE("bad query parameters are INVALID_ARGUMENT naming the parameter", "[transcode]") {
  const auto& expiring = RouteOf("GET", "/v1/licensing/certificates:expiring");
  CHECK_THAT(ErrorOf(Transcoder()->RequestToBinary(expiring, {}, {{"withinDay", "9"}}, "")),
             Catch::StartsWith("withinDay: unknown field"));
  CHECK_THAT(ErrorOf(Transcoder()->RequestToBinary(expiring, {}, {{"withinDays", "ninety"}}, "")),
             Catch::StartsWith("withinDays: ") || Catch::StartsWith("within_days: "));
  CHECK_THAT(ErrorOf(Transcoder()->RequestToBinary(
                 expiring, {}, {{"withinDays", "1"}, {"withinDays", "2"}}, "")),
             Catch::StartsWith("withinDays: given more than once"));
  const auto& profile = RouteOf("GET", "/v1/credit/subjects/X/profile");
  CHECK_THAT(ErrorOf(Transcoder()->RequestToBinary(profile, {{"uscc", "X"}},
                                                   {{"includeExpired", "yes"}}, "")),
             Catch::StartsWith("includeExpired: must be true or false"));
  const auto& listings = RouteOf("GET", "/v1/credit/listings");
  CHECK_THAT(
      ErrorOf(Transcoder()->RequestToBinary(listings, {}, {{"listType", "LIST_TYPE_GREY"}}, "")),
      Catch::StartsWith("listType: ") || Catch::StartsWith("list_type: "));
}

TEST_CASE("a body on a route without one, or a query on a body:\"*\" route, is rejected",
          "[transcode]") {
  const auto& get = RouteOf("GET", "/v1/credit/listings/L1");
  CHECK_THAT(ErrorOf(Transcoder()->RequestToBinary(get, {{"listing_id", "L1"}}, {}, "{}")),
             Catch::StartsWith("body: "));
  const auto& post = RouteOf("POST", "/v1/credit/listings");
  CHECK_THAT(ErrorOf(Transcoder()->RequestToBinary(post, {}, {{"uscc", "X"}}, "{}")),
             Catch::StartsWith("uscc: query parameters are not accepted"));
}

TEST_CASE("responses are lowerCamelCase JSON with enum names and no default fields",
          "[transcode]") {
  credit::v1::SubjectStatus status;
  status.set_uscc("91350100M000100Y43");
  status.set_tier(credit::v1::CREDIT_TIER_BLACK);
  auto* listing = status.add_active_listings();
  listing->set_listing_id("L1");
  listing->set_list_type(credit::v1::LIST_TYPE_BLACK);
  *status.mutable_as_of() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1767225600);
  const auto& route = RouteOf("GET", "/v1/credit/subjects/X");
  auto json = Transcoder()->ResponseToJson(route, status.SerializeAsString());
  REQUIRE(json.ok());
  CHECK(*json ==
        R"({"uscc":"91350100M000100Y43","tier":"CREDIT_TIER_BLACK","activeListings":)"
        R"([{"listingId":"L1","listType":"LIST_TYPE_BLACK"}],"asOf":"2026-01-01T00:00:00Z"})");
}

TEST_CASE("the signed query sorts parameters by name then value and keeps their encoding",
          "[query]") {
  CHECK(CanonicalQuery("") == "");
  CHECK(CanonicalQuery("b=2&a=3&a=1&c") == "a=1&a=3&b=2&c=");
  CHECK(CanonicalQuery("q=%E4%B8%AD&a=x+y&&z=") == "a=x+y&q=%E4%B8%AD&z=");
  CHECK(CanonicalQuery("withinDays=90") == "withinDays=90");
}

TEST_CASE("query parsing decodes '+' and percent escapes and rejects broken ones", "[query]") {
  auto params = ParseQuery("a=x+y&q=%E4%B8%AD&flag");
  REQUIRE(params.ok());
  CHECK(*params == Params{{"a", "x y"}, {"q", "\xE4\xB8\xAD"}, {"flag", ""}});
  auto bad = ParseQuery("a=%4");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::StartsWith("a: "));
}

TEST_CASE("the error body has the API.md shape with details from a 'field: rule' message",
          "[errors]") {
  CHECK(ErrorJson(400, grpc::StatusCode::INVALID_ARGUMENT, "uscc: check character mismatch",
                  "rid-1") ==
        R"({"error":{"code":400,"status":"INVALID_ARGUMENT","message":"uscc: check character )"
        R"(mismatch","details":[{"field":"uscc","description":"check character mismatch"}],)"
        R"("requestId":"rid-1"}})");
  CHECK(ErrorJson(503, grpc::StatusCode::UNAVAILABLE, "credit is \"down\"", "r") ==
        R"({"error":{"code":503,"status":"UNAVAILABLE","message":"credit is \"down\"",)"
        R"("details":[],"requestId":"r"}})");
  CHECK(HttpStatusForGrpcCode(grpc::StatusCode::FAILED_PRECONDITION) == 400);
  CHECK(HttpStatusForGrpcCode(grpc::StatusCode::ABORTED) == 409);
  CHECK(HttpStatusForGrpcCode(grpc::StatusCode::RESOURCE_EXHAUSTED) == 429);
  CHECK(HttpStatusForGrpcCode(grpc::StatusCode::CANCELLED) == 499);
  CHECK(HttpStatusForGrpcCode(grpc::StatusCode::UNIMPLEMENTED) == 501);
  CHECK(HttpStatusForGrpcCode(grpc::StatusCode::DEADLINE_EXCEEDED) == 504);
  CHECK(HttpStatusForGrpcCode(grpc::StatusCode::DATA_LOSS) == 500);
}

}  // namespace
}  // namespace regsuite::gateway
