// 年度监督检查计划: the annual plan per enterprise from credit tiers, key-enterprise flags and a
// reproducible random sample (README "Annual plan").
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "annual_plan_rules.h"
#include "inspection_service.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/random.h"
#include "regsuite/common/status.h"
#include "store_util.h"

namespace regsuite::inspection {
namespace {

using common::FieldError;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

constexpr char kSelectPlanIdByKey[] =
    "SELECT plan_id FROM annual_plans WHERE idempotency_key = $1";
// Builds of the same scope run one after the other (the row may not exist yet to lock).
constexpr char kLockScope[] = "SELECT pg_advisory_xact_lock(hashtext($1))";
constexpr char kSelectPlanIdByScope[] =
    "SELECT plan_id FROM annual_plans WHERE year = $1 AND region_code = $2 AND industry = $3";
constexpr char kSelectPlan[] = "SELECT plan FROM annual_plans WHERE plan_id = $1";
constexpr char kSelectPlanForUpdate[] =
    "SELECT plan FROM annual_plans WHERE plan_id = $1 FOR UPDATE";
constexpr char kSelectPool[] = R"SQL(
SELECT uscc, key_enterprise FROM enterprises
WHERE ($1::text = '' OR region_code LIKE $1::text || '%') AND ($2::text = '' OR industry = $2)
  AND operating_status IN (0, 1)
ORDER BY uscc COLLATE "C"
)SQL";
constexpr char kDeleteEntries[] = "DELETE FROM annual_plan_entries WHERE plan_id = $1";
constexpr char kUpsertPlan[] = R"SQL(
INSERT INTO annual_plans (plan_id, idempotency_key, year, region_code, industry, status,
  revision, plan)
VALUES ($1, NULLIF($2::text, ''), $3, $4, $5, $6, $7, $8)
ON CONFLICT (plan_id) DO UPDATE SET idempotency_key = excluded.idempotency_key,
  status = excluded.status, revision = excluded.revision, plan = excluded.plan,
  update_time = now()
)SQL";
constexpr char kPublishPlan[] =
    "UPDATE annual_plans SET status = $2, plan = $3, update_time = now() WHERE plan_id = $1";
// Names and regions come from the directory in the same statement (not held in memory for a
// pool of a million enterprises).
constexpr char kInsertEntries[] = R"SQL(
INSERT INTO annual_plan_entries (plan_id, uscc, name, region_code, industry, credit_tier,
  key_enterprise, sampled, category, inspections_due)
SELECT $1, e.uscc, e.name, e.region_code, e.industry, u.tier, u.key, u.sampled, u.category, u.due
FROM unnest($2::text[], $3::int[], $4::bool[], $5::bool[], $6::int[], $7::int[])
  AS u(uscc, tier, key, sampled, category, due)
JOIN enterprises e ON e.uscc = u.uscc
)SQL";
constexpr char kListEntries[] = R"SQL(
SELECT uscc, name, region_code, industry, credit_tier, key_enterprise, sampled
FROM annual_plan_entries
WHERE plan_id = $1 AND ($2 = 0 OR category = $2) AND uscc > $3
ORDER BY uscc LIMIT $4
)SQL";
constexpr char kCountEntries[] = R"SQL(
SELECT count(*)::int FROM annual_plan_entries WHERE plan_id = $1 AND ($2 = 0 OR category = $2)
)SQL";

AnnualPlanRules RulesOf(const v1::AnnualPlan& plan) {
  return {plan.black_list_min_per_year(), plan.red_list_max_per_year(),
          plan.key_enterprise_inspections()};
}

void Tally(v1::AnnualPlanTally* tally, int inspections) {
  tally->set_enterprises(tally->enterprises() + 1);
  tally->set_inspections(tally->inspections() + inspections);
}

absl::StatusOr<int> PageSizeOf(int32_t requested, const char* field) {
  if (requested < 0) return FieldError(field, "must not be negative");
  return requested == 0 ? kDefaultPageSize : std::min<int>(requested, kMaxPageSize);
}

// One pool enterprise while the plan is computed.
struct PoolRow {
  bool key_enterprise = false;
  bool sampled = false;
  int credit_tier = 0;
  InspectionsDue due;
};

// Parallel arrays of one multi-row insert of plan entries.
struct EntryColumns {
  std::vector<std::string> uscc, tier, key, sampled, category, due;
  void Add(const std::string& u, const PoolRow& row) {
    uscc.push_back(u);
    tier.push_back(absl::StrCat(row.credit_tier));
    key.push_back(row.key_enterprise ? "t" : "f");
    sampled.push_back(row.sampled ? "t" : "f");
    category.push_back(absl::StrCat(static_cast<int>(row.due.category)));
    due.push_back(absl::StrCat(row.due.inspections));
  }
  void Insert(pqxx::work& txn, const std::string& plan_id) const {
    txn.exec_params(kInsertEntries, plan_id, PgTextArray(uscc), PgTextArray(tier),
                    PgTextArray(key), PgTextArray(sampled), PgTextArray(category),
                    PgTextArray(due));
  }
};

