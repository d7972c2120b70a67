#include "licensing_logic.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/log.h"
#include "regsuite/common/outbox.h"
#include "regsuite/common/proto_time.h"
#include "regsuite/common/status.h"

namespace regsuite::licensing {
namespace {

using common::FieldError;
using common::FormatDate;
using common::ParseDate;
using common::StateError;

constexpr char kService[] = "licensing";
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

template <typename M>
std::string ToJson(const M& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

template <typename M>
absl::Status FromJson(const std::string& json, M* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("stored JSON does not parse: ", status.ToString()));
  }
  return absl::OkStatus();
}

void SetTime(google::protobuf::Timestamp* ts, absl::Time at) {
  ts->set_seconds(absl::ToUnixSeconds(at));
  ts->set_nanos(0);
}

absl::CivilDay DayOf(const google::protobuf::Timestamp& ts) {
  return absl::ToCivilDay(absl::FromUnixSeconds(ts.seconds()), common::BureauTimeZone());
}

absl::StatusOr<absl::CivilDay> DateOrDefault(const std::string& text, absl::CivilDay fallback,
                                             absl::string_view field) {
  if (text.empty()) return fallback;
  auto day = ParseDate(text);
  if (!day.ok()) return FieldError(field, "must be a date YYYY-MM-DD");
  return *day;
}

absl::Status Required(const std::string& value, absl::string_view field,
                      absl::string_view why = "required") {
  if (value.empty()) return FieldError(field, why);
  return absl::OkStatus();
}

int PageSize(int requested) {
  if (requested <= 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

absl::StatusOr<int> PageOffset(const std::string& token) {
  if (token.empty()) return 0;
  int offset = 0;
  if (!absl::SimpleAtoi(token, &offset) || offset < 0) {
    return FieldError("page_token", "not a token returned by this method");
  }
  return offset;
}

std::string EnumShort(const std::string& full, absl::string_view prefix) {
  return std::string(absl::StripPrefix(full, prefix));
}

std::string RouteName(v1::ReviewRoute route) {
  if (route == v1::REVIEW_ROUTE_UNSPECIFIED) return "";
  return EnumShort(v1::ReviewRoute_Name(route), "REVIEW_ROUTE_");
}

std::string CheckStatusName(v1::CommitmentCheckStatus status) {
  if (status == v1::COMMITMENT_CHECK_STATUS_UNSPECIFIED) return "";
  return EnumShort(v1::CommitmentCheckStatus_Name(status), "COMMITMENT_CHECK_STATUS_");
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<v1::Material> Materials(const v1::Application& app) {
  return {app.materials().begin(), app.materials().end()};
}

bool HasOutstandingDeficiency(const v1::Application& app) {
  for (const auto& d : app.deficiencies()) {
    if (!d.has_supplied_at()) return true;
  }
  return false;
}

// --- SQL, each query next to the code that runs it ------------------------------------------

constexpr char kSelectPermitTypeAsOf[] =
    "SELECT data::text, version FROM permit_types WHERE code = $1 AND effective_from <= $2::date "
    "ORDER BY effective_from DESC LIMIT 1";
constexpr char kSelectPermitTypeVersion[] =
    "SELECT data::text, version FROM permit_types WHERE code = $1 AND effective_from = $2::date";
constexpr char kListPermitTypes[] =
    "SELECT DISTINCT ON (code) data::text, version FROM permit_types "
    "WHERE effective_from <= $1::date AND (NOT $2 OR commitment_eligible) "
    "ORDER BY code, effective_from DESC";
constexpr char kUpsertPermitType[] =
    "INSERT INTO permit_types (code, effective_from, name, commitment_eligible, data) "
    "VALUES ($1, $2::date, $3, $4, $5::jsonb) "
    "ON CONFLICT (code, effective_from) DO UPDATE SET name = EXCLUDED.name, "
    "commitment_eligible = EXCLUDED.commitment_eligible, data = EXCLUDED.data, "
    "version = permit_types.version + 1, updated_at = now() RETURNING version";
constexpr char kSelectApplication[] =
    "SELECT data::text, version FROM applications WHERE application_id = $1";
constexpr char kSelectApplicationForUpdate[] =
    "SELECT data::text, version FROM applications WHERE application_id = $1 FOR UPDATE";
constexpr char kSelectApplicationByKey[] =
    "SELECT application_id FROM applications WHERE idempotency_key = $1";
constexpr char kInsertApplication[] =
    "INSERT INTO applications (application_id, idempotency_key, kind, permit_type_code, uscc, "
    "status, review_route, received_date, accepted_date, due_date, promised_due_date, "
    "decided_date, decision_working_days, instant, commitment_check_status, false_commitment, "
    "renewal_of, version, data, updated_at) VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, "
    "NULLIF($7, ''), $8::date, NULLIF($9, '')::date, NULLIF($10, '')::date, "
    "NULLIF($11, '')::date, NULLIF($12, '')::date, NULLIF($13, -1), $14, NULLIF($15, ''), $16, "
    "NULLIF($17, ''), 1, $18::jsonb, now())";
constexpr char kUpdateApplication[] =
    "UPDATE applications SET kind = $3, permit_type_code = $4, uscc = $5, status = $6, "
    "review_route = NULLIF($7, ''), received_date = $8::date, "
    "accepted_date = NULLIF($9, '')::date, due_date = NULLIF($10, '')::date, "
    "promised_due_date = NULLIF($11, '')::date, decided_date = NULLIF($12, '')::date, "
    "decision_working_days = NULLIF($13, -1), instant = $14, "
    "commitment_check_status = NULLIF($15, ''), false_commitment = $16, "
    "renewal_of = NULLIF($17, ''), version = version + 1, data = $18::jsonb, updated_at = now() "
    "WHERE application_id = $1 AND $2::text IS NOT NULL";
// The transitions a change added, in order, in one statement.
constexpr char kInsertTransitions[] =
    "INSERT INTO application_transitions (application_id, from_status, to_status, actor, reason, "
    "at) SELECT $1, t.from_status, t.to_status, t.actor, t.reason, to_timestamp(t.at) "
    "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY "
    "AS t(from_status, to_status, actor, reason, at, n) ORDER BY t.n";
// Everything a submission reads before the credit check, in one statement outside a
// transaction: the application an idempotency key already made, the catalogue row in force
// (its JSON only when it is not the row the caller holds: $4 effective_from, $5 version), and
// whether the applicant ever made a false commitment.
constexpr char kSubmissionReads[] =
    "SELECT (SELECT application_id FROM applications WHERE idempotency_key = NULLIF($1, '')), "
    "p.effective_from::text, p.version, "
    "CASE WHEN p.effective_from = NULLIF($4, '')::date AND p.version = $5 THEN NULL "
    "ELSE p.data::text END, "
    "EXISTS (SELECT 1 FROM applications WHERE uscc = $6 AND false_commitment) "
    "FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT effective_from, version, data "
    "FROM permit_types WHERE code = $2 AND effective_from <= $3::date "
    "ORDER BY effective_from DESC LIMIT 1) AS p ON true";
constexpr char kPendingRenewal[] =
    "SELECT application_id FROM applications WHERE renewal_of = $1 AND status NOT IN "
    "('APPROVED', 'DENIED', 'REJECTED', 'WITHDRAWN') LIMIT 1";
constexpr char kListApplications[] =
    "SELECT data::text, version, count(*) OVER () FROM applications "
    "WHERE ($1 = '' OR uscc = $1) AND ($2 = '' OR permit_type_code = $2) "
    "AND ($3 = '' OR status = $3) "
    "AND (NULLIF($4, '') IS NULL OR received_date >= NULLIF($4, '')::date) "
    "AND (NULLIF($5, '') IS NULL OR received_date <= NULLIF($5, '')::date) "
    "AND (NOT $6 OR (status IN ('ACCEPTED', 'ACCEPTED_WITH_DEFICIENCY') AND due_date < $7::date)) "
    "AND (NULLIF($8, '') IS NULL OR (status IN ('ACCEPTED', 'ACCEPTED_WITH_DEFICIENCY', "
    "'SUSPENDED') AND due_date <= NULLIF($8, '')::date)) "
    "ORDER BY received_date, application_id LIMIT $9 OFFSET $10";
constexpr char kNextNumber[] =
    "INSERT INTO number_sequences (scope, year, last_value) VALUES ($1, $2, 1) "
    "ON CONFLICT (scope, year) DO UPDATE SET last_value = number_sequences.last_value + 1 "
    "RETURNING last_value";
// Several scopes at once, locked in scope order (two such statements cannot deadlock).
constexpr char kNextNumbers[] =
    "INSERT INTO number_sequences (scope, year, last_value) "
    "SELECT s, $2, 1 FROM unnest($1::text[]) AS s ORDER BY s "
    "ON CONFLICT (scope, year) DO UPDATE SET last_value = number_sequences.last_value + 1 "
    "RETURNING scope, last_value";
constexpr char kSelectCertificate[] =
    "SELECT data::text, version FROM certificates WHERE certificate_no = $1";
constexpr char kSelectCertificateForUpdate[] =
    "SELECT data::text, version FROM certificates WHERE certificate_no = $1 FOR UPDATE";
constexpr char kInsertCertificate[] =
    "INSERT INTO certificates (certificate_no, application_id, uscc, permit_type_code, status, "
    "valid_until, suspended_until, verification_code, data) VALUES ($1, $2, $3, $4, $5, "
    "$6::date, NULLIF($7, '')::date, $8, $9::jsonb)";
constexpr char kUpdateCertificate[] =
    "UPDATE certificates SET status = $2, valid_until = $3::date, "
    "suspended_until = NULLIF($4, '')::date, data = $5::jsonb, version = version + 1, "
    "updated_at = now() WHERE certificate_no = $1";
constexpr char kListExpiring[] =
    "SELECT data::text, version FROM certificates WHERE status = 'VALID' "
    "AND valid_until >= $1::date AND valid_until <= $2::date AND ($3 = '' OR permit_type_code = "
    "$3) ORDER BY valid_until, certificate_no LIMIT $4 OFFSET $5";
constexpr char kReceivedDueForDeemedAcceptance[] =
    "SELECT application_id FROM applications WHERE status = 'RECEIVED' ORDER BY application_id";
constexpr char kOverdue[] =
    "SELECT application_id FROM applications WHERE status IN ('ACCEPTED', "
    "'ACCEPTED_WITH_DEFICIENCY') AND due_date < $1::date ORDER BY application_id";
constexpr char kUndecidedRenewalsPastExpiry[] =
    "SELECT a.application_id FROM applications a JOIN certificates c "
    "ON c.certificate_no = a.renewal_of WHERE a.status IN ('RECEIVED', 'ACCEPTED', "
    "'ACCEPTED_WITH_DEFICIENCY', 'SUSPENDED') AND c.valid_until < $1::date "
    "ORDER BY a.application_id";
constexpr char kCertificatesToExpire[] =
    "SELECT certificate_no FROM certificates WHERE status IN ('VALID', 'SUSPENDED') "
    "AND valid_until < $1::date ORDER BY certificate_no";
constexpr char kSuspensionsEnded[] =
    "SELECT certificate_no FROM certificates WHERE status = 'SUSPENDED' "
    "AND suspended_until < $1::date AND valid_until >= $1::date ORDER BY certificate_no";
constexpr char kEmitReminders[] =
    "WITH inserted AS (INSERT INTO certificate_reminders (certificate_no, kind, uscc, "
    "valid_until, remind_date) SELECT certificate_no, $3, uscc, valid_until, $1::date "
    "FROM certificates WHERE status = 'VALID' AND valid_until >= $1::date "
    "AND valid_until <= $2::date ORDER BY certificate_no "  // one lock order: no deadlock
    "ON CONFLICT (certificate_no, kind) DO NOTHING "
    "RETURNING certificate_no) "
    "SELECT c.data::text FROM inserted JOIN certificates c USING (certificate_no) "
    "ORDER BY c.certificate_no";
constexpr char kSetReminderEvent[] =
    "UPDATE certificate_reminders SET event_id = $3::uuid WHERE certificate_no = $1 "
    "AND kind = $2";
constexpr char kMarkRemindersSent[] =
    "UPDATE certificate_reminders r SET sent_at = o.delivered_at FROM outbox o "
    "WHERE r.sent_at IS NULL AND o.event_id = r.event_id AND o.delivered_at IS NOT NULL";
constexpr char kStatsRows[] =
    "SELECT permit_type_code, status, instant, accepted_date IS NOT NULL, "
    "COALESCE(decided_date::text, ''), COALESCE(due_date::text, ''), "
    "COALESCE(promised_due_date::text, ''), COALESCE(decision_working_days, -1) "
    "FROM applications WHERE received_date >= $1::date AND received_date <= $2::date "
    "AND ($3 = '' OR permit_type_code = $3)";

// Which certificate an event is about: the same fields in CertificateStatusChanged and
// CertificateExpiryReminder.
template <typename Event>
void SetCertificateIdentity(const v1::Certificate& c, Event* e) {
  e->set_certificate_no(c.certificate_no());
  e->set_certificate_name(c.certificate_name());
  e->set_permit_type_code(c.permit_type_code());
  e->set_permit_type_name(c.permit_type_name());
  e->set_uscc(c.holder().uscc());
  e->set_holder_name(c.holder().name());
}

}  // namespace

LicensingLogic::LicensingLogic(common::PgPool& pg, const common::Clock& clock,
                               std::shared_ptr<const common::WorkingDayCalendar> calendar,
                               CreditChecker* credit, const CertificateSigner* signer,
                               LicensingOptions options,
                               std::shared_ptr<const CertificateKeyRing> earlier_keys)
    : pg_(pg),
      clock_(clock),
      calendar_(std::move(calendar)),
      credit_(credit),
      signer_(signer),
      options_(std::move(options)),
      earlier_keys_(std::move(earlier_keys)) {}

// ---------------------------------------------------------------------------------------------
// Permit catalogue
// ---------------------------------------------------------------------------------------------

namespace {
absl::Status PermitTypeNotFound(const std::string& code, absl::CivilDay as_of) {
  return absl::NotFoundError(
      absl::StrCat("permit type '", code, "' not found (in force on ", FormatDate(as_of), ")"));
}
}  // namespace

absl::StatusOr<v1::PermitType> LicensingLogic::LoadPermitType(pqxx::work& txn,
                                                              const std::string& code,
                                                              absl::CivilDay as_of) {
  auto rows = common::ExecPrepared(txn, kSelectPermitTypeAsOf, code, FormatDate(as_of));
  if (rows.empty()) return PermitTypeNotFound(code, as_of);
  v1::PermitType type;
  if (auto s = FromJson(rows[0][0].as<std::string>(), &type); !s.ok()) return s;
  type.set_etag(rows[0][1].as<std::string>());
  return type;
}

absl::StatusOr<v1::PermitType> LicensingLogic::LoadPermitTypeVersion(
    pqxx::work& txn, const std::string& code, const std::string& effective_from) {
  if (effective_from.empty()) return LoadPermitType(txn, code, Today());
  auto rows = common::ExecPrepared(txn, kSelectPermitTypeVersion, code, effective_from);
  if (rows.empty()) return LoadPermitType(txn, code, Today());
  v1::PermitType type;
  if (auto s = FromJson(rows[0][0].as<std::string>(), &type); !s.ok()) return s;
  type.set_etag(rows[0][1].as<std::string>());
  return type;
}

absl::Status LicensingLogic::ListPermitTypes(const v1::ListPermitTypesRequest& req,
                                             v1::ListPermitTypesResponse* resp) {
  auto as_of = DateOrDefault(req.as_of_date(), Today(), "as_of_date");
  if (!as_of.ok()) return as_of.status();
  auto offset = PageOffset(req.page_token());
  if (!offset.ok()) return offset.status();
  int size = PageSize(req.page_size());
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto rows =
        txn.exec_params(kListPermitTypes, FormatDate(*as_of), req.commitment_eligible_only());
    for (int i = *offset; i < static_cast<int>(rows.size()) && i < *offset + size; ++i) {
      auto* type = resp->add_permit_types();
      if (auto s = FromJson(rows[i][0].as<std::string>(), type); !s.ok()) return s;
      type->set_etag(rows[i][1].as<std::string>());
    }
    if (*offset + size < static_cast<int>(rows.size())) {
      resp->set_next_page_token(absl::StrCat(*offset + size));
    }
    return absl::OkStatus();
  });
}

absl::Status LicensingLogic::GetPermitType(const v1::GetPermitTypeRequest& req,
                                           v1::PermitType* resp) {
  if (auto s = Required(req.code(), "code"); !s.ok()) return s;
  auto as_of = DateOrDefault(req.as_of_date(), Today(), "as_of_date");
  if (!as_of.ok()) return as_of.status();
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto type = LoadPermitType(txn, req.code(), *as_of);
    if (!type.ok()) return type.status();
    *resp = *type;
    return absl::OkStatus();
  });
}

