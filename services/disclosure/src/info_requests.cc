#include "info_requests.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto_json.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/proto_time.h"
#include "regsuite/common/status.h"

namespace regsuite::disclosure {
namespace {

using common::FieldError;
using common::FormatDate;
using common::ParseDate;
using v1::InfoRequest;

constexpr char kSelectByIdempotencyKey[] =
    "SELECT body::text, version FROM info_requests WHERE idempotency_key = $1";
constexpr char kLockApplicant[] = "SELECT pg_advisory_xact_lock(hashtext('disclosure.fee:' || $1))";
constexpr char kCountApplicantMonth[] =
    "SELECT count(*) FROM info_requests WHERE applicant_key = $1 "
    "AND received_date >= $2::date AND received_date < $3::date";
constexpr char kInsertRequest[] =
    "INSERT INTO info_requests (request_id, idempotency_key, applicant_key, applicant_type, "
    "status, "
    "received_date, due_date, fee_fen, body) VALUES ($1, NULLIF($2,''), $3, $4, $5, $6::date, "
    "NULLIF($7,'')::date, $8, $9::jsonb) RETURNING version";
constexpr char kSelectRequest[] =
    "SELECT body::text, version FROM info_requests WHERE request_id = $1";
constexpr char kSelectRequestForUpdate[] =
    "SELECT body::text, version FROM info_requests WHERE request_id = $1 FOR UPDATE";
constexpr char kUpdateRequest[] =
    "UPDATE info_requests SET status = $2, due_date = NULLIF($3,'')::date, "
    "replied_date = NULLIF($4,'')::date, reply_type = $5, reply_reason = $6, body = $7::jsonb, "
    "version = version + 1, updated_at = now() WHERE request_id = $1 RETURNING version";
constexpr char kListRequests[] =
    "SELECT body::text, version, received_date::text, request_id FROM info_requests "
    "WHERE ($1 = 0 OR status = $1) AND ($2 = 0 OR applicant_type = $2) "
    "AND (NULLIF($3,'')::date IS NULL OR received_date >= NULLIF($3,'')::date) "
    "AND (NULLIF($4,'')::date IS NULL OR received_date <= NULLIF($4,'')::date) "
    "AND (NULLIF($5,'') IS NULL OR (received_date, request_id) < (NULLIF($5,'')::date, $6)) "
    "ORDER BY received_date DESC, request_id DESC LIMIT $7";
constexpr char kCountRequests[] =
    "SELECT count(*) FROM info_requests "
    "WHERE ($1 = 0 OR status = $1) AND ($2 = 0 OR applicant_type = $2) "
    "AND (NULLIF($3,'')::date IS NULL OR received_date >= NULLIF($3,'')::date) "
    "AND (NULLIF($4,'')::date IS NULL OR received_date <= NULLIF($4,'')::date)";
constexpr char kSelectCorrectionRequired[] =
    "SELECT request_id FROM info_requests WHERE status = 2 ORDER BY received_date "
    "FOR UPDATE SKIP LOCKED";
constexpr char kSelectOpenDue[] =
    "SELECT body::text, version FROM info_requests WHERE status IN (1, 3, 4) "
    "AND due_date <= $1::date ORDER BY due_date, request_id LIMIT 1000";
constexpr char kUpsertAppeal[] =
    "INSERT INTO appeals (appeal_id, info_request_id, kind, outcome, filed_date, concluded_date, "
    "note) VALUES ($1, $2, $3, $4, $5::date, NULLIF($6,'')::date, $7) "
    "ON CONFLICT (appeal_id) DO UPDATE SET info_request_id = EXCLUDED.info_request_id, "
    "kind = EXCLUDED.kind, outcome = EXCLUDED.outcome, filed_date = EXCLUDED.filed_date, "
    "concluded_date = EXCLUDED.concluded_date, note = EXCLUDED.note, updated_at = now()";

int ReplyReason(const v1::Reply& reply) {
  switch (reply.type()) {
    case v1::REPLY_TYPE_PARTIALLY_DISCLOSED:
    case v1::REPLY_TYPE_REFUSED:
      return reply.refusal_reason();
    case v1::REPLY_TYPE_UNABLE_TO_PROVIDE:
      return reply.unavailable_reason();
    case v1::REPLY_TYPE_NOT_PROCESSED:
      return reply.not_processed_reason();
    case v1::REPLY_TYPE_OTHER_HANDLING:
      return reply.other_handling_reason();
    default:
      return 0;
  }
}

absl::StatusOr<InfoRequest> ReadRequest(const pqxx::row& row) {
  InfoRequest r;
  if (absl::Status s = FromJson(row[0].c_str(), &r); !s.ok()) return s;
  r.set_etag(row[1].c_str());
  return r;
}

}  // namespace

absl::StatusOr<InfoRequest> InfoRequests::Submit(const v1::SubmitInfoRequestRequest& request) {
  InfoRequest r;
  *r.mutable_applicant() = request.applicant();
  r.set_description(request.description());
  r.set_purpose(request.purpose());
  r.set_preferred_form(request.preferred_form());
  r.set_delivery_method(request.delivery_method());
  r.set_channel(request.channel());
  if (!v1::ProvisionForm_IsValid(request.preferred_form())) {
    return FieldError("preferred_form", "must be a PROVISION_FORM_ value");
  }
  if (!v1::DeliveryMethod_IsValid(request.delivery_method())) {
    return FieldError("delivery_method", "must be a DELIVERY_METHOD_ value");
  }
  const absl::Time now = clock_.Now();
  absl::Time received_at = now;
  if (request.has_received_at()) {
    received_at = common::FromTimestamp(request.received_at());
    if (received_at > now + absl::Minutes(5)) {
      return FieldError("received_at", "must not be in the future");
    }
  }
  *r.mutable_received_at() = ToTimestamp(received_at);
  RequestRules rules(settings_, *calendar_);
  const absl::CivilDay arrival = absl::ToCivilDay(received_at, common::BureauTimeZone());
  if (absl::Status s = rules.Initialize(r, arrival); !s.ok()) return s;
  const std::string key = ApplicantKey(r.applicant());
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<InfoRequest> {
    if (!request.idempotency_key().empty()) {
      pqxx::result existing = txn.exec_params(kSelectByIdempotencyKey, request.idempotency_key());
      if (!existing.empty()) {
        auto found = ReadRequest(existing[0]);
        if (!found.ok()) return found.status();
        return MaskInfoRequest(*found);
      }
    }
    InfoRequest row = r;
    row.set_request_id(common::NewUuid());
    // Fees (109号): count this applicant's requests in the calendar month, this one included.
    txn.exec_params(kLockApplicant, key);
    const absl::CivilDay received = *ParseDate(row.received_date());
    const absl::CivilMonth month(received);
    pqxx::result count =
        txn.exec_params(kCountApplicantMonth, key, FormatDate(absl::CivilDay(month)),
                        FormatDate(absl::CivilDay(month + 1)));
    const int nth = count[0][0].as<int>() + 1;
    const int64_t fee = rules.FeeFen(received, nth);
    if (fee > 0) {
      auto* f = row.mutable_fee();
      f->set_requests_this_month(nth);
      f->set_amount_fen(fee);
      f->set_notified_date(FormatDate(clock_.Today()));
    }
    *row.mutable_create_time() = ToTimestamp(now);
    *row.mutable_update_time() = ToTimestamp(now);
    pqxx::result inserted =
        txn.exec_params(kInsertRequest, row.request_id(), request.idempotency_key(), key,
                        static_cast<int>(row.applicant().type()), static_cast<int>(row.status()),
                        row.received_date(), row.due_date(), fee, ToJson(row));
    row.set_etag(inserted[0][0].c_str());
    return MaskInfoRequest(row);
  });
}

