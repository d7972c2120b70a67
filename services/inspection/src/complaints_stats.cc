// Complaints (投诉举报), statistics, received events, and the service's lifecycle.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "inspection_service.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/log.h"
#include "regsuite/common/masking.h"
#include "regsuite/common/proto_time.h"
#include "regsuite/common/status.h"
#include "store_util.h"

namespace regsuite::inspection {
namespace {

using common::FieldError;

constexpr char kSelectComplaintByKey[] =
    "SELECT complaint FROM complaints WHERE idempotency_key = $1";
constexpr char kInsertComplaint[] = R"SQL(
INSERT INTO complaints (complaint_id, idempotency_key, uscc, year, complaint)
VALUES ($1, NULLIF($2::text, ''), $3, $4, $5)
)SQL";
constexpr char kUpsertListing[] = R"SQL(
INSERT INTO credit_listing_cache (uscc, listing_id, list_type, active) VALUES ($1, $2, $3, $4)
ON CONFLICT (uscc, listing_id) DO UPDATE SET list_type = EXCLUDED.list_type,
  active = EXCLUDED.active, update_time = now()
)SQL";

// Statistics per group ('' for the total, else region code or industry). Enterprise filters
// apply through the directory; $1 year, $2 region prefix, $3 industry, $4 'total'|'region'|'industry'.
constexpr char kStats[] = R"SQL(
WITH e AS (
  SELECT uscc, region_code, industry,
         CASE $4::text WHEN 'region' THEN region_code WHEN 'industry' THEN industry ELSE '' END AS k
  FROM enterprises
  WHERE ($2::text = '' OR region_code LIKE $2::text || '%') AND ($3::text = '' OR industry = $3)
),
dir AS (SELECT k, count(*) AS n FROM e GROUP BY k),
insp AS (
  SELECT e.k, count(*) AS inspections, count(DISTINCT i.uscc) AS enterprises,
         count(DISTINCT i.uscc) FILTER (WHERE i.origin = 1) AS drawn
  FROM inspections i JOIN e ON e.uscc = i.uscc WHERE i.year = $1 AND i.status <> 3 GROUP BY e.k
),
hz AS (
  SELECT e.k, count(*) AS found, count(*) FILTER (WHERE h.level = 2) AS major,
         count(*) FILTER (WHERE h.status = 3) AS rectified
  FROM hazards h JOIN e ON e.uscc = h.uscc WHERE h.year = $1 GROUP BY e.k
),
pen AS (
  SELECT e.k, count(*) AS decisions, coalesce(sum(p.fine_fen), 0) AS fines
  FROM penalty_cases p JOIN e ON e.uscc = p.uscc
  WHERE p.decided_date IS NOT NULL AND extract(year FROM p.decided_date) = $1 AND p.status <> 5
  GROUP BY e.k
),
cmp AS (
  SELECT e.k, count(*) AS complaints FROM complaints c JOIN e ON e.uscc = c.uscc
  WHERE c.year = $1 GROUP BY e.k
)
SELECT dir.k, dir.n, coalesce(insp.inspections, 0), coalesce(insp.enterprises, 0),
       coalesce(insp.drawn, 0), coalesce(hz.found, 0), coalesce(hz.major, 0),
       coalesce(hz.rectified, 0), coalesce(pen.decisions, 0), coalesce(pen.fines, 0),
       coalesce(cmp.complaints, 0)
FROM dir LEFT JOIN insp USING (k) LEFT JOIN hz USING (k) LEFT JOIN pen USING (k)
  LEFT JOIN cmp USING (k)
ORDER BY dir.k
)SQL";
constexpr char kDrawCount[] =
    "SELECT count(*) FROM draws WHERE extract(year FROM draw_date) = $1";
constexpr char kComplaintsWithoutEnterprise[] =
    "SELECT count(*) FROM complaints WHERE year = $1 AND uscc = ''";

