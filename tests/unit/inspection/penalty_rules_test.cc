// AssessPenalty's rules, each at its boundary, and the late fee.
#include <catch2/catch.hpp>

#include "penalty_rules.h"

using namespace regsuite::inspection;
namespace v1 = regsuite::inspection::v1;

namespace {

DiscretionBenchmark Benchmark(bool management_type = true, bool first_list = false) {
  DiscretionBenchmark b;
  b.violation_code = "AQ-97-3";
  b.effective_from = "2021-09-01";
  b.management_type = management_type;
  b.first_violation_list = first_list;
  auto add = [&](v1::Circumstance c, int64_t lo, int64_t hi, std::vector<v1::PenaltyKind> kinds) {
    v1::DiscretionRange r;
    r.set_circumstance(c);
    r.set_min_fine_fen(lo);
    r.set_max_fine_fen(hi);
    for (auto k : kinds) r.add_kinds(k);
    b.ranges.push_back(r);
  };
  add(v1::CIRCUMSTANCE_MINOR, 0, 1'000'000, {v1::PENALTY_KIND_WARNING, v1::PENALTY_KIND_FINE});
  add(v1::CIRCUMSTANCE_GENERAL, 1'000'000, 5'000'000,
      {v1::PENALTY_KIND_WARNING, v1::PENALTY_KIND_FINE});
  add(v1::CIRCUMSTANCE_SERIOUS, 5'000'000, 8'000'000, {v1::PENALTY_KIND_FINE});
  add(v1::CIRCUMSTANCE_SEVERE, 8'000'000, 10'000'000,
      {v1::PENALTY_KIND_FINE, v1::PENALTY_KIND_SUSPENSION_OF_BUSINESS});
  return b;
}

v1::AssessPenaltyRequest Request(v1::Circumstance c, int64_t fine,
                                 v1::PartyType party = v1::PARTY_TYPE_LEGAL_PERSON) {
  v1::AssessPenaltyRequest r;
  r.set_violation_code("AQ-97-3");
  r.set_party_type(party);
  r.set_circumstance(c);
  r.set_proposed_fine_fen(fine);
  if (fine > 0) r.add_proposed_kinds(v1::PENALTY_KIND_FINE);
  return r;
}

PartyFacts Repeat() {
  PartyFacts f;
  f.first_violation = false;
  return f;
}

}  // namespace

