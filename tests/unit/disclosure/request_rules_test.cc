// Information-request clocks (条例 Art 30-34, 42) on the 2026 statutory calendar.
#include "request_rules.h"

#include <catch2/catch.hpp>

#include "regsuite/common/calendar.h"
#include "regsuite/common/dates.h"

using regsuite::common::WorkingDayCalendar;
using namespace regsuite::disclosure;
namespace v1 = regsuite::disclosure::v1;

namespace {

const WorkingDayCalendar& Calendar() {
  static const WorkingDayCalendar calendar = *WorkingDayCalendar::Builtin();
  return calendar;
}

struct Fixture {
  DisclosureSettings settings = DisclosureSettings::Defaults();
  RequestRules rules{settings, Calendar()};

  v1::InfoRequest NewRequest(absl::CivilDay arrival) {
    v1::InfoRequest r;
    r.mutable_applicant()->set_type(v1::APPLICANT_TYPE_NATURAL_PERSON);
    r.mutable_applicant()->set_name("赵六");
    r.mutable_applicant()->mutable_contact()->set_phone("13812345678");
    r.set_description("2025年危险化学品经营许可证发放名单");
    REQUIRE(rules.Initialize(r, arrival).ok());
    return r;
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "the reply is due 20 WD after receipt, skipping 中秋 and Golden Week") {
  // Mon 2026-09-14; Sun 9/20 is a make-up workday; 9/25 and 10/1-10/7 are off; Sat 10/10 works.
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  CHECK(r.received_date() == "2026-09-14");
  CHECK(r.correction_due_date() == "2026-09-22");
  CHECK(r.due_date() == "2026-10-16");
  CHECK(r.status() == v1::INFO_REQUEST_STATUS_RECEIVED);
}

TEST_CASE_METHOD(Fixture,
                 "a request arriving on a holiday counts as received the next working day") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 10, 1));
  CHECK(r.received_date() == "2026-10-08");
}

TEST_CASE_METHOD(Fixture, "补正: the clock stops and restarts 20 WD from the corrected request") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  REQUIRE(rules
              .RequestCorrection(r, {"请明确所需信息的文号"}, "", "officer",
                                 absl::CivilDay(2026, 9, 16))
              .ok());
  CHECK(r.status() == v1::INFO_REQUEST_STATUS_CORRECTION_REQUIRED);
  CHECK(r.due_date().empty());
  CHECK(r.correction().applicant_due_date() == "2026-10-13");
  REQUIRE(rules.SubmitCorrection(r, "应急许〔2025〕1-20号", absl::CivilDay(2026, 9, 30)).ok());
  CHECK(r.status() == v1::INFO_REQUEST_STATUS_PROCESSING);
  CHECK(r.due_date() == "2026-11-03");
}

TEST_CASE_METHOD(Fixture, "补正 may be asked only once, listing everything") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  CHECK(rules.RequestCorrection(r, {}, "", "officer", absl::CivilDay(2026, 9, 15)).code() ==
        absl::StatusCode::kInvalidArgument);
  REQUIRE(rules.RequestCorrection(r, {"文号"}, "", "officer", absl::CivilDay(2026, 9, 15)).ok());
  REQUIRE(rules.SubmitCorrection(r, "更正后的描述", absl::CivilDay(2026, 9, 16)).ok());
  CHECK(
      rules.RequestCorrection(r, {"再次补正"}, "", "officer", absl::CivilDay(2026, 9, 17)).code() ==
      absl::StatusCode::kFailedPrecondition);
}

