#include "request_rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/masking.h"
#include "regsuite/common/status.h"

namespace regsuite::disclosure {
namespace {

using common::FieldError;
using common::FormatDate;
using common::ParseDate;
using common::StateError;
using v1::InfoRequest;

std::string StatusName(const InfoRequest& r) {
  std::string name = v1::InfoRequestStatus_Name(r.status());
  constexpr absl::string_view kPrefix = "INFO_REQUEST_STATUS_";
  return absl::StartsWith(name, kPrefix) ? name.substr(kPrefix.size()) : name;
}

absl::Status RequireStatus(const InfoRequest& r, std::initializer_list<v1::InfoRequestStatus> ok,
                           absl::string_view verb) {
  for (auto s : ok) {
    if (r.status() == s) return absl::OkStatus();
  }
  return StateError("info request", StatusName(r), verb);
}

}  // namespace

absl::StatusOr<absl::CivilDay> RequestRules::ReceivedDate(absl::CivilDay arrival) const {
  auto working = calendar_.IsWorkingDay(arrival);
  if (!working.ok()) return working.status();
  if (*working) return arrival;
  return calendar_.AddWorkingDays(arrival, 1);
}

int64_t RequestRules::FeeFen(absl::CivilDay day, int nth) const {
  for (const FeeRule& rule : settings_.fee_rules) {
    if (day < rule.from) continue;
    if (nth <= rule.free_per_month) return 0;
    if (nth <= rule.first_tier_max) return rule.fee_fen;
    int steps = (nth - rule.first_tier_max + rule.step - 1) / rule.step;
    return rule.fee_fen * (1 + steps);
  }
  return 0;
}

absl::Status RequestRules::Initialize(InfoRequest& r, absl::CivilDay arrival) const {
  const auto& a = r.applicant();
  if (a.type() == v1::APPLICANT_TYPE_UNSPECIFIED || !v1::ApplicantType_IsValid(a.type())) {
    return FieldError("applicant.type", "must be an APPLICANT_TYPE_ value");
  }
  if (absl::StripAsciiWhitespace(a.name()).empty()) {
    return FieldError("applicant.name", "is required");
  }
  if (!a.id_number().empty() && !common::IsValidPersonalIdNumber(a.id_number())) {
    return FieldError("applicant.id_number", "is not a valid resident ID number (check character)");
  }
  if (a.type() != v1::APPLICANT_TYPE_NATURAL_PERSON && !a.organisation_code().empty() &&
      !common::IsValidUscc(a.organisation_code())) {
    return FieldError("applicant.organisation_code", "is not a valid USCC");
  }
  if (a.contact().phone().empty() && a.contact().email().empty() && a.contact().address().empty()) {
    return FieldError("applicant.contact", "needs a phone, e-mail or address (条例 Art 29)");
  }
  if (absl::StripAsciiWhitespace(r.description()).empty()) {
    return FieldError("description", "is required: the information's name, number or features");
  }
  auto received = ReceivedDate(arrival);
  if (!received.ok()) return received.status();
  r.set_received_date(FormatDate(*received));
  auto correction_due = calendar_.AddWorkingDays(*received, settings_.request_correction_wd);
  if (!correction_due.ok()) return correction_due.status();
  r.set_correction_due_date(FormatDate(*correction_due));
  r.set_status(v1::INFO_REQUEST_STATUS_RECEIVED);
  return RecomputeDueDate(r);
}

absl::Status RequestRules::RecomputeDueDate(InfoRequest& r) const {
  if (r.status() == v1::INFO_REQUEST_STATUS_CORRECTION_REQUIRED) {
    r.clear_due_date();
    return absl::OkStatus();
  }
  auto received = ParseDate(r.received_date());
  if (!received.ok()) return received.status();
  absl::CivilDay base = *received;
  if (r.has_correction() && !r.correction().corrected_date().empty()) {
    auto corrected = ParseDate(r.correction().corrected_date());
    if (!corrected.ok()) return corrected.status();
    base = *corrected;
  }
  std::vector<common::DayInterval> paused;
  for (const auto& c : r.consultations()) {
    auto first = ParseDate(c.started_date());
    auto last = ParseDate(c.finished_date().empty() ? c.due_date() : c.finished_date());
    if (!first.ok() || !last.ok()) return absl::InternalError("consultation dates unreadable");
    paused.push_back({*first, *last});
  }
  int n = settings_.request_reply_wd + (r.has_extension() ? r.extension().working_days() : 0);
  auto due = calendar_.AddWorkingDays(base, n, paused);
  if (!due.ok()) return due.status();
  r.set_due_date(FormatDate(*due));
  return absl::OkStatus();
}

absl::Status RequestRules::RequestCorrection(InfoRequest& r, const std::vector<std::string>& items,
                                             const std::string& note,
                                             const std::string& requested_by,
                                             absl::CivilDay today) const {
  if (absl::Status s =
          RequireStatus(r, {v1::INFO_REQUEST_STATUS_RECEIVED, v1::INFO_REQUEST_STATUS_PROCESSING},
                        "request a correction");
      !s.ok()) {
    return s;
  }
  if (r.has_correction()) {
    return absl::FailedPreconditionError(
        "info request: a correction was already requested once; everything must be listed at "
        "once (条例 Art 30)");
  }
  if (items.empty()) return FieldError("items", "list everything to correct, at once (Art 30)");
  if (requested_by.empty()) return FieldError("requested_by", "is required");
  auto due = ParseDate(r.correction_due_date());
  if (!due.ok()) return due.status();
  if (today > *due) {
    return absl::FailedPreconditionError(absl::StrCat(
        "info request: a correction may only be requested within ", settings_.request_correction_wd,
        " WD of receipt (until ", r.correction_due_date(), ", 条例 Art 30)"));
  }
  auto applicant_due = calendar_.AddWorkingDays(today, settings_.applicant_correction_wd);
  if (!applicant_due.ok()) return applicant_due.status();
  auto* c = r.mutable_correction();
  c->set_requested_date(FormatDate(today));
  for (const auto& item : items) c->add_items(item);
  c->set_note(note);
  c->set_requested_by(requested_by);
  c->set_applicant_due_date(FormatDate(*applicant_due));
  r.set_status(v1::INFO_REQUEST_STATUS_CORRECTION_REQUIRED);
  return RecomputeDueDate(r);
}

absl::Status RequestRules::SubmitCorrection(InfoRequest& r, const std::string& description,
                                            absl::CivilDay today) const {
  if (absl::Status s =
          RequireStatus(r, {v1::INFO_REQUEST_STATUS_CORRECTION_REQUIRED}, "accept a correction");
      !s.ok()) {
    return s;
  }
  if (absl::StripAsciiWhitespace(description).empty()) {
    return FieldError("corrected_description", "is required");
  }
  auto applicant_due = ParseDate(r.correction().applicant_due_date());
  if (applicant_due.ok() && today > *applicant_due) {
    return absl::FailedPreconditionError(
        absl::StrCat("info request: the correction period ended on ",
                     r.correction().applicant_due_date(), " (逾期不补正)"));
  }
  r.mutable_correction()->set_corrected_date(FormatDate(today));
  r.mutable_correction()->set_corrected_description(description);
  r.set_status(v1::INFO_REQUEST_STATUS_PROCESSING);
  return RecomputeDueDate(r);
}

absl::Status RequestRules::Extend(InfoRequest& r, int working_days, const std::string& reason,
                                  const std::string& approved_by, absl::CivilDay today) const {
  if (absl::Status s =
          RequireStatus(r,
                        {v1::INFO_REQUEST_STATUS_RECEIVED, v1::INFO_REQUEST_STATUS_PROCESSING,
                         v1::INFO_REQUEST_STATUS_CONSULTING},
                        "extend");
      !s.ok()) {
    return s;
  }
  if (r.has_extension()) {
    return absl::FailedPreconditionError("info request: the reply time was already extended once");
  }
  if (working_days < 1 || working_days > settings_.max_extension_wd) {
    return FieldError("working_days",
                      absl::StrCat("must be 1 to ", settings_.max_extension_wd, " (条例 Art 33)"));
  }
  if (absl::StripAsciiWhitespace(reason).empty()) return FieldError("reason", "is required");
  if (absl::StripAsciiWhitespace(approved_by).empty()) {
    return FieldError("approved_by", "the head of the agency's approval is required (Art 33)");
  }
  auto due = ParseDate(r.due_date());
  if (due.ok() && today > *due) {
    return absl::FailedPreconditionError(
        absl::StrCat("info request: the reply was due on ", r.due_date(),
                     "; an extension must be decided before then"));
  }
  auto* e = r.mutable_extension();
  e->set_working_days(working_days);
  e->set_reason(reason);
  e->set_approved_by(approved_by);
  e->set_extended_date(FormatDate(today));
  return RecomputeDueDate(r);
}

absl::Status RequestRules::StartConsultation(InfoRequest& r, const std::string& consultation_id,
                                             const std::string& third_party,
                                             absl::CivilDay started) const {
  if (absl::Status s =
          RequireStatus(r, {v1::INFO_REQUEST_STATUS_RECEIVED, v1::INFO_REQUEST_STATUS_PROCESSING},
                        "start a consultation");
      !s.ok()) {
    return s;
  }
  if (absl::StripAsciiWhitespace(third_party).empty()) {
    return FieldError("third_party", "is required");
  }
  auto received = ParseDate(r.received_date());
  if (received.ok() && started < *received) {
    return FieldError("started_date", "must not be before the request was received");
  }
  auto due = calendar_.AddWorkingDays(started, settings_.consultation_wd);
  if (!due.ok()) return due.status();
  auto* c = r.add_consultations();
  c->set_consultation_id(consultation_id);
  c->set_third_party(third_party);
  c->set_started_date(FormatDate(started));
  c->set_due_date(FormatDate(*due));
  r.set_status(v1::INFO_REQUEST_STATUS_CONSULTING);
  return RecomputeDueDate(r);
}

absl::Status RequestRules::FinishConsultation(InfoRequest& r, const std::string& consultation_id,
                                              v1::ConsultationOpinion opinion,
                                              const std::string& note,
                                              absl::CivilDay finished) const {
  if (absl::Status s =
          RequireStatus(r, {v1::INFO_REQUEST_STATUS_CONSULTING}, "finish a consultation");
      !s.ok()) {
    return s;
  }
  if (opinion == v1::CONSULTATION_OPINION_UNSPECIFIED ||
      !v1::ConsultationOpinion_IsValid(opinion)) {
    return FieldError("opinion", "must be a CONSULTATION_OPINION_ value");
  }
  for (auto& c : *r.mutable_consultations()) {
    if (c.consultation_id() != consultation_id || !c.finished_date().empty()) continue;
    auto started = ParseDate(c.started_date());
    if (!started.ok()) return started.status();
    if (finished < *started) return FieldError("finished_date", "must not be before started_date");
    c.set_finished_date(FormatDate(finished));
    c.set_opinion(opinion);
    c.set_note(note);
    r.set_status(v1::INFO_REQUEST_STATUS_PROCESSING);
    return RecomputeDueDate(r);
  }
  return absl::NotFoundError(absl::StrCat("consultation_id: no open consultation '",
                                          consultation_id, "' on this request"));
}

absl::Status RequestRules::ValidateReply(const v1::Reply& reply) {
  bool refusal = reply.refusal_reason() != v1::REFUSAL_REASON_UNSPECIFIED;
  bool unavailable = reply.unavailable_reason() != v1::UNAVAILABLE_REASON_UNSPECIFIED;
  bool not_processed = reply.not_processed_reason() != v1::NOT_PROCESSED_REASON_UNSPECIFIED;
  bool other = reply.other_handling_reason() != v1::OTHER_HANDLING_REASON_UNSPECIFIED;
  auto only = [&](bool mine, absl::string_view field) -> absl::Status {
    int set = refusal + unavailable + not_processed + other;
    if (!mine) return FieldError(field, "is required for this reply type");
    if (set != 1) return FieldError("reply", "only the reason field of the reply type may be set");
    return absl::OkStatus();
  };
  switch (reply.type()) {
    case v1::REPLY_TYPE_DISCLOSED:
      if (refusal || unavailable || not_processed || other) {
        return FieldError("reply", "a full disclosure carries no reason");
      }
      return absl::OkStatus();
    case v1::REPLY_TYPE_PARTIALLY_DISCLOSED:
    case v1::REPLY_TYPE_REFUSED:
      if (!v1::RefusalReason_IsValid(reply.refusal_reason())) {
        return FieldError("reply.refusal_reason", "unknown value");
      }
      return only(refusal, "reply.refusal_reason");
    case v1::REPLY_TYPE_UNABLE_TO_PROVIDE:
      if (!v1::UnavailableReason_IsValid(reply.unavailable_reason())) {
        return FieldError("reply.unavailable_reason", "unknown value");
      }
      return only(unavailable, "reply.unavailable_reason");
    case v1::REPLY_TYPE_NOT_PROCESSED:
      if (!v1::NotProcessedReason_IsValid(reply.not_processed_reason())) {
        return FieldError("reply.not_processed_reason", "unknown value");
      }
      return only(not_processed, "reply.not_processed_reason");
    case v1::REPLY_TYPE_OTHER_HANDLING:
      if (!v1::OtherHandlingReason_IsValid(reply.other_handling_reason())) {
        return FieldError("reply.other_handling_reason", "unknown value");
      }
      return only(other, "reply.other_handling_reason");
    default:
      return FieldError("reply.type", "must be a REPLY_TYPE_ value");
  }
}

absl::Status RequestRules::Reply(InfoRequest& r, const v1::Reply& reply,
                                 absl::CivilDay today) const {
  if (absl::Status s = RequireStatus(
          r, {v1::INFO_REQUEST_STATUS_RECEIVED, v1::INFO_REQUEST_STATUS_PROCESSING}, "reply");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateReply(reply); !s.ok()) return s;
  if (reply.replied_by().empty()) return FieldError("reply.replied_by", "is required");
  *r.mutable_reply() = reply;
  r.mutable_reply()->set_replied_date(FormatDate(today));
  r.set_status(v1::INFO_REQUEST_STATUS_REPLIED);
  return absl::OkStatus();
}

absl::StatusOr<bool> RequestRules::CloseIfCorrectionLapsed(InfoRequest& r,
                                                           absl::CivilDay today) const {
  if (r.status() != v1::INFO_REQUEST_STATUS_CORRECTION_REQUIRED) return false;
  auto due = ParseDate(r.correction().applicant_due_date());
  if (!due.ok()) return due.status();
  if (today <= *due) return false;
  auto* reply = r.mutable_reply();
  reply->set_type(v1::REPLY_TYPE_OTHER_HANDLING);
  reply->set_other_handling_reason(v1::OTHER_HANDLING_REASON_CORRECTION_NOT_SUPPLIED);
  reply->set_content(
      "申请人无正当理由逾期不补正，视为放弃申请，行政机关不再处理该政府信息公开申请。");
  reply->set_legal_basis("《中华人民共和国政府信息公开条例》第三十条");
  reply->set_replied_date(FormatDate(today));
  reply->set_replied_by("system");
  r.set_status(v1::INFO_REQUEST_STATUS_REPLIED);
  return true;
}

std::string ApplicantKey(const v1::Applicant& a) {
  std::string id;
  if (!a.id_number().empty()) {
    id = absl::StrCat("id:", absl::AsciiStrToUpper(absl::StripAsciiWhitespace(a.id_number())));
  } else if (!a.organisation_code().empty()) {
    id = absl::StrCat("org:",
                      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(a.organisation_code())));
  } else {
    id = absl::StrCat("name:", absl::StripAsciiWhitespace(a.name()));
  }
  return common::Sha256Hex(id);
}

v1::InfoRequest MaskInfoRequest(const v1::InfoRequest& request) {
  v1::InfoRequest m = request;
  auto* a = m.mutable_applicant();
  if (!a->id_number().empty()) a->set_id_number(common::MaskPersonalId(a->id_number()));
  auto* c = a->mutable_contact();
  if (!c->phone().empty()) {
    std::string digits;
    for (char ch : c->phone()) {
      if (ch >= '0' && ch <= '9') digits.push_back(ch);
    }
    c->set_phone(digits.size() == 11 && digits[0] == '1' ? common::MaskMobile(c->phone())
                                                         : common::MaskLandline(c->phone()));
  }
  if (!c->email().empty()) c->set_email(common::MaskEmail(c->email()));
  return m;
}

}  // namespace regsuite::disclosure
