#pragma once
// The licensing use cases: each public method is one request, each state change one
// PostgreSQL transaction with its outbox events. Rules live in rules.h; the credit check and
// the signing key are injected so tests control them.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "certificate_signer.h"
#include "credit_checker.h"
#include "options.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/pg.h"
#include "regsuite/events/v1/events.pb.h"
#include "regsuite/licensing/v1/licensing.pb.h"
#include "rules.h"

namespace regsuite::licensing {

/// Permit catalogue, application state machine, certificates and the deadline job.
class LicensingLogic {
 public:
  /// `credit` and `signer` may be null: no credit → normal review; no signer → approvals
  /// fail with FAILED_PRECONDITION (never an unsigned certificate). `earlier_keys` (may be
  /// null) verifies certificates whose key_id is not the signer's (key rotation).
  LicensingLogic(common::PgPool& pg, const common::Clock& clock,
                 std::shared_ptr<const common::WorkingDayCalendar> calendar, CreditChecker* credit,
                 const CertificateSigner* signer, LicensingOptions options,
                 std::shared_ptr<const CertificateKeyRing> earlier_keys = nullptr);

  // Permit catalogue.
  absl::Status ListPermitTypes(const v1::ListPermitTypesRequest& req,
                               v1::ListPermitTypesResponse* resp);
  absl::Status GetPermitType(const v1::GetPermitTypeRequest& req, v1::PermitType* resp);
  absl::Status UpsertPermitType(const v1::UpsertPermitTypeRequest& req, v1::PermitType* resp);

  // Applications.
  absl::Status SubmitApplication(const v1::SubmitApplicationRequest& req, v1::Application* resp);
  absl::Status GetApplication(const v1::GetApplicationRequest& req, v1::Application* resp);
  absl::Status ListApplications(const v1::ListApplicationsRequest& req,
                                v1::ListApplicationsResponse* resp);
  absl::Status SupplementMaterials(const v1::SupplementMaterialsRequest& req,
                                   v1::Application* resp);
  absl::Status AcceptApplication(const v1::AcceptApplicationRequest& req, v1::Application* resp);
  absl::Status RejectApplication(const v1::RejectApplicationRequest& req, v1::Application* resp);
  absl::Status SuspendApplication(const v1::SuspendApplicationRequest& req,
                                  v1::Application* resp);
  absl::Status ResumeApplication(const v1::ResumeApplicationRequest& req, v1::Application* resp);
  absl::Status ExtendApplication(const v1::ExtendApplicationRequest& req, v1::Application* resp);
  absl::Status DecideApplication(const v1::DecideApplicationRequest& req, v1::Application* resp);
  absl::Status WithdrawApplication(const v1::WithdrawApplicationRequest& req,
                                   v1::Application* resp);
  absl::Status RecordCommitmentCheck(const v1::RecordCommitmentCheckRequest& req,
                                     v1::Application* resp);
  absl::Status RunDeadlines(const v1::RunDeadlinesRequest& req, v1::RunDeadlinesResponse* resp);
  absl::Status GetStats(const v1::GetStatsRequest& req, v1::LicensingStats* resp);

  // Certificates.
  absl::Status GetCertificate(const v1::GetCertificateRequest& req, v1::Certificate* resp);
  absl::Status VerifyCertificate(const v1::VerifyCertificateRequest& req,
                                 v1::VerifyCertificateResponse* resp);
  absl::Status ListExpiringCertificates(const v1::ListExpiringCertificatesRequest& req,
                                        v1::ListExpiringCertificatesResponse* resp);
  absl::Status RenewCertificate(const v1::RenewCertificateRequest& req, v1::Application* resp);
  absl::Status SuspendCertificate(const v1::SuspendCertificateRequest& req,
                                  v1::Certificate* resp);
  absl::Status ReinstateCertificate(const v1::ReinstateCertificateRequest& req,
                                    v1::Certificate* resp);
  absl::Status RevokeCertificate(const v1::RevokeCertificateRequest& req, v1::Certificate* resp);
  absl::Status CancelCertificate(const v1::CancelCertificateRequest& req, v1::Certificate* resp);
  absl::Status ChangeCertificate(const v1::ChangeCertificateRequest& req, v1::Certificate* resp);

  // Events in (DeliverEvent): LicenceSanctionOrdered, ListingChanged.
  absl::Status DeliverEvent(const events::v1::EventEnvelope& envelope, events::v1::EventAck* ack);
  absl::Status DeliverEvents(const events::v1::EventBatch& batch, events::v1::EventBatchAck* ack);

 private:
  // DeliverEvent(s)' effect inside the inbox transaction; the usccs of listing changes go to
  // `invalidate` (their cached credit answers are dropped after the transaction).
  absl::Status ApplyEvent(pqxx::work& txn, const events::v1::EventEnvelope& env,
                          std::vector<std::string>& invalidate);
  void InvalidateCredit(const std::vector<std::string>& usccs);
  struct LoadedApplication {
    v1::Application app;
    int64_t version = 0;
    int transitions_at_load = 0;
    std::string idempotency_key = {};  // stored with a new application (insert only)
  };
  // Numbers drawn ahead in one statement (ReserveNumbers), by scope.
  using ReservedNumbers = absl::flat_hash_map<std::string, std::string>;
  struct LoadedCertificate {
    v1::Certificate cert;
    int64_t version = 0;
  };
  struct CertificateChange {
    v1::CertificateStatus to = v1::CERTIFICATE_STATUS_UNSPECIFIED;
    std::string reason = {};
    std::string decision_no = {};
    std::string source_case_id = {};
    std::string actor = {};
    std::string suspended_until = {};
  };