TEST_CASE("轻微不罚 applies to a minor, corrected violation without harm — and not if harm or not corrected") {
  auto r = Request(v1::CIRCUMSTANCE_MINOR, 500'000);
  r.set_corrected(true);
  auto a = Assess(Benchmark(), r, Repeat(), {});
  REQUIRE(a.ok());
  CHECK(a->outcome() == v1::PENALTY_OUTCOME_NO_PENALTY);
  r.set_harm_caused(true);
  CHECK(Assess(Benchmark(), r, Repeat(), {})->outcome() != v1::PENALTY_OUTCOME_NO_PENALTY);
  r.set_harm_caused(false);
  r.set_corrected(false);
  CHECK(Assess(Benchmark(), r, Repeat(), {})->outcome() != v1::PENALTY_OUTCOME_NO_PENALTY);
}

TEST_CASE("轻微不罚 is mandatory: it wins over every later rule, even a first violation of a listed code") {
  auto r = Request(v1::CIRCUMSTANCE_MINOR, 0);
  r.set_corrected(true);
  CHECK(Assess(Benchmark(true, true), r, PartyFacts{}, {})->outcome() ==
        v1::PENALTY_OUTCOME_NO_PENALTY);
}

TEST_CASE("首违不罚 for a listed violation code: first violation, corrected, minor harm") {
  auto r = Request(v1::CIRCUMSTANCE_GENERAL, 2'000'000);
  r.set_corrected(true);
  CHECK(Assess(Benchmark(false, true), r, PartyFacts{}, {})->outcome() ==
        v1::PENALTY_OUTCOME_FIRST_VIOLATION_NO_PENALTY);
  // Second violation: no.
  CHECK(Assess(Benchmark(false, true), r, Repeat(), {})->outcome() ==
        v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
  // Harm beyond minor (一般 with harm, or 较重): no.
  r.set_harm_caused(true);
  CHECK(Assess(Benchmark(false, true), r, PartyFacts{}, {})->outcome() ==
        v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
  auto serious = Request(v1::CIRCUMSTANCE_SERIOUS, 6'000'000);
  serious.set_corrected(true);
  CHECK(Assess(Benchmark(false, true), serious, PartyFacts{}, {})->outcome() ==
        v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
}

TEST_CASE("inclusive 首违不罚: red-list and 专精特新 firms on a first management-type violation; not ordinary firms, not other types") {
  auto r = Request(v1::CIRCUMSTANCE_GENERAL, 2'000'000);
  r.set_corrected(true);
  PartyFacts red;
  red.red_listed = true;
  PartyFacts sme;
  sme.specialised_sme = true;
  auto a = Assess(Benchmark(true, false), r, red, {});
  CHECK(a->outcome() == v1::PENALTY_OUTCOME_FIRST_VIOLATION_NO_PENALTY);
  CHECK(a->reasons(a->reasons_size() - 1).find("red-list") != std::string::npos);
  CHECK(Assess(Benchmark(true, false), r, sme, {})->outcome() ==
        v1::PENALTY_OUTCOME_FIRST_VIOLATION_NO_PENALTY);
  CHECK(Assess(Benchmark(true, false), r, PartyFacts{}, {})->outcome() ==
        v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
  CHECK(Assess(Benchmark(false, false), r, red, {})->outcome() ==
        v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
}

TEST_CASE("simple procedure: organisation fine of 3000 yuan is simple, 3000.01 is not") {
  CHECK(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_MINOR, 300'000), Repeat(), {})->outcome() ==
        v1::PENALTY_OUTCOME_SIMPLE_PROCEDURE);
  CHECK(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_MINOR, 300'001), Repeat(), {})->outcome() ==
        v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
}

TEST_CASE("simple procedure: natural person fine of 200 yuan is simple, 200.01 is not; a warning alone is simple") {
  const auto person = v1::PARTY_TYPE_NATURAL_PERSON;
  CHECK(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_MINOR, 20'000, person), Repeat(), {})
            ->outcome() == v1::PENALTY_OUTCOME_SIMPLE_PROCEDURE);
  CHECK(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_MINOR, 20'001, person), Repeat(), {})
            ->outcome() == v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
  auto warning = Request(v1::CIRCUMSTANCE_MINOR, 0);
  warning.add_proposed_kinds(v1::PENALTY_KIND_WARNING);
  CHECK(Assess(Benchmark(), warning, Repeat(), {})->outcome() ==
        v1::PENALTY_OUTCOME_SIMPLE_PROCEDURE);
}

TEST_CASE("hearing: organisation fine of 30,000 yuan requires a hearing, 29,999.99 does not") {
  auto at = Assess(Benchmark(), Request(v1::CIRCUMSTANCE_GENERAL, 3'000'000), Repeat(), {});
  CHECK(at->hearing_required());
  CHECK(at->legal_review_required());
  auto below = Assess(Benchmark(), Request(v1::CIRCUMSTANCE_GENERAL, 2'999'999), Repeat(), {});
  CHECK_FALSE(below->hearing_required());
  CHECK_FALSE(below->legal_review_required());
}

TEST_CASE("hearing: natural person fine of 10,000 yuan requires a hearing, 9,999.99 does not") {
  const auto person = v1::PARTY_TYPE_NATURAL_PERSON;
  CHECK(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_GENERAL, 1'000'000, person), Repeat(), {})
            ->hearing_required());
  CHECK_FALSE(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_MINOR, 999'999, person), Repeat(), {})
                  ->hearing_required());
}

TEST_CASE("hearing thresholds are configurable") {
  PenaltyThresholds t;
  t.hearing_min_organisation_fen = 2'000'000;
  CHECK(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_GENERAL, 2'000'000), Repeat(), t)
            ->hearing_required());
}

TEST_CASE("hearing: suspension of production, revocation, closure and occupational ban require one whatever the fine") {
  for (auto kind : {v1::PENALTY_KIND_SUSPENSION_OF_BUSINESS, v1::PENALTY_KIND_LICENCE_REVOCATION,
                    v1::PENALTY_KIND_CLOSURE, v1::PENALTY_KIND_EMPLOYMENT_RESTRICTION}) {
    auto r = Request(v1::CIRCUMSTANCE_SEVERE, 0);
    r.add_proposed_kinds(kind);
    auto a = Assess(Benchmark(), r, Repeat(), {});
    CHECK(a->outcome() == v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
    CHECK(a->hearing_required());
  }
}

TEST_CASE("legal review: major public interest or a complex case requires it") {
  auto r = Request(v1::CIRCUMSTANCE_GENERAL, 1'500'000);
  CHECK_FALSE(Assess(Benchmark(), r, Repeat(), {})->legal_review_required());
  r.set_major_public_interest(true);
  CHECK(Assess(Benchmark(), r, Repeat(), {})->legal_review_required());
  r.set_major_public_interest(false);
  r.set_complex_case(true);
  CHECK(Assess(Benchmark(), r, Repeat(), {})->legal_review_required());
}

TEST_CASE("range: the bounds are inside, one fen beyond is outside and says a reason is needed") {
  CHECK(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_GENERAL, 1'000'000), Repeat(), {})
            ->proposed_fine_within_range());
  CHECK(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_GENERAL, 5'000'000), Repeat(), {})
            ->proposed_fine_within_range());
  auto above = Assess(Benchmark(), Request(v1::CIRCUMSTANCE_GENERAL, 5'000'001), Repeat(), {});
  CHECK_FALSE(above->proposed_fine_within_range());
  CHECK_FALSE(Assess(Benchmark(), Request(v1::CIRCUMSTANCE_GENERAL, 999'999), Repeat(), {})
                  ->proposed_fine_within_range());
  CHECK(above->applicable_range().max_fine_fen() == 5'000'000);
  CHECK(above->ranges_size() == 4);
}

TEST_CASE("a kind the circumstance does not allow is outside the range") {
  auto r = Request(v1::CIRCUMSTANCE_SERIOUS, 6'000'000);
  r.add_proposed_kinds(v1::PENALTY_KIND_SUSPENSION_OF_BUSINESS);
  CHECK_FALSE(Assess(Benchmark(), r, Repeat(), {})->proposed_fine_within_range());
}

TEST_CASE("missing circumstance or party type is INVALID_ARGUMENT") {
  auto r = Request(v1::CIRCUMSTANCE_UNSPECIFIED, 0);
  CHECK(Assess(Benchmark(), r, Repeat(), {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  r = Request(v1::CIRCUMSTANCE_GENERAL, 0, v1::PARTY_TYPE_UNSPECIFIED);
  CHECK(Assess(Benchmark(), r, Repeat(), {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("late fee: 3% of the fine a day after the due date, capped at the fine") {
  const absl::CivilDay due(2026, 3, 16);
  CHECK(LateFeeFen(100'000, due, due, 30) == 0);
  CHECK(LateFeeFen(100'000, due, due + 1, 30) == 3'000);
  CHECK(LateFeeFen(100'000, due, due + 33, 30) == 99'000);
  CHECK(LateFeeFen(100'000, due, due + 34, 30) == 100'000);
  CHECK(LateFeeFen(100'000, due, due + 1000, 30) == 100'000);
}