void FillCounts(const pqxx::row& r, v1::StatsCounts* c) {
  c->set_enterprises_in_directory(r[1].as<int64_t>());
  c->set_inspections(r[2].as<int64_t>());
  c->set_enterprises_inspected(r[3].as<int64_t>());
  const int64_t drawn = r[4].as<int64_t>();
  c->set_sampling_rate_percent(
      c->enterprises_in_directory() == 0
          ? 0.0
          : 100.0 * static_cast<double>(drawn) / static_cast<double>(c->enterprises_in_directory()));
  c->set_hazards_found(r[5].as<int64_t>());
  c->set_major_hazards_found(r[6].as<int64_t>());
  c->set_hazards_rectified(r[7].as<int64_t>());
  c->set_rectification_rate_percent(
      c->hazards_found() == 0
          ? 0.0
          : std::round(1000.0 * static_cast<double>(c->hazards_rectified()) /
                       static_cast<double>(c->hazards_found())) / 10.0);
  c->set_penalty_decisions(r[8].as<int64_t>());
  c->set_fines_fen(r[9].as<int64_t>());
  c->set_complaints(r[10].as<int64_t>());
}

}  // namespace

InspectionServiceImpl::InspectionServiceImpl(InspectionDeps deps) : deps_(std::move(deps)) {
  if (deps_.options.hazard_sweep_interval > absl::ZeroDuration()) {
    sweeper_ = std::thread([this] { SweepLoop(); });
  }
}

