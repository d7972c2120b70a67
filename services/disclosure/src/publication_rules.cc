#include "publication_rules.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "masking_engine.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/masking.h"
#include "regsuite/common/status.h"

namespace regsuite::disclosure {
namespace {

using common::FieldError;
using v1::PublishedRecord;

absl::Status CheckDate(absl::string_view field, const std::string& value, bool required) {
  if (value.empty()) {
    return required ? FieldError(field, "is required (YYYY-MM-DD)") : absl::OkStatus();
  }
  auto day = common::ParseDate(value);
  if (!day.ok()) return FieldError(field, absl::StrCat("'", value, "' is not a YYYY-MM-DD date"));
  return absl::OkStatus();
}

absl::Status CheckUscc(absl::string_view field, const std::string& value) {
  if (value.empty()) return absl::OkStatus();
  auto uscc = common::Uscc::Parse(value);
  if (!uscc.ok()) {
    std::string message(uscc.status().message());
    // "uscc: check character mismatch" → name our field.
    auto colon = message.find(": ");
    return FieldError(field, colon == std::string::npos ? message : message.substr(colon + 2));
  }
  return absl::OkStatus();
}

// Masks every string in a Struct/Value tree except keys holding codes and seeds.
void MaskValue(google::protobuf::Value& value, const PersonalDataMasker& masker,
               absl::string_view key);

void MaskStruct(google::protobuf::Struct& s, const PersonalDataMasker& masker) {
  for (auto& [key, value] : *s.mutable_fields()) MaskValue(value, masker, key);
}

void MaskValue(google::protobuf::Value& value, const PersonalDataMasker& masker,
               absl::string_view key) {
  static const std::vector<absl::string_view> kCodeKeys = {
      "uscc",   "seed",         "candidateSnapshotHash", "inspectorSnapshotHash", "drawId",
      "planId", "inspectionId", "checkItemCode",         "checkItemCodes",        "regionCode",
      "month",  "algorithm"};
  for (absl::string_view k : kCodeKeys) {
    if (key == k) return;
  }
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      value.set_string_value(masker.Mask(value.string_value()));
      break;
    case google::protobuf::Value::kStructValue:
      MaskStruct(*value.mutable_struct_value(), masker);
      break;
    case google::protobuf::Value::kListValue:
      for (auto& v : *value.mutable_list_value()->mutable_values()) MaskValue(v, masker, key);
      break;
    default:
      break;
  }
}

}  // namespace

std::string FormatIndexNo(absl::string_view agency_code, int year, int64_t seq) {
  return absl::StrFormat("%s/%04d-%05d", agency_code, year, seq);
}

absl::CivilDay AddMonths(absl::CivilDay day, int months) {
  absl::CivilMonth month = absl::CivilMonth(day) + months;
  absl::CivilDay first = absl::CivilDay(month);
  absl::CivilDay last = absl::CivilDay(month + 1) - 1;
  absl::CivilDay candidate = first + (day.day() - 1);
  return candidate > last ? last : candidate;
}

absl::StatusOr<absl::CivilDay> PenaltyPublicationEndDate(const DisclosureSettings& settings,
                                                         absl::CivilDay decision_date,
                                                         events::v1::Severity severity) {
  for (const PenaltyPeriodRule& rule : settings.penalty_periods) {  // newest first
    if (decision_date < rule.from) continue;
    int months = rule.general_months;
    if (severity == events::v1::SEVERITY_MINOR) months = rule.minor_months;
    if (severity == events::v1::SEVERITY_SERIOUS) months = rule.serious_months;
    return AddMonths(decision_date, months);
  }
  return absl::FailedPreconditionError(
      absl::StrCat("disclosure.penalty_publication_months: no rule in force on ",
                   common::FormatDate(decision_date)));
}

absl::StatusOr<absl::CivilDay> PublicationDueDate(const DisclosureSettings& settings,
                                                  const common::WorkingDayCalendar& calendar,
                                                  v1::RecordCategory category,
                                                  absl::CivilDay decision_date) {
  bool decision = category == v1::RECORD_CATEGORY_LICENSING_DECISION ||
                  category == v1::RECORD_CATEGORY_PENALTY_DECISION;
  return calendar.AddWorkingDays(decision_date, decision ? settings.decision_publication_wd
                                                         : settings.proactive_publication_wd);
}