absl::StatusOr<InfoRequest> InfoRequests::Get(const std::string& request_id) {
  if (request_id.empty()) return FieldError("request_id", "is required");
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<InfoRequest> {
    pqxx::result rows = txn.exec_params(kSelectRequest, request_id);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("info request '", request_id, "' not found"));
    }
    auto r = ReadRequest(rows[0]);
    if (!r.ok()) return r.status();
    return MaskInfoRequest(*r);
  });
}

absl::StatusOr<v1::ListInfoRequestsResponse> InfoRequests::List(
    const v1::ListInfoRequestsRequest& request) {
  for (auto [field, value] : {std::pair{"received_from", &request.received_from()},
                              std::pair{"received_to", &request.received_to()}}) {
    if (!value->empty() && !ParseDate(*value).ok())
      return FieldError(field, "is not a YYYY-MM-DD date");
  }
  if (request.page_size() < 0) return FieldError("page_size", "must not be negative");
  int page_size = request.page_size() == 0 ? 20 : std::min(request.page_size(), 100);
  std::string after_date;
  std::string after_id;
  if (!request.page_token().empty()) {
    auto bar = request.page_token().find('|');
    if (bar == std::string::npos || !ParseDate(request.page_token().substr(0, bar)).ok()) {
      return FieldError("page_token", "is not a token this service issued");
    }
    after_date = request.page_token().substr(0, bar);
    after_id = request.page_token().substr(bar + 1);
  }
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::ListInfoRequestsResponse> {
    v1::ListInfoRequestsResponse response;
    pqxx::result rows =
        txn.exec_params(kListRequests, static_cast<int>(request.status()),
                        static_cast<int>(request.applicant_type()), request.received_from(),
                        request.received_to(), after_date, after_id, page_size + 1);
    for (size_t i = 0; i < rows.size() && static_cast<int>(i) < page_size; ++i) {
      auto r = ReadRequest(rows[i]);
      if (!r.ok()) return r.status();
      *response.add_info_requests() = MaskInfoRequest(*r);
    }
    if (static_cast<int>(rows.size()) > page_size) {
      const auto& last = rows[page_size - 1];
      response.set_next_page_token(absl::StrCat(last[2].c_str(), "|", last[3].c_str()));
    }
    pqxx::result count = txn.exec_params(kCountRequests, static_cast<int>(request.status()),
                                         static_cast<int>(request.applicant_type()),
                                         request.received_from(), request.received_to());
    response.set_total_size(count[0][0].as<int>());
    return response;
  });
}