absl::Status LicensingLogic::UpsertPermitType(const v1::UpsertPermitTypeRequest& req,
                                              v1::PermitType* resp) {
  v1::PermitType type = req.permit_type();
  std::string code = req.code().empty() ? type.code() : req.code();
  if (auto s = Required(code, "code"); !s.ok()) return s;
  if (!type.code().empty() && type.code() != code) {
    return FieldError("permit_type.code", "must equal code");
  }
  type.set_code(code);
  if (auto s = Required(type.name(), "permit_type.name"); !s.ok()) return s;
  if (auto s = Required(type.legal_basis(), "permit_type.legal_basis"); !s.ok()) return s;
  if (type.handling_mode() == v1::HANDLING_MODE_UNSPECIFIED) {
    return FieldError("permit_type.handling_mode", "required");
  }
  if (type.statutory_working_days() <= 0) {
    return FieldError("permit_type.statutory_working_days", "must be positive");
  }
  if (type.promised_working_days() <= 0) {
    type.set_promised_working_days(type.statutory_working_days());
  }
  if (type.promised_working_days() > type.statutory_working_days()) {
    return FieldError("permit_type.promised_working_days",
                      "must not exceed statutory_working_days (承诺时限 ≤ 法定时限)");
  }
  if (type.extension_working_days() < 0) {
    return FieldError("permit_type.extension_working_days", "must not be negative");
  }
  if (type.certificate_validity_months() <= 0) {
    return FieldError("permit_type.certificate_validity_months", "must be positive");
  }
  if (type.fee_fen() < 0) return FieldError("permit_type.fee_fen", "must not be negative");
  if (type.deficiency_acceptance_allowed() && type.deficiency_supply_working_days() <= 0) {
    return FieldError("permit_type.deficiency_supply_working_days",
                      "must be positive when deficiency acceptance (容缺) is allowed");
  }
  std::set<std::string> codes;
  for (int i = 0; i < type.required_materials_size(); ++i) {
    const auto& m = type.required_materials(i);
    std::string field = absl::StrCat("permit_type.required_materials[", i, "]");
    if (m.code().empty()) return FieldError(absl::StrCat(field, ".code"), "required");
    if (m.name().empty()) return FieldError(absl::StrCat(field, ".name"), "required");
    if (m.max_age_days() < 0) {
      return FieldError(absl::StrCat(field, ".max_age_days"), "must not be negative");
    }
    if (!codes.insert(m.code()).second) {
      return FieldError(absl::StrCat(field, ".code"), "duplicate material code");
    }
  }
  for (int i = 0; i < type.suspension_limits_size(); ++i) {
    if (type.suspension_limits(i).reason() == v1::SUSPENSION_REASON_UNSPECIFIED ||
        type.suspension_limits(i).max_working_days() <= 0) {
      return FieldError(absl::StrCat("permit_type.suspension_limits[", i, "]"),
                        "needs a reason and a positive max_working_days");
    }
  }
  auto effective = DateOrDefault(type.effective_from(), Today(), "permit_type.effective_from");
  if (!effective.ok()) return effective.status();
  type.set_effective_from(FormatDate(*effective));
  SetTime(type.mutable_update_time(), clock_.Now());
  type.clear_etag();
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    if (!req.etag().empty()) {
      auto rows = common::ExecPrepared(txn, kSelectPermitTypeVersion, code, type.effective_from());
      std::string current = rows.empty() ? "" : rows[0][1].as<std::string>();
      if (current != req.etag()) {
        return absl::AbortedError(
            absl::StrCat("etag mismatch: permit type version is '", current, "'"));
      }
    }
    auto rows = txn.exec_params(kUpsertPermitType, code, type.effective_from(), type.name(),
                                type.commitment_eligible(), ToJson(type));
    *resp = type;
    resp->set_etag(rows[0][0].as<std::string>());
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// Persistence helpers
// ---------------------------------------------------------------------------------------------

absl::StatusOr<LicensingLogic::LoadedApplication> LicensingLogic::LoadApplication(
    pqxx::work& txn, const std::string& id, bool for_update) {
  auto rows = for_update ? common::ExecPrepared(txn, kSelectApplicationForUpdate, id)
                         : common::ExecPrepared(txn, kSelectApplication, id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("application '", id, "' not found"));
  LoadedApplication loaded;
  if (auto s = FromJson(rows[0][0].as<std::string>(), &loaded.app); !s.ok()) return s;
  loaded.version = rows[0][1].as<int64_t>();
  loaded.transitions_at_load = loaded.app.transitions_size();
  return loaded;
}

absl::Status LicensingLogic::SaveApplication(pqxx::work& txn, LoadedApplication& loaded,
                                             bool insert) {
  v1::Application& app = loaded.app;
  app.clear_etag();
  SetTime(app.mutable_update_time(), clock_.Now());
  std::string decided_date;
  int decision_wd = -1;
  if (app.has_decision() && app.decision().has_decided_at()) {
    absl::CivilDay decided = DayOf(app.decision().decided_at());
    decided_date = FormatDate(decided);
    if (!app.accepted_date().empty()) {
      auto accepted = ParseDate(app.accepted_date());
      auto intervals = SuspensionIntervals(app, decided);
      if (accepted.ok() && intervals.ok()) {
        auto wd = calendar_->WorkingDaysBetween(*accepted, decided, *intervals);
        if (wd.ok()) decision_wd = std::max(0, *wd);
      }
    }
  }
  bool instant = app.review_route() == v1::REVIEW_ROUTE_INSTANT && app.has_decision() &&
                 app.decision().automatic();
  auto save = [&](const auto& sql) {
    common::ExecPrepared(
        txn, sql, app.application_id(), insert ? loaded.idempotency_key : std::string(),
        EnumShort(v1::ApplicationKind_Name(app.kind()), "APPLICATION_KIND_"),
        app.permit_type_code(), app.applicant().uscc(), StatusName(app.status()),
        RouteName(app.review_route()), FormatDate(DayOf(app.received_at())), app.accepted_date(),
        app.due_date(), app.promised_due_date(), decided_date, decision_wd, instant,
        app.has_commitment_check() ? CheckStatusName(app.commitment_check().status())
                                   : std::string(),
        app.has_commitment_check() &&
            app.commitment_check().status() == v1::COMMITMENT_CHECK_STATUS_FALSE_COMMITMENT,
        app.renewal_of_certificate_no(), ToJson(app));
  };
  if (insert) {
    save(kInsertApplication);
  } else {
    save(kUpdateApplication);
  }
  std::vector<std::string> from, to, actor, reason, at;
  for (int i = loaded.transitions_at_load; i < app.transitions_size(); ++i) {
    const auto& t = app.transitions(i);
    from.push_back(StatusName(t.from_status()));
    to.push_back(StatusName(t.to_status()));
    actor.push_back(t.actor());
    reason.push_back(t.reason());
    at.push_back(absl::StrCat(t.at().seconds()));
  }
  if (!from.empty()) {
    common::ExecPrepared(txn, kInsertTransitions, app.application_id(), common::PgTextArray(from),
                         common::PgTextArray(to), common::PgTextArray(actor),
                         common::PgTextArray(reason), common::PgTextArray(at));
  }
  loaded.transitions_at_load = app.transitions_size();
  loaded.version = insert ? 1 : loaded.version + 1;
  return absl::OkStatus();
}

absl::StatusOr<LicensingLogic::LoadedCertificate> LicensingLogic::LoadCertificate(
    pqxx::work& txn, const std::string& no, bool for_update) {
  auto rows = for_update ? common::ExecPrepared(txn, kSelectCertificateForUpdate, no)
                         : common::ExecPrepared(txn, kSelectCertificate, no);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("certificate '", no, "' not found"));
  LoadedCertificate loaded;
  if (auto s = FromJson(rows[0][0].as<std::string>(), &loaded.cert); !s.ok()) return s;
  loaded.version = rows[0][1].as<int64_t>();
  return loaded;
}

