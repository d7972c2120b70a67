// Inspections: the four steps, findings, hazards, the append-only full-process record,
// closing with the published result; hazard rectification, re-check and the overdue sweep.
#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "inspection_service.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/log.h"
#include "regsuite/common/status.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "store_util.h"

namespace regsuite::inspection {
namespace {

using common::FieldError;
using common::FormatDate;

constexpr char kRecordCreditEvent[] = "/regsuite.credit.v1.CreditService/RecordCreditEvent";

constexpr char kSelectEnterpriseName[] =
    "SELECT name, region_code, industry FROM enterprises WHERE uscc = $1";
constexpr char kSelectCheckItemFlags[] =
    "SELECT code, name, safety_critical FROM check_items WHERE code = ANY($1::text[])";
constexpr char kSelectInspectorForTeam[] = R"SQL(
SELECT inspector_id, name, active, certificate_expiry::text, $2 = ANY(conflict_usccs)
FROM inspectors WHERE inspector_id = ANY($1::text[])
)SQL";
constexpr char kSelectInspectionByKey[] =
    "SELECT inspection_id FROM inspections WHERE idempotency_key = $1";
constexpr char kSelectInspectionsThisYear[] = R"SQL(
SELECT count(*)::int,
       coalesce(bool_or(check_item_codes && $3::text[] AND origin NOT IN (3, 4)), false),
       coalesce(bool_or(joint AND check_item_codes && $3::text[]), false)
FROM inspections WHERE uscc = $1 AND year = $2 AND status <> 3
)SQL";
constexpr char kInsertInspection[] = R"SQL(
INSERT INTO inspections (inspection_id, idempotency_key, origin, origin_ref, uscc,
  check_item_codes, inspector_ids, step, status, planned_date, year, started_at, draw_id,
  inspection, joint)
VALUES ($1, NULLIF($2::text, ''), $3, $4, $5, $6::text[], $7::text[], $8, $9, $10::date, $11,
        to_timestamp($12), $13, $14, $15)
)SQL";
constexpr char kSelectInspection[] =
    "SELECT inspection, version FROM inspections WHERE inspection_id = $1";
constexpr char kSelectInspectionForUpdate[] =
    "SELECT inspection, version FROM inspections WHERE inspection_id = $1 FOR UPDATE";
constexpr char kUpdateInspection[] = R"SQL(
UPDATE inspections SET step = $2, status = $3, result = $4,
  closed_at = CASE WHEN $5 THEN now() ELSE closed_at END, inspection = $6,
  version = version + 1, update_time = now()
WHERE inspection_id = $1 RETURNING version
)SQL";
constexpr char kSelectEntries[] = R"SQL(
SELECT entry_id, step, kind, description, document_ref, content_hash, recorded_by,
       extract(epoch from recorded_at)::float8
FROM record_entries WHERE inspection_id = $1 ORDER BY seq
)SQL";
constexpr char kInsertEntry[] = R"SQL(
INSERT INTO record_entries (entry_id, inspection_id, step, kind, description, document_ref,
  content_hash, recorded_by, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9))
)SQL";
constexpr char kSelectHazardsOf[] =
    "SELECT hazard, version FROM hazards WHERE inspection_id = $1 ORDER BY seq";
constexpr char kInsertHazard[] = R"SQL(
INSERT INTO hazards (hazard_id, inspection_id, uscc, level, status, deadline, year, hazard)
VALUES ($1, $2, $3, $4, $5, $6::date, $7, $8)
)SQL";
constexpr char kSelectHazardForUpdate[] =
    "SELECT hazard, version FROM hazards WHERE hazard_id = $1 FOR UPDATE";
constexpr char kUpdateHazard[] = R"SQL(
UPDATE hazards SET status = $2, deadline = $3::date, hazard = $4, version = version + 1,
  credit_event_sent = $5
WHERE hazard_id = $1 RETURNING version
)SQL";
constexpr char kListHazards[] = R"SQL(
SELECT hazard, version, count(*) OVER ()::int FROM hazards
WHERE ($1::text = '' OR uscc = $1) AND ($2::text = '' OR inspection_id = $2) AND ($3 = 0 OR level = $3)
  AND ($4 = 0 OR status = $4) AND (NOT $5 OR (status IN (1, 4) AND deadline < $6::date))
ORDER BY deadline, hazard_id LIMIT $7 OFFSET $8
)SQL";
constexpr char kSelectOverdueMajor[] = R"SQL(
SELECT h.hazard, h.version, coalesce(e.name, '') FROM hazards h
LEFT JOIN enterprises e ON e.uscc = h.uscc
WHERE h.level = 2 AND h.status IN (1, 4) AND h.deadline < $1::date AND NOT h.credit_event_sent
ORDER BY h.deadline FOR UPDATE OF h SKIP LOCKED LIMIT 500
)SQL";
constexpr char kSelectComplaintForUpdate[] =
    "SELECT complaint FROM complaints WHERE complaint_id = $1 FOR UPDATE";
