// The migration runner against real PostgreSQL: numbered forward-only files, one transaction
// each, under an advisory lock so that replicas starting together apply each exactly once.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "regsuite/common/migrations.h"
#include "test_env.h"

using regsuite::common::ApplyMigrations;
using regsuite::common::EmbeddedFile;
using regsuite::common::MigrationSet;
using regsuite::common::ParseMigrationSet;

namespace {

// Not idempotent on purpose: applying 0001 twice fails (CREATE TABLE), and 0002 inserts a row
// per application, so a double application is visible in the data.
constexpr EmbeddedFile kFiles[] = {
    {"0002_seed.sql", "SELECT pg_sleep(0.5); INSERT INTO applied_marks (note) VALUES ('seed');"},
    {"0001_create.sql", "CREATE TABLE applied_marks (id serial PRIMARY KEY, note text NOT NULL);"},
};

MigrationSet TestSet() {
  auto set = ParseMigrationSet("test", kFiles);
  REQUIRE(set.ok());
  return *set;
}

int64_t Count(const std::string& schema, const std::string& sql) {
  pqxx::connection conn(regsuite::testing::TestPgOptions(schema).ConnectionString());
  pqxx::work txn(conn);
  return txn.exec1(sql)[0].as<int64_t>();
}

struct Schema {
  Schema() : name(regsuite::testing::UniqueSchemaName("migr")) {}
  ~Schema() { regsuite::testing::DropSchema(name); }
  std::string name;
};

}  // namespace

TEST_CASE("migration files are ordered by their number and must be named NNNN_<what>.sql") {
  MigrationSet set = TestSet();
  REQUIRE(set.migrations.size() == 2);
  CHECK(set.migrations[0].version == 1);
  CHECK(set.migrations[1].version == 2);
  constexpr EmbeddedFile kBad[] = {{"create.sql", "SELECT 1"}};
  CHECK(ParseMigrationSet("test", kBad).status().message() ==
        "migration create.sql: file name must be NNNN_<what>.sql");
  constexpr EmbeddedFile kTwice[] = {{"0001_a.sql", "SELECT 1"}, {"0001_b.sql", "SELECT 2"}};
  CHECK(ParseMigrationSet("test", kTwice).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("two processes migrating the same schema at once apply each migration exactly once") {
  Schema schema;
  const MigrationSet set = TestSet();
  pid_t children[2];
  for (pid_t& child : children) {
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // Each process has its own connection, as two replicas starting together would.
      try {
        pqxx::connection conn(regsuite::testing::TestPgOptions(schema.name).ConnectionString());
        auto report = ApplyMigrations(conn, schema.name, std::span(&set, 1));
        _exit(report.ok() ? 0 : 1);
      } catch (...) {
        _exit(2);
      }
    }
  }
  for (pid_t child : children) {
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(Count(schema.name, "SELECT count(*) FROM applied_marks") == 1);
  CHECK(Count(schema.name, "SELECT count(*) FROM schema_migrations WHERE component = 'test'") == 2);
}

TEST_CASE("a second run applies nothing and a changed applied migration is refused") {
  Schema schema;
  MigrationSet set = TestSet();
  pqxx::connection conn(regsuite::testing::TestPgOptions(schema.name).ConnectionString());
  auto first = ApplyMigrations(conn, schema.name, std::span(&set, 1));
  REQUIRE(first.ok());
  CHECK(first->applied == 2);
  auto second = ApplyMigrations(conn, schema.name, std::span(&set, 1));
  REQUIRE(second.ok());
  CHECK(second->applied == 0);
  CHECK(second->already_applied == 2);

  set.migrations[0].sql += " -- edited";
  set.migrations[0].checksum = "different";
  auto edited = ApplyMigrations(conn, schema.name, std::span(&set, 1));
  CHECK(edited.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(edited.status().message().find("0001_create.sql") != absl::string_view::npos);
}

TEST_CASE("a failing migration leaves no trace: its changes and its ledger row roll back") {
  Schema schema;
  constexpr EmbeddedFile kBroken[] = {
      {"0001_create.sql", "CREATE TABLE applied_marks (id serial PRIMARY KEY, note text NOT NULL);"},
      {"0002_broken.sql", "INSERT INTO applied_marks (note) VALUES ('x'); SELECT * FROM missing_table;"},
  };
  auto set = ParseMigrationSet("test", kBroken);
  REQUIRE(set.ok());
  pqxx::connection conn(regsuite::testing::TestPgOptions(schema.name).ConnectionString());
  auto report = ApplyMigrations(conn, schema.name, std::span(&*set, 1));
  CHECK_FALSE(report.ok());
  CHECK(Count(schema.name, "SELECT count(*) FROM applied_marks") == 0);
  CHECK(Count(schema.name, "SELECT count(*) FROM schema_migrations WHERE component = 'test'") == 1);
}
