// Licensing rules without I/O: decision clocks on the statutory working-day calendar
// (行政许可法 Art 42, 45), the 5-WD notice rule (Art 32), 一次性告知 and 告知承诺 eligibility.
#include <catch2/catch.hpp>

#include "regsuite/common/calendar.h"
#include "regsuite/common/dates.h"
#include "rules.h"

namespace {

using regsuite::common::DayInterval;
using regsuite::common::FormatDate;
using regsuite::common::WorkingDayCalendar;
using namespace regsuite::licensing;  // NOLINT
namespace v1 = regsuite::licensing::v1;

const WorkingDayCalendar& Calendar() {
  static const WorkingDayCalendar calendar = *WorkingDayCalendar::Builtin();
  return calendar;
}

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

v1::PermitType TypeWithMaterials() {
  v1::PermitType type;
  type.set_code("WHJY");
  auto* a = type.add_required_materials();
  a->set_code("APPLICATION_FORM");
  a->set_name("申请书");
  a->set_key(true);
  auto* b = type.add_required_materials();
  b->set_code("BUSINESS_LICENCE");
  b->set_name("营业执照");
  b->set_key(true);
  auto* c = type.add_required_materials();
  c->set_code("PREMISES_PROOF");
  c->set_name("经营场所证明");
  c->set_key(false);
  c->set_max_age_days(365);
  return type;
}

v1::Material M(const std::string& code, const std::string& ref, const std::string& issued = "") {
  v1::Material m;
  m.set_code(code);
  m.set_document_ref(ref);
  m.set_issued_date(issued);
  return m;
}

}  // namespace

TEST_CASE("decision clock: accepted 2026-09-28 with 20 WD is due 2026-10-30 (National Day skipped)",
          "[licensing][clock]") {
  auto due = DecisionDueDate(Calendar(), D(2026, 9, 28), 20, {});
  REQUIRE(due.ok());
  CHECK(FormatDate(*due) == "2026-10-30");
}

TEST_CASE("decision clock: a 3-WD suspension moves the due date by 3 WD (Art 45)",
          "[licensing][clock]") {
  // Suspended Mon 2026-10-12 .. Wed 2026-10-14, resumed Thu 2026-10-15.
  auto interval = CountedOutInterval(D(2026, 10, 12), D(2026, 10, 15), D(2026, 11, 30),
                                     D(2026, 10, 20));
  REQUIRE(interval.has_value());
  std::vector<DayInterval> suspensions{*interval};
  auto due = DecisionDueDate(Calendar(), D(2026, 9, 28), 20, suspensions);
  REQUIRE(due.ok());
  CHECK(FormatDate(*due) == "2026-11-04");
  auto counted = Calendar().WorkingDaysBetween(D(2026, 10, 30), *due);
  REQUIRE(counted.ok());
  CHECK(*counted == 3);
}

TEST_CASE("decision clock: time beyond a suspension reason's maximum counts again",
          "[licensing][clock]") {
  // Maximum ends 2026-10-13; resumed only on 2026-10-20: only 12–13 Oct are excluded.
  auto interval = CountedOutInterval(D(2026, 10, 12), D(2026, 10, 20), D(2026, 10, 13),
                                     D(2026, 10, 20));
  REQUIRE(interval.has_value());
  CHECK(interval->last == D(2026, 10, 13));
  auto due = DecisionDueDate(Calendar(), D(2026, 9, 28), 20, std::vector<DayInterval>{*interval});
  REQUIRE(due.ok());
  CHECK(FormatDate(*due) == "2026-11-03");
}

TEST_CASE("decision clock: a 10-WD extension adds 10 working days (Art 42)", "[licensing][clock]") {
  auto due = DecisionDueDate(Calendar(), D(2026, 9, 28), 30, {});
  REQUIRE(due.ok());
  CHECK(FormatDate(*due) == "2026-11-13");
}

TEST_CASE("decision clock: a year without calendar data is FAILED_PRECONDITION, never a guess",
          "[licensing][clock]") {
  auto due = DecisionDueDate(Calendar(), D(2026, 12, 20), 20, {});
  CHECK(absl::IsFailedPrecondition(due.status()));
}

TEST_CASE("5-WD notice rule: received Fri 2026-09-18, notice due 2026-09-24 (make-up Sunday counts)",
          "[licensing][notice]") {
  auto due = CorrectionNoticeDueDate(Calendar(), D(2026, 9, 18), 5);
  REQUIRE(due.ok());
  // 9/20 (Sun) is a make-up working day: 20, 21, 22, 23, 24.
  CHECK(FormatDate(*due) == "2026-09-24");
}