TEST_CASE_METHOD(Fixture, "补正 must be asked within 7 WD of receipt") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  auto s = rules.RequestCorrection(r, {"文号"}, "", "officer", absl::CivilDay(2026, 9, 23));
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(s.message()).find("2026-09-22") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "no correction in time closes the request as 逾期不补正") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  REQUIRE(rules.RequestCorrection(r, {"文号"}, "", "officer", absl::CivilDay(2026, 9, 16)).ok());
  CHECK_FALSE(*rules.CloseIfCorrectionLapsed(r, absl::CivilDay(2026, 10, 13)));
  CHECK(*rules.CloseIfCorrectionLapsed(r, absl::CivilDay(2026, 10, 14)));
  CHECK(r.status() == v1::INFO_REQUEST_STATUS_REPLIED);
  CHECK(r.reply().type() == v1::REPLY_TYPE_OTHER_HANDLING);
  CHECK(r.reply().other_handling_reason() == v1::OTHER_HANDLING_REASON_CORRECTION_NOT_SUPPLIED);
  CHECK(rules.SubmitCorrection(r, "too late", absl::CivilDay(2026, 10, 15)).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE_METHOD(Fixture, "an extension adds up to 20 WD, once, with an approver") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  CHECK(rules.Extend(r, 21, "量大", "局长", absl::CivilDay(2026, 10, 12)).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(rules.Extend(r, 20, "量大", "", absl::CivilDay(2026, 10, 12)).code() ==
        absl::StatusCode::kInvalidArgument);
  REQUIRE(rules.Extend(r, 20, "需调取档案", "局长", absl::CivilDay(2026, 10, 12)).ok());
  CHECK(r.due_date() == "2026-11-13");
  CHECK(rules.Extend(r, 5, "again", "局长", absl::CivilDay(2026, 10, 13)).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE_METHOD(Fixture, "an extension must be decided before the reply is due") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  CHECK(rules.Extend(r, 10, "late", "局长", absl::CivilDay(2026, 10, 19)).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE_METHOD(Fixture, "third-party consultation pauses the clock; the third party has 15 WD") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  REQUIRE(rules.StartConsultation(r, "c1", "某某化工有限公司", absl::CivilDay(2026, 9, 21)).ok());
  CHECK(r.status() == v1::INFO_REQUEST_STATUS_CONSULTING);
  CHECK(r.consultations(0).due_date() == "2026-10-19");
  // While consulting, the projected due date assumes the third party uses all 15 WD.
  CHECK(r.due_date() == "2026-11-09");
  CHECK(rules.Reply(r, v1::Reply(), absl::CivilDay(2026, 9, 22)).code() ==
        absl::StatusCode::kFailedPrecondition);
  REQUIRE(rules
              .FinishConsultation(r, "c1", v1::CONSULTATION_OPINION_OBJECTS, "涉及商业秘密",
                                  absl::CivilDay(2026, 9, 24))
              .ok());
  CHECK(r.status() == v1::INFO_REQUEST_STATUS_PROCESSING);
  // 9/21-9/24 (4 WD) not counted: 10/16 + 4 WD = 10/22.
  CHECK(r.due_date() == "2026-10-22");
}

TEST_CASE_METHOD(Fixture, "a reply names its type and exactly the matching reason") {
  v1::InfoRequest r = NewRequest(absl::CivilDay(2026, 9, 14));
  v1::Reply reply;
  reply.set_type(v1::REPLY_TYPE_REFUSED);
  reply.set_replied_by("officer");
  CHECK(rules.Reply(r, reply, absl::CivilDay(2026, 9, 18)).message() ==
        "reply.refusal_reason: is required for this reply type");
  reply.set_refusal_reason(v1::REFUSAL_REASON_STATE_SECRET);
  reply.set_unavailable_reason(v1::UNAVAILABLE_REASON_NOT_HELD);
  CHECK(rules.Reply(r, reply, absl::CivilDay(2026, 9, 18)).code() ==
        absl::StatusCode::kInvalidArgument);
  reply.clear_unavailable_reason();
  REQUIRE(rules.Reply(r, reply, absl::CivilDay(2026, 9, 18)).ok());
  CHECK(r.status() == v1::INFO_REQUEST_STATUS_REPLIED);
  CHECK(r.reply().replied_date() == "2026-09-18");
  CHECK(rules.Reply(r, reply, absl::CivilDay(2026, 9, 18)).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE_METHOD(Fixture, "fees: free up to 10 a month, 100 yuan for 11-30, +100 per further 10") {
  absl::CivilDay day(2026, 3, 2);
  CHECK(rules.FeeFen(day, 10) == 0);
  CHECK(rules.FeeFen(day, 11) == 10000);
  CHECK(rules.FeeFen(day, 30) == 10000);
  CHECK(rules.FeeFen(day, 31) == 20000);
  CHECK(rules.FeeFen(day, 40) == 20000);
  CHECK(rules.FeeFen(day, 41) == 30000);
  // Before the 109号 measures took effect nothing is charged.
  CHECK(rules.FeeFen(absl::CivilDay(2020, 12, 31), 50) == 0);
}

TEST_CASE_METHOD(Fixture, "a request needs an applicant type, a contact and a description") {
  v1::InfoRequest r;
  CHECK(rules.Initialize(r, absl::CivilDay(2026, 9, 14)).message() ==
        "applicant.type: must be an APPLICANT_TYPE_ value");
  r.mutable_applicant()->set_type(v1::APPLICANT_TYPE_BUSINESS);
  r.mutable_applicant()->set_name("某公司");
  CHECK(std::string(rules.Initialize(r, absl::CivilDay(2026, 9, 14)).message())
            .rfind("applicant.contact", 0) == 0);
}

TEST_CASE("the applicant's ID number and phone are served masked") {
  v1::InfoRequest r;
  r.mutable_applicant()->set_id_number("11010519491231002X");
  r.mutable_applicant()->mutable_contact()->set_phone("13812345678");
  r.mutable_applicant()->mutable_contact()->set_email("zhaoliu@example.com");
  v1::InfoRequest m = MaskInfoRequest(r);
  CHECK(m.applicant().id_number() == "1101**********002X");
  CHECK(m.applicant().contact().phone() == "138****5678");
  CHECK(m.applicant().contact().email() == "z***@example.com");
}
