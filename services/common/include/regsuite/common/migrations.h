#pragma once

#include "absl/strings/string_view.h"
#include <span>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/statusor.h"
#include "regsuite/common/embedded.h"

namespace regsuite::common {

/// One forward-only schema change, from a file named `NNNN_<what>.sql`.
struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
  std::string checksum;  // SHA-256 of sql; an applied migration may never change
};

/// Migrations of one component ("common", "credit", ...) applied to one schema.
struct MigrationSet {
  std::string component;
  std::vector<Migration> migrations;
};

/// Parses embedded files into a set ordered by version; names must be NNNN_<what>.sql with
/// unique versions.
absl::StatusOr<MigrationSet> ParseMigrationSet(std::string component,
                                               std::span<const EmbeddedFile> files);

/// Outbox and inbox tables, applied to every service schema (component "common").
std::span<const EmbeddedFile> CommonMigrationFiles();
/// The shared working-day calendar reference data (schema "calendar").
std::span<const EmbeddedFile> CalendarMigrationFiles();

struct MigrationReport {
  int applied = 0;
  int already_applied = 0;
};

/// Applies `sets` to `schema` in order. Holds a session advisory lock keyed by the schema
/// for the whole run, so N replicas starting at once apply each migration exactly once;
/// each migration runs in its own transaction together with its bookkeeping row.
absl::StatusOr<MigrationReport> ApplyMigrations(pqxx::connection& conn, absl::string_view schema,
                                                std::span<const MigrationSet> sets);

}  // namespace regsuite::common