absl::Status LicensingLogic::SaveCertificate(pqxx::work& txn, LoadedCertificate& loaded,
                                             bool insert) {
  v1::Certificate& c = loaded.cert;
  c.clear_etag();
  SetTime(c.mutable_update_time(), clock_.Now());
  if (insert) {
    common::ExecPrepared(txn, kInsertCertificate, c.certificate_no(), c.application_id(),
                         c.holder().uscc(), c.permit_type_code(), CertificateStatusName(c.status()),
                         c.valid_until(), c.suspended_until(), c.verification_code(), ToJson(c));
  } else {
    common::ExecPrepared(txn, kUpdateCertificate, c.certificate_no(),
                         CertificateStatusName(c.status()), c.valid_until(), c.suspended_until(),
                         ToJson(c));
  }
  loaded.version = insert ? 1 : loaded.version + 1;
  c.set_etag(absl::StrCat(loaded.version));
  return absl::OkStatus();
}

absl::Status LicensingLogic::CheckEtag(const std::string& requested, int64_t version) {
  if (!requested.empty() && requested != absl::StrCat(version)) {
    return absl::AbortedError(absl::StrCat("etag mismatch: current etag is '", version, "'"));
  }
  return absl::OkStatus();
}

void LicensingLogic::AddTransition(v1::Application& app, v1::ApplicationStatus to,
                                   const std::string& actor, const std::string& reason) {
  auto* t = app.add_transitions();
  t->set_from_status(app.status());
  t->set_to_status(to);
  t->set_actor(actor);
  t->set_reason(reason);
  SetTime(t->mutable_at(), clock_.Now());
  app.set_status(to);
}

absl::Status LicensingLogic::StartClock(v1::Application& app, const v1::PermitType& type,
                                        absl::CivilDay accepted) {
  app.set_accepted_date(FormatDate(accepted));
  return RecomputeDueDates(app, type);
}

absl::Status LicensingLogic::RecomputeDueDates(v1::Application& app, const v1::PermitType& type) {
  auto accepted = ParseDate(app.accepted_date());
  if (!accepted.ok()) return accepted.status();
  auto intervals = SuspensionIntervals(app, Today());
  if (!intervals.ok()) return intervals.status();
  int extension = app.has_extension() ? app.extension().working_days() : 0;
  auto due =
      DecisionDueDate(*calendar_, *accepted, type.statutory_working_days() + extension, *intervals);
  if (!due.ok()) return due.status();
  auto promised = DecisionDueDate(*calendar_, *accepted, type.promised_working_days(), *intervals);
  if (!promised.ok()) return promised.status();
  app.set_due_date(FormatDate(*due));
  app.set_promised_due_date(FormatDate(*promised));
  return absl::OkStatus();
}

absl::StatusOr<std::string> LicensingLogic::NextNumber(pqxx::work& txn, const std::string& scope,
                                                       int year, const ReservedNumbers* reserved) {
  if (reserved != nullptr) {
    if (auto it = reserved->find(scope); it != reserved->end()) return it->second;
  }
  auto rows = common::ExecPrepared(txn, kNextNumber, scope, year);
  return rows[0][0].as<std::string>();
}

LicensingLogic::ReservedNumbers LicensingLogic::ReserveNumbers(
    pqxx::transaction_base& txn, const std::vector<std::string>& scopes, int year) {
  ReservedNumbers out;
  for (const auto& row :
       common::ExecPrepared(txn, kNextNumbers, common::PgTextArray(scopes), year)) {
    out[row[0].as<std::string>()] = row[1].as<std::string>();
  }
  return out;
}

