// The annual plan (年度监督检查计划) from credit tiers, key flags and the reproducible sample, and
// the joint-inspection rule (联合检查) in StartInspection and DrawInspections; real PostgreSQL.
#include <map>
#include <set>

#include "inspection_harness.h"

using namespace inspection_test;

namespace {

// Credit listings as learnt from credit.listing_changed (the harness has no gateway).
void List(Harness& h, int n, int list_type) {
  h.Exec(absl::StrCat("INSERT INTO credit_listing_cache (uscc, listing_id, list_type, active) "
                      "VALUES ('", MakeUscc(n), "', 'L-", n, "', ", list_type, ", true)"));
}
void MakeKey(Harness& h, int n) {
  h.Exec(absl::StrCat("UPDATE enterprises SET key_enterprise = true WHERE uscc = '", MakeUscc(n), "'"));
}

v1::BuildAnnualPlanRequest BuildRequest(uint64_t seed) {
  v1::BuildAnnualPlanRequest req;
  req.set_year(2026);
  req.set_region_code("3301");
  req.set_seed(seed);
  req.set_built_by("计划科");
  req.set_page_size(7);
  return req;
}

// Every entry of the plan, through the first page and ListAnnualPlanEntries.
std::map<std::string, v1::AnnualPlanEntry> AllEntries(Harness& h, const v1::AnnualPlan& plan) {
  std::map<std::string, v1::AnnualPlanEntry> out;
  for (const auto& e : plan.entries()) out[e.uscc()] = e;
  std::string token = plan.next_page_token();
  while (!token.empty()) {
    v1::ListAnnualPlanEntriesRequest list;
    list.set_plan_id(plan.plan_id());
    list.set_page_size(7);
    list.set_page_token(token);
    v1::ListAnnualPlanEntriesResponse page;
    REQUIRE(CALL(h, ListAnnualPlanEntries, list, &page).ok());
    CHECK(page.total_size() == plan.counts().enterprises_planned());
    for (const auto& e : page.entries()) {
      CHECK(out.count(e.uscc()) == 0);
      out[e.uscc()] = e;
    }
    token = page.next_page_token();
  }
  return out;
}

std::set<std::string> Sampled(const std::map<std::string, v1::AnnualPlanEntry>& entries) {
  std::set<std::string> out;
  for (const auto& [uscc, e] : entries) {
    if (e.sampled()) out.insert(uscc);
  }
  return out;
}


v1::StartInspectionRequest Joint(int n, const std::string& item) {
  v1::StartInspectionRequest start = Start(n, v1::INSPECTION_ORIGIN_CASE, item);
  start.set_joint(true);
  start.add_joint_departments("市场监督管理局");
  return start;
}

}  // namespace