// A page of the plan's entries by USCC. The token is "<revision>.<last USCC>": a page token of
// an earlier build of the draft is refused.
absl::Status ListEntries(pqxx::work& txn, const v1::AnnualPlan& plan,
                         v1::AnnualPlanCategory category, int page_size,
                         const std::string& page_token,
                         google::protobuf::RepeatedPtrField<v1::AnnualPlanEntry>* out,
                         std::string* next_page_token, int32_t* total_size) {
  std::string after;
  if (!page_token.empty()) {
    std::pair<std::string, std::string> parts = absl::StrSplit(page_token, absl::MaxSplits('.', 1));
    int revision = 0;
    if (!absl::SimpleAtoi(parts.first, &revision) || parts.second.empty()) {
      return FieldError("page_token", "not a token returned by this method");
    }
    if (revision != plan.revision()) {
      return absl::FailedPreconditionError(
          "page_token: the draft plan was rebuilt since this page; list again from the start");
    }
    after = parts.second;
  }
  const AnnualPlanRules rules = RulesOf(plan);
  pqxx::result rows = txn.exec_params(kListEntries, plan.plan_id(), static_cast<int>(category),
                                      after, page_size + 1);
  for (int i = 0; i < std::min<int>(page_size, static_cast<int>(rows.size())); ++i) {
    const auto& r = rows[i];
    v1::AnnualPlanEntry* e = out->Add();
    e->set_uscc(r[0].c_str());
    e->set_name(r[1].c_str());
    e->set_region_code(r[2].c_str());
    e->set_industry(r[3].c_str());
    e->set_credit_tier(r[4].as<int>());
    e->set_key_enterprise(r[5].as<bool>());
    e->set_sampled(r[6].as<bool>());
    const InspectionsDue due =
        AnnualInspectionsDue({e->credit_tier(), e->key_enterprise(), e->sampled()}, rules);
    e->set_category(due.category);
    e->set_inspections_due(due.inspections);
    e->set_reason(due.reason);
  }
  if (static_cast<int>(rows.size()) > page_size) {
    *next_page_token = absl::StrCat(plan.revision(), ".", out->rbegin()->uscc());
  }
  *total_size = txn.exec_params(kCountEntries, plan.plan_id(), static_cast<int>(category))[0][0]
                    .as<int>();
  return absl::OkStatus();
}

absl::Status LoadPlan(pqxx::work& txn, const std::string& plan_id, bool for_update,
                      v1::AnnualPlan* plan) {
  pqxx::result row = txn.exec_params(for_update ? kSelectPlanForUpdate : kSelectPlan, plan_id);
  if (row.empty()) return absl::NotFoundError(absl::StrCat("annual plan ", plan_id));
  return DecodeMessage(row[0][0].c_str(), plan);
}

// The stored plan with its first page of entries, as Build and Get return it.
absl::Status PlanView(pqxx::work& txn, const std::string& plan_id, int page_size,
                      v1::AnnualPlan* response) {
  if (absl::Status s = LoadPlan(txn, plan_id, false, response); !s.ok()) return s;
  int32_t total = 0;
  return ListEntries(txn, *response, v1::ANNUAL_PLAN_CATEGORY_UNSPECIFIED, page_size, "",
                     response->mutable_entries(), response->mutable_next_page_token(), &total);
}

std::string ScopeText(int year, const std::string& region, const std::string& industry) {
  return absl::StrCat(year, " region '", region, "' industry '", industry, "'");
}

}  // namespace

