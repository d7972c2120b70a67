#include "directory_validation.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/status.h"

namespace regsuite::inspection {
namespace {

using common::FieldError;

constexpr absl::string_view kSpecialisedSmeTag = "专精特新";

std::string Trimmed(const std::string& s) {
  return std::string(absl::StripAsciiWhitespace(s));
}

template <typename Repeated>
void SortUnique(Repeated* values) {
  std::vector<std::string> v;
  for (const auto& s : *values) {
    std::string t = Trimmed(s);
    if (!t.empty()) v.push_back(std::move(t));
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  values->Clear();
  for (auto& s : v) *values->Add() = std::move(s);
}

}  // namespace

bool IsRegionCode(absl::string_view code) {
  return code.size() == 6 && std::all_of(code.begin(), code.end(), absl::ascii_isdigit) &&
         code.substr(0, 2) != "00";
}

absl::Status NormaliseEnterprise(v1::Enterprise& e) {
  auto uscc = common::Uscc::Parse(e.uscc());
  if (!uscc.ok()) return uscc.status();
  e.set_uscc(uscc->str());
  e.set_name(Trimmed(e.name()));
  if (e.name().empty()) return FieldError("name", "is required");
  if (e.name().size() > 400) return FieldError("name", "longer than 400 bytes");
  e.set_industry(Trimmed(e.industry()));
  if (e.industry().empty()) return FieldError("industry", "is required");
  if (e.industry().find_first_of("\t\n,") != std::string::npos) {
    return FieldError("industry", "must not contain tabs, newlines or commas");
  }
  e.set_region_code(Trimmed(e.region_code()));
  if (!IsRegionCode(e.region_code())) {
    return FieldError("region_code", "must be a 6-digit administrative division code");
  }
  if (!v1::RiskLevel_IsValid(e.risk_level())) return FieldError("risk_level", "unknown value");
  if (!v1::StandardisationGrade_IsValid(e.standardisation_grade())) {
    return FieldError("standardisation_grade", "unknown value");
  }
  if (!v1::EnterpriseStatus_IsValid(e.operating_status())) {
    return FieldError("operating_status", "unknown value");
  }
  if (e.operating_status() == v1::ENTERPRISE_STATUS_UNSPECIFIED) {
    e.set_operating_status(v1::ENTERPRISE_STATUS_OPERATING);
  }
  SortUnique(e.mutable_tags());
  for (const auto& tag : e.tags()) {
    if (tag == kSpecialisedSmeTag) e.set_specialised_sme(true);
  }
  if (e.specialised_sme() &&
      std::find(e.tags().begin(), e.tags().end(), kSpecialisedSmeTag) == e.tags().end()) {
    e.add_tags(std::string(kSpecialisedSmeTag));
    SortUnique(e.mutable_tags());
  }
  if (e.source().empty()) e.set_source("manual");
  return absl::OkStatus();
}

absl::Status NormaliseInspector(v1::Inspector& i) {
  i.set_inspector_id(Trimmed(i.inspector_id()));
  if (i.inspector_id().empty()) return FieldError("inspector_id", "is required");
  if (i.inspector_id().find_first_of("\t\n,") != std::string::npos) {
    return FieldError("inspector_id", "must not contain tabs, newlines or commas");
  }
  i.set_name(Trimmed(i.name()));
  if (i.name().empty()) return FieldError("name", "is required");
  i.set_certificate_no(Trimmed(i.certificate_no()));
  if (i.certificate_no().empty()) {
    return FieldError("certificate_no", "an enforcement certificate (行政执法证) is required");
  }
  if (i.certificate_no().find_first_of("\t\n,") != std::string::npos) {
    return FieldError("certificate_no", "must not contain tabs, newlines or commas");
  }
  auto expiry = common::ParseDate(i.certificate_expiry());
  if (!expiry.ok()) return FieldError("certificate_expiry", "must be a YYYY-MM-DD date");
  if (!IsRegionCode(i.region_code())) {
    return FieldError("region_code", "must be a 6-digit administrative division code");
  }
  for (auto& uscc_text : *i.mutable_conflict_usccs()) {
    auto uscc = common::Uscc::Parse(uscc_text);
    if (!uscc.ok()) {
      return FieldError("conflict_usccs", absl::StrCat("'", uscc_text, "': ",
                                                       uscc.status().message()));
    }
    uscc_text = uscc->str();
  }
  SortUnique(i.mutable_conflict_usccs());
  SortUnique(i.mutable_industries());
  for (const auto& industry : i.industries()) {
    if (industry.find_first_of("\t\n,") != std::string::npos) {
      return FieldError("industries", "must not contain tabs, newlines or commas");
    }
  }
  return absl::OkStatus();
}

absl::Status NormaliseCheckItem(v1::CheckItem& c) {
  c.set_code(Trimmed(c.code()));
  if (c.code().empty()) return FieldError("code", "is required");
  c.set_name(Trimmed(c.name()));
  if (c.name().empty()) return FieldError("name", "is required");
  c.set_legal_basis(Trimmed(c.legal_basis()));
  if (c.legal_basis().empty()) return FieldError("legal_basis", "is required");
  if (!c.effective_from().empty() && !common::ParseDate(c.effective_from()).ok()) {
    return FieldError("effective_from", "must be a YYYY-MM-DD date");
  }
  SortUnique(c.mutable_industries());
  return absl::OkStatus();
}

}  // namespace regsuite::inspection
