// The monthly inspection plan, published ahead of the month with routine inspections
// scheduled outside the quiet days.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "directory_validation.h"
#include "inspection_service.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/status.h"
#include "store_util.h"

namespace regsuite::inspection {
namespace {

using common::FieldError;

constexpr char kSelectPlanByKey[] = "SELECT plan FROM monthly_plans WHERE idempotency_key = $1";
constexpr char kSelectEnterpriseName[] = "SELECT name FROM enterprises WHERE uscc = $1";
constexpr char kSelectCheckItem[] =
    "SELECT name, safety_critical FROM check_items WHERE code = $1";
constexpr char kInsertPlan[] = R"SQL(
INSERT INTO monthly_plans (plan_id, idempotency_key, month, region_code, plan)
VALUES ($1, NULLIF($2::text, ''), $3, $4, $5)
)SQL";

}  // namespace

absl::Status InspectionServiceImpl::DoPublishMonthlyPlan(
    const v1::PublishMonthlyPlanRequest& request, v1::MonthlyPlan* response) {
  auto first = common::ParseDate(absl::StrCat(request.month(), "-01"));
  if (request.month().size() != 7 || !first.ok()) {
    return FieldError("month", "must be YYYY-MM");
  }
  if (!request.region_code().empty() && !IsRegionCode(request.region_code())) {
    return FieldError("region_code", "must be a 6-digit administrative division code");
  }
  if (request.entries_size() == 0) return FieldError("entries", "at least one planned inspection");
  if (request.published_by().empty()) return FieldError("published_by", "is required");
  const absl::CivilDay today = deps_.clock.Today();
  const absl::CivilDay month_start = absl::CivilDay(absl::CivilMonth(*first));
  const absl::CivilDay deadline = month_start - deps_.options.monthly_plan_lead_days;
  const absl::CivilDay next_month = absl::CivilDay(absl::CivilMonth(*first) + 1);
  const absl::Time now = deps_.clock.Now();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    if (!request.idempotency_key().empty()) {
      pqxx::result prior = txn.exec_params(kSelectPlanByKey, request.idempotency_key());
      if (!prior.empty()) return DecodeMessage(prior[0][0].c_str(), response);
    }
    if (today > deadline) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the plan for ", request.month(), " had to be published by ", common::FormatDate(deadline),
          " (", deps_.options.monthly_plan_lead_days, " days before the month)"));
    }
    v1::MonthlyPlan plan;
    plan.set_plan_id(common::NewUuid());
    plan.set_month(request.month());
    plan.set_region_code(request.region_code());
    plan.set_publish_deadline(common::FormatDate(deadline));
    plan.set_published_date(common::FormatDate(today));
    plan.set_published_by(request.published_by());
    SetTimestamp(now, plan.mutable_create_time());
    events::v1::MonthlyPlanPublished published;
    published.set_plan_id(plan.plan_id());
    published.set_month(plan.month());
    published.set_region_code(plan.region_code());
    published.set_published_date(plan.published_date());
    for (int i = 0; i < request.entries_size(); ++i) {
      v1::PlannedInspection entry = request.entries(i);
      const std::string field = absl::StrCat("entries[", i, "]");
      auto uscc = common::Uscc::Parse(entry.uscc());
      if (!uscc.ok()) return FieldError(absl::StrCat(field, ".uscc"), uscc.status().message());
      entry.set_uscc(uscc->str());
      pqxx::result e = txn.exec_params(kSelectEnterpriseName, entry.uscc());
      if (e.empty()) return FieldError(absl::StrCat(field, ".uscc"), "not in the enterprise directory");
      entry.set_enterprise_name(e[0][0].c_str());
      pqxx::result item = txn.exec_params(kSelectCheckItem, entry.check_item_code());
      if (item.empty()) {
        return FieldError(absl::StrCat(field, ".check_item_code"), "not in the check-item list");
      }
      if (entry.origin() == v1::INSPECTION_ORIGIN_UNSPECIFIED) {
        entry.set_origin(v1::INSPECTION_ORIGIN_PLAN);
      }
      if (!entry.planned_date().empty()) {
        auto day = common::ParseDate(entry.planned_date());
        if (!day.ok() || *day < month_start || *day >= next_month) {
          return FieldError(absl::StrCat(field, ".planned_date"),
                            absl::StrCat("must be a date in ", request.month()));
        }
        if (absl::Status s = CheckQuietDay(*day, entry.origin(), item[0][1].as<bool>(), "",
                                           deps_.options.quiet_days_last);
            !s.ok()) {
          return FieldError(absl::StrCat(field, ".planned_date"), s.message());
        }
      }
      *plan.add_entries() = entry;
      auto* pe = published.add_entries();
      pe->set_uscc(entry.uscc());
      pe->set_enterprise_name(entry.enterprise_name());
      pe->set_check_item_code(entry.check_item_code());
      pe->set_check_item_name(item[0][0].c_str());
      pe->set_planned_date(entry.planned_date());
    }
    txn.exec_params(kInsertPlan, plan.plan_id(), request.idempotency_key(), plan.month(),
                    plan.region_code(), EncodeMessage(plan));
    auto enqueued = common::EnqueueOutbox(
        txn, common::MakeEnvelopeEvent("inspection", common::DeliverEventMethod("disclosure"),
                                       "monthly_plan", plan.plan_id(),
                                       "inspection.monthly_plan_published", published, now));
    if (!enqueued.ok()) return enqueued.status();
    *response = std::move(plan);
    return absl::OkStatus();
  });
}

}  // namespace regsuite::inspection
