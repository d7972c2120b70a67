#include "overdue.h"

#include <algorithm>

#include "regsuite/common/dates.h"

namespace regsuite::disclosure {

absl::StatusOr<std::vector<v1::OverdueItem>> BuildOverdueList(
    const std::vector<v1::PublishedRecord>& pending_records,
    const std::vector<v1::InfoRequest>& open_requests, absl::CivilDay as_of,
    const common::WorkingDayCalendar& calendar) {
  std::vector<v1::OverdueItem> items;
  auto add = [&](const std::string& due_text) -> absl::StatusOr<v1::OverdueItem*> {
    auto due = common::ParseDate(due_text);
    if (!due.ok()) return due.status();
    auto days = calendar.WorkingDaysBetween(*due, as_of);
    if (!days.ok()) return days.status();
    items.emplace_back();
    items.back().set_due_date(due_text);
    items.back().set_working_days_overdue(*days);
    items.back().set_past_due(as_of > *due);
    return &items.back();
  };
  for (const auto& record : pending_records) {
    auto item = add(record.publication_due_date());
    if (!item.ok()) return item.status();
    *(*item)->mutable_record() = record;
  }
  for (const auto& request : open_requests) {
    auto item = add(request.due_date());
    if (!item.ok()) return item.status();
    *(*item)->mutable_request() = request;
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.due_date() < b.due_date(); });
  return items;
}

}  // namespace regsuite::disclosure
