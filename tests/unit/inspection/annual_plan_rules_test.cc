// The annual plan's rule (credit tier + key flag + sample → inspections due) and its sample.
#include <catch2/catch.hpp>

#include <set>

#include "annual_plan_rules.h"
#include "draw_algorithm.h"
#include "regsuite/common/crypto.h"

using namespace regsuite::inspection;
namespace v1 = regsuite::inspection::v1;

namespace {
constexpr int kRed = 1, kNormal = 2, kWatch = 3, kBlack = 4;
const AnnualPlanRules kRules{/*black_list_min_per_year=*/2, /*red_list_max_per_year=*/1,
                             /*key_enterprise_inspections=*/1};
}  // namespace

TEST_CASE("black list: at least 2 inspections a year (MIN_INSPECTIONS_2_PER_YEAR), sampled or not, more when key enterprises get more") {
  for (bool key : {false, true}) {
    for (bool sampled : {false, true}) {
      InspectionsDue due = AnnualInspectionsDue({kBlack, key, sampled}, kRules);
      CHECK(due.category == v1::ANNUAL_PLAN_CATEGORY_BLACK_LIST);
      CHECK(due.inspections == 2);
      CHECK(due.reason.find("MIN_INSPECTIONS_2_PER_YEAR") != std::string::npos);
    }
  }
  AnnualPlanRules three_for_key = kRules;
  three_for_key.key_enterprise_inspections = 3;
  CHECK(AnnualInspectionsDue({kBlack, true, false}, three_for_key).inspections == 3);
  AnnualPlanRules four_for_black = kRules;
  four_for_black.black_list_min_per_year = 4;
  CHECK(AnnualInspectionsDue({kBlack, false, false}, four_for_black).inspections == 4);
}

TEST_CASE("red list: at most 1 inspection a year; planned only when key or sampled") {
  CHECK(AnnualInspectionsDue({kRed, false, false}, kRules).inspections == 0);
  CHECK(AnnualInspectionsDue({kRed, false, true}, kRules).inspections == 1);
  CHECK(AnnualInspectionsDue({kRed, true, false}, kRules).inspections == 1);
  AnnualPlanRules three_for_key = kRules;
  three_for_key.key_enterprise_inspections = 3;
  InspectionsDue capped = AnnualInspectionsDue({kRed, true, true}, three_for_key);
  CHECK(capped.category == v1::ANNUAL_PLAN_CATEGORY_RED_LIST);
  CHECK(capped.inspections == 1);
  AnnualPlanRules no_red = kRules;
  no_red.red_list_max_per_year = 0;
  CHECK(AnnualInspectionsDue({kRed, true, true}, no_red).inspections == 0);
}

TEST_CASE("key enterprises are planned (configurable, at least 1); others only when sampled") {
  InspectionsDue key = AnnualInspectionsDue({kNormal, true, false}, kRules);
  CHECK(key.category == v1::ANNUAL_PLAN_CATEGORY_KEY_ENTERPRISE);
  CHECK(key.inspections == 1);
  AnnualPlanRules zero = kRules;
  zero.key_enterprise_inspections = 0;
  CHECK(AnnualInspectionsDue({kNormal, true, false}, zero).inspections == 1);
  AnnualPlanRules two = kRules;
  two.key_enterprise_inspections = 2;
  CHECK(AnnualInspectionsDue({kNormal, true, false}, two).inspections == 2);

  for (int tier : {0, kNormal, kWatch}) {
    InspectionsDue sampled = AnnualInspectionsDue({tier, false, true}, kRules);
    CHECK(sampled.category == v1::ANNUAL_PLAN_CATEGORY_SAMPLED);
    CHECK(sampled.inspections == 1);
    InspectionsDue none = AnnualInspectionsDue({tier, false, false}, kRules);
    CHECK(none.category == v1::ANNUAL_PLAN_CATEGORY_NOT_PLANNED);
    CHECK(none.inspections == 0);
  }
}

TEST_CASE("the sample pool leaves out black-listed and key enterprises, keeps red-listed ones") {
  CHECK(InAnnualSamplePool(kNormal, false));
  CHECK(InAnnualSamplePool(0, false));
  CHECK(InAnnualSamplePool(kRed, false));
  CHECK_FALSE(InAnnualSamplePool(kBlack, false));
  CHECK_FALSE(InAnnualSamplePool(kNormal, true));
}

TEST_CASE("sample size: ceil(ratio × n), 5 % of 100 is 5, of 101 is 6; ratio 0 samples nothing") {
  CHECK(*AnnualSampleSize(0.05, 100) == 5);
  CHECK(*AnnualSampleSize(0.05, 101) == 6);
  CHECK(*AnnualSampleSize(0.05, 0) == 0);
  CHECK(*AnnualSampleSize(0.0, 1000) == 0);
  CHECK(*AnnualSampleSize(1.0, 7) == 7);
  CHECK(AnnualSampleSize(1.5, 7).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(AnnualSampleSize(-0.1, 7).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the sample is reproducible from the seed: k distinct positions, another seed gives another sample") {
  const std::vector<uint32_t> a = AnnualSample(42, 1000, 50);
  CHECK(a == AnnualSample(42, 1000, 50));
  REQUIRE(a.size() == 50);
  CHECK(std::set<uint32_t>(a.begin(), a.end()).size() == 50);
  for (uint32_t p : a) CHECK(p < 1000);
  CHECK(a != AnnualSample(43, 1000, 50));
  // The first positions follow the draw stream: j = Uniform(n) from the same seed.
  DrawStream stream(42);
  CHECK(a[0] == stream.Uniform(1000));
  CHECK(AnnualSample(42, 3, 10).size() == 3);
  CHECK(AnnualSample(42, 0, 0).empty());
}

TEST_CASE("the sample pool hash covers the USCCs in order") {
  CHECK(CanonicalSamplePool({"A", "B"}) == "A\nB\n");
  CHECK(regsuite::common::Sha256Hex(CanonicalSamplePool({"A", "B"})) !=
        regsuite::common::Sha256Hex(CanonicalSamplePool({"B", "A"})));
}
