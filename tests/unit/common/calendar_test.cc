#include "regsuite/common/calendar.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "regsuite/common/dates.h"

namespace regsuite::common {
namespace {

using Day = absl::CivilDay;

const WorkingDayCalendar& Builtin() {
  static const WorkingDayCalendar calendar = [] {
    absl::StatusOr<WorkingDayCalendar> parsed = WorkingDayCalendar::Builtin();
    INFO(parsed.status());
    REQUIRE(parsed.ok());
    return *parsed;
  }();
  return calendar;
}

Day Add(const WorkingDayCalendar& calendar, Day start, int n,
        std::vector<DayInterval> suspensions = {}) {
  absl::StatusOr<Day> result = calendar.AddWorkingDays(start, n, suspensions);
  INFO(result.status());
  REQUIRE(result.ok());
  return *result;
}

int Between(const WorkingDayCalendar& calendar, Day from, Day to,
            std::vector<DayInterval> suspensions = {}) {
  absl::StatusOr<int> result = calendar.WorkingDaysBetween(from, to, suspensions);
  INFO(result.status());
  REQUIRE(result.ok());
  return *result;
}

// Parse() must fail with INVALID_ARGUMENT and a message containing `fragment`.
void RequireParseError(const std::string& text, const std::string& fragment) {
  absl::StatusOr<WorkingDayCalendar> parsed = WorkingDayCalendar::Parse(text);
  INFO("text:\n" << text);
  REQUIRE_FALSE(parsed.ok());
  INFO(parsed.status());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(parsed.status().message(), fragment));
}

// --- built-in data ------------------------------------------------------------------------

TEST_CASE("built-in calendar declares 2025 and 2026 with 248 working days each", "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  CHECK(calendar.Years() == std::vector<int>{2025, 2026});
  for (int year : {2025, 2026}) {
    absl::StatusOr<int> count = calendar.WorkingDaysInYear(year);
    REQUIRE(count.ok());
    CHECK(*count == 248);
    CHECK(Between(calendar, Day(year - 1, 12, 31), Day(year, 12, 31)) == 248);
  }
}

TEST_CASE("built-in calendar lists each year's holidays and make-up days in date order",
          "[calendar]") {
  absl::StatusOr<std::vector<DayOverride>> overrides = Builtin().Overrides(2026);
  REQUIRE(overrides.ok());
  REQUIRE(overrides->size() == 39);
  CHECK(overrides->front() == DayOverride{Day(2026, 1, 1), DayKind::kHoliday, "元旦"});
  CHECK(overrides->back() == DayOverride{Day(2026, 10, 10), DayKind::kWorkday, "国庆节调休上班"});
  for (size_t i = 1; i < overrides->size(); ++i) {
    CHECK((*overrides)[i - 1].day < (*overrides)[i].day);
  }
  absl::StatusOr<std::vector<DayOverride>> overrides_2025 = Builtin().Overrides(2025);
  REQUIRE(overrides_2025.ok());
  CHECK(overrides_2025->size() == 33);
  CHECK(Builtin().Overrides(2027).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("holiday weekdays are off, make-up weekend days are on, other weekends are off",
          "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  struct Expectation {
    Day day;
    bool working;
  };
  const std::vector<Expectation> expectations = {
      {Day(2025, 1, 1), false},   {Day(2025, 1, 26), true},  {Day(2025, 2, 8), true},
      {Day(2025, 10, 8), false},  {Day(2025, 10, 11), true}, {Day(2025, 10, 12), false},
      {Day(2026, 1, 2), false},   {Day(2026, 1, 4), true},   {Day(2026, 2, 23), false},
      {Day(2026, 2, 24), true},   {Day(2026, 2, 28), true},  {Day(2026, 3, 7), false},
      {Day(2026, 9, 20), true},   {Day(2026, 10, 7), false}, {Day(2026, 10, 10), true},
      {Day(2026, 10, 11), false}, {Day(2026, 12, 31), true},
  };
  for (const Expectation& e : expectations) {
    absl::StatusOr<bool> working = calendar.IsWorkingDay(e.day);
    INFO(e.day);
    REQUIRE(working.ok());
    CHECK(*working == e.working);
  }
}

TEST_CASE("days of data ahead run to the end of the last year loaded without a gap",
          "[calendar]") {
  // Built in: 2025 and 2026.
  CHECK(Builtin().DaysOfDataAhead(Day(2026, 12, 2)) == 29);
  CHECK(Builtin().DaysOfDataAhead(Day(2026, 12, 31)) == 0);
  CHECK(Builtin().DaysOfDataAhead(Day(2025, 1, 1)) == 364 + 365);
  CHECK(Builtin().DaysOfDataAhead(Day(2027, 1, 4)) == 0);  // today's year has no data
  auto with_2028 = WorkingDayCalendar::Parse("year\t2026\nyear\t2028\n");
  REQUIRE(with_2028.ok());
  CHECK(with_2028->DaysOfDataAhead(Day(2026, 6, 30)) == 184);  // 2027 missing: stops at 2026
}

TEST_CASE("a date in a year without data is FAILED_PRECONDITION naming the year", "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  absl::StatusOr<bool> working = calendar.IsWorkingDay(Day(2027, 3, 1));
  REQUIRE(working.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(working.status().message() == "calendar: no holiday data loaded for year 2027");
  CHECK(calendar.IsWorkingDay(Day(2024, 12, 31)).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(calendar.WorkingDaysInYear(2027).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(WorkingDayCalendar().IsWorkingDay(Day(2026, 3, 2)).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a deadline running into a year without data is FAILED_PRECONDITION, not a guess",
          "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  // 2026-12-31 is a Thursday: one working day left in 2026.
  CHECK(Add(calendar, Day(2026, 12, 30), 1) == Day(2026, 12, 31));
  absl::StatusOr<Day> due = calendar.AddWorkingDays(Day(2026, 12, 30), 2);
  REQUIRE(due.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(due.status().message(), "2027"));
  CHECK(calendar.WorkingDaysBetween(Day(2026, 12, 1), Day(2027, 1, 5)).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(calendar.WorkingDaysBetween(Day(2025, 1, 5), Day(2024, 12, 1)).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

// --- AddWorkingDays -------------------------------------------------------------------------

TEST_CASE(
    "decision is due 20 working days after 2026-09-28, skipping Golden Week and "
    "counting the make-up Saturday 10-10",
    "[calendar]") {
  CHECK(Add(Builtin(), Day(2026, 9, 28), 20) == Day(2026, 10, 30));
}

TEST_CASE(
    "5 working days after 2026-02-13 is 2026-02-27: make-up Saturday 02-14 counts, "
    "Spring Festival skipped",
    "[calendar]") {
  CHECK(Add(Builtin(), Day(2026, 2, 13), 5) == Day(2026, 2, 27));
}

TEST_CASE(
    "5 working days after 2026-04-30 is 2026-05-11: Labour Day skipped, make-up "
    "Saturday 05-09 counts",
    "[calendar]") {
  CHECK(Add(Builtin(), Day(2026, 4, 30), 5) == Day(2026, 5, 11));
}

TEST_CASE(
    "2025 Golden Week: 3 working days after 2025-09-30 is 2025-10-13 via make-up "
    "Saturday 10-11",
    "[calendar]") {
  // 10-09 (1), 10-10 (2), 10-11 Saturday make-up (3).
  CHECK(Add(Builtin(), Day(2025, 9, 30), 3) == Day(2025, 10, 11));
  CHECK(Add(Builtin(), Day(2025, 9, 30), 4) == Day(2025, 10, 13));
}

TEST_CASE("day D itself is not counted and 0 working days after D is D", "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  CHECK(Add(calendar, Day(2026, 3, 6), 1) == Day(2026, 3, 9));   // Friday -> Monday
  CHECK(Add(calendar, Day(2026, 3, 9), 1) == Day(2026, 3, 10));  // a working D is skipped
  CHECK(Add(calendar, Day(2026, 10, 1), 1) == Day(2026, 10, 8));
  CHECK(Add(calendar, Day(2026, 10, 3), 0) == Day(2026, 10, 3));
  CHECK(Add(calendar, Day(2030, 1, 1), 0) == Day(2030, 1, 1));
  CHECK(Add(calendar, Day(2024, 12, 31), 1) == Day(2025, 1, 2));  // D's year needs no data
}

TEST_CASE("a negative working-day count is INVALID_ARGUMENT", "[calendar]") {
  absl::StatusOr<Day> due = Builtin().AddWorkingDays(Day(2026, 3, 2), -1);
  CHECK(due.status().code() == absl::StatusCode::kInvalidArgument);
}

// --- suspensions ----------------------------------------------------------------------------

TEST_CASE("a suspension shifts the deadline by exactly the working days it suspends",
          "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  // Mon 10-12 .. Wed 10-14: 3 working days suspended, so Fri 10-30 moves to Wed 11-04.
  const std::vector<DayInterval> expert_review = {{Day(2026, 10, 12), Day(2026, 10, 14)}};
  CHECK(Add(calendar, Day(2026, 9, 28), 20, expert_review) == Day(2026, 11, 4));
  CHECK(Between(calendar, Day(2026, 9, 28), Day(2026, 11, 4), expert_review) == 20);
  CHECK(Between(calendar, Day(2026, 9, 28), Day(2026, 11, 4)) == 23);
}

TEST_CASE("a suspension over holidays and weekends shifts only by its working days", "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  // 10-01 .. 10-11 holds 3 working days: Thu 10-08, Fri 10-09, make-up Sat 10-10.
  const std::vector<DayInterval> hearing = {{Day(2026, 10, 1), Day(2026, 10, 11)}};
  CHECK(Add(calendar, Day(2026, 9, 28), 20, hearing) == Day(2026, 11, 4));
  // Entirely inside Golden Week: nothing moves.
  const std::vector<DayInterval> in_holiday = {{Day(2026, 10, 2), Day(2026, 10, 5)}};
  CHECK(Add(calendar, Day(2026, 9, 28), 20, in_holiday) == Day(2026, 10, 30));
}

TEST_CASE("overlapping suspensions count each suspended working day once", "[calendar]") {
  const std::vector<DayInterval> suspensions = {{Day(2026, 10, 12), Day(2026, 10, 14)},
                                                {Day(2026, 10, 13), Day(2026, 10, 15)}};
  CHECK(Add(Builtin(), Day(2026, 9, 28), 20, suspensions) == Day(2026, 11, 5));
}

TEST_CASE("a suspension ending before it starts is INVALID_ARGUMENT", "[calendar]") {
  const std::vector<DayInterval> bad = {{Day(2026, 10, 14), Day(2026, 10, 12)}};
  CHECK(Builtin().AddWorkingDays(Day(2026, 9, 28), 20, bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Builtin().WorkingDaysBetween(Day(2026, 9, 28), Day(2026, 11, 1), bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// --- WorkingDaysBetween -----------------------------------------------------------------------

TEST_CASE("WorkingDaysBetween counts (from, to] and is negative when to is before from",
          "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  CHECK(Between(calendar, Day(2026, 9, 30), Day(2026, 10, 8)) == 1);
  CHECK(Between(calendar, Day(2026, 10, 8), Day(2026, 9, 30)) == -1);
  CHECK(Between(calendar, Day(2026, 10, 8), Day(2026, 10, 8)) == 0);
  CHECK(Between(calendar, Day(2026, 10, 1), Day(2026, 10, 7)) == 0);
  CHECK(Between(calendar, Day(2025, 12, 31), Day(2026, 1, 5)) == 2);  // Sun 01-04, Mon 01-05
}

TEST_CASE("WorkingDaysBetween round-trips AddWorkingDays across 2025 and 2026", "[calendar]") {
  const WorkingDayCalendar& calendar = Builtin();
  const std::vector<DayInterval> suspensions = {{Day(2025, 2, 3), Day(2025, 2, 20)},
                                                {Day(2026, 9, 29), Day(2026, 10, 9)}};
  int checked = 0;
  for (Day start(2024, 12, 20); start <= Day(2026, 12, 31); ++start) {
    for (int n : {0, 1, 2, 5, 7, 10, 20, 30, 60, 250}) {
      for (bool suspended : {false, true}) {
        const std::vector<DayInterval> s = suspended ? suspensions : std::vector<DayInterval>{};
        absl::StatusOr<Day> due = calendar.AddWorkingDays(start, n, s);
        if (!due.ok()) {
          INFO(start << " + " << n << ": " << due.status());
          REQUIRE(due.status().code() == absl::StatusCode::kFailedPrecondition);
          continue;
        }
        absl::StatusOr<int> forward = calendar.WorkingDaysBetween(start, *due, s);
        absl::StatusOr<int> backward = calendar.WorkingDaysBetween(*due, start, s);
        if (!forward.ok() || *forward != n || !backward.ok() || *backward != -n) {
          INFO(start << " + " << n << " (suspended: " << suspended << ") = " << *due);
          REQUIRE(forward.ok());
          REQUIRE(*forward == n);
          REQUIRE(backward.ok());
          REQUIRE(*backward == -n);
        }
        ++checked;
      }
    }
  }
  CHECK(checked > 10000);
}

// --- parsing and merging ----------------------------------------------------------------------

TEST_CASE("calendar text ignores comments, blank lines, CRLF line ends and a BOM", "[calendar]") {
  const std::string text =
      "\xEF\xBB\xBF# test data\r\n"
      "year\t2030\r\n"
      "\r\n"
      "   # indented comment\n"
      "2030-01-01\tholiday\t元旦\r\n"
      "2030-01-05\tworkday\t调休\n";
  absl::StatusOr<WorkingDayCalendar> calendar = WorkingDayCalendar::Parse(text);
  INFO(calendar.status());
  REQUIRE(calendar.ok());
  CHECK(calendar->Years() == std::vector<int>{2030});
  CHECK(*calendar->IsWorkingDay(Day(2030, 1, 1)) == false);  // Tuesday holiday
  CHECK(*calendar->IsWorkingDay(Day(2030, 1, 5)) == true);   // Saturday make-up
  CHECK(*calendar->IsWorkingDay(Day(2030, 1, 6)) == false);  // ordinary Sunday
  CHECK(*calendar->IsWorkingDay(Day(2030, 1, 7)) == true);   // ordinary Monday
  CHECK(*calendar->WorkingDaysInYear(2030) == 261 - 1 + 1);
}

TEST_CASE("calendar parse errors name the line and the rule", "[calendar]") {
  RequireParseError("year\t2030\n2030-01-01 holiday 元旦\n", "line 2: expected");
  RequireParseError("year\t2030\n\n2030-13-01\tholiday\tx\n",
                    "line 3: date: '2030-13-01' is not a valid calendar date");
  RequireParseError("year\t2030\n2030-1-1\tholiday\tx\n", "line 2: date: '2030-1-1' must");
  RequireParseError("year\t2030\n2030-01-01\toff\tx\n",
                    "line 2: kind must be 'holiday' or 'workday'");
  RequireParseError("year\t2030\n2030-01-01\tholiday\t\n", "line 2: name must not be empty");
  RequireParseError("# c\nyear\t30\n", "line 2: year must be 4 digits");
  RequireParseError("year\t2030\tcomplete\n", "line 1: expected");
  RequireParseError("year\t2030\n2030-01-04\tworkday\tx\n",
                    "line 2: 2030-01-04 is a Friday; a make-up workday must be a Saturday");
  RequireParseError("year\t2030\n2030-01-05\tworkday\tx\n2030-01-05\tholiday\ty\n",
                    "line 3: conflicting definitions of 2030-01-05");
}

TEST_CASE("an override in a year that is not declared complete is rejected", "[calendar]") {
  RequireParseError("year\t2030\n2031-01-01\tholiday\t元旦\n",
                    "line 2: 2031-01-01 lies in year 2031, which is not declared complete");
}

TEST_CASE("builder merges sources; the same date twice with the same kind is accepted",
          "[calendar]") {
  WorkingDayCalendar::Builder builder;
  REQUIRE(builder.AddText("year\t2030\n2030-01-01\tholiday\t元旦\n", "2030.tsv").ok());
  REQUIRE(builder.AddText("2030-01-01\tholiday\t元旦节\n2030-02-04\tholiday\t春节\n", "extra.tsv")
              .ok());
  REQUIRE(builder.AddYear(2031).ok());
  REQUIRE(builder.AddOverride({Day(2031, 1, 1), DayKind::kHoliday, "元旦"}, "database").ok());
  absl::StatusOr<WorkingDayCalendar> calendar = builder.Build();
  INFO(calendar.status());
  REQUIRE(calendar.ok());
  CHECK(calendar->Years() == std::vector<int>{2030, 2031});
  CHECK(*calendar->WorkingDaysInYear(2030) == 261 - 2);
  CHECK(calendar->Overrides(2030)->front().name == "元旦");  // the first source's name
}

TEST_CASE("merging a holiday and a workday for the same date is an error naming both sources",
          "[calendar]") {
  WorkingDayCalendar::Builder builder;
  REQUIRE(builder.AddText("year\t2030\n2030-01-05\tholiday\t元旦\n", "2030.tsv").ok());
  absl::Status conflict =
      builder.AddText("# extra\n2030-01-03\tholiday\tx\n2030-01-05\tworkday\t调休\n", "extra.tsv");
  INFO(conflict);
  CHECK(conflict.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(conflict.message(), "extra.tsv line 3"));
  CHECK(absl::StrContains(conflict.message(), "2030.tsv line 2"));
  // The failed source left nothing behind (2030-01-03 was not added).
  absl::StatusOr<WorkingDayCalendar> calendar = builder.Build();
  REQUIRE(calendar.ok());
  CHECK(*calendar->IsWorkingDay(Day(2030, 1, 3)) == true);

  absl::StatusOr<WorkingDayCalendar> builtin_copy =
      WorkingDayCalendar::FromOverrides({2026}, {{Day(2026, 10, 10), DayKind::kHoliday, "x"}});
  REQUIRE(builtin_copy.ok());
  WorkingDayCalendar::Builder merged;
  REQUIRE(merged.AddCalendar(Builtin(), "builtin").ok());
  CHECK(merged.AddCalendar(*builtin_copy, "database").code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("database rows rebuild the built-in calendar exactly", "[calendar]") {
  std::vector<DayOverride> rows;
  for (int year : Builtin().Years()) {
    absl::StatusOr<std::vector<DayOverride>> overrides = Builtin().Overrides(year);
    REQUIRE(overrides.ok());
    rows.insert(rows.end(), overrides->begin(), overrides->end());
  }
  absl::StatusOr<WorkingDayCalendar> from_rows =
      WorkingDayCalendar::FromOverrides(Builtin().Years(), rows);
  REQUIRE(from_rows.ok());
  CHECK(from_rows->Years() == Builtin().Years());
  CHECK(*from_rows->WorkingDaysInYear(2025) == 248);
  CHECK(*from_rows->WorkingDaysInYear(2026) == 248);
  CHECK(*from_rows->Overrides(2026) == *Builtin().Overrides(2026));

  absl::StatusOr<WorkingDayCalendar> undeclared =
      WorkingDayCalendar::FromOverrides({2026}, {{Day(2027, 1, 1), DayKind::kHoliday, "元旦"}});
  CHECK(undeclared.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(WorkingDayCalendar::FromOverrides({10000}, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("day kinds have the file spellings holiday and workday", "[calendar]") {
  CHECK(DayKindName(DayKind::kHoliday) == "holiday");
  CHECK(DayKindName(DayKind::kWorkday) == "workday");
  CHECK(*ParseDayKind("workday") == DayKind::kWorkday);
  CHECK(ParseDayKind("Holiday").status().code() == absl::StatusCode::kInvalidArgument);
}

// --- dates ----------------------------------------------------------------------------------

TEST_CASE("ParseDate accepts only strict YYYY-MM-DD calendar dates", "[dates]") {
  CHECK(*ParseDate("2026-02-28") == Day(2026, 2, 28));
  CHECK(*ParseDate("2024-02-29") == Day(2024, 2, 29));
  for (const char* bad : {"2026-2-28", "2026/02/28", "20260228", " 2026-02-28", "2026-02-28 ", "",
                          "abcd-ef-gh", "2026-02-2x", "+026-02-28"}) {
    absl::StatusOr<Day> parsed = ParseDate(bad);
    INFO(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(absl::StrContains(parsed.status().message(), "must have the form YYYY-MM-DD"));
  }
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31"}) {
    absl::StatusOr<Day> parsed = ParseDate(bad);
    INFO(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(absl::StrContains(parsed.status().message(), "is not a valid calendar date"));
  }
}

TEST_CASE("FormatDate writes zero-padded YYYY-MM-DD that ParseDate reads back", "[dates]") {
  CHECK(FormatDate(Day(2026, 1, 4)) == "2026-01-04");
  CHECK(FormatDate(Day(987, 12, 31)) == "0987-12-31");
  for (Day d(2025, 1, 1); d <= Day(2026, 12, 31); ++d) {
    absl::StatusOr<Day> back = ParseDate(FormatDate(d));
    REQUIRE(back.ok());
    REQUIRE(*back == d);
  }
}

}  // namespace
}  // namespace regsuite::common
