// The overdue list (双公示 7 WD, Art 26 20 WD, Art 33 reply clock) and the settings it reads.
#include "overdue.h"

#include <catch2/catch.hpp>

#include "regsuite/common/calendar.h"
#include "settings.h"

using namespace regsuite::disclosure;
namespace v1 = regsuite::disclosure::v1;

TEST_CASE("overdue items carry their working days past due, most overdue first") {
  auto calendar = *regsuite::common::WorkingDayCalendar::Builtin();
  v1::PublishedRecord pending;
  pending.set_index_no("A/2026-00001");
  pending.set_publication_due_date("2026-10-09");  // Fri after Golden Week
  v1::InfoRequest open;
  open.set_request_id("r1");
  open.set_due_date("2026-10-16");
  auto items = BuildOverdueList({pending}, {open}, absl::CivilDay(2026, 10, 14), calendar);
  REQUIRE(items.ok());
  REQUIRE(items->size() == 2);
  // 10/10 (make-up Saturday), 10/12, 10/13, 10/14.
  CHECK((*items)[0].record().index_no() == "A/2026-00001");
  CHECK((*items)[0].working_days_overdue() == 4);
  CHECK((*items)[0].past_due());
  // Still two working days to go: approaching, not past due.
  CHECK((*items)[1].request().request_id() == "r1");
  CHECK((*items)[1].working_days_overdue() == -2);
  CHECK_FALSE((*items)[1].past_due());
}

TEST_CASE("review categories and fee rules are validated configuration") {
  CHECK(ParseCategories("POLICY_DOCUMENT, RECORD_CATEGORY_OTHER")->size() == 2);
  CHECK(ParseCategories("NOT_A_CATEGORY").status().message() ==
        "disclosure.review_categories: unknown category 'NOT_A_CATEGORY'");
  CHECK_FALSE(ParseFeeRules("2021-01-01:10,30,0,10000").ok());
  CHECK_FALSE(ParseFeeRules("2021-13-01:10,30,10,10000").ok());
  auto rules = ParseFeeRules("2030-01-01:5,20,5,20000;2021-01-01:10,30,10,10000");
  REQUIRE(rules.ok());
  CHECK(rules->front().free_per_month == 5);  // newest first
}
