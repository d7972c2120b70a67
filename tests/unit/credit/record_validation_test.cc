// RecordCreditEvent validation: INVALID_ARGUMENT naming the field, severity implied by the kind.
#include <catch2/catch.hpp>

#include "credit_logic.h"

namespace v1 = regsuite::credit::v1;
using regsuite::credit::ValidateRecordRequest;

namespace {

v1::RecordCreditEventRequest Valid() {
  v1::RecordCreditEventRequest r;
  r.set_event_id("e-1");
  r.set_uscc("91350100m000100y43");
  r.set_kind(v1::CREDIT_RECORD_KIND_PENALTY);
  r.set_severity(v1::SEVERITY_GENERAL);
  r.set_decided_date("2026-04-01");
  return r;
}

std::string FieldOf(const absl::Status& status) {
  const std::string message(status.message());
  return message.substr(0, message.find(':'));
}

}  // namespace

TEST_CASE("a valid record request is accepted and its USCC normalised to upper case") {
  auto r = Valid();
  REQUIRE(ValidateRecordRequest(&r).ok());
  CHECK(r.uscc() == "91350100M000100Y43");
}

TEST_CASE("an invalid record request names the offending field") {
  auto no_event = Valid();
  no_event.clear_event_id();
  CHECK(FieldOf(ValidateRecordRequest(&no_event)) == "event_id");
  auto bad_uscc = Valid();
  bad_uscc.set_uscc("913100007109242800");
  CHECK(FieldOf(ValidateRecordRequest(&bad_uscc)) == "uscc");
  auto no_kind = Valid();
  no_kind.clear_kind();
  CHECK(FieldOf(ValidateRecordRequest(&no_kind)) == "kind");
  auto no_date = Valid();
  no_date.clear_decided_date();
  CHECK(FieldOf(ValidateRecordRequest(&no_date)) == "decided_date");
  auto bad_date = Valid();
  bad_date.set_decided_date("2026-02-30");
  CHECK(FieldOf(ValidateRecordRequest(&bad_date)) == "decided_date");
  auto no_level = Valid();
  no_level.set_kind(v1::CREDIT_RECORD_KIND_ACCIDENT);
  CHECK(FieldOf(ValidateRecordRequest(&no_level)) == "accident_level");
  auto no_severity = Valid();
  no_severity.clear_severity();
  CHECK(FieldOf(ValidateRecordRequest(&no_severity)) == "severity");
  auto negative_fine = Valid();
  negative_fine.set_fine_fen(-1);
  CHECK(FieldOf(ValidateRecordRequest(&negative_fine)) == "fine_fen");
  CHECK(ValidateRecordRequest(&negative_fine).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an accident's severity is implied by its level when not given") {
  auto r = Valid();
  r.set_kind(v1::CREDIT_RECORD_KIND_ACCIDENT);
  r.set_accident_level(v1::ACCIDENT_LEVEL_LARGER);
  r.clear_severity();
  REQUIRE(ValidateRecordRequest(&r).ok());
  CHECK(r.severity() == v1::SEVERITY_SERIOUS);
  auto award = Valid();
  award.set_kind(v1::CREDIT_RECORD_KIND_AWARD);
  award.clear_severity();
  CHECK(ValidateRecordRequest(&award).ok());
}