absl::Status CheckPenaltyPublishable(const v1::PenaltyDetails& penalty) {
  if (penalty.party_is_minor()) {
    return absl::FailedPreconditionError(
        "penalty.party_is_minor: a penalty on a minor is never published (DOMAIN.md Disclosure)");
  }
  if (penalty.simple_procedure()) {
    return absl::FailedPreconditionError(
        "penalty.simple_procedure: simple-procedure penalties (行政处罚法 Art 51) are not "
        "published");
  }
  bool any_other = false;
  bool warning = false;
  for (int kind : penalty.kinds()) {
    if (kind == events::v1::PENALTY_KIND_WARNING) {
      warning = true;
    } else if (kind != events::v1::PENALTY_KIND_UNSPECIFIED) {
      any_other = true;
    }
  }
  if (warning && !any_other) {
    return absl::FailedPreconditionError(
        "penalty.kinds: a warning alone is not published (DOMAIN.md Disclosure)");
  }
  return absl::OkStatus();
}

absl::Status ValidateRecordInput(const PublishedRecord& record) {
  if (record.category() == v1::RECORD_CATEGORY_UNSPECIFIED ||
      !v1::RecordCategory_IsValid(record.category())) {
    return FieldError("record.category", "must be a RECORD_CATEGORY_ value");
  }
  if (record.title().empty()) return FieldError("record.title", "is required");
  if (absl::Status s = CheckDate("record.decision_date", record.decision_date(), false); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckUscc("record.uscc", record.uscc()); !s.ok()) return s;
  const std::string& service = record.source().service();
  if (!service.empty() && service != "licensing" && service != "inspection" &&
      service != "credit" && service != "manual") {
    return FieldError("record.source.service", "must be licensing, inspection, credit or manual");
  }
  switch (record.category()) {
    case v1::RECORD_CATEGORY_PENALTY_DECISION: {
      if (!record.has_penalty()) return FieldError("record.penalty", "is required for a penalty");
      const auto& p = record.penalty();
      if (p.party_name().empty()) return FieldError("record.penalty.party_name", "is required");
      if (p.decision_no().empty()) return FieldError("record.penalty.decision_no", "is required");
      if (absl::Status s = CheckDate("record.penalty.decision_date", p.decision_date(), true);
          !s.ok()) {
        return s;
      }
      if (absl::Status s = CheckUscc("record.penalty.uscc", p.uscc()); !s.ok()) return s;
      if (p.fine_fen() < 0) return FieldError("record.penalty.fine_fen", "must not be negative");
      if (p.party_category() == v1::PARTY_TYPE_LEGAL_PERSON && p.uscc().empty()) {
        return FieldError("record.penalty.uscc", "is required for a legal person");
      }
      break;
    }
    case v1::RECORD_CATEGORY_LICENSING_DECISION: {
      if (!record.has_licence()) return FieldError("record.licence", "is required for a licence");
      const auto& l = record.licence();
      if (l.party_name().empty()) return FieldError("record.licence.party_name", "is required");
      if (l.decision_no().empty()) return FieldError("record.licence.decision_no", "is required");
      for (auto [field, value, required] :
           {std::tuple{"record.licence.decision_date", &l.decision_date(), true},
            std::tuple{"record.licence.valid_from", &l.valid_from(), false},
            std::tuple{"record.licence.valid_until", &l.valid_until(), false}}) {
        if (absl::Status s = CheckDate(field, *value, required); !s.ok()) return s;
      }
      if (absl::Status s = CheckUscc("record.licence.uscc", l.uscc()); !s.ok()) return s;
      break;
    }
    case v1::RECORD_CATEGORY_CREDIT_LISTING: {
      if (!record.has_credit_listing()) {
        return FieldError("record.credit_listing", "is required for a credit listing");
      }
      const auto& c = record.credit_listing();
      for (auto [field, value] :
           {std::pair{"record.credit_listing.effective_from", &c.effective_from()},
            std::pair{"record.credit_listing.effective_until", &c.effective_until()}}) {
        if (absl::Status s = CheckDate(field, *value, false); !s.ok()) return s;
      }
      break;
    }
    case v1::RECORD_CATEGORY_POLICY_DOCUMENT: {
      if (!record.has_policy_document()) {
        return FieldError("record.policy_document", "is required for a policy document");
      }
      const auto& d = record.policy_document();
      for (auto [field, value, required] :
           {std::tuple{"record.policy_document.issued_date", &d.issued_date(), true},
            std::tuple{"record.policy_document.effective_date", &d.effective_date(), false},
            std::tuple{"record.policy_document.repealed_date", &d.repealed_date(), false}}) {
        if (absl::Status s = CheckDate(field, *value, required); !s.ok()) return s;
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

bool PartyIsNaturalPerson(const PublishedRecord& record) {
  return record.has_penalty() && record.penalty().party_category() == v1::PARTY_TYPE_NATURAL_PERSON;
}

PublishedRecord MaskRecord(const PublishedRecord& original) {
  std::vector<std::string> names;
  const bool natural_person = PartyIsNaturalPerson(original);
  if (natural_person) {
    names.push_back(original.penalty().party_name());
    names.push_back(original.penalty().legal_representative());
    if (original.subject_name() != original.penalty().party_name()) {
      names.push_back(original.subject_name());
    }
  }
  PersonalDataMasker masker(names);
  auto mask = [&](std::string* field) { *field = masker.Mask(*field); };
  PublishedRecord m = original;
  mask(m.mutable_title());
  mask(m.mutable_body());
  mask(m.mutable_subject_name());
  mask(m.mutable_withdrawal_reason());
  if (m.has_penalty()) {
    auto* p = m.mutable_penalty();
    for (std::string* f :
         {p->mutable_party_name(), p->mutable_legal_representative(), p->mutable_violation_type(),
          p->mutable_facts(), p->mutable_legal_basis(), p->mutable_penalty_category(),
          p->mutable_content()}) {
      mask(f);
    }
    // Another identifying code of a person (e.g. an ID number) is never shown whole.
    if (!p->other_code().empty()) {
      auto id = common::PersonalId::Parse(p->other_code());
      p->set_other_code(id.ok() ? id->Masked()
                                : (natural_person ? common::MaskMiddle(p->other_code(), 4, 4)
                                                  : masker.Mask(p->other_code())));
    }
  }
  if (m.has_licence()) {
    auto* l = m.mutable_licence();
    for (std::string* f :
         {l->mutable_party_name(), l->mutable_legal_representative(), l->mutable_content(),
          l->mutable_permit_category(), l->mutable_certificate_name()}) {
      mask(f);
    }
  }
  if (m.has_credit_listing()) {
    auto* c = m.mutable_credit_listing();
    for (std::string* f : {c->mutable_subject_name(), c->mutable_reason(), c->mutable_basis(),
                           c->mutable_list_name()}) {
      mask(f);
    }
  }
  if (m.has_attributes()) MaskStruct(*m.mutable_attributes(), masker);
  return m;
}

std::string SearchableText(const PublishedRecord& m) {
  std::vector<std::string> parts = {m.title(), m.subject_name(), m.body(), m.uscc(), m.index_no()};
  if (m.has_penalty()) {
    const auto& p = m.penalty();
    parts.insert(parts.end(), {p.party_name(), p.decision_no(), p.violation_type(), p.facts(),
                               p.content(), p.penalty_category(), p.authority()});
  }
  if (m.has_licence()) {
    const auto& l = m.licence();
    parts.insert(parts.end(),
                 {l.party_name(), l.decision_no(), l.permit_category(), l.certificate_name(),
                  l.certificate_no(), l.content(), l.authority()});
  }
  if (m.has_credit_listing()) {
    const auto& c = m.credit_listing();
    parts.insert(parts.end(), {c.list_name(), c.subject_name(), c.reason(), c.decision_no()});
  }
  if (m.has_policy_document()) parts.push_back(m.policy_document().document_no());
  return absl::StrJoin(parts, "\n");
}

std::string RenamedLicenceTitle(absl::string_view title, absl::string_view current_name,
                                absl::string_view new_name) {
  if (current_name.empty() || !absl::StartsWith(title, current_name)) return std::string(title);
  constexpr absl::string_view kFormerly = "（原名称：";
  constexpr absl::string_view kClose = "）";
  absl::string_view rest = title.substr(current_name.size());
  absl::string_view original = current_name;
  if (size_t pos = rest.rfind(kFormerly);
      pos != absl::string_view::npos && absl::EndsWith(rest, kClose)) {
    original = rest.substr(pos + kFormerly.size(),
                           rest.size() - pos - kFormerly.size() - kClose.size());
    rest = rest.substr(0, pos);
  }
  if (original == new_name) return absl::StrCat(new_name, rest);
  return absl::StrCat(new_name, rest, kFormerly, original, kClose);
}

}  // namespace regsuite::disclosure