absl::Status LicensingLogic::Respond(pqxx::work& txn, const std::string& application_id,
                                     v1::Application* out) {
  auto loaded = LoadApplication(txn, application_id, false);
  if (!loaded.ok()) return loaded.status();
  *out = loaded->app;
  out->set_etag(absl::StrCat(loaded->version));
  if (out->has_certificate() && !out->certificate().certificate_no().empty()) {
    auto cert = LoadCertificate(txn, out->certificate().certificate_no(), false);
    if (cert.ok()) {
      *out->mutable_certificate() = cert->cert;
      out->mutable_certificate()->set_etag(absl::StrCat(cert->version));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Events out
// ---------------------------------------------------------------------------------------------

namespace {

// One envelope (one event id, `event_id` or a fresh one) to each target's DeliverEvent.
absl::Status EnqueueToAll(pqxx::work& txn, std::initializer_list<const char*> targets,
                          absl::string_view aggregate_type, absl::string_view aggregate_id,
                          absl::string_view event_type, const google::protobuf::Message& payload,
                          absl::Time at, std::string event_id = {}) {
  for (const char* target : targets) {
    auto event =
        common::MakeEnvelopeEvent(kService, common::DeliverEventMethod(target), aggregate_type,
                                  aggregate_id, event_type, payload, at, event_id);
    auto id = common::EnqueueOutbox(txn, event);
    if (!id.ok()) return id.status();
    event_id = *id;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LicensingLogic::EnqueueDecision(pqxx::work& txn, const v1::Application& app,
                                             events::v1::LicensingOutcome outcome) {
  events::v1::LicensingDecisionMade e;
  e.set_application_id(app.application_id());
  e.set_outcome(outcome);
  e.set_decision_no(app.decision().decision_no());
  e.set_decision_date(FormatDate(DayOf(app.decision().decided_at())));
  e.set_permit_type_code(app.permit_type_code());
  e.set_permit_type_name(app.permit_type_name());
  e.set_uscc(app.applicant().uscc());
  e.set_party_name(app.applicant().name());
  e.set_legal_representative(app.applicant().legal_representative());
  if (app.has_certificate()) {
    const auto& c = app.certificate();
    // The licensee as licensed (a renewal carries a 变更 made while it was pending).
    e.set_party_name(c.holder().name());
    e.set_legal_representative(c.holder().legal_representative());
    e.set_content(c.scope());
    e.set_certificate_name(c.certificate_name());
    e.set_certificate_no(c.certificate_no());
    e.set_valid_from(c.valid_from());
    e.set_valid_until(c.valid_until());
    e.set_authority(c.issuing_authority());
  }
  e.set_instant_approval(app.review_route() == v1::REVIEW_ROUTE_INSTANT &&
                         app.decision().automatic());
  e.set_renewal(app.kind() == v1::APPLICATION_KIND_RENEWAL);
  if (!app.decision().approve()) e.set_denial_reason(app.decision().reason());
  return EnqueueToAll(txn, {"disclosure", "exchange"}, "application", app.application_id(),
                      "licensing.decision_made", e, clock_.Now());
}

absl::Status LicensingLogic::EnqueueCertificateStatus(pqxx::work& txn, const v1::Certificate& c,
                                                      v1::CertificateStatus previous,
                                                      const CertificateChange& change,
                                                      absl::string_view event_type) {
  events::v1::CertificateStatusChanged e;
  SetCertificateIdentity(c, &e);
  e.set_previous_status(static_cast<events::v1::CertificateStatus>(previous));
  e.set_status(static_cast<events::v1::CertificateStatus>(c.status()));
  e.set_valid_from(c.valid_from());
  e.set_valid_until(c.valid_until());
  e.set_effective_date(FormatDate(Today()));
  e.set_reason(change.reason);
  e.set_decision_no(change.decision_no);
  e.set_source_case_id(change.source_case_id);
  e.set_authority(c.issuing_authority());
  e.set_legal_representative(c.holder().legal_representative());
  e.set_revision(c.revision());
  return EnqueueToAll(txn, {"disclosure", "exchange"}, "certificate", c.certificate_no(),
                      event_type, e, clock_.Now());
}

bool LicensingLogic::SignatureVerifies(const v1::Certificate& c) const {
  if (signer_ != nullptr && c.key_id() == signer_->key_id()) return signer_->VerifyCertificate(c);
  return earlier_keys_ != nullptr && earlier_keys_->VerifyCertificate(c);
}

// ---------------------------------------------------------------------------------------------
// Approval and certificate issue
// ---------------------------------------------------------------------------------------------

absl::Status LicensingLogic::Approve(pqxx::work& txn, v1::Application& app,
                                     const v1::PermitType& type, const std::string& actor,
                                     const std::string& reason, const std::string& decision_no,
                                     const std::string& scope, bool automatic,
                                     events::v1::LicensingOutcome outcome,
                                     const ReservedNumbers* reserved) {
  if (signer_ == nullptr) {
    return absl::FailedPreconditionError(
        "licensing.signing_key_file is not configured: no certificate can be issued");
  }
  absl::CivilDay today = Today();
  absl::Time now = clock_.Now();
  int year = static_cast<int>(today.year());
  // The certificate's number before the decision's: counter rows are always locked in scope
  // order (as ReserveNumbers does), so two approvals cannot deadlock on them.
  auto seq = NextNumber(txn, absl::StrCat("certificate:", type.code()), year, reserved);
  if (!seq.ok()) return seq.status();
  auto* decision = app.mutable_decision();
  decision->set_approve(true);
  decision->set_reason(reason);
  decision->set_decided_by(actor);
  SetTime(decision->mutable_decided_at(), now);
  decision->set_automatic(automatic);
  if (decision_no.empty()) {
    auto n = NextNumber(txn, "decision", year, reserved);
    if (!n.ok()) return n.status();
    decision->set_decision_no(
        absl::StrCat(options_.decision_no_prefix, "〔", year, "〕", *n, "号"));
  } else {
    decision->set_decision_no(decision_no);
  }
  auto cert_due = calendar_->AddWorkingDays(today, options_.certificate_issue_working_days);
  if (!cert_due.ok()) return cert_due.status();
  app.set_certificate_due_date(FormatDate(*cert_due));
  AddTransition(app, v1::APPLICATION_STATUS_APPROVED, actor, reason);

  LoadedCertificate loaded;
  v1::Certificate& c = loaded.cert;
  int64_t seq_value = 0;
  (void)absl::SimpleAtoi(*seq, &seq_value);
  c.set_certificate_no(absl::StrFormat("%s-%s-%d-%06d", options_.certificate_no_prefix, type.code(),
                                       year, seq_value));
  c.set_verification_code(NewVerificationCode());
  c.set_certificate_name(type.certificate_name().empty() ? type.name() : type.certificate_name());
  c.set_permit_type_code(type.code());
  c.set_permit_type_name(type.name());
  *c.mutable_holder() = app.applicant();
  c.mutable_holder()->clear_contact_phone();
  c.set_application_id(app.application_id());
  c.set_decision_no(decision->decision_no());
  c.set_scope(scope.empty() ? type.name() : scope);
  absl::CivilDay valid_from = today;
  if (!app.renewal_of_certificate_no().empty()) {
    auto old = LoadCertificate(txn, app.renewal_of_certificate_no(), true);
    if (!old.ok()) return old.status();
    auto old_until = ParseDate(old->cert.valid_until());
    if (old_until.ok() && *old_until + 1 > valid_from) valid_from = *old_until + 1;
    c.set_previous_certificate_no(old->cert.certificate_no());
    if (scope.empty()) c.set_scope(old->cert.scope());
    // A 变更 of the old certificate while the renewal was pending carries over.
    *c.mutable_holder() =
        RenewalHolder(c.holder(), old->cert, common::FromTimestamp(app.received_at()));
  }
  c.set_valid_from(FormatDate(valid_from));
  c.set_valid_until(FormatDate(ValidUntil(valid_from, type.certificate_validity_months())));
  c.set_status(v1::CERTIFICATE_STATUS_VALID);
  SetTime(c.mutable_issued_at(), now);
  c.set_issuing_authority(type.issuing_authority());
  if (auto s = signer_->SignCertificate(c); !s.ok()) return s;
  auto* history = c.add_status_history();
  history->set_to_status(v1::CERTIFICATE_STATUS_VALID);
  history->set_reason("issued");
  history->set_decision_no(c.decision_no());
  history->set_actor(actor);
  SetTime(history->mutable_at(), now);
  if (auto s = SaveCertificate(txn, loaded, /*insert=*/true); !s.ok()) return s;
  *app.mutable_certificate() = c;
  return EnqueueDecision(txn, app, outcome);
}

absl::Status LicensingLogic::ChangeCertificateStatus(pqxx::work& txn, LoadedCertificate& loaded,
                                                     const CertificateChange& change) {
  v1::Certificate& c = loaded.cert;
  v1::CertificateStatus previous = c.status();
  auto* h = c.add_status_history();
  h->set_from_status(previous);
  h->set_to_status(change.to);
  h->set_reason(change.reason);
  h->set_decision_no(change.decision_no);
  h->set_source_case_id(change.source_case_id);
  h->set_actor(change.actor);
  SetTime(h->mutable_at(), clock_.Now());
  c.set_status(change.to);
  c.set_status_reason(change.reason);
  c.set_suspended_until(change.to == v1::CERTIFICATE_STATUS_SUSPENDED ? change.suspended_until
                                                                      : std::string());
  if (auto s = SaveCertificate(txn, loaded, false); !s.ok()) return s;
  return EnqueueCertificateStatus(txn, c, previous, change);
}

// ---------------------------------------------------------------------------------------------
// Submission (and renewal) with 一次性告知, 容缺 and 告知承诺 / 秒批
// ---------------------------------------------------------------------------------------------

absl::Status LicensingLogic::SubmitApplication(const v1::SubmitApplicationRequest& req,
                                               v1::Application* resp) {
  return SubmitInternal(req, "", resp);
}

absl::Status LicensingLogic::SubmitInternal(const v1::SubmitApplicationRequest& req,
                                            const std::string& renewal_of, v1::Application* resp) {
  if (auto s = Required(req.permit_type_code(), "permit_type_code"); !s.ok()) return s;
  auto uscc = common::Uscc::Parse(req.applicant().uscc());
  if (!uscc.ok()) return uscc.status();
  if (auto s = Required(req.applicant().name(), "applicant.name"); !s.ok()) return s;
  v1::Party applicant = req.applicant();
  applicant.set_uscc(uscc->str());
  absl::CivilDay today = Today();
  absl::Time now = clock_.Now();

  // Read phase, one statement: an idempotent retry is answered from what the key made; else
  // the rules in force and what credit needs to be asked (outside the write transaction).
  std::vector<v1::Material> supplied(req.materials().begin(), req.materials().end());
  struct Prepared {
    std::string existing;  // the application the idempotency key already made
    v1::PermitType type;
    std::vector<v1::MissingMaterial> missing;
    bool past_false_commitment = false;
  };
  CachedPermitType held;
  {
    std::lock_guard lock(permit_types_mu_);
    if (auto it = permit_types_.find(req.permit_type_code()); it != permit_types_.end()) {
      held = it->second;
    }
  }
  auto prepared = pg_.Autocommit([&](pqxx::nontransaction& txn) -> absl::StatusOr<Prepared> {
    Prepared p;
    const auto row = common::ExecPrepared(txn, kSubmissionReads, req.idempotency_key(),
                                          req.permit_type_code(), FormatDate(today),
                                          held.effective_from, held.version, applicant.uscc())[0];
    if (!row[0].is_null()) {
      p.existing = row[0].as<std::string>();
      return p;
    }
    if (row[1].is_null()) return PermitTypeNotFound(req.permit_type_code(), today);
    if (row[3].is_null()) {
      p.type = held.type;  // the row in force is the one held
    } else {
      if (auto s = FromJson(row[3].as<std::string>(), &p.type); !s.ok()) return s;
      p.type.set_etag(row[2].as<std::string>());
      std::lock_guard lock(permit_types_mu_);
      permit_types_[req.permit_type_code()] = {row[1].as<std::string>(), row[2].as<int64_t>(),
                                               p.type};
    }
    if (auto s = ValidateSuppliedMaterials(p.type, supplied, "materials"); !s.ok()) return s;
    p.missing = CheckMaterials(p.type, supplied, today);
    p.past_false_commitment = row[4].as<bool>();
    return p;
  });
  if (!prepared.ok()) return prepared.status();
  if (!prepared->existing.empty()) {
    return pg_.Transact([&](pqxx::work& txn) { return Respond(txn, prepared->existing, resp); });
  }
  const v1::PermitType& type = prepared->type;

  InstantApprovalInputs inputs{.commitment_eligible = type.commitment_eligible(),
                               .commitment_signed = req.commitment_signed(),
                               .materials_complete = prepared->missing.empty(),
                               .past_false_commitment = prepared->past_false_commitment};
  if (CreditCheckNeeded(inputs) && credit_ != nullptr) {
    auto standing = credit_->Check(applicant.uscc());
    if (standing.ok()) inputs.credit = *standing;
  }
  std::vector<v1::NormalReviewReason> blockers = InstantApprovalBlockers(inputs);
  if (blockers.empty() && signer_ == nullptr) {
    blockers.push_back(v1::NORMAL_REVIEW_REASON_CERTIFICATE_SIGNING_UNAVAILABLE);
  }

  // The application's number (and for 秒批 the decision's and the certificate's) is drawn in
  // one statement of its own before the write transaction: the per-year counter rows every
  // submission needs are locked for that statement only, not for a whole transaction (a write
  // that then fails leaves a gap in the numbers; nothing is ever numbered twice).
  const bool instant = prepared->missing.empty() && blockers.empty();
  const int year = static_cast<int>(today.year());
  std::vector<std::string> scopes = {"application"};
  if (instant) {
    scopes.push_back("decision");
    scopes.push_back(absl::StrCat("certificate:", type.code()));
  }
  auto reserved = pg_.Autocommit([&](pqxx::nontransaction& txn) -> absl::StatusOr<ReservedNumbers> {
    return ReserveNumbers(txn, scopes, year);
  });
  if (!reserved.ok()) return reserved.status();
  v1::Application saved;  // what the transaction stored, once it committed
  auto id = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::string> {
    LoadedApplication loaded;
    loaded.idempotency_key = req.idempotency_key();
    v1::Application& app = loaded.app;
    auto seq = NextNumber(txn, "application", year, &*reserved);
    if (!seq.ok()) return seq.status();
    int64_t seq_value = 0;
    (void)absl::SimpleAtoi(*seq, &seq_value);
    app.set_application_id(absl::StrFormat("SQ%d%06d", static_cast<int>(today.year()), seq_value));
    app.set_kind(renewal_of.empty() ? v1::APPLICATION_KIND_NEW : v1::APPLICATION_KIND_RENEWAL);
    app.set_renewal_of_certificate_no(renewal_of);
    app.set_permit_type_code(type.code());
    app.set_permit_type_name(type.name());
    app.set_handling_mode(type.handling_mode());
    app.set_rule_version(type.effective_from());
    *app.mutable_applicant() = applicant;
    for (auto m : supplied) {
      for (const auto& r : type.required_materials()) {
        if (r.code() == m.code()) m.set_name(r.name());
      }
      *app.add_materials() = m;
    }
    app.set_commitment_signed(req.commitment_signed());
    SetTime(app.mutable_received_at(), now);
    SetTime(app.mutable_create_time(), now);
    std::string actor = req.received_by().empty() ? "applicant" : req.received_by();
    AddTransition(app, v1::APPLICATION_STATUS_RECEIVED, actor, "application received");
    auto notice_due = CorrectionNoticeDueDate(*calendar_, today, options_.notice_working_days);
    if (!notice_due.ok()) return notice_due.status();
    app.set_correction_notice_due_date(FormatDate(*notice_due));
    for (const auto& m : prepared->missing) *app.add_missing_materials() = m;
    for (auto r : blockers) app.add_normal_review_reasons(r);
    app.set_review_route(blockers.empty() ? v1::REVIEW_ROUTE_INSTANT : v1::REVIEW_ROUTE_NORMAL);

    bool key_missing = false;
    std::vector<std::string> missing_codes;
    for (const auto& m : prepared->missing) {
      key_missing = key_missing || m.key();
      missing_codes.push_back(m.code());
    }
    if (!prepared->missing.empty()) {
      app.set_correction_notified_date(FormatDate(today));
      if (!key_missing && type.deficiency_acceptance_allowed()) {
        auto supply_due = calendar_->AddWorkingDays(today, type.deficiency_supply_working_days());
        if (!supply_due.ok()) return supply_due.status();
        for (const auto& m : prepared->missing) {
          auto* d = app.add_deficiencies();
          d->set_code(m.code());
          d->set_name(m.name());
          d->set_supply_due_date(FormatDate(*supply_due));
        }
        app.set_complete_materials_date(FormatDate(today));
        if (auto s = StartClock(app, type, today); !s.ok()) return s;
        AddTransition(app, v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY, "system",
                      absl::StrCat("容缺受理: non-key materials outstanding (",
                                   absl::StrJoin(missing_codes, ", "), "), supply by ",
                                   FormatDate(*supply_due)));
      } else {
        AddTransition(app, v1::APPLICATION_STATUS_CORRECTION_REQUIRED, "system",
                      absl::StrCat("一次性告知: ", prepared->missing.size(),
                                   " materials missing or defective (",
                                   absl::StrJoin(missing_codes, ", "), ")"));
      }
    } else {
      app.set_complete_materials_date(FormatDate(today));
      if (auto s = StartClock(app, type, today); !s.ok()) return s;
      AddTransition(app, v1::APPLICATION_STATUS_ACCEPTED, "system",
                    "accepted on receipt: materials complete (Art 32)");
      if (blockers.empty()) {
        auto check_due = calendar_->AddWorkingDays(today, options_.commitment_check_working_days);
        if (!check_due.ok()) return check_due.status();
        app.mutable_commitment_check()->set_status(v1::COMMITMENT_CHECK_STATUS_PENDING);
        app.mutable_commitment_check()->set_due_date(FormatDate(*check_due));
        if (auto s = Approve(
                txn, app, type, "system:告知承诺",
                "告知承诺制 instant approval (国办发〔2020〕42号); post-approval check due " +
                    FormatDate(*check_due),
                "", "", /*automatic=*/true, events::v1::LICENSING_OUTCOME_APPROVED, &*reserved);
            !s.ok()) {
          return s;
        }
      }
    }
    if (auto s = SaveApplication(txn, loaded, /*insert=*/true); !s.ok()) return s;
    // As Respond would read it back: the certificate (if any) carries its own etag already.
    saved = app;
    saved.set_etag(absl::StrCat(loaded.version));
    return app.application_id();
  });
  if (!id.ok() && absl::IsAlreadyExists(id.status()) && !req.idempotency_key().empty()) {
    // A concurrent retry with the same key won the race: answer with its application.
    return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
      auto rows = common::ExecPrepared(txn, kSelectApplicationByKey, req.idempotency_key());
      if (rows.empty()) return id.status();
      return Respond(txn, rows[0][0].as<std::string>(), resp);
    });
  }
  if (!id.ok()) return id.status();
  *resp = std::move(saved);
  return absl::OkStatus();
}

absl::Status LicensingLogic::GetApplication(const v1::GetApplicationRequest& req,
                                            v1::Application* resp) {
  if (auto s = Required(req.application_id(), "application_id"); !s.ok()) return s;
  return pg_.Transact([&](pqxx::work& txn) { return Respond(txn, req.application_id(), resp); });
}

absl::Status LicensingLogic::ListApplications(const v1::ListApplicationsRequest& req,
                                              v1::ListApplicationsResponse* resp) {
  auto offset = PageOffset(req.page_token());
  if (!offset.ok()) return offset.status();
  int size = PageSize(req.page_size());
  for (const auto& [value, field] : {std::pair{&req.received_from(), "received_from"},
                                     std::pair{&req.received_to(), "received_to"}}) {
    if (!value->empty() && !ParseDate(*value).ok()) {
      return FieldError(field, "must be a date YYYY-MM-DD");
    }
  }
  if (req.due_within_working_days() < 0) {
    return FieldError("due_within_working_days", "must not be negative");
  }
  absl::CivilDay today = Today();
  std::string due_limit;
  if (req.due_within_working_days() > 0) {
    auto limit = calendar_->AddWorkingDays(today, req.due_within_working_days());
    if (!limit.ok()) return limit.status();
    due_limit = FormatDate(*limit);
  }
  std::string status =
      req.status() == v1::APPLICATION_STATUS_UNSPECIFIED ? std::string() : StatusName(req.status());
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto rows = txn.exec_params(kListApplications, req.uscc(), req.permit_type_code(), status,
                                req.received_from(), req.received_to(), req.overdue_only(),
                                FormatDate(today), due_limit, size, *offset);
    for (const auto& row : rows) {
      auto* app = resp->add_applications();
      if (auto s = FromJson(row[0].as<std::string>(), app); !s.ok()) return s;
      app->set_etag(row[1].as<std::string>());
      resp->set_total_size(row[2].as<int>());
    }
    if (*offset + static_cast<int>(rows.size()) < resp->total_size()) {
      resp->set_next_page_token(absl::StrCat(*offset + size));
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// State changes after submission
// ---------------------------------------------------------------------------------------------

absl::Status LicensingLogic::MutateApplication(
    const std::string& application_id, const std::string& etag,
    const std::function<absl::Status(pqxx::work&, LoadedApplication&, const v1::PermitType&)>&
        change,
    v1::Application* out) {
  if (auto s = Required(application_id, "application_id"); !s.ok()) return s;
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto loaded = LoadApplication(txn, application_id, /*for_update=*/true);
    if (!loaded.ok()) return loaded.status();
    if (auto s = CheckEtag(etag, loaded->version); !s.ok()) return s;
    auto type =
        LoadPermitTypeVersion(txn, loaded->app.permit_type_code(), loaded->app.rule_version());
    if (!type.ok()) return type.status();
    if (auto s = change(txn, *loaded, *type); !s.ok()) return s;
    if (auto s = SaveApplication(txn, *loaded, /*insert=*/false); !s.ok()) return s;
    return Respond(txn, application_id, out);
  });
}

absl::Status LicensingLogic::SupplementMaterials(const v1::SupplementMaterialsRequest& req,
                                                 v1::Application* resp) {
  if (req.materials().empty()) return FieldError("materials", "at least one material required");
  std::vector<v1::Material> supplied(req.materials().begin(), req.materials().end());
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work&, LoadedApplication& loaded, const v1::PermitType& type) -> absl::Status {
        v1::Application& app = loaded.app;
        auto status = app.status();
        if (status != v1::APPLICATION_STATUS_CORRECTION_REQUIRED &&
            status != v1::APPLICATION_STATUS_RECEIVED &&
            status != v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY &&
            status != v1::APPLICATION_STATUS_SUSPENDED) {
          return StateError("application", StatusName(status), "supplement materials");
        }
        if (auto s = ValidateSuppliedMaterials(type, supplied, "materials"); !s.ok()) return s;
        absl::CivilDay today = Today();
        for (auto m : supplied) {
          for (const auto& r : type.required_materials()) {
            if (r.code() == m.code()) m.set_name(r.name());
          }
          bool replaced = false;
          for (auto& existing : *app.mutable_materials()) {
            if (existing.code() == m.code()) {
              existing = m;
              replaced = true;
            }
          }
          if (!replaced) *app.add_materials() = m;
          for (auto& d : *app.mutable_deficiencies()) {
            if (d.code() == m.code() && !d.has_supplied_at() && !m.document_ref().empty()) {
              SetTime(d.mutable_supplied_at(), clock_.Now());
              d.set_document_ref(m.document_ref());
            }
          }
        }
        auto missing = CheckMaterials(type, Materials(app), today);
        app.clear_missing_materials();
        for (const auto& m : missing) *app.add_missing_materials() = m;
        if (status == v1::APPLICATION_STATUS_CORRECTION_REQUIRED) {
          if (missing.empty()) {
            auto notice_due =
                CorrectionNoticeDueDate(*calendar_, today, options_.notice_working_days);
            if (!notice_due.ok()) return notice_due.status();
            app.set_complete_materials_date(FormatDate(today));
            app.set_correction_notice_due_date(FormatDate(*notice_due));
            app.clear_correction_notified_date();
            AddTransition(app, v1::APPLICATION_STATUS_RECEIVED, "applicant",
                          "补正: all materials supplied; awaiting acceptance");
          } else {
            app.set_correction_notified_date(FormatDate(today));
          }
        } else if (status == v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY &&
                   !HasOutstandingDeficiency(app)) {
          AddTransition(app, v1::APPLICATION_STATUS_ACCEPTED, "applicant",
                        "容缺 materials supplied");
        }
        return absl::OkStatus();
      },
      resp);
}

absl::Status LicensingLogic::AcceptApplication(const v1::AcceptApplicationRequest& req,
                                               v1::Application* resp) {
  if (auto s = Required(req.accepted_by(), "accepted_by"); !s.ok()) return s;
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work&, LoadedApplication& loaded, const v1::PermitType& type) -> absl::Status {
        v1::Application& app = loaded.app;
        if (app.status() != v1::APPLICATION_STATUS_RECEIVED &&
            app.status() != v1::APPLICATION_STATUS_CORRECTION_REQUIRED) {
          return StateError("application", StatusName(app.status()), "accept");
        }
        absl::CivilDay today = Today();
        auto missing = CheckMaterials(type, Materials(app), today);
        std::set<std::string> deficient(req.deficient_material_codes().begin(),
                                        req.deficient_material_codes().end());
        std::vector<std::string> uncovered;
        for (const auto& m : missing) {
          if (!deficient.count(m.code())) uncovered.push_back(m.code());
        }
        if (!uncovered.empty()) {
          return absl::FailedPreconditionError(absl::StrCat("application is ",
                                                            StatusName(app.status()),
                                                            "; cannot accept: materials still "
                                                            "missing or defective: ",
                                                            absl::StrJoin(uncovered, ", ")));
        }
        for (const auto& code : deficient) {
          const v1::MissingMaterial* found = nullptr;
          for (const auto& m : missing) {
            if (m.code() == code) found = &m;
          }
          if (found == nullptr) {
            return FieldError("deficient_material_codes",
                              absl::StrCat("'", code, "' is not missing"));
          }
          if (found->key()) {
            return FieldError("deficient_material_codes",
                              absl::StrCat("'", code, "' is a key material: no 容缺"));
          }
          if (!type.deficiency_acceptance_allowed()) {
            return FieldError("deficient_material_codes",
                              absl::StrCat("permit type ", type.code(), " does not allow 容缺"));
          }
        }
        if (!deficient.empty()) {
          auto supply_due = calendar_->AddWorkingDays(today, type.deficiency_supply_working_days());
          if (!supply_due.ok()) return supply_due.status();
          for (const auto& m : missing) {
            auto* d = app.add_deficiencies();
            d->set_code(m.code());
            d->set_name(m.name());
            d->set_supply_due_date(FormatDate(*supply_due));
          }
        }
        if (auto s = StartClock(app, type, today); !s.ok()) return s;
        if (app.complete_materials_date().empty())
          app.set_complete_materials_date(FormatDate(today));
        AddTransition(
            app,
            deficient.empty() ? v1::APPLICATION_STATUS_ACCEPTED
                              : v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY,
            req.accepted_by(),
            deficient.empty() ? "accepted (受理)" : "accepted with deficiency (容缺受理)");
        return absl::OkStatus();
      },
      resp);
}

