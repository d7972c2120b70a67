#include "options.h"

namespace regsuite::inspection {

using common::ConfigType;

void AddInspectionConfigKeys(common::ConfigSchema& schema) {
  schema
      .Add("inspection.quiet_days_last", ConfigType::kInt, "20",
           "宁静日: no routine inspection on days 1..N of a month (0 disables)")
      .Add("inspection.red_list_max_per_year", ConfigType::kInt, "1",
           "red-list enterprises: at most this many inspections a year")
      .Add("inspection.import_max_rows", ConfigType::kInt, "50000",
           "maximum rows in one ImportEnterprises call")
      .Add("inspection.import_chunk_rows", ConfigType::kInt, "1000",
           "rows per multi-row upsert statement during an import")
      .Add("inspection.result_publication_wd", ConfigType::kInt, "20",
           "inspection results published within N working days of closing")
      .Add("inspection.hearing_request_wd", ConfigType::kInt, "5",
           "party may ask for a hearing within N working days of notice (Art 64)")
      .Add("inspection.decision_deadline_cd", ConfigType::kInt, "90",
           "penalty decision within N calendar days of filing (Art 60)")
      .Add("inspection.payment_due_cd", ConfigType::kInt, "15",
           "fine due N calendar days after the decision (Art 67)")
      .Add("inspection.late_fee_per_mille_per_day", ConfigType::kInt, "30",
           "late fee per day in per mille of the fine, capped at the fine (Art 72)")
      .Add("inspection.default_rectification_wd", ConfigType::kInt, "10",
           "hazard rectification deadline in working days when none is given")
      .Add("inspection.monthly_plan_lead_days", ConfigType::kInt, "15",
           "monthly plan published at least N days before the month")
      .Add("inspection.black_list_min_per_year", ConfigType::kInt, "2",
           "annual plan: black-listed enterprises get at least N inspections a year")
      .Add("inspection.annual_plan_key_inspections", ConfigType::kInt, "1",
           "annual plan: inspections planned per key enterprise (at least 1)")
      .Add("inspection.annual_plan_sample_per_mille", ConfigType::kInt, "50",
           "annual plan: other enterprises sampled at N per mille (50 = 5 %)")
      .Add("inspection.authority", ConfigType::kString, "应急管理局",
           "deciding authority named in decisions and publications")
      .Add("inspection.hazard_sweep_interval", ConfigType::kDuration, "60s",
           "how often overdue major hazards are reported to credit (0s disables)")
      .Add("inspection.simple_max_person_fen", ConfigType::kInt, "20000",
           "simple procedure: fine up to this (natural person / individual business), fen")
      .Add("inspection.simple_max_organisation_fen", ConfigType::kInt, "300000",
           "simple procedure: fine up to this (organisation), fen")
      .Add("inspection.hearing_min_person_fen", ConfigType::kInt, "1000000",
           "hearing must be offered from this fine (person), fen")
      .Add("inspection.hearing_min_organisation_fen", ConfigType::kInt, "3000000",
           "hearing must be offered from this fine (organisation), fen");
}

InspectionOptions ReadInspectionOptions(const common::Config& config) {
  InspectionOptions o;
  auto i = [&](const char* key) { return static_cast<int>(config.GetInt(key)); };
  o.quiet_days_last = i("inspection.quiet_days_last");
  o.red_list_max_per_year = i("inspection.red_list_max_per_year");
  o.import_max_rows = i("inspection.import_max_rows");
  o.import_chunk_rows = i("inspection.import_chunk_rows");
  o.result_publication_wd = i("inspection.result_publication_wd");
  o.hearing_request_wd = i("inspection.hearing_request_wd");
  o.decision_deadline_cd = i("inspection.decision_deadline_cd");
  o.payment_due_cd = i("inspection.payment_due_cd");
  o.late_fee_per_mille_per_day = i("inspection.late_fee_per_mille_per_day");
  o.default_rectification_wd = i("inspection.default_rectification_wd");
  o.monthly_plan_lead_days = i("inspection.monthly_plan_lead_days");
  o.black_list_min_per_year = i("inspection.black_list_min_per_year");
  o.annual_plan_key_inspections = i("inspection.annual_plan_key_inspections");
  o.annual_plan_sample_per_mille = i("inspection.annual_plan_sample_per_mille");
  o.authority = config.GetString("inspection.authority");
  o.hazard_sweep_interval = config.GetDuration("inspection.hazard_sweep_interval");
  o.thresholds.simple_max_person_fen = config.GetInt("inspection.simple_max_person_fen");
  o.thresholds.simple_max_organisation_fen =
      config.GetInt("inspection.simple_max_organisation_fen");
  o.thresholds.hearing_min_person_fen = config.GetInt("inspection.hearing_min_person_fen");
  o.thresholds.hearing_min_organisation_fen =
      config.GetInt("inspection.hearing_min_organisation_fen");
  return o;
}

}  // namespace regsuite::inspection
