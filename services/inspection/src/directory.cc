// 两库一单: the enterprise directory (with bulk import), inspectors and check items.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "directory_validation.h"
#include "inspection_service.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/status.h"
#include "store_util.h"

namespace regsuite::inspection {
namespace {

constexpr char kSelectEnterprise[] =
    "SELECT uscc, name, industry, region_code, address, legal_representative, risk_level, "
    "standardisation_grade, key_enterprise, specialised_sme, array_to_string(tags, E'\\x1f'), "
    "operating_status, source, version, extract(epoch from update_time)::float8 "
    "FROM enterprises WHERE uscc = $1";

// One statement upserts many rows (unnest of parallel arrays); xmax = 0 marks an insert. An
// unchanged row is not rewritten (WHERE ... IS DISTINCT FROM) and so is not returned.
constexpr char kUpsertEnterprises[] = R"SQL(
INSERT INTO enterprises AS e (uscc, name, industry, region_code, address, legal_representative,
  risk_level, standardisation_grade, key_enterprise, specialised_sme, tags, operating_status,
  source)
SELECT u.uscc, u.name, u.industry, u.region_code, u.address, u.legal_representative,
  u.risk_level, u.grade, u.key_enterprise, u.sme,
  CASE WHEN u.tags = '' THEN '{}'::text[] ELSE string_to_array(u.tags, E'\x1f') END,
  u.status, u.source
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
            $8::int[], $9::bool[], $10::bool[], $11::text[], $12::int[], $13::text[])
  AS u(uscc, name, industry, region_code, address, legal_representative, risk_level, grade,
       key_enterprise, sme, tags, status, source)
ON CONFLICT (uscc) DO UPDATE SET name = EXCLUDED.name, industry = EXCLUDED.industry,
  region_code = EXCLUDED.region_code, address = EXCLUDED.address,
  legal_representative = EXCLUDED.legal_representative, risk_level = EXCLUDED.risk_level,
  standardisation_grade = EXCLUDED.standardisation_grade,
  key_enterprise = EXCLUDED.key_enterprise, specialised_sme = EXCLUDED.specialised_sme,
  tags = EXCLUDED.tags, operating_status = EXCLUDED.operating_status, source = EXCLUDED.source,
  version = e.version + 1, update_time = now()
WHERE (e.name, e.industry, e.region_code, e.address, e.legal_representative, e.risk_level,
       e.standardisation_grade, e.key_enterprise, e.specialised_sme, e.tags,
       e.operating_status, e.source)
  IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.industry, EXCLUDED.region_code, EXCLUDED.address,
       EXCLUDED.legal_representative, EXCLUDED.risk_level, EXCLUDED.standardisation_grade,
       EXCLUDED.key_enterprise, EXCLUDED.specialised_sme, EXCLUDED.tags,
       EXCLUDED.operating_status, EXCLUDED.source)
RETURNING (xmax = 0) AS inserted
)SQL";

constexpr char kSelectEnterpriseVersion[] =
    "SELECT version FROM enterprises WHERE uscc = $1 FOR UPDATE";
constexpr char kSelectImportBatch[] = "SELECT report FROM import_batches WHERE batch_id = $1";
constexpr char kInsertImportBatch[] =
    "INSERT INTO import_batches (batch_id, report) VALUES ($1, $2)";

constexpr char kSelectInspectorVersion[] =
    "SELECT version FROM inspectors WHERE inspector_id = $1 FOR UPDATE";
constexpr char kUpsertInspector[] = R"SQL(
INSERT INTO inspectors AS i (inspector_id, name, certificate_no, certificate_expiry, unit,
  region_code, active, conflict_usccs, industries)