absl::Status LicensingLogic::RejectApplication(const v1::RejectApplicationRequest& req,
                                               v1::Application* resp) {
  if (auto s = Required(req.reason(), "reason", "required: written reasons (Art 32)"); !s.ok()) {
    return s;
  }
  if (auto s = Required(req.rejected_by(), "rejected_by"); !s.ok()) return s;
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work&, LoadedApplication& loaded, const v1::PermitType&) -> absl::Status {
        v1::Application& app = loaded.app;
        if (app.status() != v1::APPLICATION_STATUS_RECEIVED &&
            app.status() != v1::APPLICATION_STATUS_CORRECTION_REQUIRED) {
          return StateError("application", StatusName(app.status()), "reject");
        }
        std::string reason = req.reason();
        if (!req.competent_authority().empty()) {
          absl::StrAppend(&reason, "; apply to: ", req.competent_authority());
        }
        app.set_rejection_reason(reason);
        AddTransition(app, v1::APPLICATION_STATUS_REJECTED, req.rejected_by(), reason);
        return absl::OkStatus();
      },
      resp);
}

absl::Status LicensingLogic::SuspendApplication(const v1::SuspendApplicationRequest& req,
                                                v1::Application* resp) {
  if (req.reason() == v1::SUSPENSION_REASON_UNSPECIFIED) return FieldError("reason", "required");
  if (auto s = Required(req.suspended_by(), "suspended_by"); !s.ok()) return s;
  auto from = DateOrDefault(req.from_date(), Today(), "from_date");
  if (!from.ok()) return from.status();
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work&, LoadedApplication& loaded, const v1::PermitType& type) -> absl::Status {
        v1::Application& app = loaded.app;
        if (app.status() != v1::APPLICATION_STATUS_ACCEPTED &&
            app.status() != v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY) {
          return StateError("application", StatusName(app.status()), "suspend");
        }
        auto accepted = ParseDate(app.accepted_date());
        if (accepted.ok() && *from <= *accepted) {
          return FieldError("from_date", "must be after the acceptance date");
        }
        int max_wd = 0;
        for (const auto& limit : type.suspension_limits()) {
          if (limit.reason() == req.reason()) max_wd = limit.max_working_days();
        }
        if (max_wd <= 0) {
          return absl::FailedPreconditionError(absl::StrCat(
              "permit type ", type.code(), " has no maximum suspension (最长挂起时间) for ",
              v1::SuspensionReason_Name(req.reason()), "; set it with UpsertPermitType"));
        }
        auto max_end = calendar_->AddWorkingDays(*from - 1, max_wd);
        if (!max_end.ok()) return max_end.status();
        auto* s = app.add_suspensions();
        s->set_reason(req.reason());
        s->set_note(req.note());
        s->set_from_date(FormatDate(*from));
        s->set_max_end_date(FormatDate(*max_end));
        s->set_suspended_by(req.suspended_by());
        AddTransition(
            app, v1::APPLICATION_STATUS_SUSPENDED, req.suspended_by(),
            absl::StrCat(v1::SuspensionReason_Name(req.reason()), " from ", FormatDate(*from),
                         " (max ", max_wd, " WD, until ", FormatDate(*max_end), ")",
                         req.note().empty() ? "" : ": ", req.note()));
        return absl::OkStatus();
      },
      resp);
}

absl::Status LicensingLogic::ResumeApplication(const v1::ResumeApplicationRequest& req,
                                               v1::Application* resp) {
  if (auto s = Required(req.resumed_by(), "resumed_by"); !s.ok()) return s;
  auto resumed = DateOrDefault(req.resumed_date(), Today(), "resumed_date");
  if (!resumed.ok()) return resumed.status();
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work&, LoadedApplication& loaded, const v1::PermitType& type) -> absl::Status {
        v1::Application& app = loaded.app;
        if (app.status() != v1::APPLICATION_STATUS_SUSPENDED || app.suspensions().empty()) {
          return StateError("application", StatusName(app.status()), "resume");
        }
        auto* s = app.mutable_suspensions(app.suspensions_size() - 1);
        auto from = ParseDate(s->from_date());
        if (!from.ok()) return from.status();
        if (*resumed < *from) return FieldError("resumed_date", "must not be before from_date");
        s->set_to_date(FormatDate(*resumed - 1));
        if (auto st = RecomputeDueDates(app, type); !st.ok()) return st;
        AddTransition(app,
                      HasOutstandingDeficiency(app)
                          ? v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY
                          : v1::APPLICATION_STATUS_ACCEPTED,
                      req.resumed_by(),
                      absl::StrCat("resumed on ", FormatDate(*resumed), "; due ", app.due_date(),
                                   req.note().empty() ? "" : ": ", req.note()));
        return absl::OkStatus();
      },
      resp);
}

