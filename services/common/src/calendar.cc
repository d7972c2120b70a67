#include "regsuite/common/calendar.h"

#include <algorithm>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/embedded.h"

namespace regsuite::common {
namespace {

constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;
constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr absl::string_view kLineFormat =
    "expected 'YYYY-MM-DD<TAB>holiday|workday<TAB>name' or 'year<TAB>YYYY'";

// Debian's Abseil has its own string_view type; EmbeddedFile holds std::string_view.
absl::string_view ToAbsl(std::string_view text) { return {text.data(), text.size()}; }

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday weekday = absl::GetWeekday(day);
  return weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday;
}

absl::string_view WeekdayName(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return "Monday";
    case absl::Weekday::tuesday:
      return "Tuesday";
    case absl::Weekday::wednesday:
      return "Wednesday";
    case absl::Weekday::thursday:
      return "Thursday";
    case absl::Weekday::friday:
      return "Friday";
    case absl::Weekday::saturday:
      return "Saturday";
    case absl::Weekday::sunday:
      return "Sunday";
  }
  return "?";
}

absl::Status NoDataError(int64_t year) {
  return absl::FailedPreconditionError(
      absl::StrCat("calendar: no holiday data loaded for year ", year));
}

absl::Status ValidateSuspensions(absl::Span<const DayInterval> suspensions) {
  for (const DayInterval& interval : suspensions) {
    if (interval.first > interval.last) {
      return absl::InvalidArgumentError(absl::StrCat("calendar: suspension interval starts on ",
                                                     FormatDate(interval.first), ", after its end ",
                                                     FormatDate(interval.last)));
    }
  }
  return absl::OkStatus();
}

bool IsSuspended(absl::CivilDay day, absl::Span<const DayInterval> suspensions) {
  return std::any_of(suspensions.begin(), suspensions.end(),
                     [day](const DayInterval& i) { return i.first <= day && day <= i.last; });
}

std::string LineLabel(absl::string_view source, int line_number) {
  if (source.empty()) return absl::StrCat("line ", line_number);
  return absl::StrCat(source, " line ", line_number);
}

absl::Status LineError(absl::string_view label, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("calendar: ", label, ": ", rule));
}

}  // namespace

absl::string_view DayKindName(DayKind kind) {
  return kind == DayKind::kHoliday ? "holiday" : "workday";
}

absl::StatusOr<DayKind> ParseDayKind(absl::string_view text) {
  if (text == "holiday") return DayKind::kHoliday;
  if (text == "workday") return DayKind::kWorkday;
  return absl::InvalidArgumentError(absl::StrCat(
      "calendar: kind must be 'holiday' or 'workday', got '", absl::CHexEscape(text), "'"));
}

struct WorkingDayCalendar::YearData {
  std::bitset<366> working;  // indexed by day of the year - 1
  int working_days = 0;
};

struct WorkingDayCalendar::Data {
  struct Entry {
    DayKind kind;
    std::string name;
  };
  absl::btree_map<absl::CivilDay, Entry> overrides;
  absl::btree_map<int, YearData> years;  // declared years only
};

// ---------------------------------------------------------------------------------------
// Builder

absl::Status WorkingDayCalendar::Builder::Apply(State& state, const DayOverride& day_override,
                                                std::string source) {
  const absl::CivilDay day = day_override.day;
  if (day.year() < kMinYear || day.year() > kMaxYear) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar: ", source, ": year ", day.year(), " is outside 1-9999"));
  }
  if (day_override.kind == DayKind::kWorkday && !IsWeekend(day)) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar: ", source, ": ", FormatDate(day), " is a ", WeekdayName(day),
                     "; a make-up workday must be a Saturday or Sunday"));
  }
  auto it = state.overrides.find(day);
  if (it == state.overrides.end()) {
    state.overrides.emplace(day, Entry{day_override.kind, day_override.name, std::move(source)});
    return absl::OkStatus();
  }
  if (it->second.kind != day_override.kind) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calendar: ", source, ": conflicting definitions of ", FormatDate(day), ": ",
        DayKindName(day_override.kind), " (", day_override.name, ") here, ",
        DayKindName(it->second.kind), " (", it->second.name, ") in ", it->second.source));
  }
  // The same kind again (e.g. a database copy of a built-in file) is not a conflict.
  return absl::OkStatus();
}

