#pragma once
// Pure licensing rules (行政许可法 Art 32, 42, 45; 国办发〔2020〕42号): no I/O, unit-tested.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "regsuite/common/calendar.h"
#include "regsuite/licensing/v1/licensing.pb.h"

namespace regsuite::licensing {

/// Decision due date: the `working_days`-th counted WD after `accepted` (the acceptance day is
/// not counted), days inside `suspensions` not counted (Art 42, 45).
absl::StatusOr<absl::CivilDay> DecisionDueDate(const common::WorkingDayCalendar& calendar,
                                               absl::CivilDay accepted, int working_days,
                                               absl::Span<const common::DayInterval> suspensions);

/// The clock interval a closed suspension stops: [from, min(resumed - 1, max_end)]; a running
/// suspension (no resume yet) stops [from, min(as_of, max_end)]. Time beyond the reason's
/// maximum counts again (最长挂起时间). nullopt when the interval is empty.
std::optional<common::DayInterval> CountedOutInterval(absl::CivilDay from,
                                                      std::optional<absl::CivilDay> resumed,
                                                      absl::CivilDay max_end,
                                                      absl::CivilDay as_of);

/// Suspension intervals of an application as stored in its proto (see CountedOutInterval).
absl::StatusOr<std::vector<common::DayInterval>> SuspensionIntervals(
    const v1::Application& application, absl::CivilDay as_of);

/// Last day to tell the applicant of every defect: `notice_working_days` WD after receipt
/// (Art 32: 5 WD).
absl::StatusOr<absl::CivilDay> CorrectionNoticeDueDate(const common::WorkingDayCalendar& calendar,
                                                       absl::CivilDay received,
                                                       int notice_working_days);

/// Art 32: an application neither accepted, rejected nor told of its defects by the notice due
/// date counts as accepted on the day it was received. True when `as_of` is past the due date
/// and no notice was sent.
bool DeemedAcceptedOnReceipt(absl::CivilDay notice_due, bool notice_sent, absl::CivilDay as_of);

/// Every missing, defective or expired required material, at once (一次性告知). A supplied
/// material needs a document_ref; a rule with max_age_days needs an issued_date no older than
/// that on `today`; an expiry_date before `today` is expired.
std::vector<v1::MissingMaterial> CheckMaterials(const v1::PermitType& type,
                                                absl::Span<const v1::Material> supplied,
                                                absl::CivilDay today);

/// INVALID_ARGUMENT when a supplied material's code is not required by the type or a date
/// field is malformed (nothing is written then).
absl::Status ValidateSuppliedMaterials(const v1::PermitType& type,
                                       absl::Span<const v1::Material> supplied,
                                       absl::string_view field);

/// What the credit service says about a subject, as far as licensing acts on it.
struct CreditStanding {
  bool no_commitment_approval = false;  // the NO_COMMITMENT_APPROVAL measure is in force
  bool black_list = false;              // CREDIT_TIER_BLACK
};

/// Inputs of the 告知承诺 / 秒批 decision.
struct InstantApprovalInputs {
  bool commitment_eligible = false;
  bool commitment_signed = false;
  bool materials_complete = false;
  bool past_false_commitment = false;
  // nullopt: credit was not asked or could not be reached.
  std::optional<CreditStanding> credit = std::nullopt;
};

/// Reasons the application must go to normal review; empty means approve instantly.
/// Credit unknown is itself a reason (never approve blind).
std::vector<v1::NormalReviewReason> InstantApprovalBlockers(const InstantApprovalInputs& in);

/// Whether the credit check is worth making: the preconditions that need no credit hold.
bool CreditCheckNeeded(const InstantApprovalInputs& in);

/// Certificate validity: from `valid_from` for `months` months, the last day being the day
/// before the same day-of-month (clamped to the month's end).
absl::CivilDay ValidUntil(absl::CivilDay valid_from, int months);

/// Renewal (延续, Art 50) must be applied for at least `min_days` calendar days before expiry.
bool RenewalWindowOpen(absl::CivilDay today, absl::CivilDay valid_until, int min_days);

/// The status a certificate has today: a VALID one past its valid_until is EXPIRED even before
/// the deadline job has recorded it.
v1::CertificateStatus LiveCertificateStatus(const v1::Certificate& certificate,
                                            absl::CivilDay today);

/// Input rules of a 变更 (ChangeCertificate) that need no certificate: reason and changed_by
/// present; no contact details (not certificate particulars); each given particular
/// (holder.name ≤ 100, holder.legal_representative ≤ 50, holder.address ≤ 200 characters) not
/// blank and without control characters. INVALID_ARGUMENT naming the field and rule.
absl::Status ValidateChangeRequest(const v1::ChangeCertificateRequest& request);

/// The fields a 变更 changes on `current` (old → new), in the order name, legal representative,
/// address. INVALID_ARGUMENT when holder.uscc names another holder, when scope differs
/// (许可范围: a wider scope is a new application, not a change) or when nothing differs.
absl::StatusOr<std::vector<v1::AmendedField>> CertificateAmendments(
    const v1::Certificate& current, const v1::ChangeCertificateRequest& request);

/// Sets the particular an amendment's field path names ("holder.name",
/// "holder.legal_representative", "holder.address") to its new value.
void ApplyAmendedField(const v1::AmendedField& field, v1::Party* holder);

/// The holder a renewal's new certificate carries: the renewal application's particulars, with
/// every 变更 of the renewed certificate recorded after the application was received applied
/// on top (the application's copy predates them; 行政许可法 Art 50 renews the licence as it
/// stands).
v1::Party RenewalHolder(const v1::Party& applicant, const v1::Certificate& renewed,
                        absl::Time received_at);

/// Whether an application status is final (no further transition but the post-approval check).
bool IsTerminal(v1::ApplicationStatus status);

/// "ACCEPTED" for APPLICATION_STATUS_ACCEPTED (the state named in FAILED_PRECONDITION).
std::string StatusName(v1::ApplicationStatus status);
std::string CertificateStatusName(v1::CertificateStatus status);

}  // namespace regsuite::licensing
