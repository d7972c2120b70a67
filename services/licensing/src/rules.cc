#include "rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/proto_time.h"
#include "regsuite/common/status.h"

namespace regsuite::licensing {

using common::DayInterval;
using common::FieldError;

absl::StatusOr<absl::CivilDay> DecisionDueDate(const common::WorkingDayCalendar& calendar,
                                               absl::CivilDay accepted, int working_days,
                                               absl::Span<const DayInterval> suspensions) {
  return calendar.AddWorkingDays(accepted, working_days, suspensions);
}

std::optional<DayInterval> CountedOutInterval(absl::CivilDay from,
                                              std::optional<absl::CivilDay> resumed,
                                              absl::CivilDay max_end, absl::CivilDay as_of) {
  absl::CivilDay last = resumed.has_value() ? *resumed - 1 : as_of;
  last = std::min(last, max_end);
  if (last < from) return std::nullopt;
  return DayInterval{from, last};
}

absl::StatusOr<std::vector<DayInterval>> SuspensionIntervals(const v1::Application& application,
                                                            absl::CivilDay as_of) {
  std::vector<DayInterval> out;
  for (const auto& s : application.suspensions()) {
    auto from = common::ParseDate(s.from_date());
    if (!from.ok()) return from.status();
    auto max_end = common::ParseDate(s.max_end_date());
    if (!max_end.ok()) return max_end.status();
    std::optional<absl::CivilDay> resumed;
    if (!s.to_date().empty()) {
      auto to = common::ParseDate(s.to_date());
      if (!to.ok()) return to.status();
      resumed = *to + 1;  // to_date is the last suspended day
    }
    if (auto interval = CountedOutInterval(*from, resumed, *max_end, as_of)) {
      out.push_back(*interval);
    }
  }
  return out;
}

absl::StatusOr<absl::CivilDay> CorrectionNoticeDueDate(const common::WorkingDayCalendar& calendar,
                                                       absl::CivilDay received,
                                                       int notice_working_days) {
  return calendar.AddWorkingDays(received, notice_working_days);
}

bool DeemedAcceptedOnReceipt(absl::CivilDay notice_due, bool notice_sent, absl::CivilDay as_of) {
  return !notice_sent && as_of > notice_due;
}

std::vector<v1::MissingMaterial> CheckMaterials(const v1::PermitType& type,
                                                absl::Span<const v1::Material> supplied,
                                                absl::CivilDay today) {
  std::vector<v1::MissingMaterial> missing;
  for (const auto& required : type.required_materials()) {
    const v1::Material* found = nullptr;
    for (const auto& m : supplied) {
      if (m.code() == required.code()) found = &m;  // the last one supplied wins
    }
    v1::MissingMaterial item;
    item.set_code(required.code());
    item.set_name(required.name());
    item.set_key(required.key());
    if (found == nullptr) {
      item.set_reason(v1::MATERIAL_DEFECT_MISSING);
      item.set_detail(absl::StrCat("not supplied: ", required.name()));
      missing.push_back(item);
      continue;
    }
    if (found->document_ref().empty()) {
      item.set_reason(v1::MATERIAL_DEFECT_DEFECTIVE);
      item.set_detail("no document attached (document_ref empty)");
      missing.push_back(item);
      continue;
    }
    if (!found->expiry_date().empty()) {
      auto expiry = common::ParseDate(found->expiry_date());
      if (expiry.ok() && *expiry < today) {
        item.set_reason(v1::MATERIAL_DEFECT_EXPIRED);
        item.set_detail(absl::StrCat("expired on ", found->expiry_date()));
        missing.push_back(item);
        continue;
      }
    }
    if (required.max_age_days() > 0) {
      if (found->issued_date().empty()) {
        item.set_reason(v1::MATERIAL_DEFECT_DEFECTIVE);
        item.set_detail(absl::StrCat("issued_date required: the material must be ",
                                     required.validity_rule().empty()
                                         ? absl::StrCat("at most ", required.max_age_days(),
                                                        " days old")
                                         : required.validity_rule()));
        missing.push_back(item);
        continue;
      }
      auto issued = common::ParseDate(found->issued_date());
      if (issued.ok() && today - *issued > required.max_age_days()) {
        item.set_reason(v1::MATERIAL_DEFECT_EXPIRED);
        item.set_detail(absl::StrCat("issued ", found->issued_date(), ", older than ",
                                     required.max_age_days(), " days"));
        missing.push_back(item);
        continue;
      }
    }
  }
  return missing;
}

absl::Status ValidateSuppliedMaterials(const v1::PermitType& type,
                                       absl::Span<const v1::Material> supplied,
                                       absl::string_view field) {
  for (size_t i = 0; i < supplied.size(); ++i) {
    const auto& m = supplied[i];
    std::string name = absl::StrCat(field, "[", i, "]");
    bool known = false;
    for (const auto& r : type.required_materials()) known = known || r.code() == m.code();
    if (!known) {
      return FieldError(absl::StrCat(name, ".code"),
                        absl::StrCat("'", m.code(), "' is not a required material of ",
                                     type.code()));
    }
    for (const auto& [value, sub] : {std::pair{&m.issued_date(), "issued_date"},
                                     std::pair{&m.expiry_date(), "expiry_date"}}) {
      if (value->empty()) continue;
      if (!common::ParseDate(*value).ok()) {
        return FieldError(absl::StrCat(name, ".", sub), "must be a date YYYY-MM-DD");
      }
    }
  }
  return absl::OkStatus();
}

bool CreditCheckNeeded(const InstantApprovalInputs& in) {
  return in.commitment_eligible && in.commitment_signed && in.materials_complete &&
         !in.past_false_commitment;
}

std::vector<v1::NormalReviewReason> InstantApprovalBlockers(const InstantApprovalInputs& in) {
  std::vector<v1::NormalReviewReason> reasons;
  if (!in.commitment_eligible) reasons.push_back(v1::NORMAL_REVIEW_REASON_NOT_COMMITMENT_ELIGIBLE);
  if (!in.commitment_signed) reasons.push_back(v1::NORMAL_REVIEW_REASON_COMMITMENT_NOT_SIGNED);
  if (!in.materials_complete) reasons.push_back(v1::NORMAL_REVIEW_REASON_MATERIALS_INCOMPLETE);
  if (in.past_false_commitment) {
    reasons.push_back(v1::NORMAL_REVIEW_REASON_PAST_FALSE_COMMITMENT);
  }
  if (!reasons.empty()) return reasons;
  if (!in.credit.has_value()) {
    reasons.push_back(v1::NORMAL_REVIEW_REASON_CREDIT_CHECK_UNAVAILABLE);
  } else if (in.credit->black_list || in.credit->no_commitment_approval) {
    reasons.push_back(v1::NORMAL_REVIEW_REASON_BLACK_LIST);
  }
  return reasons;
}

absl::CivilDay ValidUntil(absl::CivilDay valid_from, int months) {
  absl::CivilMonth target = absl::CivilMonth(valid_from) + months;
  absl::CivilDay same_day(target.year(), target.month(), valid_from.day());
  if (absl::CivilMonth(same_day) != target) {  // normalised past the month's end
    same_day = absl::CivilDay(target + 1) - 1;
    return same_day;
  }
  return same_day - 1;
}

bool RenewalWindowOpen(absl::CivilDay today, absl::CivilDay valid_until, int min_days) {
  return valid_until - today >= min_days;
}

bool IsTerminal(v1::ApplicationStatus status) {
  switch (status) {
    case v1::APPLICATION_STATUS_APPROVED:
    case v1::APPLICATION_STATUS_DENIED:
    case v1::APPLICATION_STATUS_REJECTED:
    case v1::APPLICATION_STATUS_WITHDRAWN:
      return true;
    default:
      return false;
  }
}

v1::CertificateStatus LiveCertificateStatus(const v1::Certificate& certificate,
                                            absl::CivilDay today) {
  auto until = common::ParseDate(certificate.valid_until());
  if (certificate.status() == v1::CERTIFICATE_STATUS_VALID && until.ok() && *until < today) {
    return v1::CERTIFICATE_STATUS_EXPIRED;
  }
  return certificate.status();
}

namespace {

// A particular of the holder that a 变更 may change: its field path, value on the
// certificate and in the request, and its maximum length in characters.
struct Particular {
  const char* field;
  const std::string& current;
  const std::string& requested;
  int max_chars;
};

std::vector<Particular> Particulars(const v1::Party& current, const v1::Party& requested) {
  return {{"holder.name", current.name(), requested.name(), 100},
          {"holder.legal_representative", current.legal_representative(),
           requested.legal_representative(), 50},
          {"holder.address", current.address(), requested.address(), 200}};
}

int Utf8Length(absl::string_view text) {
  int n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

absl::Status ValidateChangeRequest(const v1::ChangeCertificateRequest& request) {
  if (absl::StripAsciiWhitespace(request.reason()).empty()) return FieldError("reason", "required");
  if (absl::StripAsciiWhitespace(request.changed_by()).empty()) {
    return FieldError("changed_by", "required");
  }
  constexpr absl::string_view kNotParticular =
      "contact details are not certificate particulars; a change changes name, "
      "legal_representative and address";
  if (!request.holder().contact_name().empty()) {
    return FieldError("holder.contact_name", kNotParticular);
  }
  if (!request.holder().contact_phone().empty()) {
    return FieldError("holder.contact_phone", kNotParticular);
  }
  const v1::Party none;
  for (const Particular& p : Particulars(none, request.holder())) {
    if (p.requested.empty()) continue;  // unchanged
    if (absl::StripAsciiWhitespace(p.requested).empty()) {
      return FieldError(p.field, "must not be blank");
    }
    for (unsigned char c : p.requested) {
      if (c < 0x20 || c == 0x7f) {
        return FieldError(p.field, "must not contain control characters (line breaks, tabs)");
      }
    }
    if (Utf8Length(p.requested) > p.max_chars) {
      return FieldError(p.field, absl::StrCat("at most ", p.max_chars, " characters"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::AmendedField>> CertificateAmendments(
    const v1::Certificate& current, const v1::ChangeCertificateRequest& request) {
  if (!request.holder().uscc().empty()) {
    auto uscc = common::Uscc::Parse(request.holder().uscc());
    if (!uscc.ok() || uscc->str() != current.holder().uscc()) {
      return FieldError("holder.uscc",
                        "must be the certificate holder's USCC; another licensee needs a new "
                        "application (SubmitApplication)");
    }
  }
  if (!request.scope().empty() && request.scope() != current.scope()) {
    return FieldError(
        "scope",
        "许可范围 is not changed by ChangeCertificate: a change of scope (e.g. adding "
        "a business scope) is a new application (SubmitApplication)");
  }
  std::vector<v1::AmendedField> changed;
  for (const Particular& p : Particulars(current.holder(), request.holder())) {
    if (p.requested.empty() || p.requested == p.current) continue;
    v1::AmendedField f;
    f.set_field(p.field);
    f.set_old_value(p.current);
    f.set_new_value(p.requested);
    changed.push_back(std::move(f));
  }
  if (changed.empty()) {
    return FieldError("holder",
                      "no particular differs from the certificate (name, legal_representative, "
                      "address)");
  }
  return changed;
}

void ApplyAmendedField(const v1::AmendedField& field, v1::Party* holder) {
  if (field.field() == "holder.name") holder->set_name(field.new_value());
  if (field.field() == "holder.legal_representative") {
    holder->set_legal_representative(field.new_value());
  }
  if (field.field() == "holder.address") holder->set_address(field.new_value());
}

v1::Party RenewalHolder(const v1::Party& applicant, const v1::Certificate& renewed,
                        absl::Time received_at) {
  v1::Party holder = applicant;
  for (const auto& amendment : renewed.amendments()) {
    if (common::FromTimestamp(amendment.changed_at()) <= received_at) continue;
    for (const auto& field : amendment.fields()) ApplyAmendedField(field, &holder);
  }
  return holder;
}

std::string StatusName(v1::ApplicationStatus status) {
  return std::string(absl::StripPrefix(v1::ApplicationStatus_Name(status), "APPLICATION_STATUS_"));
}

std::string CertificateStatusName(v1::CertificateStatus status) {
  return std::string(absl::StripPrefix(v1::CertificateStatus_Name(status), "CERTIFICATE_STATUS_"));
}

}  // namespace regsuite::licensing