absl::StatusOr<InfoRequest> InfoRequests::MutateInTxn(pqxx::work& txn,
                                                      const std::string& request_id,
                                                      const std::string& etag,
                                                      const Change& change) {
  pqxx::result rows = txn.exec_params(kSelectRequestForUpdate, request_id);
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("info request '", request_id, "' not found"));
  }
  auto r = ReadRequest(rows[0]);
  if (!r.ok()) return r.status();
  if (!etag.empty() && etag != r->etag()) {
    return absl::AbortedError("etag: the request changed since it was read");
  }
  RequestRules rules(settings_, *calendar_);
  if (absl::Status s = change(*r, rules, clock_.Today()); !s.ok()) return s;
  r->clear_etag();
  *r->mutable_update_time() = ToTimestamp(clock_.Now());
  pqxx::result updated =
      txn.exec_params(kUpdateRequest, request_id, static_cast<int>(r->status()), r->due_date(),
                      r->reply().replied_date(), static_cast<int>(r->reply().type()),
                      ReplyReason(r->reply()), ToJson(*r));
  r->set_etag(updated[0][0].c_str());
  return *r;
}

absl::StatusOr<InfoRequest> InfoRequests::Mutate(const std::string& request_id,
                                                 const std::string& etag, const Change& change) {
  if (request_id.empty()) return FieldError("request_id", "is required");
  auto r =
      pg_.Transact([&](pqxx::work& txn) { return MutateInTxn(txn, request_id, etag, change); });
  if (!r.ok()) return r.status();
  return MaskInfoRequest(*r);
}

absl::StatusOr<InfoRequest> InfoRequests::RequestCorrection(const v1::RequestCorrectionRequest& q) {
  std::vector<std::string> items(q.items().begin(), q.items().end());
  return Mutate(q.request_id(), q.etag(),
                [&](InfoRequest& r, const RequestRules& rules, absl::CivilDay today) {
                  return rules.RequestCorrection(r, items, q.note(), q.requested_by(), today);
                });
}

absl::StatusOr<InfoRequest> InfoRequests::SubmitCorrection(const v1::SubmitCorrectionRequest& q) {
  return Mutate(q.request_id(), q.etag(),
                [&](InfoRequest& r, const RequestRules& rules, absl::CivilDay today) {
                  return rules.SubmitCorrection(r, q.corrected_description(), today);
                });
}

absl::StatusOr<InfoRequest> InfoRequests::Extend(const v1::ExtendInfoRequestRequest& q) {
  return Mutate(q.request_id(), q.etag(),
                [&](InfoRequest& r, const RequestRules& rules, absl::CivilDay today) {
                  return rules.Extend(r, q.working_days(), q.reason(), q.approved_by(), today);
                });
}