TEST_CASE("5-WD notice rule: without a notice by the due date it counts as accepted on receipt",
          "[licensing][notice]") {
  absl::CivilDay due = D(2026, 9, 24);
  CHECK_FALSE(DeemedAcceptedOnReceipt(due, /*notice_sent=*/false, D(2026, 9, 24)));
  CHECK(DeemedAcceptedOnReceipt(due, /*notice_sent=*/false, D(2026, 9, 25)));
  CHECK_FALSE(DeemedAcceptedOnReceipt(due, /*notice_sent=*/true, D(2026, 9, 30)));
}

TEST_CASE("一次性告知: every missing, defective and expired material is listed at once",
          "[licensing][materials]") {
  auto type = TypeWithMaterials();
  std::vector<v1::Material> supplied{M("BUSINESS_LICENCE", ""),
                                     M("PREMISES_PROOF", "doc-3", "2025-01-01")};
  auto missing = CheckMaterials(type, supplied, D(2026, 10, 12));
  REQUIRE(missing.size() == 3);
  CHECK(missing[0].code() == "APPLICATION_FORM");
  CHECK(missing[0].reason() == v1::MATERIAL_DEFECT_MISSING);
  CHECK(missing[0].key());
  CHECK(missing[1].code() == "BUSINESS_LICENCE");
  CHECK(missing[1].reason() == v1::MATERIAL_DEFECT_DEFECTIVE);
  CHECK(missing[2].code() == "PREMISES_PROOF");
  CHECK(missing[2].reason() == v1::MATERIAL_DEFECT_EXPIRED);
  CHECK_FALSE(missing[2].key());
}

TEST_CASE("一次性告知: complete, current materials leave nothing missing", "[licensing][materials]") {
  auto type = TypeWithMaterials();
  std::vector<v1::Material> supplied{M("APPLICATION_FORM", "d1"), M("BUSINESS_LICENCE", "d2"),
                                     M("PREMISES_PROOF", "d3", "2026-06-01")};
  CHECK(CheckMaterials(type, supplied, D(2026, 10, 12)).empty());
}

TEST_CASE("materials: an unknown material code is INVALID_ARGUMENT naming the field",
          "[licensing][materials]") {
  auto type = TypeWithMaterials();
  std::vector<v1::Material> supplied{M("NOPE", "d")};
  auto status = ValidateSuppliedMaterials(type, supplied, "materials");
  CHECK(absl::IsInvalidArgument(status));
  CHECK(std::string(status.message()).rfind("materials[0].code:", 0) == 0);
}

TEST_CASE("告知承诺 eligibility: eligible type + signed + complete + clean credit = instant",
          "[licensing][instant]") {
  InstantApprovalInputs in{.commitment_eligible = true,
                           .commitment_signed = true,
                           .materials_complete = true,
                           .past_false_commitment = false,
                           .credit = CreditStanding{}};
  CHECK(CreditCheckNeeded(in));
  CHECK(InstantApprovalBlockers(in).empty());
}

TEST_CASE("告知承诺 eligibility: NO_COMMITMENT_APPROVAL or black list means normal review",
          "[licensing][instant]") {
  InstantApprovalInputs in{.commitment_eligible = true,
                           .commitment_signed = true,
                           .materials_complete = true,
                           .credit = CreditStanding{.no_commitment_approval = true}};
  auto reasons = InstantApprovalBlockers(in);
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0] == v1::NORMAL_REVIEW_REASON_BLACK_LIST);
  in.credit = CreditStanding{.black_list = true};
  CHECK(InstantApprovalBlockers(in) ==
        std::vector<v1::NormalReviewReason>{v1::NORMAL_REVIEW_REASON_BLACK_LIST});
}

TEST_CASE("告知承诺 eligibility: credit unknown means normal review, never approve blind",
          "[licensing][instant]") {
  InstantApprovalInputs in{.commitment_eligible = true,
                           .commitment_signed = true,
                           .materials_complete = true};
  CHECK(InstantApprovalBlockers(in) ==
        std::vector<v1::NormalReviewReason>{v1::NORMAL_REVIEW_REASON_CREDIT_CHECK_UNAVAILABLE});
}