  absl::CivilDay Today() const { return clock_.Today(); }

  absl::Status SubmitInternal(const v1::SubmitApplicationRequest& req,
                              const std::string& renewal_of, v1::Application* resp);
  absl::StatusOr<v1::PermitType> LoadPermitType(pqxx::work& txn, const std::string& code,
                                                absl::CivilDay as_of);
  absl::StatusOr<v1::PermitType> LoadPermitTypeVersion(pqxx::work& txn, const std::string& code,
                                                       const std::string& effective_from);
  absl::StatusOr<LoadedApplication> LoadApplication(pqxx::work& txn, const std::string& id,
                                                    bool for_update);
  absl::Status SaveApplication(pqxx::work& txn, LoadedApplication& loaded, bool insert);
  absl::StatusOr<LoadedCertificate> LoadCertificate(pqxx::work& txn, const std::string& no,
                                                    bool for_update);
  absl::Status SaveCertificate(pqxx::work& txn, LoadedCertificate& loaded, bool insert);

  void AddTransition(v1::Application& app, v1::ApplicationStatus to, const std::string& actor,
                     const std::string& reason);
  absl::Status StartClock(v1::Application& app, const v1::PermitType& type,
                          absl::CivilDay accepted);
  absl::Status RecomputeDueDates(v1::Application& app, const v1::PermitType& type);
  absl::Status CheckEtag(const std::string& requested, int64_t version);

  // Approves `app` (already ACCEPTED) and issues its certificate; enqueues the decision event.
  absl::Status Approve(pqxx::work& txn, v1::Application& app, const v1::PermitType& type,
                       const std::string& actor, const std::string& reason,
                       const std::string& decision_no, const std::string& scope, bool automatic,
                       events::v1::LicensingOutcome outcome,
                       const ReservedNumbers* reserved = nullptr);
  // The next number of `scope` this year: taken from `reserved` when it holds one, else drawn.
  absl::StatusOr<std::string> NextNumber(pqxx::work& txn, const std::string& scope, int year,
                                         const ReservedNumbers* reserved = nullptr);
  // Draws the next number of every scope in one statement.
  ReservedNumbers ReserveNumbers(pqxx::transaction_base& txn,
                                 const std::vector<std::string>& scopes, int year);
  absl::Status ChangeCertificateStatus(pqxx::work& txn, LoadedCertificate& loaded,
                                       const CertificateChange& change);
  absl::Status EnqueueDecision(pqxx::work& txn, const v1::Application& app,
                               events::v1::LicensingOutcome outcome);
  absl::Status EnqueueCertificateStatus(
      pqxx::work& txn, const v1::Certificate& cert, v1::CertificateStatus previous,
      const CertificateChange& change,
      absl::string_view event_type = "licensing.certificate_status_changed");
  // The signature verifies with the key the certificate's key_id names (signer or earlier).
  bool SignatureVerifies(const v1::Certificate& cert) const;
  absl::Status Respond(pqxx::work& txn, const std::string& application_id, v1::Application* out);

  // Shared body of the application state changes: loads for update, checks the etag, runs
  // `change`, saves, and returns the fresh application.
  absl::Status MutateApplication(
      const std::string& application_id, const std::string& etag,
      const std::function<absl::Status(pqxx::work&, LoadedApplication&, const v1::PermitType&)>&
          change,
      v1::Application* out);
  absl::Status MutateCertificate(
      const std::string& certificate_no, const std::string& etag,
      const std::function<absl::Status(pqxx::work&, LoadedCertificate&)>& change,
      v1::Certificate* out);

  // Deadline job steps, one transaction per affected row.
  absl::Status DeemAccepted(absl::CivilDay as_of, v1::RunDeadlinesResponse* resp);
  absl::Status DeemRenewed(absl::CivilDay as_of, v1::RunDeadlinesResponse* resp);
  absl::Status ExpireAndReinstate(absl::CivilDay as_of, v1::RunDeadlinesResponse* resp);
  absl::Status EmitReminders(absl::CivilDay as_of, v1::RunDeadlinesResponse* resp);
  absl::Status MarkRemindersSent();

  common::PgPool& pg_;
  const common::Clock& clock_;
  std::shared_ptr<const common::WorkingDayCalendar> calendar_;
  CreditChecker* credit_;
  const CertificateSigner* signer_;
  LicensingOptions options_;
  std::shared_ptr<const CertificateKeyRing> earlier_keys_;

  // The catalogue row a submission last read per permit type code. Every submission still
  // asks PostgreSQL which row is in force; its JSON is only sent and parsed again when that
  // row (effective_from, version) is not the one held here.
  struct CachedPermitType {
    std::string effective_from;
    int64_t version = 0;
    v1::PermitType type;
  };
  std::mutex permit_types_mu_;
  absl::flat_hash_map<std::string, CachedPermitType> permit_types_;  // guarded by the mutex
};

}  // namespace regsuite::licensing