constexpr char kUpdateComplaint[] =
    "UPDATE complaints SET complaint = $2, update_time = now() WHERE complaint_id = $1";
constexpr char kSelectDrawPayload[] = "SELECT draw FROM draws WHERE draw_id = $1";
constexpr char kListInspections[] = R"SQL(
SELECT inspection_id, count(*) OVER ()::int FROM inspections
WHERE ($1::text = '' OR uscc = $1) AND ($2 = 0 OR origin = $2) AND ($3 = 0 OR status = $3)
  AND ($4 = 0 OR year = $4) AND ($5::text = '' OR draw_id = $5)
ORDER BY started_at DESC, inspection_id LIMIT $6 OFFSET $7
)SQL";

absl::Time FromEpoch(double seconds) {
  return absl::FromUnixMicros(static_cast<int64_t>(seconds * 1e6));
}

bool IsSha256Hex(absl::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

absl::Status ValidateEntry(v1::RecordEntry& entry, v1::InspectionStep default_step, int index) {
  const std::string field = absl::StrCat("record_entries[", index, "]");
  if (entry.step() == v1::INSPECTION_STEP_UNSPECIFIED) entry.set_step(default_step);
  if (entry.kind() == v1::RECORD_ENTRY_KIND_UNSPECIFIED) entry.set_kind(v1::RECORD_ENTRY_KIND_TEXT);
  if (!v1::RecordEntryKind_IsValid(entry.kind()) || !v1::InspectionStep_IsValid(entry.step())) {
    return FieldError(field, "unknown kind or step");
  }
  if (entry.description().empty()) return FieldError(absl::StrCat(field, ".description"), "is required");
  if (entry.recorded_by().empty()) return FieldError(absl::StrCat(field, ".recorded_by"), "is required");
  entry.set_content_hash(absl::AsciiStrToLower(entry.content_hash()));
  if (!entry.document_ref().empty() && !IsSha256Hex(entry.content_hash())) {
    return FieldError(absl::StrCat(field, ".content_hash"),
                      "the SHA-256 hex of the referenced content is required with document_ref");
  }
  if (entry.kind() != v1::RECORD_ENTRY_KIND_TEXT && entry.document_ref().empty()) {
    return FieldError(absl::StrCat(field, ".document_ref"),
                      "photo, audio, video and document entries need the stored content reference");
  }
  return absl::OkStatus();
}

void InsertEntry(pqxx::work& txn, const std::string& inspection_id, v1::RecordEntry& entry,
                 absl::Time now) {
  entry.set_entry_id(common::NewUuid());
  SetTimestamp(now, entry.mutable_recorded_at());
  txn.exec_params(kInsertEntry, entry.entry_id(), inspection_id, static_cast<int>(entry.step()),
                  static_cast<int>(entry.kind()), entry.description(), entry.document_ref(),
                  entry.content_hash(), entry.recorded_by(),
                  static_cast<double>(absl::ToUnixMicros(now)) / 1e6);
}

// Adds hazards and record entries (children kept in their own tables).
absl::Status AttachChildren(pqxx::work& txn, v1::Inspection* insp) {
  insp->clear_hazards();
  insp->clear_record_entries();
  for (const auto& r : txn.exec_params(kSelectHazardsOf, insp->inspection_id())) {
    v1::Hazard* h = insp->add_hazards();
    if (absl::Status s = DecodeMessage(r[0].c_str(), h); !s.ok()) return s;
    h->set_etag(absl::StrCat(r[1].as<int64_t>()));
  }
  for (const auto& r : txn.exec_params(kSelectEntries, insp->inspection_id())) {
    v1::RecordEntry* e = insp->add_record_entries();
    e->set_entry_id(r[0].c_str());
    e->set_step(static_cast<v1::InspectionStep>(r[1].as<int>()));
    e->set_kind(static_cast<v1::RecordEntryKind>(r[2].as<int>()));
    e->set_description(r[3].c_str());
    e->set_document_ref(r[4].c_str());
    e->set_content_hash(r[5].c_str());
    e->set_recorded_by(r[6].c_str());
    SetTimestamp(FromEpoch(r[7].as<double>()), e->mutable_recorded_at());
  }
  return absl::OkStatus();
}

StepFacts FactsOf(const v1::Inspection& insp) {
  StepFacts f;
  f.record_entries_total = insp.record_entries_size();
  for (const auto& e : insp.record_entries()) {
    if (e.step() == v1::INSPECTION_STEP_DELIBERATION) ++f.record_entries_in_deliberation;
    if (e.step() == v1::INSPECTION_STEP_FEEDBACK) ++f.record_entries_in_feedback;
  }
  f.check_items = insp.check_item_codes_size();
  absl::flat_hash_set<std::string> covered;
  for (const auto& finding : insp.findings()) covered.insert(finding.check_item_code());
  for (const auto& code : insp.check_item_codes()) {
    if (covered.contains(code)) ++f.check_items_with_findings;
  }
  return f;
}

absl::StatusOr<int64_t> SaveInspection(pqxx::work& txn, v1::Inspection& insp, bool closing) {
  v1::Inspection stored = insp;
  stored.clear_hazards();
  stored.clear_record_entries();
  stored.clear_etag();
  pqxx::result r = txn.exec_params(kUpdateInspection, insp.inspection_id(),
                                   static_cast<int>(insp.step()), static_cast<int>(insp.status()),
                                   static_cast<int>(insp.result()), closing, EncodeMessage(stored));
  const int64_t version = r[0][0].as<int64_t>();
  insp.set_etag(absl::StrCat(version));
  return version;
}

}  // namespace