absl::Status InspectionServiceImpl::DoBuildAnnualPlan(const v1::BuildAnnualPlanRequest& request,
                                                      v1::AnnualPlan* response) {
  const absl::CivilDay today = deps_.clock.Today();
  const int year = request.year() == 0 ? static_cast<int>(today.year()) : request.year();
  if (year != today.year() && year != today.year() + 1) {
    return FieldError("year", absl::StrCat("plans are built for the current or the next year (",
                                           today.year(), " or ", today.year() + 1, ")"));
  }
  const std::string& region = request.region_code();
  if (region.size() > 6 || !std::all_of(region.begin(), region.end(), absl::ascii_isdigit)) {
    return FieldError("region_code", "must be a prefix of a 6-digit region code");
  }
  if (request.built_by().empty()) return FieldError("built_by", "is required");
  auto page_size = PageSizeOf(request.page_size(), "page_size");
  if (!page_size.ok()) return page_size.status();
  const double ratio = deps_.options.annual_plan_sample_per_mille / 1000.0;
  if (auto k = AnnualSampleSize(ratio, 0); !k.ok()) {
    return absl::FailedPreconditionError(
        "inspection.annual_plan_sample_per_mille must be between 0 and 1000");
  }
  const uint64_t seed =
      request.has_seed() ? request.seed() : common::RandomSource::FromOs().seed();
  const absl::Time now = deps_.clock.Now();
  const std::string scope = ScopeText(year, region, request.industry());

  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    if (!request.idempotency_key().empty()) {
      pqxx::result prior = txn.exec_params(kSelectPlanIdByKey, request.idempotency_key());
      if (!prior.empty()) return PlanView(txn, prior[0][0].c_str(), *page_size, response);
    }
    txn.exec_params(kLockScope, absl::StrCat("inspection.annual_plan ", scope));
    v1::AnnualPlan plan;
    pqxx::result existing = txn.exec_params(kSelectPlanIdByScope, year, region, request.industry());
    if (!existing.empty()) {
      v1::AnnualPlan draft;
      if (absl::Status s = LoadPlan(txn, existing[0][0].c_str(), true, &draft); !s.ok()) return s;
      if (draft.status() == v1::ANNUAL_PLAN_STATUS_PUBLISHED) {
        return absl::FailedPreconditionError(absl::StrCat(
            "annual plan ", draft.plan_id(), " for ", scope,
            " is published; a published plan is not rebuilt"));
      }
      txn.exec_params(kDeleteEntries, draft.plan_id());
      plan.set_plan_id(draft.plan_id());
      plan.set_revision(draft.revision());
    } else {
      plan.set_plan_id(common::NewUuid());
    }
    plan.set_revision(plan.revision() + 1);
    plan.set_etag(absl::StrCat(plan.revision()));
    plan.set_year(year);
    plan.set_region_code(region);
    plan.set_industry(request.industry());
    plan.set_status(v1::ANNUAL_PLAN_STATUS_DRAFT);
    plan.set_seed(seed);
    plan.set_algorithm(std::string(kAnnualPlanAlgorithm));
    plan.set_sample_ratio(ratio);
    plan.set_black_list_min_per_year(deps_.options.black_list_min_per_year);
    plan.set_red_list_max_per_year(deps_.options.red_list_max_per_year);
    plan.set_key_enterprise_inspections(std::max(1, deps_.options.annual_plan_key_inspections));
    plan.set_built_by(request.built_by());
    SetTimestamp(now, plan.mutable_built_at());

    std::vector<std::string> usccs;
    std::vector<PoolRow> pool;
    for (const auto& r : txn.exec_params(kSelectPool, region, request.industry())) {
      usccs.emplace_back(r[0].c_str());
      pool.push_back({.key_enterprise = r[1].as<bool>()});
    }
    auto tiers = LookUpCreditTiers(txn, usccs);
    if (!tiers.ok()) return tiers.status();
    plan.set_credit_check(tiers->source);

    // The sample pool, in USCC order: neither black-listed nor key enterprises.
    std::vector<size_t> sample_pool;
    std::vector<absl::string_view> sample_usccs;
    for (size_t i = 0; i < pool.size(); ++i) {
      if (auto it = tiers->tiers.find(usccs[i]); it != tiers->tiers.end()) {
        pool[i].credit_tier = it->second;
      }
      if (InAnnualSamplePool(pool[i].credit_tier, pool[i].key_enterprise)) {
        sample_pool.push_back(i);
        sample_usccs.push_back(usccs[i]);
      }
    }
    auto k = AnnualSampleSize(ratio, static_cast<int64_t>(sample_pool.size()));
    if (!k.ok()) return k.status();
    for (uint32_t position : AnnualSample(seed, static_cast<uint32_t>(sample_pool.size()),
                                          static_cast<uint32_t>(*k))) {
      pool[sample_pool[position]].sampled = true;
    }
    plan.set_sample_pool_size(static_cast<int64_t>(sample_pool.size()));
    plan.set_sample_pool_hash(common::Sha256Hex(CanonicalSamplePool(sample_usccs)));
    plan.set_sample_size(*k);

    const AnnualPlanRules rules = RulesOf(plan);
    v1::AnnualPlanCounts& counts = *plan.mutable_counts();
    counts.set_enterprises(static_cast<int64_t>(pool.size()));
    std::vector<size_t> planned;
    for (size_t i = 0; i < pool.size(); ++i) {
      PoolRow& row = pool[i];
      row.due = AnnualInspectionsDue({row.credit_tier, row.key_enterprise, row.sampled}, rules);
      const int n = row.due.inspections;
      switch (row.due.category) {
        case v1::ANNUAL_PLAN_CATEGORY_BLACK_LIST: Tally(counts.mutable_black_list(), n); break;
        case v1::ANNUAL_PLAN_CATEGORY_RED_LIST: Tally(counts.mutable_red_list(), n); break;
        case v1::ANNUAL_PLAN_CATEGORY_KEY_ENTERPRISE: Tally(counts.mutable_key_enterprises(), n); break;
        case v1::ANNUAL_PLAN_CATEGORY_SAMPLED: Tally(counts.mutable_sampled(), n); break;
        default: break;
      }
      if (n > 0) {
        counts.set_enterprises_planned(counts.enterprises_planned() + 1);
        counts.set_inspections_due(counts.inspections_due() + n);
        planned.push_back(i);
      }
    }
    txn.exec_params(kUpsertPlan, plan.plan_id(), request.idempotency_key(), year, region,
                    request.industry(), static_cast<int>(plan.status()), plan.revision(),
                    EncodeMessage(plan));
    const size_t chunk = static_cast<size_t>(std::max(1, deps_.options.import_chunk_rows));
    for (size_t start = 0; start < planned.size(); start += chunk) {
      EntryColumns columns;
      for (size_t i = start; i < std::min(planned.size(), start + chunk); ++i) {
        columns.Add(usccs[planned[i]], pool[planned[i]]);
      }
      columns.Insert(txn, plan.plan_id());
    }
    return PlanView(txn, plan.plan_id(), *page_size, response);
  });
}