absl::Status LicensingLogic::ExtendApplication(const v1::ExtendApplicationRequest& req,
                                               v1::Application* resp) {
  if (auto s = Required(req.reason(), "reason", "required (Art 42)"); !s.ok()) return s;
  if (auto s = Required(req.approved_by(), "approved_by", "required: head of agency (Art 42)");
      !s.ok()) {
    return s;
  }
  if (req.working_days() < 0) return FieldError("working_days", "must not be negative");
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work&, LoadedApplication& loaded, const v1::PermitType& type) -> absl::Status {
        v1::Application& app = loaded.app;
        auto status = app.status();
        if (status != v1::APPLICATION_STATUS_ACCEPTED &&
            status != v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY &&
            status != v1::APPLICATION_STATUS_SUSPENDED) {
          return StateError("application", StatusName(status), "extend");
        }
        if (app.has_extension()) {
          return absl::FailedPreconditionError(
              absl::StrCat("application is ", StatusName(status),
                           " and was already extended once; cannot extend again (Art 42)"));
        }
        int wd = req.working_days() == 0 ? type.extension_working_days() : req.working_days();
        if (wd > type.extension_working_days() || wd <= 0) {
          return FieldError(
              "working_days",
              absl::StrCat("must be between 1 and ", type.extension_working_days(), " (Art 42)"));
        }
        auto* e = app.mutable_extension();
        e->set_working_days(wd);
        e->set_reason(req.reason());
        e->set_approved_by(req.approved_by());
        SetTime(e->mutable_extended_at(), clock_.Now());
        if (auto s = RecomputeDueDates(app, type); !s.ok()) return s;
        // Not a status change, but recorded in the history like one.
        auto* t = app.add_transitions();
        t->set_from_status(status);
        t->set_to_status(status);
        t->set_actor(req.approved_by());
        t->set_reason(
            absl::StrCat("extended by ", wd, " WD to ", app.due_date(), ": ", req.reason()));
        SetTime(t->mutable_at(), clock_.Now());
        return absl::OkStatus();
      },
      resp);
}

absl::Status LicensingLogic::DecideApplication(const v1::DecideApplicationRequest& req,
                                               v1::Application* resp) {
  if (auto s = Required(req.decided_by(), "decided_by"); !s.ok()) return s;
  if (!req.approve()) {
    if (auto s =
            Required(req.reason(), "reason", "required for a denial: written reasons (Art 38)");
        !s.ok()) {
      return s;
    }
  }
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work& txn, LoadedApplication& loaded, const v1::PermitType& type) -> absl::Status {
        v1::Application& app = loaded.app;
        if (app.status() == v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY) {
          return absl::FailedPreconditionError(
              "application is ACCEPTED_WITH_DEFICIENCY; cannot decide while 容缺 materials are "
              "outstanding");
        }
        if (app.status() != v1::APPLICATION_STATUS_ACCEPTED) {
          return StateError("application", StatusName(app.status()), "decide");
        }
        if (req.approve()) {
          return Approve(txn, app, type, req.decided_by(),
                         req.reason().empty() ? "approved after review" : req.reason(),
                         req.decision_no(), req.scope(), /*automatic=*/false,
                         events::v1::LICENSING_OUTCOME_APPROVED);
        }
        auto* d = app.mutable_decision();
        d->set_approve(false);
        d->set_reason(req.reason());
        d->set_decided_by(req.decided_by());
        SetTime(d->mutable_decided_at(), clock_.Now());
        d->set_remedy_notice(options_.remedy_notice);
        if (req.decision_no().empty()) {
          int year = static_cast<int>(Today().year());
          auto n = NextNumber(txn, "decision", year);
          if (!n.ok()) return n.status();
          d->set_decision_no(absl::StrCat(options_.decision_no_prefix, "〔", year, "〕", *n, "号"));
        } else {
          d->set_decision_no(req.decision_no());
        }
        AddTransition(app, v1::APPLICATION_STATUS_DENIED, req.decided_by(), req.reason());
        return EnqueueDecision(txn, app, events::v1::LICENSING_OUTCOME_DENIED);
      },
      resp);
}

absl::Status LicensingLogic::WithdrawApplication(const v1::WithdrawApplicationRequest& req,
                                                 v1::Application* resp) {
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work&, LoadedApplication& loaded, const v1::PermitType&) -> absl::Status {
        v1::Application& app = loaded.app;
        if (IsTerminal(app.status())) {
          return StateError("application", StatusName(app.status()), "withdraw");
        }
        app.set_rejection_reason(req.reason());
        AddTransition(app, v1::APPLICATION_STATUS_WITHDRAWN, "applicant",
                      req.reason().empty() ? "withdrawn by the applicant" : req.reason());
        return absl::OkStatus();
      },
      resp);
}

absl::Status LicensingLogic::RecordCommitmentCheck(const v1::RecordCommitmentCheckRequest& req,
                                                   v1::Application* resp) {
  if (auto s = Required(req.checked_by(), "checked_by"); !s.ok()) return s;
  if (req.false_commitment()) {
    if (auto s = Required(req.findings(), "findings", "required for a false commitment"); !s.ok()) {
      return s;
    }
  }
  return MutateApplication(
      req.application_id(), req.etag(),
      [&](pqxx::work& txn, LoadedApplication& loaded, const v1::PermitType& type) -> absl::Status {
        v1::Application& app = loaded.app;
        if (app.status() != v1::APPLICATION_STATUS_APPROVED || !app.has_commitment_check() ||
            app.commitment_check().status() != v1::COMMITMENT_CHECK_STATUS_PENDING) {
          return absl::FailedPreconditionError(
              absl::StrCat("application is ", StatusName(app.status()),
                           app.has_commitment_check()
                               ? absl::StrCat(" with commitment check ",
                                              CheckStatusName(app.commitment_check().status()))
                               : " without a pending commitment check",
                           "; cannot record a commitment check"));
        }
        auto* check = app.mutable_commitment_check();
        check->set_status(req.false_commitment() ? v1::COMMITMENT_CHECK_STATUS_FALSE_COMMITMENT
                                                 : v1::COMMITMENT_CHECK_STATUS_PASSED);
        check->set_findings(req.findings());
        for (const auto& ref : req.evidence_refs()) check->add_evidence_refs(ref);
        check->set_checked_by(req.checked_by());
        SetTime(check->mutable_checked_at(), clock_.Now());
        if (!req.false_commitment()) return absl::OkStatus();

        std::string certificate_no = app.certificate().certificate_no();
        auto cert = LoadCertificate(txn, certificate_no, true);
        if (!cert.ok()) return cert.status();
        if (cert->cert.status() != v1::CERTIFICATE_STATUS_REVOKED &&
            cert->cert.status() != v1::CERTIFICATE_STATUS_CANCELLED) {
          CertificateChange change{.to = v1::CERTIFICATE_STATUS_REVOKED,
                                   .reason = absl::StrCat("撤销: false commitment found in the "
                                                          "post-approval check: ",
                                                          req.findings()),
                                   .decision_no = req.revocation_decision_no(),
                                   .actor = req.checked_by()};
          if (auto s = ChangeCertificateStatus(txn, *cert, change); !s.ok()) return s;
        }
        events::v1::FalseCommitmentFound e;
        e.set_application_id(app.application_id());
        e.set_certificate_no(certificate_no);
        e.set_permit_type_code(type.code());
        e.set_permit_type_name(type.name());
        e.set_uscc(app.applicant().uscc());
        e.set_subject_name(app.applicant().name());
        e.set_finding(req.findings());
        for (const auto& ref : req.evidence_refs()) e.add_evidence_refs(ref);
        e.set_found_date(FormatDate(Today()));
        e.set_revocation_decision_no(req.revocation_decision_no());
        e.set_basis("国办发〔2020〕42号 告知承诺制: 虚假承诺");
        return EnqueueToAll(txn, {"credit"}, "application", app.application_id(),
                            "licensing.false_commitment_found", e, clock_.Now());
      },
      resp);
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

absl::Status LicensingLogic::GetCertificate(const v1::GetCertificateRequest& req,
                                            v1::Certificate* resp) {
  if (auto s = Required(req.certificate_no(), "certificate_no"); !s.ok()) return s;
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto loaded = LoadCertificate(txn, req.certificate_no(), false);
    if (!loaded.ok()) return loaded.status();
    *resp = loaded->cert;
    resp->set_etag(absl::StrCat(loaded->version));
    return absl::OkStatus();
  });
}

absl::Status LicensingLogic::VerifyCertificate(const v1::VerifyCertificateRequest& req,
                                               v1::VerifyCertificateResponse* resp) {
  if (auto s = Required(req.certificate_no(), "certificate_no"); !s.ok()) return s;
  if (auto s = Required(req.verification_code(), "verification_code"); !s.ok()) return s;
  if (signer_ == nullptr && (earlier_keys_ == nullptr || earlier_keys_->size() == 0)) {
    return absl::FailedPreconditionError(
        "licensing.signing_key_file is not configured: certificates cannot be verified");
  }
  SetTime(resp->mutable_checked_at(), clock_.Now());
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto loaded = LoadCertificate(txn, req.certificate_no(), false);
    if (!loaded.ok()) {
      if (absl::IsNotFound(loaded.status())) return absl::OkStatus();  // genuine = false
      return loaded.status();
    }
    const v1::Certificate& c = loaded->cert;
    if (!ConstantTimeEquals(c.verification_code(), req.verification_code())) {
      return absl::OkStatus();
    }
    if (!SignatureVerifies(c)) {
      common::LogWarn("certificate signature does not verify",
                      {{"certificate_no", c.certificate_no()}, {"key_id", c.key_id()}});
      return absl::OkStatus();
    }
    resp->set_genuine(true);
    resp->set_status(LiveCertificateStatus(c, Today()));
    resp->set_certificate_no(c.certificate_no());
    resp->set_certificate_name(c.certificate_name());
    resp->set_permit_type_name(c.permit_type_name());
    resp->set_holder_name(c.holder().name());
    resp->set_holder_uscc(c.holder().uscc());
    resp->set_scope(c.scope());
    resp->set_valid_from(c.valid_from());
    resp->set_valid_until(c.valid_until());
    resp->set_issuing_authority(c.issuing_authority());
    return absl::OkStatus();
  });
}

absl::Status LicensingLogic::ListExpiringCertificates(
    const v1::ListExpiringCertificatesRequest& req, v1::ListExpiringCertificatesResponse* resp) {
  if (req.within_days() < 0) return FieldError("within_days", "must not be negative");
  int within = req.within_days() == 0 ? options_.expiry_reminder_days : req.within_days();
  auto offset = PageOffset(req.page_token());
  if (!offset.ok()) return offset.status();
  int size = PageSize(req.page_size());
  absl::CivilDay today = Today();
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto rows = txn.exec_params(kListExpiring, FormatDate(today), FormatDate(today + within),
                                req.permit_type_code(), size + 1, *offset);
    for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
      auto* c = resp->add_certificates();
      if (auto s = FromJson(rows[i][0].as<std::string>(), c); !s.ok()) return s;
      c->set_etag(rows[i][1].as<std::string>());
    }
    if (static_cast<int>(rows.size()) > size)
      resp->set_next_page_token(absl::StrCat(*offset + size));
    return absl::OkStatus();
  });
}

absl::Status LicensingLogic::RenewCertificate(const v1::RenewCertificateRequest& req,
                                              v1::Application* resp) {
  if (auto s = Required(req.certificate_no(), "certificate_no"); !s.ok()) return s;
  // Check the certificate and the Art 50 window, then submit as a renewal application.
  auto holder = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Certificate> {
    auto loaded = LoadCertificate(txn, req.certificate_no(), false);
    if (!loaded.ok()) return loaded.status();
    const v1::Certificate& c = loaded->cert;
    if (c.status() != v1::CERTIFICATE_STATUS_VALID) {
      return StateError("certificate", CertificateStatusName(c.status()), "renew");
    }
    auto until = ParseDate(c.valid_until());
    if (!until.ok()) return until.status();
    if (!RenewalWindowOpen(Today(), *until, options_.renewal_min_days_before_expiry)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "certificate is VALID until ", c.valid_until(), "; renewal must be applied for at least ",
          options_.renewal_min_days_before_expiry, " days before expiry (Art 50)"));
    }
    auto pending = txn.exec_params(kPendingRenewal, c.certificate_no());
    if (!pending.empty()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "renewal application ", pending[0][0].as<std::string>(), " is already pending"));
    }
    return c;
  });
  if (!holder.ok()) return holder.status();
  v1::SubmitApplicationRequest submit;
  submit.set_permit_type_code(holder->permit_type_code());
  *submit.mutable_applicant() = holder->holder();
  if (req.has_applicant()) {
    if (!req.applicant().uscc().empty()) {
      auto uscc = common::Uscc::Parse(req.applicant().uscc());
      if (!uscc.ok()) return uscc.status();
      if (uscc->str() != holder->holder().uscc()) {
        return FieldError("applicant.uscc", "must match the certificate holder");
      }
    }
    v1::Party merged = holder->holder();
    merged.MergeFrom(req.applicant());
    merged.set_uscc(holder->holder().uscc());
    *submit.mutable_applicant() = merged;
  }
  *submit.mutable_materials() = req.materials();
  submit.set_commitment_signed(req.commitment_signed());
  submit.set_idempotency_key(req.idempotency_key());
  submit.set_received_by("applicant:renewal");
  return SubmitInternal(submit, req.certificate_no(), resp);
}