VALUES ($1, $2, $3, $4::date, $5, $6, $7, $8::text[], $9::text[])
ON CONFLICT (inspector_id) DO UPDATE SET name = EXCLUDED.name,
  certificate_no = EXCLUDED.certificate_no, certificate_expiry = EXCLUDED.certificate_expiry,
  unit = EXCLUDED.unit, region_code = EXCLUDED.region_code, active = EXCLUDED.active,
  conflict_usccs = EXCLUDED.conflict_usccs, industries = EXCLUDED.industries,
  version = i.version + 1, update_time = now()
RETURNING version, extract(epoch from update_time)::float8
)SQL";

constexpr char kSelectCheckItemVersion[] =
    "SELECT version FROM check_items WHERE code = $1 FOR UPDATE";
constexpr char kUpsertCheckItem[] = R"SQL(
INSERT INTO check_items AS c (code, name, legal_basis, industries, safety_critical, description,
  effective_from)
VALUES ($1, $2, $3, $4::text[], $5, $6, $7)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, legal_basis = EXCLUDED.legal_basis,
  industries = EXCLUDED.industries, safety_critical = EXCLUDED.safety_critical,
  description = EXCLUDED.description, effective_from = EXCLUDED.effective_from,
  version = c.version + 1, update_time = now()
RETURNING version, extract(epoch from update_time)::float8
)SQL";

absl::Time FromEpoch(double seconds) { return absl::FromUnixMicros(static_cast<int64_t>(seconds * 1e6)); }

void RowToEnterprise(const pqxx::row& r, v1::Enterprise* e) {
  e->set_uscc(r[0].c_str());
  e->set_name(r[1].c_str());
  e->set_industry(r[2].c_str());
  e->set_region_code(r[3].c_str());
  e->set_address(r[4].c_str());
  e->set_legal_representative(r[5].c_str());
  e->set_risk_level(static_cast<v1::RiskLevel>(r[6].as<int>()));
  e->set_standardisation_grade(static_cast<v1::StandardisationGrade>(r[7].as<int>()));
  e->set_key_enterprise(r[8].as<bool>());
  e->set_specialised_sme(r[9].as<bool>());
  for (auto& tag : SplitUnitSeparated(r[10].c_str())) e->add_tags(tag);
  e->set_operating_status(static_cast<v1::EnterpriseStatus>(r[11].as<int>()));
  e->set_source(r[12].c_str());
  e->set_etag(absl::StrCat(r[13].as<int64_t>()));
  SetTimestamp(FromEpoch(r[14].as<double>()), e->mutable_update_time());
}

std::string JoinUnitSeparated(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += '\x1f';
    out += v;
  }
  return out;
}

// Parallel arrays of one upsert chunk.
struct EnterpriseColumns {
  std::vector<std::string> uscc, name, industry, region, address, legal_rep, tags, source;
  std::vector<std::string> risk, grade, key, sme, status;

  void Add(const v1::Enterprise& e) {
    uscc.push_back(e.uscc());
    name.push_back(e.name());
    industry.push_back(e.industry());
    region.push_back(e.region_code());
    address.push_back(e.address());
    legal_rep.push_back(e.legal_representative());
    tags.push_back(JoinUnitSeparated(e.tags()));
    source.push_back(e.source());
    risk.push_back(absl::StrCat(static_cast<int>(e.risk_level())));
    grade.push_back(absl::StrCat(static_cast<int>(e.standardisation_grade())));
    key.push_back(e.key_enterprise() ? "t" : "f");
    sme.push_back(e.specialised_sme() ? "t" : "f");
    status.push_back(absl::StrCat(static_cast<int>(e.operating_status())));
  }
  size_t size() const { return uscc.size(); }
};