TEST_CASE("annual plan: black list ≥ 2, red list ≤ 1, key enterprises planned, the rest sampled at 5 % reproducibly from the seed") {
  Harness h;
  SeedDirectory(h, 200, 3);
  for (int n : {1, 2, 9}) List(h, n, 2);  // black
  for (int n : {3, 4, 7}) List(h, n, 1);  // red
  for (int n : {5, 6, 7, 9}) MakeKey(h, n);
  h.Exec(absl::StrCat("UPDATE enterprises SET operating_status = 2 WHERE uscc = '", MakeUscc(8), "'"));

  v1::AnnualPlan plan;
  REQUIRE(CALL(h, BuildAnnualPlan, BuildRequest(77), &plan).ok());
  CHECK(plan.status() == v1::ANNUAL_PLAN_STATUS_DRAFT);
  CHECK(plan.revision() == 1);
  CHECK(plan.seed() == 77);
  CHECK(plan.credit_check().rfind("listing_cache", 0) == 0);
  const auto& c = plan.counts();
  CHECK(c.enterprises() == 199);  // the suspended one is not planned
  CHECK(c.black_list().enterprises() == 3);
  CHECK(c.black_list().inspections() == 6);
  CHECK(c.key_enterprises().enterprises() == 2);
  CHECK(c.key_enterprises().inspections() == 2);
  CHECK(c.red_list().enterprises() == 3);
  // Pool: 199 − 3 black − 3 other key (5, 6, 7) = 193; ceil(5 % × 193) = 10.
  CHECK(plan.sample_pool_size() == 193);
  CHECK(plan.sample_size() == 10);
  CHECK(plan.sample_ratio() == Approx(0.05));

  const auto entries = AllEntries(h, plan);
  CHECK(static_cast<int64_t>(entries.size()) == c.enterprises_planned());
  CHECK(h.Count("SELECT count(*) FROM annual_plan_entries") == c.enterprises_planned());
  int64_t due = 0, red_planned = 0;
  for (const auto& [uscc, e] : entries) {
    due += e.inspections_due();
    CHECK(e.inspections_due() > 0);
    if (e.category() == v1::ANNUAL_PLAN_CATEGORY_BLACK_LIST) CHECK(e.inspections_due() == 2);
    if (e.category() == v1::ANNUAL_PLAN_CATEGORY_RED_LIST) {
      CHECK(e.inspections_due() == 1);
      ++red_planned;
    }
    if (e.category() == v1::ANNUAL_PLAN_CATEGORY_SAMPLED) CHECK(e.sampled());
  }
  CHECK(due == c.inspections_due());
  CHECK(entries.at(MakeUscc(1)).reason().find("MIN_INSPECTIONS_2_PER_YEAR") != std::string::npos);
  CHECK(entries.at(MakeUscc(9)).inspections_due() == 2);       // black and key
  CHECK(entries.at(MakeUscc(7)).inspections_due() == 1);       // red and key: capped
  CHECK(entries.at(MakeUscc(5)).category() == v1::ANNUAL_PLAN_CATEGORY_KEY_ENTERPRISE);
  CHECK(entries.count(MakeUscc(8)) == 0);
  CHECK(c.red_list().inspections() == red_planned);
  const std::set<std::string> sampled = Sampled(entries);
  CHECK(sampled.size() == 10);
  CHECK(c.sampled().enterprises() + (red_planned - 1) == 10);  // 7 is planned as key, not sampled

  // The same seed rebuilds the draft in place with the same sample; another seed differs.
  v1::AnnualPlan again;
  REQUIRE(CALL(h, BuildAnnualPlan, BuildRequest(77), &again).ok());
  CHECK(again.plan_id() == plan.plan_id());
  CHECK(again.revision() == 2);
  CHECK(again.sample_pool_hash() == plan.sample_pool_hash());
  CHECK(Sampled(AllEntries(h, again)) == sampled);
  CHECK(h.Count("SELECT count(*) FROM annual_plan_entries") == c.enterprises_planned());

  v1::AnnualPlan other;
  REQUIRE(CALL(h, BuildAnnualPlan, BuildRequest(78), &other).ok());
  CHECK(other.revision() == 3);
  CHECK(Sampled(AllEntries(h, other)) != sampled);

  // A page token of an earlier revision is refused.
  v1::ListAnnualPlanEntriesRequest stale;
  stale.set_plan_id(plan.plan_id());
  stale.set_page_token(plan.next_page_token());
  v1::ListAnnualPlanEntriesResponse page;
  CHECK(CALL(h, ListAnnualPlanEntries, stale, &page).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  // Found by year, region and industry; one category listed.
  v1::GetAnnualPlanRequest get;
  get.set_year(2026);
  get.set_region_code("3301");
  v1::AnnualPlan got;
  REQUIRE(CALL(h, GetAnnualPlan, get, &got).ok());
  CHECK(got.plan_id() == plan.plan_id());
  CHECK(got.seed() == 78);
  v1::ListAnnualPlanEntriesRequest blacks;
  blacks.set_plan_id(plan.plan_id());
  blacks.set_category(v1::ANNUAL_PLAN_CATEGORY_BLACK_LIST);
  REQUIRE(CALL(h, ListAnnualPlanEntries, blacks, &page).ok());
  CHECK(page.total_size() == 3);
  CHECK(page.entries_size() == 3);

  // Published: frozen; a stale etag is ABORTED; building again is refused.
  v1::PublishAnnualPlanRequest publish;
  publish.set_plan_id(plan.plan_id());
  publish.set_published_by("局长");
  publish.set_etag("1");
  v1::AnnualPlan published;
  CHECK(CALL(h, PublishAnnualPlan, publish, &published).error_code() == grpc::StatusCode::ABORTED);
  publish.set_etag("3");
  REQUIRE(CALL(h, PublishAnnualPlan, publish, &published).ok());
  CHECK(published.status() == v1::ANNUAL_PLAN_STATUS_PUBLISHED);
  grpc::Status refused = CALL(h, BuildAnnualPlan, BuildRequest(79), &again);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(refused.error_message().find("published") != std::string::npos);
  REQUIRE(CALL(h, GetAnnualPlan, get, &got).ok());
  CHECK(got.seed() == 78);
}

TEST_CASE("annual plan: the sample ratio is configuration; an idempotency key returns the plan it built; bad input changes nothing") {
  auto options = Harness::DefaultOptions();
  options.annual_plan_sample_per_mille = 200;
  options.annual_plan_key_inspections = 2;
  Harness h(options);
  SeedDirectory(h, 50, 3);
  MakeKey(h, 1);
  auto req = BuildRequest(5);
  req.clear_seed();
  req.set_idempotency_key("plan-2026");
  v1::AnnualPlan plan;
  REQUIRE(CALL(h, BuildAnnualPlan, req, &plan).ok());
  CHECK(plan.seed() != 0);
  CHECK(plan.sample_pool_size() == 49);
  CHECK(plan.sample_size() == 10);  // ceil(20 % × 49)
  CHECK(plan.counts().sampled().enterprises() == 10);
  CHECK(plan.counts().key_enterprises().inspections() == 2);
  CHECK(plan.counts().inspections_due() == 12);
  CHECK(plan.credit_check().rfind("listing_cache", 0) == 0);

  v1::AnnualPlan repeated;
  REQUIRE(CALL(h, BuildAnnualPlan, req, &repeated).ok());
  CHECK(repeated.revision() == 1);
  CHECK(repeated.seed() == plan.seed());

  auto past = BuildRequest(5);
  past.set_year(2025);
  grpc::Status s = CALL(h, BuildAnnualPlan, past, &repeated);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("year:", 0) == 0);
  auto bad_region = BuildRequest(5);
  bad_region.set_region_code("33A");
  CHECK(CALL(h, BuildAnnualPlan, bad_region, &repeated).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(h.Count("SELECT count(*) FROM annual_plans") == 1);
}

TEST_CASE("联合检查: after a joint inspection of an item, a routine inspection of it is refused unless higher order or emergency, and draws exclude the enterprise") {
  Harness h;
  SeedDirectory(h, 6, 4);
  v1::Inspection insp;
  auto no_departments = Joint(1, "WHP-01");
  no_departments.clear_joint_departments();
  grpc::Status invalid = CALL(h, StartInspection, no_departments, &insp);
  CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(invalid.error_message().rfind("joint_departments:", 0) == 0);

  for (int n : {1, 2, 3}) {
    REQUIRE(CALL(h, StartInspection, Joint(n, "WHP-01"), &insp).ok());
    CHECK(insp.joint());
    REQUIRE(insp.joint_departments_size() == 1);
  }
  v1::GetInspectionRequest get;
  get.set_inspection_id(insp.inspection_id());
  v1::Inspection stored;
  REQUIRE(CALL(h, GetInspection, get, &stored).ok());
  CHECK(stored.joint());
  CHECK(stored.joint_departments(0) == "市场监督管理局");
  CHECK(h.Count("SELECT count(*) FROM inspections WHERE joint") == 3);

  // Routine origins on the same item: refused naming the rule (the joint one was a case, so
  // 一事不再查 alone would not refuse them); nothing written.
  for (auto [n, origin] : {std::pair{1, v1::INSPECTION_ORIGIN_PLAN},
                           std::pair{2, v1::INSPECTION_ORIGIN_KEY_SUPERVISION}}) {
    grpc::Status refused = CALL(h, StartInspection, Start(n, origin, "WHP-01"), &insp);
    CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(refused.error_message().find("联合检查") != std::string::npos);
  }
  CHECK(h.Count("SELECT count(*) FROM inspections") == 3);
  // Another item is another kind; higher order and emergency are exempt.
  REQUIRE(CALL(h, StartInspection, Start(1, v1::INSPECTION_ORIGIN_PLAN, "GEN-02"), &insp).ok());
  REQUIRE(CALL(h, StartInspection, Start(1, v1::INSPECTION_ORIGIN_HIGHER_ORDER, "WHP-01"), &insp).ok());
  REQUIRE(CALL(h, StartInspection, Start(2, v1::INSPECTION_ORIGIN_EMERGENCY, "WHP-01"), &insp).ok());

  v1::DrawInspectionsRequest draw_req;
  draw_req.set_check_item_code("WHP-01");
  draw_req.mutable_filter()->set_region_code("3301");
  draw_req.set_ratio(1.0);
  draw_req.set_seed(1);
  v1::Draw draw;
  REQUIRE(CALL(h, DrawInspections, draw_req, &draw).ok());
  std::map<std::string, v1::DrawExclusion> excluded;
  for (const auto& x : draw.excluded()) excluded[x.uscc()] = x.reason();
  for (int n : {1, 2, 3}) CHECK(excluded[MakeUscc(n)] == v1::DRAW_EXCLUSION_JOINT_INSPECTION_DONE);
  CHECK(draw.candidate_count() == 3);

  draw_req.set_check_item_code("GEN-02");
  REQUIRE(CALL(h, DrawInspections, draw_req, &draw).ok());
  for (const auto& x : draw.excluded()) {
    CHECK(x.reason() != v1::DRAW_EXCLUSION_JOINT_INSPECTION_DONE);
  }
}
