#include "regsuite/common/migrations.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/log.h"
#include "regsuite/common/pg.h"

namespace regsuite::common {
namespace {

constexpr char kCreateLedger[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " component text NOT NULL, version integer NOT NULL, name text NOT NULL,"
    " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (component, version))";
constexpr char kSelectApplied[] = "SELECT component, version, checksum FROM schema_migrations";
constexpr char kInsertApplied[] =
    "INSERT INTO schema_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)";

// Releases the session advisory lock however the run ends.
class AdvisoryLock {
 public:
  AdvisoryLock(pqxx::connection& conn, std::string key) : conn_(conn), key_(std::move(key)) {
    pqxx::nontransaction txn(conn_);
    // Waiting replicas block here until the first one has finished.
    txn.exec("SET statement_timeout = 0");
    txn.exec_params("SELECT pg_advisory_lock(hashtextextended($1, 0))", key_);
  }
  ~AdvisoryLock() {
    try {
      pqxx::nontransaction txn(conn_);
      txn.exec_params("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key_);
    } catch (...) {
      // A broken connection releases session locks on the server by itself.
    }
  }

 private:
  pqxx::connection& conn_;
  std::string key_;
};

}  // namespace

absl::StatusOr<MigrationSet> ParseMigrationSet(std::string component,
                                               std::span<const EmbeddedFile> files) {
  MigrationSet set{std::move(component), {}};
  for (const auto& file : files) {
    absl::string_view name(file.name.data(), file.name.size());
    int version = 0;
    if (name.size() < 10 || name[4] != '_' || !absl::EndsWith(name, ".sql") ||
        !absl::SimpleAtoi(name.substr(0, 4), &version) || version <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration ", name, ": file name must be NNNN_<what>.sql"));
    }
    std::string sql(file.content);
    set.migrations.push_back({version, std::string(name), sql, Sha256Hex(sql)});
  }
  std::sort(set.migrations.begin(), set.migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < set.migrations.size(); ++i) {
    if (set.migrations[i].version == set.migrations[i - 1].version) {
      return absl::InvalidArgumentError(absl::StrCat("migration version ",
                                                     set.migrations[i].version, " of ",
                                                     set.component, " appears twice"));
    }
  }
  return set;
}

absl::StatusOr<MigrationReport> ApplyMigrations(pqxx::connection& conn, absl::string_view schema,
                                                std::span<const MigrationSet> sets) {
  MigrationReport report;
  try {
    AdvisoryLock lock(conn, absl::StrCat("regsuite.migrations.", schema));
    const std::string quoted_schema = conn.quote_name(std::string(schema));
    std::map<std::pair<std::string, int>, std::string> applied;
    {
      pqxx::work txn(conn);
      txn.exec(absl::StrCat("CREATE SCHEMA IF NOT EXISTS ", quoted_schema));
      txn.exec(absl::StrCat("SET LOCAL search_path TO ", quoted_schema));
      txn.exec(kCreateLedger);
      for (const auto& row : txn.exec(kSelectApplied)) {
        applied[{row[0].as<std::string>(), row[1].as<int>()}] = row[2].as<std::string>();
      }
      txn.commit();
    }
    for (const auto& set : sets) {
      for (const auto& m : set.migrations) {
        auto it = applied.find({set.component, m.version});
        if (it != applied.end()) {
          if (it->second != m.checksum) {
            return absl::FailedPreconditionError(
                absl::StrCat("migration ", set.component, "/", m.name, " in schema ", schema,
                             " was changed after it was applied; add a new migration instead"));
          }
          ++report.already_applied;
          continue;
        }
        pqxx::work txn(conn);
        txn.exec("SET LOCAL statement_timeout = 0");
        txn.exec(absl::StrCat("SET LOCAL search_path TO ", quoted_schema, ", public"));
        txn.exec(m.sql);
        txn.exec_params(kInsertApplied, set.component, m.version, m.name, m.checksum);
        txn.commit();
        ++report.applied;
        LogInfo("migration applied", {{"schema", schema},
                                      {"component", set.component},
                                      {"migration", m.name}});
      }
    }
  } catch (...) {
    return StatusFromCurrentException(absl::StrCat("migrations of schema ", schema));
  }
  return report;
}

}  // namespace regsuite::common