// Upserts the chunk; returns (inserted, updated).
std::pair<int, int> UpsertChunk(pqxx::work& txn, const EnterpriseColumns& c) {
  pqxx::result r = txn.exec_params(
      kUpsertEnterprises, PgTextArray(c.uscc), PgTextArray(c.name), PgTextArray(c.industry),
      PgTextArray(c.region), PgTextArray(c.address), PgTextArray(c.legal_rep),
      PgTextArray(c.risk), PgTextArray(c.grade), PgTextArray(c.key), PgTextArray(c.sme),
      PgTextArray(c.tags), PgTextArray(c.status), PgTextArray(c.source));
  int inserted = 0;
  for (const auto& row : r) inserted += row[0].as<bool>() ? 1 : 0;
  return {inserted, static_cast<int>(r.size()) - inserted};
}

}  // namespace

absl::Status InspectionServiceImpl::DoUpsertEnterprise(const v1::UpsertEnterpriseRequest& request,
                                                       v1::Enterprise* response) {
  v1::Enterprise e = request.enterprise();
  if (e.uscc().empty()) e.set_uscc(request.uscc());
  if (!request.uscc().empty()) {
    auto path = common::Uscc::Parse(request.uscc());
    if (!path.ok()) return path.status();
    auto body = common::Uscc::Parse(e.uscc());
    if (body.ok() && !(*body == *path)) {
      return common::FieldError("enterprise.uscc", "must equal the uscc in the path");
    }
  }
  if (absl::Status s = NormaliseEnterprise(e); !s.ok()) return s;
  const std::string etag = request.etag().empty() ? request.enterprise().etag() : request.etag();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result current = txn.exec_params(kSelectEnterpriseVersion, e.uscc());
    if (!current.empty()) {
      if (absl::Status s = CheckEtag(etag, current[0][0].as<int64_t>()); !s.ok()) return s;
    } else if (!etag.empty()) {
      return absl::NotFoundError(absl::StrCat("enterprise ", e.uscc(), " not found (etag given)"));
    }
    EnterpriseColumns columns;
    columns.Add(e);
    UpsertChunk(txn, columns);
    pqxx::result row = txn.exec_params(kSelectEnterprise, e.uscc());
    RowToEnterprise(row[0], response);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoGetEnterprise(const v1::GetEnterpriseRequest& request,
                                                    v1::Enterprise* response) {
  auto uscc = common::Uscc::Parse(request.uscc());
  if (!uscc.ok()) return uscc.status();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result row = txn.exec_params(kSelectEnterprise, uscc->str());
    if (row.empty()) return absl::NotFoundError(absl::StrCat("enterprise ", uscc->str()));
    RowToEnterprise(row[0], response);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoImportEnterprises(
    const v1::ImportEnterprisesRequest& request, v1::ImportEnterprisesResponse* response) {
  const int rows = request.enterprises_size();
  if (rows > deps_.options.import_max_rows) {
    return common::FieldError(
        "enterprises", absl::StrCat("at most ", deps_.options.import_max_rows,
                                    " rows per call; split the import into batches"));
  }
  // Validate every row first: a bad row is reported and never written; good rows go on.
  std::vector<v1::Enterprise> good;
  good.reserve(rows);
  absl::flat_hash_map<std::string, int> first_row;
  v1::ImportEnterprisesResponse report;
  report.set_received(rows);
  report.set_dry_run(request.dry_run());
  for (int i = 0; i < rows; ++i) {
    v1::Enterprise e = request.enterprises(i);
    if (e.source().empty()) e.set_source(request.source().empty() ? "import" : request.source());
    absl::Status s = NormaliseEnterprise(e);
    std::string field, reason;
    if (!s.ok()) {
      std::string message(s.message());
      size_t colon = message.find(": ");
      field = colon == std::string::npos ? "" : message.substr(0, colon);
      reason = colon == std::string::npos ? message : message.substr(colon + 2);
    } else if (auto [it, fresh] = first_row.try_emplace(e.uscc(), i); !fresh) {
      field = "uscc";
      reason = absl::StrCat("duplicate of row ", it->second, " in this batch");
    }
    if (!field.empty() || !reason.empty()) {
      auto* rejected = report.add_rejected_rows();
      rejected->set_row_index(i);
      rejected->set_uscc(request.enterprises(i).uscc());
      rejected->set_field(field);
      rejected->set_reason(reason);
      continue;
    }
    good.push_back(std::move(e));
  }
  report.set_rejected(report.rejected_rows_size());
  if (request.dry_run()) {
    *response = std::move(report);
    return absl::OkStatus();
  }
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    if (!request.batch_id().empty()) {
      pqxx::result prior = txn.exec_params(kSelectImportBatch, request.batch_id());
      if (!prior.empty()) return DecodeMessage(prior[0][0].c_str(), response);
    }
    int inserted = 0, updated = 0;
    const size_t chunk = std::max(1, deps_.options.import_chunk_rows);
    for (size_t start = 0; start < good.size(); start += chunk) {
      EnterpriseColumns columns;
      for (size_t i = start; i < std::min(good.size(), start + chunk); ++i) columns.Add(good[i]);
      auto [ins, upd] = UpsertChunk(txn, columns);
      inserted += ins;
      updated += upd;
    }
    report.set_inserted(inserted);
    report.set_updated(updated);
    report.set_unchanged(static_cast<int>(good.size()) - inserted - updated);
    if (!request.batch_id().empty()) {
      txn.exec_params(kInsertImportBatch, request.batch_id(), EncodeMessage(report));
    }
    *response = report;
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoUpsertInspector(const v1::UpsertInspectorRequest& request,
                                                      v1::Inspector* response) {
  v1::Inspector i = request.inspector();
  if (i.inspector_id().empty()) i.set_inspector_id(request.inspector_id());
  if (!request.inspector_id().empty() && i.inspector_id() != request.inspector_id()) {
    return common::FieldError("inspector.inspector_id", "must equal the id in the path");
  }
  if (absl::Status s = NormaliseInspector(i); !s.ok()) return s;
  const std::string etag = request.etag().empty() ? request.inspector().etag() : request.etag();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result current = txn.exec_params(kSelectInspectorVersion, i.inspector_id());
    if (!current.empty()) {
      if (absl::Status s = CheckEtag(etag, current[0][0].as<int64_t>()); !s.ok()) return s;
    }
    pqxx::result r = txn.exec_params(kUpsertInspector, i.inspector_id(), i.name(),
                                     i.certificate_no(), i.certificate_expiry(), i.unit(),
                                     i.region_code(), i.active(), PgTextArray(i.conflict_usccs()),
                                     PgTextArray(i.industries()));
    *response = i;
    response->set_etag(absl::StrCat(r[0][0].as<int64_t>()));
    SetTimestamp(FromEpoch(r[0][1].as<double>()), response->mutable_update_time());
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoUpsertCheckItem(const v1::UpsertCheckItemRequest& request,
                                                      v1::CheckItem* response) {
  v1::CheckItem c = request.check_item();
  if (c.code().empty()) c.set_code(request.code());
  if (!request.code().empty() && c.code() != request.code()) {
    return common::FieldError("check_item.code", "must equal the code in the path");
  }
  if (absl::Status s = NormaliseCheckItem(c); !s.ok()) return s;
  const std::string etag = request.etag().empty() ? request.check_item().etag() : request.etag();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result current = txn.exec_params(kSelectCheckItemVersion, c.code());
    if (!current.empty()) {
      if (absl::Status s = CheckEtag(etag, current[0][0].as<int64_t>()); !s.ok()) return s;
    }
    pqxx::result r = txn.exec_params(kUpsertCheckItem, c.code(), c.name(), c.legal_basis(),
                                     PgTextArray(c.industries()), c.safety_critical(),
                                     c.description(), c.effective_from());
    *response = c;
    response->set_etag(absl::StrCat(r[0][0].as<int64_t>()));
    SetTimestamp(FromEpoch(r[0][1].as<double>()), response->mutable_update_time());
    return absl::OkStatus();
  });
}

}  // namespace regsuite::inspection