TEST_CASE("告知承诺 eligibility: each precondition is reported; credit is not asked then",
          "[licensing][instant]") {
  InstantApprovalInputs in{.commitment_eligible = false,
                           .commitment_signed = false,
                           .materials_complete = false,
                           .past_false_commitment = true};
  CHECK_FALSE(CreditCheckNeeded(in));
  auto reasons = InstantApprovalBlockers(in);
  CHECK(reasons == std::vector<v1::NormalReviewReason>{
                       v1::NORMAL_REVIEW_REASON_NOT_COMMITMENT_ELIGIBLE,
                       v1::NORMAL_REVIEW_REASON_COMMITMENT_NOT_SIGNED,
                       v1::NORMAL_REVIEW_REASON_MATERIALS_INCOMPLETE,
                       v1::NORMAL_REVIEW_REASON_PAST_FALSE_COMMITMENT});
}

TEST_CASE("certificate validity: 36 months from 2026-10-30 ends 2029-10-29; month ends clamp",
          "[licensing][certificate]") {
  CHECK(ValidUntil(D(2026, 10, 30), 36) == D(2029, 10, 29));
  CHECK(ValidUntil(D(2026, 1, 31), 1) == D(2026, 2, 28));
}

TEST_CASE("renewal window: at least 30 days before expiry (Art 50)", "[licensing][renewal]") {
  CHECK(RenewalWindowOpen(D(2026, 10, 1), D(2026, 10, 31), 30));
  CHECK_FALSE(RenewalWindowOpen(D(2026, 10, 2), D(2026, 10, 31), 30));
}

namespace {

v1::Certificate HeldCertificate() {
  v1::Certificate c;
  c.set_certificate_no("QDYJ-WHJY-2026-000001");
  c.mutable_holder()->set_uscc("91350100M000100Y43");
  c.mutable_holder()->set_name("青岛示例化工有限公司");
  c.mutable_holder()->set_legal_representative("张三");
  c.mutable_holder()->set_address("青岛市市南区香港中路1号");
  c.set_scope("乙醇（不带储存设施）");
  c.set_status(v1::CERTIFICATE_STATUS_VALID);
  c.set_valid_until("2029-09-27");
  return c;
}

v1::ChangeCertificateRequest Change() {
  v1::ChangeCertificateRequest req;
  req.set_certificate_no("QDYJ-WHJY-2026-000001");
  req.set_reason("企业名称变更（营业执照）");
  req.set_changed_by("窗口-李四");
  return req;
}

bool Rejects(const absl::Status& status, const std::string& field) {
  return absl::IsInvalidArgument(status) && status.message().rfind(field + ":", 0) == 0;
}

}  // namespace

TEST_CASE("变更 input: reason and changed_by required; contact details and bad text refused",
          "[licensing][change]") {
  auto req = Change();
  req.mutable_holder()->set_name("青岛新名化工有限公司");
  CHECK(ValidateChangeRequest(req).ok());

  auto no_reason = req;
  no_reason.set_reason("  ");
  CHECK(Rejects(ValidateChangeRequest(no_reason), "reason"));
  auto no_actor = req;
  no_actor.clear_changed_by();
  CHECK(Rejects(ValidateChangeRequest(no_actor), "changed_by"));

  auto phone = req;
  phone.mutable_holder()->set_contact_phone("13800138000");
  CHECK(Rejects(ValidateChangeRequest(phone), "holder.contact_phone"));
  auto contact = req;
  contact.mutable_holder()->set_contact_name("王五");
  CHECK(Rejects(ValidateChangeRequest(contact), "holder.contact_name"));

  auto blank = req;
  blank.mutable_holder()->set_legal_representative(" ");
  CHECK(Rejects(ValidateChangeRequest(blank), "holder.legal_representative"));
  auto newline = req;
  newline.mutable_holder()->set_address("青岛市\nvalid_until=2099-01-01");
  CHECK(Rejects(ValidateChangeRequest(newline), "holder.address"));
  auto long_name = req;
  std::string name;
  for (int i = 0; i < 101; ++i) name += "化";  // 101 characters, 303 bytes
  long_name.mutable_holder()->set_name(name);
  CHECK(Rejects(ValidateChangeRequest(long_name), "holder.name"));
  name.resize(name.size() - 3);  // 100 characters
  long_name.mutable_holder()->set_name(name);
  CHECK(ValidateChangeRequest(long_name).ok());
}

