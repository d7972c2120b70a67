#include "commands.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/health_client.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"

namespace regsuite::regctl {
namespace {

struct SchemaFiles {
  const char* schema;
  std::span<const common::EmbeddedFile> (*files)();
};

constexpr SchemaFiles kServiceSchemas[] = {
    {"credit", &credit::MigrationFiles},         {"licensing", &licensing::MigrationFiles},
    {"inspection", &inspection::MigrationFiles}, {"disclosure", &disclosure::MigrationFiles},
    {"exchange", &exchange::MigrationFiles},     {"gateway", &gateway::MigrationFiles},
};

constexpr char kDeleteYear[] = "DELETE FROM calendar.calendar_years WHERE year = $1";
constexpr char kInsertYear[] = "INSERT INTO calendar.calendar_years (year, source) VALUES ($1, $2)";
constexpr char kInsertDay[] =
    "INSERT INTO calendar.calendar_days (day, kind, name, year) VALUES ($1::date, $2, $3, $4)";

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "regctl: %s\n", status.ToString().c_str());
  return 1;
}

common::PgPool MakePool(const common::Config& config) {
  return common::PgPool(common::ReadPgOptions(config, "public", "regctl"));
}

}  // namespace

common::ConfigSchema RegctlSchema() {
  common::ConfigSchema schema;
  common::AddPgConfigKeys(schema);
  schema.AddSecret("auth.master_key", "the gateway master key (client commands only)");
  return schema;
}

int Migrate(const common::Config& config, const std::vector<std::string>& args) {
  std::vector<std::string> only;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--schema" && i + 1 < args.size()) {
      only.push_back(args[++i]);
    } else {
      std::fprintf(stderr, "regctl migrate: unknown argument %s\n", args[i].c_str());
      return 2;
    }
  }
  common::PgPool pool = MakePool(config);
  auto lease = pool.Acquire();
  if (!lease.ok()) return Fail(lease.status());
  auto wanted = [&](absl::string_view schema) {
    return only.empty() || std::find(only.begin(), only.end(), schema) != only.end();
  };
  if (wanted("calendar")) {
    auto set = common::ParseMigrationSet("calendar", common::CalendarMigrationFiles());
    if (!set.ok()) return Fail(set.status());
    auto report = common::ApplyMigrations(lease->conn(), "calendar", std::span(&*set, 1));
    if (!report.ok()) return Fail(report.status());
    std::printf("calendar: %d applied, %d already applied\n", report->applied, report->already_applied);
  }
  for (const auto& entry : kServiceSchemas) {
    if (!wanted(entry.schema)) continue;
    auto sets = common::ServiceMigrationSets(entry.schema, entry.files());
    if (!sets.ok()) return Fail(sets.status());
    auto report = common::ApplyMigrations(lease->conn(), entry.schema, *sets);
    if (!report.ok()) return Fail(report.status());
    std::printf("%s: %d applied, %d already applied\n", entry.schema, report->applied,
                report->already_applied);
  }
  return 0;
}

int Calendar(const common::Config& config, const std::vector<std::string>& args) {
  if (args.size() != 2 || (args[0] != "load" && args[0] != "show")) {
    std::fprintf(stderr, "usage: regctl calendar load FILE | regctl calendar show YEAR\n");
    return 2;
  }
  common::PgPool pool = MakePool(config);
  if (args[0] == "show") {
    int year = 0;
    if (!absl::SimpleAtoi(args[1], &year)) {
      std::fprintf(stderr, "regctl calendar show: YEAR must be a number\n");
      return 2;
    }
    auto calendar = common::LoadWorkingDayCalendar(pool, "");
    if (!calendar.ok()) return Fail(calendar.status());
    auto overrides = (*calendar)->Overrides(year);
    if (!overrides.ok()) return Fail(overrides.status());
    for (const auto& o : *overrides) {
      std::printf("%s\t%s\t%s\n", common::FormatDate(o.day).c_str(),
                  std::string(common::DayKindName(o.kind)).c_str(), o.name.c_str());
    }
    std::printf("%d working days in %d\n", *(*calendar)->WorkingDaysInYear(year), year);
    return 0;
  }

  std::ifstream in(args[1]);
  if (!in) return Fail(absl::NotFoundError(absl::StrCat("cannot read ", args[1])));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = common::WorkingDayCalendar::Parse(buffer.str());
  if (!parsed.ok()) return Fail(parsed.status());
  // The file must agree with the built-in years it overlaps.
  common::WorkingDayCalendar::Builder check;
  auto builtin = common::WorkingDayCalendar::Builtin();
  if (!builtin.ok()) return Fail(builtin.status());
  if (auto s = check.AddCalendar(*builtin, "built-in"); !s.ok()) return Fail(s);
  if (auto s = check.AddCalendar(*parsed, args[1]); !s.ok()) return Fail(s);

  auto loaded = pool.Transact([&](pqxx::work& txn) -> absl::Status {
    for (int year : parsed->Years()) {
      txn.exec_params(kDeleteYear, year);
      txn.exec_params(kInsertYear, year, args[1]);
      auto overrides = parsed->Overrides(year);
      if (!overrides.ok()) return overrides.status();
      for (const auto& o : *overrides) {
        txn.exec_params(kInsertDay, common::FormatDate(o.day),
                        std::string(common::DayKindName(o.kind)), o.name, year);
      }
    }
    return absl::OkStatus();
  });
  if (!loaded.ok()) return Fail(loaded);
  for (int year : parsed->Years()) {
    std::printf("loaded %d: %d working days\n", year, *parsed->WorkingDaysInYear(year));
  }
  return 0;
}

int Health(const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2) {
    std::fprintf(stderr, "usage: regctl health HOST:PORT [SERVICE]\n");
    return 2;
  }
  auto status = common::CheckServingStatus(args[0], args.size() == 2 ? args[1] : "",
                                           absl::Seconds(3));
  if (!status.ok()) {
    std::printf("%s %s\n", args[0].c_str(), status.status().ToString().c_str());
    return 1;
  }
  std::printf("%s %s\n", args[0].c_str(), status->c_str());
  return *status == "SERVING" ? 0 : 1;
}

}  // namespace regsuite::regctl