absl::Status LicensingLogic::MutateCertificate(
    const std::string& certificate_no, const std::string& etag,
    const std::function<absl::Status(pqxx::work&, LoadedCertificate&)>& change,
    v1::Certificate* out) {
  if (auto s = Required(certificate_no, "certificate_no"); !s.ok()) return s;
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto loaded = LoadCertificate(txn, certificate_no, true);
    if (!loaded.ok()) return loaded.status();
    if (auto s = CheckEtag(etag, loaded->version); !s.ok()) return s;
    if (auto s = change(txn, *loaded); !s.ok()) return s;
    *out = loaded->cert;
    out->set_etag(absl::StrCat(loaded->version));
    return absl::OkStatus();
  });
}

absl::Status LicensingLogic::SuspendCertificate(const v1::SuspendCertificateRequest& req,
                                                v1::Certificate* resp) {
  if (auto s = Required(req.reason(), "reason"); !s.ok()) return s;
  if (auto s = Required(req.ordered_by(), "ordered_by"); !s.ok()) return s;
  auto until = ParseDate(req.suspended_until());
  if (!until.ok()) return FieldError("suspended_until", "required date YYYY-MM-DD");
  if (*until < Today()) return FieldError("suspended_until", "must not be in the past");
  return MutateCertificate(
      req.certificate_no(), req.etag(),
      [&](pqxx::work& txn, LoadedCertificate& loaded) -> absl::Status {
        if (loaded.cert.status() != v1::CERTIFICATE_STATUS_VALID) {
          return StateError("certificate", CertificateStatusName(loaded.cert.status()), "suspend");
        }
        return ChangeCertificateStatus(txn, loaded,
                                       {.to = v1::CERTIFICATE_STATUS_SUSPENDED,
                                        .reason = req.reason(),
                                        .decision_no = req.decision_no(),
                                        .source_case_id = req.source_case_id(),
                                        .actor = req.ordered_by(),
                                        .suspended_until = req.suspended_until()});
      },
      resp);
}

absl::Status LicensingLogic::ReinstateCertificate(const v1::ReinstateCertificateRequest& req,
                                                  v1::Certificate* resp) {
  if (auto s = Required(req.ordered_by(), "ordered_by"); !s.ok()) return s;
  return MutateCertificate(
      req.certificate_no(), req.etag(),
      [&](pqxx::work& txn, LoadedCertificate& loaded) -> absl::Status {
        if (loaded.cert.status() != v1::CERTIFICATE_STATUS_SUSPENDED) {
          return StateError("certificate", CertificateStatusName(loaded.cert.status()),
                            "reinstate");
        }
        return ChangeCertificateStatus(
            txn, loaded,
            {.to = v1::CERTIFICATE_STATUS_VALID,
             .reason = req.reason().empty() ? "suspension ended" : req.reason(),
             .actor = req.ordered_by()});
      },
      resp);
}

absl::Status LicensingLogic::RevokeCertificate(const v1::RevokeCertificateRequest& req,
                                               v1::Certificate* resp) {
  if (auto s = Required(req.reason(), "reason"); !s.ok()) return s;
  if (auto s = Required(req.ordered_by(), "ordered_by"); !s.ok()) return s;
  return MutateCertificate(
      req.certificate_no(), req.etag(),
      [&](pqxx::work& txn, LoadedCertificate& loaded) -> absl::Status {
        auto status = loaded.cert.status();
        if (status != v1::CERTIFICATE_STATUS_VALID && status != v1::CERTIFICATE_STATUS_SUSPENDED) {
          return StateError("certificate", CertificateStatusName(status), "revoke");
        }
        return ChangeCertificateStatus(txn, loaded,
                                       {.to = v1::CERTIFICATE_STATUS_REVOKED,
                                        .reason = req.reason(),
                                        .decision_no = req.decision_no(),
                                        .source_case_id = req.source_case_id(),
                                        .actor = req.ordered_by()});
      },
      resp);
}

absl::Status LicensingLogic::CancelCertificate(const v1::CancelCertificateRequest& req,
                                               v1::Certificate* resp) {
  if (auto s = Required(req.reason(), "reason"); !s.ok()) return s;
  if (auto s = Required(req.ordered_by(), "ordered_by"); !s.ok()) return s;
  return MutateCertificate(
      req.certificate_no(), req.etag(),
      [&](pqxx::work& txn, LoadedCertificate& loaded) -> absl::Status {
        if (loaded.cert.status() == v1::CERTIFICATE_STATUS_CANCELLED) {
          return StateError("certificate", "CANCELLED", "cancel");
        }
        return ChangeCertificateStatus(txn, loaded,
                                       {.to = v1::CERTIFICATE_STATUS_CANCELLED,
                                        .reason = req.reason(),
                                        .actor = req.ordered_by()});
      },
      resp);
}

absl::Status LicensingLogic::ChangeCertificate(const v1::ChangeCertificateRequest& req,
                                               v1::Certificate* resp) {
  if (auto s = ValidateChangeRequest(req); !s.ok()) return s;
  return MutateCertificate(
      req.certificate_no(), req.etag(),
      [&](pqxx::work& txn, LoadedCertificate& loaded) -> absl::Status {
        v1::Certificate& c = loaded.cert;
        v1::CertificateStatus status = LiveCertificateStatus(c, Today());
        if (status != v1::CERTIFICATE_STATUS_VALID) {
          return StateError("certificate", CertificateStatusName(status), "change");
        }
        auto fields = CertificateAmendments(c, req);
        if (!fields.ok()) return fields.status();
        if (signer_ == nullptr) {
          return absl::FailedPreconditionError(
              "licensing.signing_key_file is not configured: a changed certificate cannot be "
              "signed");
        }
        auto* amendment = c.add_amendments();
        for (auto& field : *fields) {
          ApplyAmendedField(field, c.mutable_holder());
          *amendment->add_fields() = std::move(field);
        }
        c.set_revision(c.revision() + 1);
        amendment->set_revision(c.revision());
        amendment->set_reason(req.reason());
        amendment->set_decision_no(req.decision_no());
        amendment->set_changed_by(req.changed_by());
        SetTime(amendment->mutable_changed_at(), clock_.Now());
        *amendment->mutable_document_refs() = req.document_refs();
        // Same number, code and validity; signed again (canonical v2) with the current key.
        if (auto s = signer_->SignCertificate(c); !s.ok()) return s;
        if (auto s = SaveCertificate(txn, loaded, false); !s.ok()) return s;
        return EnqueueCertificateStatus(txn, c, c.status(),
                                        {.to = c.status(),
                                         .reason = req.reason(),
                                         .decision_no = req.decision_no(),
                                         .actor = req.changed_by()},
                                        "licensing.certificate_changed");
      },
      resp);
}

// ---------------------------------------------------------------------------------------------
// Deadline job (RunDeadlines): idempotent, safe with several replicas
// ---------------------------------------------------------------------------------------------

absl::Status LicensingLogic::RunDeadlines(const v1::RunDeadlinesRequest& req,
                                          v1::RunDeadlinesResponse* resp) {
  auto as_of = DateOrDefault(req.as_of_date(), Today(), "as_of_date");
  if (!as_of.ok()) return as_of.status();
  if (auto s = DeemAccepted(*as_of, resp); !s.ok()) return s;
  if (auto s = DeemRenewed(*as_of, resp); !s.ok()) return s;
  if (auto s = ExpireAndReinstate(*as_of, resp); !s.ok()) return s;
  if (auto s = EmitReminders(*as_of, resp); !s.ok()) return s;
  if (auto s = MarkRemindersSent(); !s.ok()) return s;
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    for (const auto& row : txn.exec_params(kOverdue, FormatDate(*as_of))) {
      resp->add_overdue_application_ids(row[0].as<std::string>());
    }
    return absl::OkStatus();
  });
}

absl::Status LicensingLogic::DeemAccepted(absl::CivilDay as_of, v1::RunDeadlinesResponse* resp) {
  auto ids = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> out;
    for (const auto& row : txn.exec(kReceivedDueForDeemedAcceptance)) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
  if (!ids.ok()) return ids.status();
  for (const auto& id : *ids) {
    auto done = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<bool> {
      auto loaded = LoadApplication(txn, id, true);
      if (!loaded.ok()) return loaded.status();
      v1::Application& app = loaded->app;
      if (app.status() != v1::APPLICATION_STATUS_RECEIVED) return false;
      auto notice_due = ParseDate(app.correction_notice_due_date());
      if (!notice_due.ok()) return notice_due.status();
      if (!DeemedAcceptedOnReceipt(*notice_due, !app.correction_notified_date().empty(), as_of)) {
        return false;
      }
      auto type = LoadPermitTypeVersion(txn, app.permit_type_code(), app.rule_version());
      if (!type.ok()) return type.status();
      std::string received = app.complete_materials_date().empty()
                                 ? FormatDate(DayOf(app.received_at()))
                                 : app.complete_materials_date();
      auto received_day = ParseDate(received);
      if (!received_day.ok()) return received_day.status();
      app.set_deemed_accepted(true);
      if (auto s = StartClock(app, *type, *received_day); !s.ok()) return s;
      AddTransition(app, v1::APPLICATION_STATUS_ACCEPTED, "system:deadline-job",
                    absl::StrCat("no notice within ", options_.notice_working_days,
                                 " WD: accepted as of receipt on ", received, " (Art 32)"));
      if (auto s = SaveApplication(txn, *loaded, false); !s.ok()) return s;
      return true;
    });
    if (!done.ok()) return done.status();
    if (*done) resp->add_deemed_accepted_application_ids(id);
  }
  return absl::OkStatus();
}

absl::Status LicensingLogic::DeemRenewed(absl::CivilDay as_of, v1::RunDeadlinesResponse* resp) {
  auto ids = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> out;
    for (const auto& row : txn.exec_params(kUndecidedRenewalsPastExpiry, FormatDate(as_of))) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
  if (!ids.ok()) return ids.status();
  for (const auto& id : *ids) {
    auto cert_no = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::string> {
      auto loaded = LoadApplication(txn, id, true);
      if (!loaded.ok()) return loaded.status();
      v1::Application& app = loaded->app;
      if (IsTerminal(app.status()) || app.status() == v1::APPLICATION_STATUS_CORRECTION_REQUIRED) {
        return std::string();
      }
      auto type = LoadPermitTypeVersion(txn, app.permit_type_code(), app.rule_version());
      if (!type.ok()) return type.status();
      if (app.accepted_date().empty()) {
        if (auto s = StartClock(app, *type, DayOf(app.received_at())); !s.ok()) return s;
      }
      if (app.status() != v1::APPLICATION_STATUS_ACCEPTED) {
        AddTransition(app, v1::APPLICATION_STATUS_ACCEPTED, "system:deadline-job",
                      "renewal undecided at expiry");
      }
      if (auto s = Approve(txn, app, *type, "system:deadline-job",
                           "视为准予延续: not decided by the expiry date (Art 50)", "", "",
                           /*automatic=*/true, events::v1::LICENSING_OUTCOME_DEEMED_RENEWED);
          !s.ok()) {
        return s;
      }
      if (auto s = SaveApplication(txn, *loaded, false); !s.ok()) return s;
      return app.renewal_of_certificate_no();
    });
    if (!cert_no.ok()) return cert_no.status();
    if (!cert_no->empty()) resp->add_deemed_renewed_certificate_nos(*cert_no);
  }
  return absl::OkStatus();
}