TEST_CASE("变更 fields: only differing particulars, old → new, in a fixed order",
          "[licensing][change]") {
  auto req = Change();
  req.mutable_holder()->set_address("青岛市崂山区海尔路2号");
  req.mutable_holder()->set_name("青岛新名化工有限公司");
  req.mutable_holder()->set_legal_representative("张三");  // same: not a change
  req.mutable_holder()->set_uscc("91350100m000100y43");    // the holder's, lower case
  req.set_scope("乙醇（不带储存设施）");                   // same scope: allowed
  auto fields = CertificateAmendments(HeldCertificate(), req);
  REQUIRE(fields.ok());
  REQUIRE(fields->size() == 2);
  CHECK((*fields)[0].field() == "holder.name");
  CHECK((*fields)[0].old_value() == "青岛示例化工有限公司");
  CHECK((*fields)[0].new_value() == "青岛新名化工有限公司");
  CHECK((*fields)[1].field() == "holder.address");
  CHECK((*fields)[1].old_value() == "青岛市市南区香港中路1号");
  CHECK((*fields)[1].new_value() == "青岛市崂山区海尔路2号");
}

TEST_CASE("变更 fields: another USCC, a different scope or no difference are refused",
          "[licensing][change]") {
  auto other = Change();
  other.mutable_holder()->set_uscc("91330100799655058B");
  other.mutable_holder()->set_name("别的公司");
  CHECK(Rejects(CertificateAmendments(HeldCertificate(), other).status(), "holder.uscc"));

  auto wider = Change();
  wider.set_scope("乙醇、甲醇（带储存设施）");
  auto refused = CertificateAmendments(HeldCertificate(), wider).status();
  CHECK(Rejects(refused, "scope"));
  CHECK(refused.message().find("new application") != std::string::npos);

  auto same = Change();
  same.mutable_holder()->set_name("青岛示例化工有限公司");
  CHECK(Rejects(CertificateAmendments(HeldCertificate(), same).status(), "holder"));
  CHECK(Rejects(CertificateAmendments(HeldCertificate(), Change()).status(), "holder"));
}

TEST_CASE("live certificate status: VALID past valid_until is EXPIRED", "[licensing][change]") {
  auto c = HeldCertificate();
  CHECK(LiveCertificateStatus(c, D(2029, 9, 27)) == v1::CERTIFICATE_STATUS_VALID);
  CHECK(LiveCertificateStatus(c, D(2029, 9, 28)) == v1::CERTIFICATE_STATUS_EXPIRED);
  c.set_status(v1::CERTIFICATE_STATUS_SUSPENDED);
  CHECK(LiveCertificateStatus(c, D(2029, 9, 28)) == v1::CERTIFICATE_STATUS_SUSPENDED);
}

TEST_CASE("renewal holder: a 变更 after the renewal was received carries over, earlier ones not",
          "[licensing][renewal][change]") {
  v1::Party applicant;
  applicant.set_uscc("91370200MA3C5LXN1K");
  applicant.set_name("旧名公司");
  applicant.set_legal_representative("张三");
  applicant.set_contact_name("联系人");
  const absl::Time received = absl::FromUnixSeconds(1'790'000'000);
  auto amend = [](v1::Certificate& c, absl::Time at, const std::string& field,
                  const std::string& value) {
    auto* a = c.add_amendments();
    a->mutable_changed_at()->set_seconds(absl::ToUnixSeconds(at));
    auto* f = a->add_fields();
    f->set_field(field);
    f->set_new_value(value);
  };
  v1::Certificate renewed;
  amend(renewed, received - absl::Hours(24), "holder.address", "早先的住所");  // before: in the copy
  amend(renewed, received + absl::Hours(24), "holder.name", "新名公司");
  amend(renewed, received + absl::Hours(48), "holder.legal_representative", "李四");
  v1::Party holder = RenewalHolder(applicant, renewed, received);
  CHECK(holder.name() == "新名公司");
  CHECK(holder.legal_representative() == "李四");
  CHECK(holder.address().empty());
  CHECK(holder.contact_name() == "联系人");
  CHECK(holder.uscc() == applicant.uscc());
  // No change after receipt: the application's particulars as they are.
  v1::Certificate unchanged;
  amend(unchanged, received - absl::Hours(1), "holder.name", "更早的名");
  CHECK(RenewalHolder(applicant, unchanged, received).name() == "旧名公司");
}