absl::Status InspectionServiceImpl::DoGetAnnualPlan(const v1::GetAnnualPlanRequest& request,
                                                    v1::AnnualPlan* response) {
  auto page_size = PageSizeOf(request.page_size(), "page_size");
  if (!page_size.ok()) return page_size.status();
  if (request.plan_id().empty() && request.year() == 0) {
    return FieldError("plan_id", "plan_id, or year with region_code and industry, is required");
  }
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    std::string plan_id = request.plan_id();
    if (plan_id.empty()) {
      pqxx::result row = txn.exec_params(kSelectPlanIdByScope, request.year(),
                                         request.region_code(), request.industry());
      if (row.empty()) {
        return absl::NotFoundError(absl::StrCat(
            "annual plan for ", ScopeText(request.year(), request.region_code(), request.industry())));
      }
      plan_id = row[0][0].c_str();
    }
    return PlanView(txn, plan_id, *page_size, response);
  });
}

absl::Status InspectionServiceImpl::DoListAnnualPlanEntries(
    const v1::ListAnnualPlanEntriesRequest& request, v1::ListAnnualPlanEntriesResponse* response) {
  auto page_size = PageSizeOf(request.page_size(), "page_size");
  if (!page_size.ok()) return page_size.status();
  if (!v1::AnnualPlanCategory_IsValid(request.category())) {
    return FieldError("category", "unknown category");
  }
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::AnnualPlan plan;
    if (absl::Status s = LoadPlan(txn, request.plan_id(), false, &plan); !s.ok()) return s;
    int32_t total = 0;
    absl::Status s = ListEntries(txn, plan, request.category(), *page_size, request.page_token(),
                                 response->mutable_entries(),
                                 response->mutable_next_page_token(), &total);
    response->set_total_size(total);
    return s;
  });
}

absl::Status InspectionServiceImpl::DoPublishAnnualPlan(
    const v1::PublishAnnualPlanRequest& request, v1::AnnualPlan* response) {
  if (request.published_by().empty()) return FieldError("published_by", "is required");
  const absl::Time now = deps_.clock.Now();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::AnnualPlan plan;
    if (absl::Status s = LoadPlan(txn, request.plan_id(), true, &plan); !s.ok()) return s;
    if (absl::Status s = CheckEtag(request.etag(), plan.revision()); !s.ok()) return s;
    if (plan.status() == v1::ANNUAL_PLAN_STATUS_DRAFT) {
      plan.set_status(v1::ANNUAL_PLAN_STATUS_PUBLISHED);
      plan.set_published_by(request.published_by());
      SetTimestamp(now, plan.mutable_published_at());
      txn.exec_params(kPublishPlan, plan.plan_id(), static_cast<int>(plan.status()),
                      EncodeMessage(plan));
    }
    return PlanView(txn, plan.plan_id(), kDefaultPageSize, response);
  });
}

}  // namespace regsuite::inspection