InspectionServiceImpl::~InspectionServiceImpl() {
  {
    std::lock_guard<std::mutex> lock(sweep_mu_);
    stopping_ = true;
  }
  sweep_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

void InspectionServiceImpl::SweepLoop() {
  std::unique_lock<std::mutex> lock(sweep_mu_);
  while (!stopping_) {
    sweep_cv_.wait_for(lock, absl::ToChronoMilliseconds(deps_.options.hazard_sweep_interval),
                       [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    auto swept = SweepOverdueMajorHazards();
    if (!swept.ok()) {
      common::LogInfo("overdue hazard sweep failed", {{"error", std::string(swept.status().message())}});
    } else if (*swept > 0) {
      common::LogInfo("overdue major hazards reported to credit", {{"count", absl::StrCat(*swept)}});
    }
    lock.lock();
  }
}

absl::Status InspectionServiceImpl::DoFileComplaint(const v1::FileComplaintRequest& request,
                                                    v1::Complaint* response) {
  if (request.description().empty()) return FieldError("description", "is required");
  if (request.channel() == v1::COMPLAINT_CHANNEL_UNSPECIFIED ||
      !v1::ComplaintChannel_IsValid(request.channel())) {
    return FieldError("channel", "is required");
  }
  std::string uscc;
  if (!request.uscc().empty()) {
    auto parsed = common::Uscc::Parse(request.uscc());
    if (!parsed.ok()) return parsed.status();
    uscc = parsed->str();
  } else if (request.enterprise_name().empty() && request.address().empty()) {
    return FieldError("uscc", "uscc, enterprise_name or address must identify the subject");
  }
  if (!request.complainant().anonymous() && request.complainant().name().empty() &&
      request.complainant().phone().empty()) {
    return FieldError("complainant", "a name or phone, or anonymous = true");
  }
  absl::Time received = deps_.clock.Now();
  if (request.has_received_at()) {
    received = common::FromTimestamp(request.received_at());
  }
  const int year = static_cast<int>(absl::ToCivilDay(received, common::BureauTimeZone()).year());
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    if (!request.idempotency_key().empty()) {
      pqxx::result prior = txn.exec_params(kSelectComplaintByKey, request.idempotency_key());
      if (!prior.empty()) return DecodeMessage(prior[0][0].c_str(), response);
    }
    v1::Complaint c;
    c.set_complaint_id(common::NewUuid());
    c.set_uscc(uscc);
    c.set_enterprise_name(request.enterprise_name());
    c.set_address(request.address());
    c.set_description(request.description());
    c.set_channel(request.channel());
    *c.mutable_complainant() = request.complainant();
    if (!c.complainant().phone().empty()) {
      c.mutable_complainant()->set_phone(common::MaskMobile(c.complainant().phone()));
    }
    if (c.complainant().anonymous()) c.mutable_complainant()->clear_name();
    c.mutable_evidence_refs()->CopyFrom(request.evidence_refs());
    SetTimestamp(received, c.mutable_received_at());
    // The complaint is the targeted inspection task: StartInspection with origin COMPLAINT
    // takes it up, exempt from 宁静日 and 一事不再查.
    c.set_status(v1::COMPLAINT_STATUS_RECEIVED);
    c.set_handling_note("targeted inspection task created (exempt from 宁静日 and 一事不再查)");
    txn.exec_params(kInsertComplaint, c.complaint_id(), request.idempotency_key(), uscc, year,
                    EncodeMessage(c));
    *response = std::move(c);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoGetStats(const v1::GetStatsRequest& request,
                                               v1::InspectionStats* response) {
  const int year = request.year() == 0 ? static_cast<int>(deps_.clock.Today().year())
                                       : request.year();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    response->set_year(year);
    response->set_region_code(request.region_code());
    response->set_industry(request.industry());
    SetTimestamp(deps_.clock.Now(), response->mutable_as_of());
    pqxx::result total =
        txn.exec_params(kStats, year, request.region_code(), request.industry(), "total");
    if (!total.empty()) FillCounts(total[0], response->mutable_total());
    response->mutable_total()->set_draws(txn.exec_params(kDrawCount, year)[0][0].as<int64_t>());
    if (request.region_code().empty() && request.industry().empty()) {
      response->mutable_total()->set_complaints(
          response->total().complaints() +
          txn.exec_params(kComplaintsWithoutEnterprise, year)[0][0].as<int64_t>());
    }
    for (const auto& r :
         txn.exec_params(kStats, year, request.region_code(), request.industry(), "region")) {
      auto* b = response->add_by_region();
      b->set_key(r[0].c_str());
      b->set_label(r[0].c_str());
      FillCounts(r, b->mutable_counts());
    }
    for (const auto& r :
         txn.exec_params(kStats, year, request.region_code(), request.industry(), "industry")) {
      auto* b = response->add_by_industry();
      b->set_key(r[0].c_str());
      b->set_label(r[0].c_str());
      FillCounts(r, b->mutable_counts());
    }
    return absl::OkStatus();
  });
}

namespace {

// DeliverEvent(s)' effect: a listing change kept in credit_listing_cache (frequency rules).
absl::Status ApplyListingEvent(pqxx::work& txn, const events::v1::EventEnvelope& envelope) {
  if (envelope.payload_type() != "regsuite.events.v1.ListingChanged") {
    return absl::OkStatus();  // not ours to act on; acknowledged
  }
  events::v1::ListingChanged changed;
  if (absl::Status s = common::UnpackPayload(envelope, &changed); !s.ok()) return s;
  const bool active = changed.change() == events::v1::LISTING_CHANGE_PUBLISHED ||
                      changed.change() == events::v1::LISTING_CHANGE_RESTORED;
  txn.exec_params(kUpsertListing, changed.uscc(), changed.listing_id(),
                  static_cast<int>(changed.list_type()), active);
  return absl::OkStatus();
}

}  // namespace

absl::Status InspectionServiceImpl::DoDeliverEvent(const events::v1::EventEnvelope& request,
                                                   events::v1::EventAck* response) {
  auto ack = common::ApplyDeliveredEvent(deps_.pg, request, ApplyListingEvent);
  if (!ack.ok()) return ack.status();
  *response = *std::move(ack);
  return absl::OkStatus();
}

absl::Status InspectionServiceImpl::DoDeliverEvents(const events::v1::EventBatch& request,
                                                    events::v1::EventBatchAck* response) {
  *response = common::ApplyDeliveredEvents(deps_.pg, request, ApplyListingEvent);
  return absl::OkStatus();
}

}  // namespace regsuite::inspection
