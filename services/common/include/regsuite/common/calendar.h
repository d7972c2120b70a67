#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"

namespace regsuite::common {

/// How a date differs from the Monday-Friday default.
enum class DayKind {
  kHoliday,  // a day off (a weekday holiday, or a weekend day inside a holiday period)
  kWorkday,  // a make-up working day on a weekend (调休上班)
};

/// "holiday" or "workday", the spelling used in calendar files and database rows.
absl::string_view DayKindName(DayKind kind);

/// Parses "holiday" / "workday".
absl::StatusOr<DayKind> ParseDayKind(absl::string_view text);

/// One date that differs from the Monday-Friday default.
struct DayOverride {
  absl::CivilDay day;
  DayKind kind = DayKind::kHoliday;
  std::string name;

  friend bool operator==(const DayOverride&, const DayOverride&) = default;
};

/// An inclusive range of dates [first, last], e.g. a suspension of a deadline clock.
struct DayInterval {
  absl::CivilDay first;
  absl::CivilDay last;
};

/// Statutory working-day calendar (工作日): Monday-Friday, minus holidays, plus make-up
/// workdays. Only years declared complete may be used; anything else is FAILED_PRECONDITION.
/// Immutable once built; copies share the data, so it is cheap to copy and safe to read
/// from any number of threads.
///
/// Text format, one record per line (blank lines and lines starting with '#' ignored):
///   year<TAB>2026                       the data for 2026 is complete
///   2026-10-01<TAB>holiday<TAB>国庆节    a day off
///   2026-10-10<TAB>workday<TAB>国庆节调休 a make-up working Saturday or Sunday
class WorkingDayCalendar {
 public:
  class Builder;

  /// An empty calendar: every year is without data.
  WorkingDayCalendar();

  /// Parses one calendar text. Errors are INVALID_ARGUMENT naming the line number.
  static absl::StatusOr<WorkingDayCalendar> Parse(absl::string_view text);

  /// From database rows: the years declared complete plus their overrides.
  static absl::StatusOr<WorkingDayCalendar> FromOverrides(
      const std::vector<int>& years, const std::vector<DayOverride>& overrides);

  /// The calendar files compiled into the binary (services/common/data/calendar/*.tsv).
  static absl::StatusOr<WorkingDayCalendar> Builtin();

  /// Whether `day` is a working day. FAILED_PRECONDITION if its year has no data.
  absl::StatusOr<bool> IsWorkingDay(absl::CivilDay day) const;

  /// The n-th counted working day after `start` ("within n WD of start"): `start` itself
  /// is not counted, nor are days inside any suspension interval. n == 0 returns `start`.
  /// INVALID_ARGUMENT if n < 0 or an interval has first > last; FAILED_PRECONDITION if
  /// the walk enters a year without data.
  absl::StatusOr<absl::CivilDay> AddWorkingDays(
      absl::CivilDay start, int n, absl::Span<const DayInterval> suspensions = {}) const;

  /// Number of counted working days in (from, to]; -(count in (to, from]) if to < from.
  /// WorkingDaysBetween(d, *AddWorkingDays(d, n, s), s) == n.
  absl::StatusOr<int> WorkingDaysBetween(absl::CivilDay from, absl::CivilDay to,
                                         absl::Span<const DayInterval> suspensions = {}) const;

  /// Working days in a declared year; FAILED_PRECONDITION otherwise.
  absl::StatusOr<int> WorkingDaysInYear(int year) const;

  /// The years with complete data, ascending.
  std::vector<int> Years() const;

  /// Whether `year` has complete data.
  bool HasYear(int year) const;

  /// Days from `today` to the last day of the last year with data that follows today's
  /// year without a gap (0 when today's year has none): how far ahead deadlines can be
  /// computed before a year's holidays must be loaded (docs/operations.md §5).
  int DaysOfDataAhead(absl::CivilDay today) const;

  /// The overrides of a declared year in date order; FAILED_PRECONDITION otherwise.
  absl::StatusOr<std::vector<DayOverride>> Overrides(int year) const;

 private:
  struct Data;  // defined in calendar.cc
  struct YearData;

  explicit WorkingDayCalendar(std::shared_ptr<const Data> data);

  // nullptr when `year` has no data.
  const YearData* FindYear(int64_t year) const;

  std::shared_ptr<const Data> data_;
};

/// Combines calendar sources (embedded files, an operator's file, database rows) into one
/// WorkingDayCalendar. The same date may appear in several sources with the same kind;
/// a date defined as holiday in one place and workday in another is an error. Each Add*
/// call either applies completely or leaves the builder unchanged.
class WorkingDayCalendar::Builder {
 public:
  Builder() = default;

  /// Adds a calendar text; `source` (e.g. a file name) prefixes the line numbers in errors.
  absl::Status AddText(absl::string_view text, absl::string_view source = "");

  /// Declares `year` (1-9999) complete.
  absl::Status AddYear(int year);

  /// Adds one override; `source` names it in conflict errors. A workday must fall on a
  /// Saturday or Sunday.
  absl::Status AddOverride(const DayOverride& day_override, absl::string_view source = "override");

  /// Adds every year and override of an already built calendar.
  absl::Status AddCalendar(const WorkingDayCalendar& calendar,
                           absl::string_view source = "calendar");

  /// Checks that every override lies in a declared year and builds the calendar.
  absl::StatusOr<WorkingDayCalendar> Build() const;

 private:
  struct Entry {
    DayKind kind;
    std::string name;
    std::string source;
  };
  struct State {
    absl::btree_map<absl::CivilDay, Entry> overrides;
    absl::btree_set<int> years;
  };

  static absl::Status Apply(State& state, const DayOverride& day_override, std::string source);

  State state_;
};

}  // namespace regsuite::common