absl::Status WorkingDayCalendar::Builder::AddYear(int year) {
  if (year < kMinYear || year > kMaxYear) {
    return absl::InvalidArgumentError(absl::StrCat("calendar: year ", year, " is outside 1-9999"));
  }
  state_.years.insert(year);
  return absl::OkStatus();
}

absl::Status WorkingDayCalendar::Builder::AddOverride(const DayOverride& day_override,
                                                      absl::string_view source) {
  return Apply(state_, day_override, std::string(source));
}

absl::Status WorkingDayCalendar::Builder::AddText(absl::string_view text,
                                                  absl::string_view source) {
  State next = state_;
  if (absl::StartsWith(text, kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    const absl::string_view content = absl::StripAsciiWhitespace(line);
    if (content.empty() || content.front() == '#') continue;
    const std::string label = LineLabel(source, line_number);
    std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
    for (absl::string_view& field : fields) field = absl::StripAsciiWhitespace(field);

    if (fields[0] == "year") {
      if (fields.size() != 2) return LineError(label, kLineFormat);
      const absl::string_view digits = fields[1];
      if (digits.size() != 4 || !std::all_of(digits.begin(), digits.end(), [](char c) {
            return absl::ascii_isdigit(static_cast<unsigned char>(c));
          })) {
        return LineError(
            label, absl::StrCat("year must be 4 digits, got '", absl::CHexEscape(digits), "'"));
      }
      int year = 0;
      for (char c : digits) year = year * 10 + (c - '0');
      if (year < kMinYear) return LineError(label, "year must be 0001-9999");
      next.years.insert(year);
      continue;
    }

    if (fields.size() != 3) {
      return LineError(
          label, absl::StrCat(kLineFormat, ", got ", fields.size(), " tab-separated field(s)"));
    }
    absl::StatusOr<absl::CivilDay> day = ParseDate(fields[0]);
    if (!day.ok()) return LineError(label, day.status().message());
    absl::StatusOr<DayKind> kind = ParseDayKind(fields[1]);
    if (!kind.ok()) {
      return LineError(label, absl::StrCat("kind must be 'holiday' or 'workday', got '",
                                           absl::CHexEscape(fields[1]), "'"));
    }
    if (fields[2].empty()) return LineError(label, "name must not be empty");
    absl::Status applied = Apply(next, DayOverride{*day, *kind, std::string(fields[2])}, label);
    if (!applied.ok()) return applied;
  }
  state_ = std::move(next);
  return absl::OkStatus();
}

absl::Status WorkingDayCalendar::Builder::AddCalendar(const WorkingDayCalendar& calendar,
                                                      absl::string_view source) {
  State next = state_;
  for (const auto& [day, entry] : calendar.data_->overrides) {
    absl::Status applied = Apply(next, DayOverride{day, entry.kind, entry.name},
                                 absl::StrCat(source, " ", FormatDate(day)));
    if (!applied.ok()) return applied;
  }
  for (const auto& [year, year_data] : calendar.data_->years) next.years.insert(year);
  state_ = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::Builder::Build() const {
  auto data = std::make_shared<Data>();
  for (const auto& [day, entry] : state_.overrides) {
    if (!state_.years.contains(static_cast<int>(day.year()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "calendar: ", entry.source, ": ", FormatDate(day), " lies in year ", day.year(),
          ", which is not declared complete (add a 'year<TAB>", day.year(), "' line)"));
    }
    data->overrides.emplace(day, Data::Entry{entry.kind, entry.name});
  }
  for (int year : state_.years) {
    YearData year_data;
    const absl::CivilDay end(year + 1, 1, 1);
    for (absl::CivilDay day(year, 1, 1); day < end; ++day) {
      auto it = data->overrides.find(day);
      const bool working =
          it == data->overrides.end() ? !IsWeekend(day) : it->second.kind == DayKind::kWorkday;
      year_data.working[absl::GetYearDay(day) - 1] = working;
      if (working) ++year_data.working_days;
    }
    data->years.emplace(year, year_data);
  }
  return WorkingDayCalendar(std::move(data));
}

// ---------------------------------------------------------------------------------------
// WorkingDayCalendar

WorkingDayCalendar::WorkingDayCalendar() : data_(std::make_shared<const Data>()) {}

WorkingDayCalendar::WorkingDayCalendar(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::Parse(absl::string_view text) {
  Builder builder;
  absl::Status added = builder.AddText(text);
  if (!added.ok()) return added;
  return builder.Build();
}

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::FromOverrides(
    const std::vector<int>& years, const std::vector<DayOverride>& overrides) {
  Builder builder;
  for (int year : years) {
    absl::Status added = builder.AddYear(year);
    if (!added.ok()) return added;
  }
  for (const DayOverride& day_override : overrides) {
    absl::Status added =
        builder.AddOverride(day_override, absl::StrCat("row ", FormatDate(day_override.day)));
    if (!added.ok()) return added;
  }
  return builder.Build();
}

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::Builtin() {
  Builder builder;
  for (const EmbeddedFile& file : BuiltinCalendarFiles()) {
    absl::Status added = builder.AddText(ToAbsl(file.content), ToAbsl(file.name));
    if (!added.ok()) return added;
  }
  return builder.Build();
}

const WorkingDayCalendar::YearData* WorkingDayCalendar::FindYear(int64_t year) const {
  auto it = data_->years.find(static_cast<int>(year));
  return it == data_->years.end() || it->first != year ? nullptr : &it->second;
}

absl::StatusOr<bool> WorkingDayCalendar::IsWorkingDay(absl::CivilDay day) const {
  const YearData* year_data = FindYear(day.year());
  if (year_data == nullptr) return NoDataError(day.year());
  return year_data->working[absl::GetYearDay(day) - 1];
}

absl::StatusOr<absl::CivilDay> WorkingDayCalendar::AddWorkingDays(
    absl::CivilDay start, int n, absl::Span<const DayInterval> suspensions) const {
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar: working-day count must be >= 0, got ", n));
  }
  absl::Status valid = ValidateSuspensions(suspensions);
  if (!valid.ok()) return valid;
  absl::CivilDay day = start;
  const YearData* year_data = nullptr;
  // Bounded: the walk fails at the first day of a year without data.
  for (int remaining = n; remaining > 0;) {
    ++day;
    if (year_data == nullptr || absl::GetYearDay(day) == 1) {
      year_data = FindYear(day.year());
      if (year_data == nullptr) return NoDataError(day.year());
    }
    if (year_data->working[absl::GetYearDay(day) - 1] && !IsSuspended(day, suspensions)) {
      --remaining;
    }
  }
  return day;
}

absl::StatusOr<int> WorkingDayCalendar::WorkingDaysBetween(
    absl::CivilDay from, absl::CivilDay to, absl::Span<const DayInterval> suspensions) const {
  absl::Status valid = ValidateSuspensions(suspensions);
  if (!valid.ok()) return valid;
  const bool backwards = to < from;
  const absl::CivilDay low = backwards ? to : from;
  const absl::CivilDay high = backwards ? from : to;
  int count = 0;
  const YearData* year_data = nullptr;
  for (absl::CivilDay day = low + 1; day <= high; ++day) {
    if (year_data == nullptr || absl::GetYearDay(day) == 1) {
      year_data = FindYear(day.year());
      if (year_data == nullptr) return NoDataError(day.year());
    }
    if (year_data->working[absl::GetYearDay(day) - 1] && !IsSuspended(day, suspensions)) {
      ++count;
    }
  }
  return backwards ? -count : count;
}

absl::StatusOr<int> WorkingDayCalendar::WorkingDaysInYear(int year) const {
  const YearData* year_data = FindYear(year);
  if (year_data == nullptr) return NoDataError(year);
  return year_data->working_days;
}

std::vector<int> WorkingDayCalendar::Years() const {
  std::vector<int> years;
  years.reserve(data_->years.size());
  for (const auto& [year, year_data] : data_->years) years.push_back(year);
  return years;
}

bool WorkingDayCalendar::HasYear(int year) const { return FindYear(year) != nullptr; }

int WorkingDayCalendar::DaysOfDataAhead(absl::CivilDay today) const {
  int64_t year = today.year();
  if (FindYear(year) == nullptr) return 0;
  while (FindYear(year + 1) != nullptr) ++year;
  return static_cast<int>(absl::CivilDay(year, 12, 31) - today);
}

absl::StatusOr<std::vector<DayOverride>> WorkingDayCalendar::Overrides(int year) const {
  if (!HasYear(year)) return NoDataError(year);
  std::vector<DayOverride> result;
  for (auto it = data_->overrides.lower_bound(absl::CivilDay(year, 1, 1));
       it != data_->overrides.end() && it->first.year() == year; ++it) {
    result.push_back(DayOverride{it->first, it->second.kind, it->second.name});
  }
  return result;
}

}  // namespace regsuite::common