absl::Status LicensingLogic::ExpireAndReinstate(absl::CivilDay as_of,
                                                v1::RunDeadlinesResponse* resp) {
  auto lists = pg_.Transact(
      [&](pqxx::work& txn)
          -> absl::StatusOr<std::pair<std::vector<std::string>, std::vector<std::string>>> {
        std::pair<std::vector<std::string>, std::vector<std::string>> out;
        for (const auto& row : txn.exec_params(kCertificatesToExpire, FormatDate(as_of))) {
          out.first.push_back(row[0].as<std::string>());
        }
        for (const auto& row : txn.exec_params(kSuspensionsEnded, FormatDate(as_of))) {
          out.second.push_back(row[0].as<std::string>());
        }
        return out;
      });
  if (!lists.ok()) return lists.status();
  for (const auto& no : lists->first) {
    auto done = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<bool> {
      auto loaded = LoadCertificate(txn, no, true);
      if (!loaded.ok()) return loaded.status();
      auto status = loaded->cert.status();
      auto until = ParseDate(loaded->cert.valid_until());
      if ((status != v1::CERTIFICATE_STATUS_VALID && status != v1::CERTIFICATE_STATUS_SUSPENDED) ||
          !until.ok() || *until >= as_of) {
        return false;
      }
      if (auto s = ChangeCertificateStatus(
              txn, *loaded,
              {.to = v1::CERTIFICATE_STATUS_EXPIRED,
               .reason = absl::StrCat("validity ended on ", loaded->cert.valid_until()),
               .actor = "system:deadline-job"});
          !s.ok()) {
        return s;
      }
      return true;
    });
    if (!done.ok()) return done.status();
    if (*done) resp->add_expired_certificate_nos(no);
  }
  for (const auto& no : lists->second) {
    auto done = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<bool> {
      auto loaded = LoadCertificate(txn, no, true);
      if (!loaded.ok()) return loaded.status();
      auto until = ParseDate(loaded->cert.suspended_until());
      if (loaded->cert.status() != v1::CERTIFICATE_STATUS_SUSPENDED || !until.ok() ||
          *until >= as_of) {
        return false;
      }
      if (auto s = ChangeCertificateStatus(
              txn, *loaded,
              {.to = v1::CERTIFICATE_STATUS_VALID,
               .reason = absl::StrCat("suspension ended on ", loaded->cert.suspended_until()),
               .actor = "system:deadline-job"});
          !s.ok()) {
        return s;
      }
      return true;
    });
    if (!done.ok()) return done.status();
  }
  return absl::OkStatus();
}

// The reminder row (unique per certificate and kind) and its outbox event are written in one
// transaction: a second run, or a replica running concurrently, inserts no row and so sends
// nothing.
absl::Status LicensingLogic::EmitReminders(absl::CivilDay as_of, v1::RunDeadlinesResponse* resp) {
  std::string kind = absl::StrCat("EXPIRY_", options_.expiry_reminder_days, "D");
  std::vector<std::string> emitted;
  auto done = pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    emitted.clear();
    auto rows = txn.exec_params(kEmitReminders, FormatDate(as_of),
                                FormatDate(as_of + options_.expiry_reminder_days), kind);
    for (const auto& row : rows) {
      v1::Certificate c;
      if (auto s = FromJson(row[0].as<std::string>(), &c); !s.ok()) return s;
      auto until = ParseDate(c.valid_until());
      if (!until.ok()) return until.status();
      events::v1::CertificateExpiryReminder e;
      SetCertificateIdentity(c, &e);
      e.set_valid_until(c.valid_until());
      e.set_remind_date(FormatDate(as_of));
      e.set_reminder_kind(kind);
      e.set_renew_by_date(FormatDate(*until - options_.renewal_min_days_before_expiry));
      e.set_authority(c.issuing_authority());
      std::string event_id = common::NewUuid();
      if (auto s = EnqueueToAll(txn, {"exchange"}, "certificate", c.certificate_no(),
                                "licensing.certificate_expiry_reminder", e, clock_.Now(), event_id);
          !s.ok()) {
        return s;
      }
      txn.exec_params(kSetReminderEvent, c.certificate_no(), kind, event_id);
      emitted.push_back(c.certificate_no());
    }
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  for (const auto& no : emitted) {
    resp->add_expiry_reminder_certificate_nos(no);
    common::LogInfo("expiry reminder emitted", {{"certificate_no", no}, {"kind", kind}});
  }
  return absl::OkStatus();
}

// sent_at = when exchange acknowledged the reminder's outbox event (handed to the platform).
absl::Status LicensingLogic::MarkRemindersSent() {
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec(kMarkRemindersSent);
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

absl::Status LicensingLogic::GetStats(const v1::GetStatsRequest& req, v1::LicensingStats* resp) {
  absl::CivilDay today = Today();
  auto from = DateOrDefault(req.from_date(), absl::CivilDay(today.year(), 1, 1), "from_date");
  if (!from.ok()) return from.status();
  auto to = DateOrDefault(req.to_date(), absl::CivilDay(today.year(), 12, 31), "to_date");
  if (!to.ok()) return to.status();
  if (*to < *from) return FieldError("to_date", "must not be before from_date");
  resp->set_from_date(FormatDate(*from));
  resp->set_to_date(FormatDate(*to));
  SetTime(resp->mutable_as_of(), clock_.Now());
  struct Acc {
    v1::PermitTypeStats stats;
    int64_t wd_sum = 0;
    int64_t wd_count = 0;
    int64_t on_time = 0;
    int64_t promised_on_time = 0;
  };
  std::map<std::string, Acc> by_type;
  Acc total;
  auto finish = [](Acc& a) {
    auto& s = a.stats;
    s.set_decided(s.approved() + s.denied());
    s.set_certificates_issued(s.approved());
    if (a.wd_count > 0) s.set_average_working_days(static_cast<double>(a.wd_sum) / a.wd_count);
    if (s.decided() > 0) {
      s.set_on_time_rate(static_cast<double>(a.on_time) / s.decided());
      s.set_promised_on_time_rate(static_cast<double>(a.promised_on_time) / s.decided());
    }
    if (s.approved() > 0) {
      s.set_instant_share(static_cast<double>(s.instant_approvals()) / s.approved());
    }
    s.set_decided_after_due_date(s.decided() - a.on_time);
  };
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto rows =
        txn.exec_params(kStatsRows, FormatDate(*from), FormatDate(*to), req.permit_type_code());
    for (const auto& row : rows) {
      std::string code = row[0].as<std::string>();
      std::string status = row[1].as<std::string>();
      bool instant = row[2].as<bool>();
      bool accepted = row[3].as<bool>();
      std::string decided = row[4].as<std::string>();
      std::string due = row[5].as<std::string>();
      std::string promised_due = row[6].as<std::string>();
      int wd = row[7].as<int>();
      for (Acc* acc : {&by_type[code], &total}) {
        auto& s = acc->stats;
        s.set_received(s.received() + 1);
        if (accepted) s.set_accepted(s.accepted() + 1);
        if (status == "APPROVED") s.set_approved(s.approved() + 1);
        if (status == "DENIED") s.set_denied(s.denied() + 1);
        if (status == "REJECTED") s.set_rejected(s.rejected() + 1);
        if (status == "WITHDRAWN") s.set_withdrawn(s.withdrawn() + 1);
        if (instant && status == "APPROVED") s.set_instant_approvals(s.instant_approvals() + 1);
        if (!decided.empty() && (status == "APPROVED" || status == "DENIED")) {
          if (wd >= 0) {
            acc->wd_sum += wd;
            acc->wd_count += 1;
            s.set_max_working_days(std::max(s.max_working_days(), wd));
          }
          if (!due.empty() && decided <= due) acc->on_time += 1;
          if (!promised_due.empty() && decided <= promised_due) acc->promised_on_time += 1;
        }
      }
    }
    for (auto& [code, acc] : by_type) {
      acc.stats.set_permit_type_code(code);
      auto type = LoadPermitType(txn, code, today);
      if (type.ok()) {
        acc.stats.set_permit_type_name(type->name());
        acc.stats.set_statutory_working_days(type->statutory_working_days());
        acc.stats.set_promised_working_days(type->promised_working_days());
        if (type->statutory_working_days() > 0) {
          acc.stats.set_compression_ratio(1.0 - static_cast<double>(type->promised_working_days()) /
                                                    type->statutory_working_days());
        }
      }
      finish(acc);
      *resp->add_by_permit_type() = acc.stats;
    }
    finish(total);
    *resp->mutable_total() = total.stats;
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// Events in
// ---------------------------------------------------------------------------------------------

absl::Status LicensingLogic::DeliverEvent(const events::v1::EventEnvelope& envelope,
                                          events::v1::EventAck* ack) {
  std::vector<std::string> invalidate;
  auto result = common::ApplyDeliveredEvent(
      pg_, envelope, [&](pqxx::work& txn, const events::v1::EventEnvelope& env) {
        return ApplyEvent(txn, env, invalidate);
      });
  InvalidateCredit(invalidate);
  if (!result.ok()) return result.status();
  *ack = *result;
  return absl::OkStatus();
}

absl::Status LicensingLogic::DeliverEvents(const events::v1::EventBatch& batch,
                                           events::v1::EventBatchAck* ack) {
  std::vector<std::string> invalidate;
  *ack = common::ApplyDeliveredEvents(
      pg_, batch, [&](pqxx::work& txn, const events::v1::EventEnvelope& env) {
        return ApplyEvent(txn, env, invalidate);
      });
  InvalidateCredit(invalidate);
  return absl::OkStatus();
}

// Dropping a cached credit answer is harmless when the change did not commit, so every uscc a
// listing event named is dropped, whatever became of its transaction.
void LicensingLogic::InvalidateCredit(const std::vector<std::string>& usccs) {
  if (credit_ == nullptr) return;
  for (const auto& uscc : usccs) {
    if (!uscc.empty()) credit_->Invalidate(uscc);
  }
}

absl::Status LicensingLogic::ApplyEvent(pqxx::work& txn, const events::v1::EventEnvelope& env,
                                        std::vector<std::string>& invalidate) {
  if (env.payload_type() == "regsuite.events.v1.ListingChanged") {
    events::v1::ListingChanged e;
    if (auto s = common::UnpackPayload(env, &e); !s.ok()) return s;
    invalidate.push_back(e.uscc());
    return absl::OkStatus();
  }
  if (env.payload_type() != "regsuite.events.v1.LicenceSanctionOrdered") {
    return absl::OkStatus();  // not for licensing: acknowledged, nothing to do
  }
  events::v1::LicenceSanctionOrdered e;
  if (auto s = common::UnpackPayload(env, &e); !s.ok()) return s;
  auto loaded = LoadCertificate(txn, e.certificate_no(), true);
  if (!loaded.ok()) {
    if (!absl::IsNotFound(loaded.status())) return loaded.status();
    common::LogWarn("sanction for an unknown certificate ignored",
                    {{"certificate_no", e.certificate_no()}, {"case_id", e.case_id()}});
    return absl::OkStatus();
  }
  if (!e.uscc().empty() && e.uscc() != loaded->cert.holder().uscc()) {
    common::LogWarn("sanction names another holder; ignored",
                    {{"certificate_no", e.certificate_no()}, {"case_id", e.case_id()}});
    return absl::OkStatus();
  }
  auto status = loaded->cert.status();
  CertificateChange change{.reason = e.reason(),
                           .decision_no = e.decision_no(),
                           .source_case_id = e.case_id(),
                           .actor = absl::StrCat("inspection:", e.authority())};
  if (e.sanction() == events::v1::LICENCE_SANCTION_SUSPEND) {
    if (status != v1::CERTIFICATE_STATUS_VALID) return absl::OkStatus();
    change.to = v1::CERTIFICATE_STATUS_SUSPENDED;
    change.suspended_until = e.suspended_until();
  } else if (e.sanction() == events::v1::LICENCE_SANCTION_REVOKE) {
    if (status != v1::CERTIFICATE_STATUS_VALID &&
        status != v1::CERTIFICATE_STATUS_SUSPENDED) {
      return absl::OkStatus();
    }
    change.to = v1::CERTIFICATE_STATUS_REVOKED;
  } else {
    return FieldError("payload.sanction", "must be SUSPEND or REVOKE");
  }
  return ChangeCertificateStatus(txn, *loaded, change);
}

}  // namespace regsuite::licensing