absl::StatusOr<InfoRequest> InfoRequests::StartConsultation(const v1::StartConsultationRequest& q) {
  return Mutate(
      q.request_id(), q.etag(),
      [&](InfoRequest& r, const RequestRules& rules, absl::CivilDay today) -> absl::Status {
        absl::CivilDay started = today;
        if (!q.started_date().empty()) {
          auto d = ParseDate(q.started_date());
          if (!d.ok()) return FieldError("started_date", "is not a YYYY-MM-DD date");
          started = *d;
        }
        return rules.StartConsultation(r, common::NewUuid(), q.third_party(), started);
      });
}

absl::StatusOr<InfoRequest> InfoRequests::FinishConsultation(
    const v1::FinishConsultationRequest& q) {
  return Mutate(
      q.request_id(), q.etag(),
      [&](InfoRequest& r, const RequestRules& rules, absl::CivilDay today) -> absl::Status {
        absl::CivilDay finished = today;
        if (!q.finished_date().empty()) {
          auto d = ParseDate(q.finished_date());
          if (!d.ok()) return FieldError("finished_date", "is not a YYYY-MM-DD date");
          finished = *d;
        }
        return rules.FinishConsultation(r, q.consultation_id(), q.opinion(), q.note(), finished);
      });
}

absl::StatusOr<InfoRequest> InfoRequests::Reply(const v1::ReplyInfoRequestRequest& q) {
  return Mutate(q.request_id(), q.etag(),
                [&](InfoRequest& r, const RequestRules& rules, absl::CivilDay today) {
                  return rules.Reply(r, q.reply(), today);
                });
}

absl::StatusOr<std::vector<std::string>> InfoRequests::CloseLapsedCorrections(
    absl::CivilDay today) {
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> closed;
    for (const auto& row : txn.exec_params(kSelectCorrectionRequired)) {
      std::string id = row[0].c_str();
      bool lapsed = false;
      auto r = MutateInTxn(txn, id, "",
                           [&](InfoRequest& req, const RequestRules& rules, absl::CivilDay) {
                             auto result = rules.CloseIfCorrectionLapsed(req, today);
                             if (!result.ok()) return result.status();
                             lapsed = *result;
                             return absl::OkStatus();
                           });
      if (!r.ok()) return r.status();
      if (lapsed) closed.push_back(id);
    }
    return closed;
  });
}

absl::StatusOr<std::vector<InfoRequest>> InfoRequests::OpenDueBy(absl::CivilDay cutoff) {
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<InfoRequest>> {
    std::vector<InfoRequest> out;
    for (const auto& row : txn.exec_params(kSelectOpenDue, FormatDate(cutoff))) {
      auto r = ReadRequest(row);
      if (!r.ok()) return r.status();
      out.push_back(MaskInfoRequest(*r));
    }
    return out;
  });
}

absl::StatusOr<v1::Appeal> InfoRequests::RecordAppeal(const v1::RecordAppealRequest& request) {
  v1::Appeal a = request.appeal();
  if (a.kind() == v1::APPEAL_KIND_UNSPECIFIED || !v1::AppealKind_IsValid(a.kind())) {
    return FieldError("appeal.kind", "must be an APPEAL_KIND_ value");
  }
  if (!v1::AppealOutcome_IsValid(a.outcome())) {
    return FieldError("appeal.outcome", "must be an APPEAL_OUTCOME_ value");
  }
  if (a.outcome() == v1::APPEAL_OUTCOME_UNSPECIFIED) a.set_outcome(v1::APPEAL_OUTCOME_PENDING);
  if (!ParseDate(a.filed_date()).ok())
    return FieldError("appeal.filed_date", "is required (YYYY-MM-DD)");
  if (!a.concluded_date().empty() && !ParseDate(a.concluded_date()).ok()) {
    return FieldError("appeal.concluded_date", "is not a YYYY-MM-DD date");
  }
  if (a.outcome() != v1::APPEAL_OUTCOME_PENDING && a.concluded_date().empty()) {
    return FieldError("appeal.concluded_date", "is required once the appeal is concluded");
  }
  if (a.appeal_id().empty()) a.set_appeal_id(common::NewUuid());
  auto status = pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec_params(kUpsertAppeal, a.appeal_id(), a.info_request_id(), static_cast<int>(a.kind()),
                    static_cast<int>(a.outcome()), a.filed_date(), a.concluded_date(), a.note());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return a;
}

}  // namespace regsuite::disclosure