absl::Status InspectionServiceImpl::LoadInspection(pqxx::work& txn, const std::string& id,
                                                   bool for_update, v1::Inspection* out,
                                                   int64_t* version) {
  pqxx::result row =
      txn.exec_params(for_update ? kSelectInspectionForUpdate : kSelectInspection, id);
  if (row.empty()) return absl::NotFoundError(absl::StrCat("inspection ", id));
  if (absl::Status s = DecodeMessage(row[0][0].c_str(), out); !s.ok()) return s;
  *version = row[0][1].as<int64_t>();
  out->set_etag(absl::StrCat(*version));
  return AttachChildren(txn, out);
}

absl::Status InspectionServiceImpl::DoStartInspection(const v1::StartInspectionRequest& request,
                                                      v1::Inspection* response) {
  if (request.origin() == v1::INSPECTION_ORIGIN_UNSPECIFIED ||
      !v1::InspectionOrigin_IsValid(request.origin())) {
    return FieldError("origin", "is required");
  }
  auto uscc = common::Uscc::Parse(request.uscc());
  if (!uscc.ok()) return uscc.status();
  if (request.started_by().empty()) return FieldError("started_by", "is required");
  const absl::CivilDay today = deps_.clock.Today();
  absl::CivilDay planned = today;
  if (!request.planned_date().empty()) {
    auto parsed = common::ParseDate(request.planned_date());
    if (!parsed.ok()) return FieldError("planned_date", "must be a YYYY-MM-DD date");
    planned = *parsed;
  }
  const bool needs_ref = request.origin() == v1::INSPECTION_ORIGIN_DRAW ||
                         request.origin() == v1::INSPECTION_ORIGIN_COMPLAINT ||
                         request.origin() == v1::INSPECTION_ORIGIN_CASE;
  if (needs_ref && request.origin_ref().empty()) {
    return FieldError("origin_ref", "the draw, complaint or case id is required for this origin");
  }
  if (request.joint() && request.joint_departments().empty()) {
    return FieldError("joint_departments",
                      "a joint inspection (联合检查) names the other participating departments");
  }
  if (!request.joint() && !request.joint_departments().empty()) {
    return FieldError("joint_departments", "only for a joint inspection (joint = true)");
  }
  for (const auto& department : request.joint_departments()) {
    if (department.empty()) return FieldError("joint_departments", "a department name is empty");
  }
  const absl::Time now = deps_.clock.Now();

  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    if (!request.idempotency_key().empty()) {
      pqxx::result prior = txn.exec_params(kSelectInspectionByKey, request.idempotency_key());
      if (!prior.empty()) {
        int64_t version = 0;
        return LoadInspection(txn, prior[0][0].c_str(), false, response, &version);
      }
    }
    pqxx::result enterprise = txn.exec_params(kSelectEnterpriseName, uscc->str());
    if (enterprise.empty()) {
      return FieldError("uscc", "not in the enterprise directory (检查对象名录库)");
    }
    std::vector<std::string> items(request.check_item_codes().begin(),
                                   request.check_item_codes().end());
    std::vector<std::string> inspector_ids(request.inspector_ids().begin(),
                                           request.inspector_ids().end());
    std::string draw_id;
    if (request.origin() == v1::INSPECTION_ORIGIN_DRAW) {
      pqxx::result d = txn.exec_params(kSelectDrawPayload, request.origin_ref());
      if (d.empty()) return FieldError("origin_ref", "no such draw");
      v1::Draw draw;
      if (absl::Status s = DecodeMessage(d[0][0].c_str(), &draw); !s.ok()) return s;
      const v1::DrawnEnterprise* drawn = nullptr;
      for (const auto& e : draw.enterprises()) {
        if (e.uscc() == uscc->str()) drawn = &e;
      }
      if (drawn == nullptr) return FieldError("uscc", "was not drawn in this draw");
      if (items.empty()) items.push_back(draw.check_item_code());
      if (inspector_ids.empty()) {
        for (const auto& m : draw.teams(drawn->team_index()).members()) {
          inspector_ids.push_back(m.inspector_id());
        }
      }
      draw_id = draw.draw_id();
    }
    if (items.empty()) return FieldError("check_item_codes", "at least one check item is required");
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    pqxx::result item_rows = txn.exec_params(kSelectCheckItemFlags, PgTextArray(items));
    if (item_rows.size() != items.size()) {
      return FieldError("check_item_codes", "an item is not in the check-item list");
    }
    bool any_safety_critical = false;
    for (const auto& r : item_rows) any_safety_critical |= r[2].as<bool>();

    std::sort(inspector_ids.begin(), inspector_ids.end());
    inspector_ids.erase(std::unique(inspector_ids.begin(), inspector_ids.end()),
                        inspector_ids.end());
    if (inspector_ids.size() < 2) {
      return FieldError("inspector_ids", "at least 2 inspectors (国办发〔2015〕58号)");
    }
    pqxx::result team = txn.exec_params(kSelectInspectorForTeam, PgTextArray(inspector_ids),
                                        uscc->str());
    if (team.size() != inspector_ids.size()) {
      return FieldError("inspector_ids", "an inspector is not in the inspector directory");
    }
    for (const auto& r : team) {
      const std::string id = r[0].c_str();
      if (!r[2].as<bool>()) return FieldError("inspector_ids", absl::StrCat(id, " is not active"));
      if (std::string(r[3].c_str()) < FormatDate(planned)) {
        return FieldError("inspector_ids",
                          absl::StrCat(id, ": enforcement certificate expired ", r[3].c_str()));
      }
      if (r[4].as<bool>()) {
        return FieldError("inspector_ids",
                          absl::StrCat(id, " declared a conflict of interest with ", uscc->str(),
                                       " (回避)"));
      }
    }
    if (absl::Status s = CheckQuietDay(planned, request.origin(), any_safety_critical,
                                       request.exemption_reason(), deps_.options.quiet_days_last);
        !s.ok()) {
      return s;
    }
    pqxx::result year = txn.exec_params(kSelectInspectionsThisYear, uscc->str(),
                                        static_cast<int>(planned.year()), PgTextArray(items));
    const int inspections_this_year = year[0][0].as<int>();
    const bool same_item = year[0][1].as<bool>();
    if (absl::Status s = CheckJointInspectionRule(year[0][2].as<bool>(), request.origin(),
                                                  request.exemption_reason(), uscc->str(),
                                                  static_cast<int>(planned.year()));
        !s.ok()) {
      return s;
    }
    if (same_item && !ExemptFromSameItemRule(request.origin()) &&
        request.exemption_reason().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "一事不再查: ", uscc->str(), " was already inspected on one of these items in ",
          planned.year(), "; only a complaint or case (or a recorded exemption) allows another"));
    }
    if (inspections_this_year >= deps_.options.red_list_max_per_year &&
        !ExemptFromRedListCap(request.origin()) && request.exemption_reason().empty()) {
      auto tiers = LookUpCreditTiers(txn, {uscc->str()});
      if (!tiers.ok()) return tiers.status();
      auto it = tiers->tiers.find(uscc->str());
      if (it != tiers->tiers.end() && it->second == 1) {
        return absl::FailedPreconditionError(absl::StrCat(
            "red list: ", uscc->str(), " already had ", inspections_this_year,
            " inspection(s) this year (cap ", deps_.options.red_list_max_per_year, ")"));
      }
    }
    if (request.origin() == v1::INSPECTION_ORIGIN_COMPLAINT) {
      pqxx::result c = txn.exec_params(kSelectComplaintForUpdate, request.origin_ref());
      if (c.empty()) return FieldError("origin_ref", "no such complaint");
      v1::Complaint complaint;
      if (absl::Status s = DecodeMessage(c[0][0].c_str(), &complaint); !s.ok()) return s;
      if (complaint.status() != v1::COMPLAINT_STATUS_RECEIVED) {
        return common::StateError("complaint", v1::ComplaintStatus_Name(complaint.status()),
                                  "start an inspection");
      }
      complaint.set_status(v1::COMPLAINT_STATUS_INSPECTING);
      response->set_inspection_id(common::NewUuid());
      complaint.set_inspection_id(response->inspection_id());
      txn.exec_params(kUpdateComplaint, complaint.complaint_id(), EncodeMessage(complaint));
    }
    v1::Inspection insp;
    insp.set_inspection_id(response->inspection_id().empty() ? common::NewUuid()
                                                             : response->inspection_id());
    insp.set_origin(request.origin());
    insp.set_origin_ref(request.origin_ref());
    insp.set_uscc(uscc->str());
    insp.set_enterprise_name(enterprise[0][0].c_str());
    for (const auto& code : items) insp.add_check_item_codes(code);
    for (const auto& id : inspector_ids) insp.add_inspector_ids(id);
    insp.set_step(v1::INSPECTION_STEP_LAUNCH);
    insp.set_status(v1::INSPECTION_STATUS_OPEN);
    insp.set_planned_date(FormatDate(planned));
    SetTimestamp(now, insp.mutable_started_at());
    SetTimestamp(now, insp.mutable_update_time());
    insp.set_exemption_reason(request.exemption_reason());
    insp.set_joint(request.joint());
    *insp.mutable_joint_departments() = request.joint_departments();
    txn.exec_params(kInsertInspection, insp.inspection_id(), request.idempotency_key(),
                    static_cast<int>(insp.origin()), insp.origin_ref(), insp.uscc(),
                    PgTextArray(items), PgTextArray(inspector_ids), static_cast<int>(insp.step()),
                    static_cast<int>(insp.status()), insp.planned_date(),
                    static_cast<int>(planned.year()),
                    static_cast<double>(absl::ToUnixMicros(now)) / 1e6, draw_id,
                    EncodeMessage(insp), insp.joint());
    insp.set_etag("1");
    *response = std::move(insp);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoGetInspection(const v1::GetInspectionRequest& request,
                                                    v1::Inspection* response) {
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    int64_t version = 0;
    return LoadInspection(txn, request.inspection_id(), false, response, &version);
  });
}

