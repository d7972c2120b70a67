#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "regsuite/common/calendar.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"
#include "settings.h"

namespace regsuite::disclosure {

/// The 索引号 of a record: "<agency code>/<year>-<seq, at least 5 digits>".
std::string FormatIndexNo(absl::string_view agency_code, int year, int64_t seq);

/// Last day a penalty decided on `decision_date` is published: the decision date plus the
/// period (months) for its seriousness under the rule in force on the decision date (36号令
/// from 2026-04-01, 58号令 before). Unspecified seriousness counts as general.
/// FAILED_PRECONDITION when no rule covers the date.
absl::StatusOr<absl::CivilDay> PenaltyPublicationEndDate(const DisclosureSettings& settings,
                                                         absl::CivilDay decision_date,
                                                         events::v1::Severity severity);

/// `day` plus `months` calendar months, clamped to the month's last day (1-31 + 3 → 4-30).
absl::CivilDay AddMonths(absl::CivilDay day, int months);

/// A licence record's title after the holder's 变更 from `current_name` to `new_name`: the new
/// name leads, and the name the decision was made to stays findable as "（原名称：…）" (kept
/// through later renames; dropped when the holder takes that name back). A title that does not
/// start with `current_name` (not one built from the event) is left as it is.
std::string RenamedLicenceTitle(absl::string_view title, absl::string_view current_name,
                                absl::string_view new_name);

/// Publication due date: 7 WD after the decision for licensing and penalty decisions
/// (双公示), 20 WD after the information was made or changed otherwise (条例 Art 26).
absl::StatusOr<absl::CivilDay> PublicationDueDate(const DisclosureSettings& settings,
                                                  const common::WorkingDayCalendar& calendar,
                                                  v1::RecordCategory category,
                                                  absl::CivilDay decision_date);

/// The rule that forbids publishing a penalty, or OK: a warning alone, a simple-procedure
/// penalty, a party who is a minor (DOMAIN.md "Disclosure"). FAILED_PRECONDITION naming it.
absl::Status CheckPenaltyPublishable(const v1::PenaltyDetails& penalty);

/// Validates a record to publish (category, category fields, dates); INVALID_ARGUMENT naming
/// the field and the rule.
absl::Status ValidateRecordInput(const v1::PublishedRecord& record);

/// Applies desensitisation to every text field of the record (title, body, subject, the
/// category's structured fields, every string in `attributes`) and the natural person's
/// name wherever it appears. Codes that identify organisations (USCC, decision numbers,
/// certificate numbers) and the index number are kept.
v1::PublishedRecord MaskRecord(const v1::PublishedRecord& original);

/// The text the search index holds for a (masked) record.
std::string SearchableText(const v1::PublishedRecord& masked);

/// Whether a natural person is the party (their name is masked, 条例 Art 15).
bool PartyIsNaturalPerson(const v1::PublishedRecord& record);

}  // namespace regsuite::disclosure