absl::Status InspectionServiceImpl::DoListInspections(const v1::ListInspectionsRequest& request,
                                                      v1::ListInspectionsResponse* response) {
  const int page_size = request.page_size() <= 0 ? 50 : std::min(request.page_size(), 500);
  int offset = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &offset)) {
    return FieldError("page_token", "not a token returned by this method");
  }
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result rows = txn.exec_params(
        kListInspections, request.uscc(), static_cast<int>(request.origin()),
        static_cast<int>(request.status()), request.year(), request.draw_id(), page_size, offset);
    for (const auto& r : rows) {
      int64_t version = 0;
      if (absl::Status s = LoadInspection(txn, r[0].c_str(), false, response->add_inspections(),
                                          &version);
          !s.ok()) {
        return s;
      }
      response->set_total_size(r[1].as<int>());
    }
    if (offset + static_cast<int>(rows.size()) < response->total_size()) {
      response->set_next_page_token(absl::StrCat(offset + page_size));
    }
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoRecordFindings(const v1::RecordFindingsRequest& request,
                                                     v1::Inspection* response) {
  if (!v1::InspectionStep_IsValid(request.step())) return FieldError("step", "unknown value");
  const absl::Time now = deps_.clock.Now();
  const absl::CivilDay today = deps_.clock.Today();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::Inspection insp;
    int64_t version = 0;
    if (absl::Status s = LoadInspection(txn, request.inspection_id(), true, &insp, &version);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckEtag(request.etag(), version); !s.ok()) return s;
    if (insp.status() != v1::INSPECTION_STATUS_OPEN) {
      return common::StateError("inspection", v1::InspectionStatus_Name(insp.status()),
                                "record findings");
    }
    const v1::InspectionStep target =
        request.step() == v1::INSPECTION_STEP_UNSPECIFIED ? insp.step() : request.step();
    // Record entries first (they may be what the next step requires).
    for (int i = 0; i < request.record_entries_size(); ++i) {
      v1::RecordEntry entry = request.record_entries(i);
      if (absl::Status s = ValidateEntry(entry, target, i); !s.ok()) return s;
      if (entry.step() > target) {
        return FieldError(absl::StrCat("record_entries[", i, "].step"),
                          "lies beyond the step the inspection reaches");
      }
      InsertEntry(txn, insp.inspection_id(), entry, now);
      *insp.add_record_entries() = entry;
    }
    const bool findings_allowed = target >= v1::INSPECTION_STEP_CHECK;
    if ((request.findings_size() > 0 || request.hazards_size() > 0) && !findings_allowed) {
      return common::StateError("inspection step", v1::InspectionStep_Name(insp.step()),
                                "record findings or hazards before the CHECK (检查) step");
    }
    absl::flat_hash_set<std::string> items(insp.check_item_codes().begin(),
                                           insp.check_item_codes().end());
    absl::flat_hash_set<std::string> finding_ids;
    for (const auto& f : insp.findings()) finding_ids.insert(f.finding_id());
    for (int i = 0; i < request.findings_size(); ++i) {
      v1::Finding f = request.findings(i);
      const std::string field = absl::StrCat("findings[", i, "]");
      if (!items.contains(f.check_item_code())) {
        return FieldError(absl::StrCat(field, ".check_item_code"),
                          "is not one of the inspection's check items");
      }
      if (!f.compliant() && f.description().empty()) {
        return FieldError(absl::StrCat(field, ".description"), "required for a non-compliance");
      }
      if (f.finding_id().empty()) f.set_finding_id(common::NewUuid());
      finding_ids.insert(f.finding_id());
      *insp.add_findings() = f;
    }
    if (absl::Status s = CheckStepAdvance(insp.step(), target, FactsOf(insp)); !s.ok()) return s;
    insp.set_step(target);
    for (int i = 0; i < request.hazards_size(); ++i) {
      v1::Hazard h = request.hazards(i);
      const std::string field = absl::StrCat("hazards[", i, "]");
      if (h.level() != v1::HAZARD_LEVEL_GENERAL && h.level() != v1::HAZARD_LEVEL_MAJOR) {
        return FieldError(absl::StrCat(field, ".level"), "GENERAL or MAJOR is required");
      }
      if (h.description().empty()) {
        return FieldError(absl::StrCat(field, ".description"), "is required");
      }
      if (!h.check_item_code().empty() && !items.contains(h.check_item_code())) {
        return FieldError(absl::StrCat(field, ".check_item_code"),
                          "is not one of the inspection's check items");
      }
      if (!h.finding_id().empty() && !finding_ids.contains(h.finding_id())) {
        return FieldError(absl::StrCat(field, ".finding_id"), "no such finding");
      }
      absl::CivilDay deadline;
      if (!h.rectification_deadline().empty()) {
        auto parsed = common::ParseDate(h.rectification_deadline());
        if (!parsed.ok()) {
          return FieldError(absl::StrCat(field, ".rectification_deadline"), "must be YYYY-MM-DD");
        }
        if (*parsed < today) {
          return FieldError(absl::StrCat(field, ".rectification_deadline"), "lies in the past");
        }
        deadline = *parsed;
      } else {
        const int wd = h.rectification_working_days() > 0 ? h.rectification_working_days()
                                                          : deps_.options.default_rectification_wd;
        auto computed = deps_.calendar->AddWorkingDays(today, wd);
        if (!computed.ok()) return computed.status();
        deadline = *computed;
      }
      h.set_hazard_id(common::NewUuid());
      h.set_inspection_id(insp.inspection_id());
      h.set_uscc(insp.uscc());
      h.set_rectification_deadline(FormatDate(deadline));
      h.set_status(v1::HAZARD_STATUS_OPEN);
      h.clear_rectification();
      h.clear_verification();
      h.set_credit_event_sent(false);
      SetTimestamp(now, h.mutable_create_time());
      h.clear_etag();
      txn.exec_params(kInsertHazard, h.hazard_id(), h.inspection_id(), h.uscc(),
                      static_cast<int>(h.level()), static_cast<int>(h.status()),
                      h.rectification_deadline(), static_cast<int>(today.year()),
                      EncodeMessage(h));
      h.set_etag("1");
      *insp.add_hazards() = h;
    }
    SetTimestamp(now, insp.mutable_update_time());
    auto saved = SaveInspection(txn, insp, false);
    if (!saved.ok()) return saved.status();
    *response = std::move(insp);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoCloseInspection(const v1::CloseInspectionRequest& request,
                                                      v1::Inspection* response) {
  if (request.result() == v1::INSPECTION_RESULT_UNSPECIFIED ||
      !v1::InspectionResult_IsValid(request.result())) {
    return FieldError("result", "is required");
  }
  if (request.conclusion().empty()) return FieldError("conclusion", "is required");
  if (request.closed_by().empty()) return FieldError("closed_by", "is required");
  const absl::Time now = deps_.clock.Now();
  const absl::CivilDay today = deps_.clock.Today();
  auto due = deps_.calendar->AddWorkingDays(today, deps_.options.result_publication_wd);
  if (!due.ok()) return due.status();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::Inspection insp;
    int64_t version = 0;
    if (absl::Status s = LoadInspection(txn, request.inspection_id(), true, &insp, &version);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckEtag(request.etag(), version); !s.ok()) return s;
    if (insp.status() != v1::INSPECTION_STATUS_OPEN) {
      return common::StateError("inspection", v1::InspectionStatus_Name(insp.status()), "close");
    }
    if (insp.step() != v1::INSPECTION_STEP_FEEDBACK) {
      return common::StateError("inspection step", v1::InspectionStep_Name(insp.step()),
                                "close before the FEEDBACK (反馈) step");
    }
    for (int i = 0; i < request.record_entries_size(); ++i) {
      v1::RecordEntry entry = request.record_entries(i);
      if (absl::Status s = ValidateEntry(entry, v1::INSPECTION_STEP_FEEDBACK, i); !s.ok()) return s;
      InsertEntry(txn, insp.inspection_id(), entry, now);
      *insp.add_record_entries() = entry;
    }
    if (FactsOf(insp).record_entries_in_feedback == 0) {
      return absl::FailedPreconditionError(
          "closing requires a feedback (反馈) record entry, e.g. the signed feedback form");
    }
    int major = 0;
    for (const auto& h : insp.hazards()) major += h.level() == v1::HAZARD_LEVEL_MAJOR ? 1 : 0;
    if (request.result() == v1::INSPECTION_RESULT_NO_ISSUES && insp.hazards_size() > 0) {
      return FieldError("result", "NO_ISSUES contradicts the recorded hazards");
    }
    if (request.result() == v1::INSPECTION_RESULT_HAZARDS_FOUND && insp.hazards_size() == 0) {
      return FieldError("result", "HAZARDS_FOUND needs at least one recorded hazard");
    }
    insp.set_status(v1::INSPECTION_STATUS_CLOSED);
    insp.set_result(request.result());
    insp.set_conclusion(request.conclusion());
    SetTimestamp(now, insp.mutable_closed_at());
    SetTimestamp(now, insp.mutable_update_time());
    insp.set_result_publication_due_date(FormatDate(*due));
    auto saved = SaveInspection(txn, insp, true);
    if (!saved.ok()) return saved.status();

    if (insp.origin() == v1::INSPECTION_ORIGIN_COMPLAINT) {
      pqxx::result c = txn.exec_params(kSelectComplaintForUpdate, insp.origin_ref());
      if (!c.empty()) {
        v1::Complaint complaint;
        if (absl::Status s = DecodeMessage(c[0][0].c_str(), &complaint); !s.ok()) return s;
        complaint.set_status(v1::COMPLAINT_STATUS_CLOSED);
        complaint.set_handling_note(request.conclusion());
        txn.exec_params(kUpdateComplaint, complaint.complaint_id(), EncodeMessage(complaint));
      }
    }
    events::v1::InspectionResultPublished published;
    published.set_inspection_id(insp.inspection_id());
    if (insp.origin() == v1::INSPECTION_ORIGIN_DRAW) published.set_draw_id(insp.origin_ref());
    published.set_uscc(insp.uscc());
    published.set_enterprise_name(insp.enterprise_name());
    pqxx::result names = txn.exec_params(kSelectCheckItemFlags, PgTextArray(insp.check_item_codes()));
    for (const auto& r : names) {
      published.add_check_item_codes(r[0].c_str());
      published.add_check_item_names(r[1].c_str());
    }
    published.set_inspected_date(insp.planned_date());
    published.set_closed_date(FormatDate(today));
    published.set_result(static_cast<events::v1::InspectionResult>(insp.result()));
    published.set_hazards_found(insp.hazards_size());
    published.set_major_hazards_found(major);
    published.set_summary(insp.conclusion());
    pqxx::result team = txn.exec_params(kSelectInspectorForTeam,
                                        PgTextArray(insp.inspector_ids()), insp.uscc());
    for (const auto& r : team) published.add_inspector_names(r[1].c_str());
    published.set_authority(deps_.options.authority);
    auto enqueued = common::EnqueueOutbox(
        txn, common::MakeEnvelopeEvent("inspection", common::DeliverEventMethod("disclosure"),
                                       "inspection", insp.inspection_id(),
                                       "inspection.result_published", published, now));
    if (!enqueued.ok()) return enqueued.status();
    *response = std::move(insp);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoListHazards(const v1::ListHazardsRequest& request,
                                                  v1::ListHazardsResponse* response) {
  const int page_size = request.page_size() <= 0 ? 100 : std::min(request.page_size(), 1000);
  int offset = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &offset)) {
    return FieldError("page_token", "not a token returned by this method");
  }
  const std::string today = FormatDate(deps_.clock.Today());
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result rows = txn.exec_params(kListHazards, request.uscc(), request.inspection_id(),
                                        static_cast<int>(request.level()),
                                        static_cast<int>(request.status()), request.overdue_only(),
                                        today, page_size, offset);
    for (const auto& r : rows) {
      v1::Hazard* h = response->add_hazards();
      if (absl::Status s = DecodeMessage(r[0].c_str(), h); !s.ok()) return s;
      h->set_etag(absl::StrCat(r[1].as<int64_t>()));
      response->set_total_size(r[2].as<int>());
    }
    if (offset + static_cast<int>(rows.size()) < response->total_size()) {
      response->set_next_page_token(absl::StrCat(offset + page_size));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Hazard> InspectionServiceImpl::MutateHazard(
    const std::string& hazard_id, const std::string& etag,
    const std::function<absl::Status(v1::Hazard&)>& change) {
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Hazard> {
    pqxx::result row = txn.exec_params(kSelectHazardForUpdate, hazard_id);
    if (row.empty()) return absl::NotFoundError(absl::StrCat("hazard ", hazard_id));
    v1::Hazard h;
    if (absl::Status s = DecodeMessage(row[0][0].c_str(), &h); !s.ok()) return s;
    if (absl::Status s = CheckEtag(etag, row[0][1].as<int64_t>()); !s.ok()) return s;
    if (absl::Status s = change(h); !s.ok()) return s;
    h.clear_etag();
    pqxx::result r = txn.exec_params(kUpdateHazard, h.hazard_id(), static_cast<int>(h.status()),
                                     h.rectification_deadline(), EncodeMessage(h),
                                     h.credit_event_sent());
    h.set_etag(absl::StrCat(r[0][0].as<int64_t>()));
    return h;
  });
}

absl::Status InspectionServiceImpl::DoRectifyHazard(const v1::RectifyHazardRequest& request,
                                                    v1::Hazard* response) {
  if (request.measures().empty()) return FieldError("measures", "is required");
  if (request.reported_by().empty()) return FieldError("reported_by", "is required");
  const absl::CivilDay today = deps_.clock.Today();
  absl::CivilDay rectified = today;
  if (!request.rectified_date().empty()) {
    auto parsed = common::ParseDate(request.rectified_date());
    if (!parsed.ok()) return FieldError("rectified_date", "must be a YYYY-MM-DD date");
    if (*parsed > today) return FieldError("rectified_date", "lies in the future");
    rectified = *parsed;
  }
  const absl::Time now = deps_.clock.Now();
  auto h = MutateHazard(request.hazard_id(), request.etag(), [&](v1::Hazard& h) -> absl::Status {
    if (h.status() != v1::HAZARD_STATUS_OPEN && h.status() != v1::HAZARD_STATUS_REOPENED) {
      return common::StateError("hazard", v1::HazardStatus_Name(h.status()), "report rectified");
    }
    h.set_status(v1::HAZARD_STATUS_RECTIFIED);
    auto* r = h.mutable_rectification();
    r->set_measures(request.measures());
    r->mutable_evidence_refs()->CopyFrom(request.evidence_refs());
    r->set_rectified_date(FormatDate(rectified));
    r->set_reported_by(request.reported_by());
    SetTimestamp(now, r->mutable_reported_at());
    return absl::OkStatus();
  });
  if (!h.ok()) return h.status();
  *response = *std::move(h);
  return absl::OkStatus();
}

absl::Status InspectionServiceImpl::DoVerifyHazard(const v1::VerifyHazardRequest& request,
                                                   v1::Hazard* response) {
  if (request.verified_by().empty()) return FieldError("verified_by", "is required");
  const absl::CivilDay today = deps_.clock.Today();
  absl::CivilDay new_deadline = today;
  if (!request.passed()) {
    auto parsed = common::ParseDate(request.new_deadline());
    if (!parsed.ok()) {
      return FieldError("new_deadline", "a YYYY-MM-DD date is required when the re-check fails");
    }
    if (*parsed <= today) return FieldError("new_deadline", "must lie after today");
    new_deadline = *parsed;
  }
  const absl::Time now = deps_.clock.Now();
  auto h = MutateHazard(request.hazard_id(), request.etag(), [&](v1::Hazard& h) -> absl::Status {
    if (h.status() != v1::HAZARD_STATUS_RECTIFIED) {
      return common::StateError("hazard", v1::HazardStatus_Name(h.status()), "re-check (复查)");
    }
    auto* v = h.mutable_verification();
    v->set_passed(request.passed());
    v->set_note(request.note());
    v->set_verified_by(request.verified_by());
    SetTimestamp(now, v->mutable_verified_at());
    if (request.passed()) {
      h.set_status(v1::HAZARD_STATUS_VERIFIED);
      v->clear_new_deadline();
    } else {
      h.set_status(v1::HAZARD_STATUS_REOPENED);
      v->set_new_deadline(FormatDate(new_deadline));
      h.set_rectification_deadline(FormatDate(new_deadline));
    }
    return absl::OkStatus();
  });
  if (!h.ok()) return h.status();
  *response = *std::move(h);
  return absl::OkStatus();
}

absl::StatusOr<int> InspectionServiceImpl::SweepOverdueMajorHazards() {
  const absl::CivilDay today = deps_.clock.Today();
  const absl::Time now = deps_.clock.Now();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::StatusOr<int> {
    int reported = 0;
    for (const auto& r : txn.exec_params(kSelectOverdueMajor, FormatDate(today))) {
      v1::Hazard h;
      if (absl::Status s = DecodeMessage(r[0].c_str(), &h); !s.ok()) return s;
      credit::v1::RecordCreditEventRequest event;
      event.set_event_id(common::NewUuid());
      event.set_uscc(h.uscc());
      event.set_subject_name(r[2].c_str());
      event.set_kind(credit::v1::CREDIT_RECORD_KIND_REFUSAL_TO_RECTIFY);
      event.set_severity(credit::v1::SEVERITY_GENERAL);
      event.set_source_service("inspection");
      event.set_decision_ref(h.hazard_id());
      event.set_summary(absl::StrCat("重大事故隐患未在整改期限 ", h.rectification_deadline(),
                                     " 前整改: ", h.description()));
      event.set_basis("《安全生产法》第一百零二条");
      event.set_occurred_date(h.rectification_deadline());
      event.set_decided_date(FormatDate(today));
      common::OutboxEvent outbox;
      outbox.event_id = event.event_id();
      outbox.aggregate_type = "hazard";
      outbox.aggregate_id = h.hazard_id();
      outbox.event_type = "inspection.major_hazard_overdue";
      outbox.target_method = kRecordCreditEvent;
      outbox.payload = event.SerializeAsString();
      auto enqueued = common::EnqueueOutbox(txn, outbox);
      if (!enqueued.ok()) return enqueued.status();
      h.set_credit_event_sent(true);
      txn.exec_params(kUpdateHazard, h.hazard_id(), static_cast<int>(h.status()),
                      h.rectification_deadline(), EncodeMessage(h), true);
      ++reported;
    }
    (void)now;
    return reported;
  });
}

}  // namespace regsuite::inspection
