// Behaviour across PostgreSQL and Redis outages: the pool reconnects after a server restart,
// and a service's grpc.health.v1 status follows its dependencies (never a constant SERVING).
#include <signal.h>

#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include <latch>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/health_client.h"
#include "regsuite/common/pg.h"
#include "regsuite/credit/v1/credit.grpc.pb.h"
#include "test_env.h"

using regsuite::common::CheckServingStatus;
using regsuite::common::PgPool;
using regsuite::testing::Eventually;

namespace {

constexpr char kAnswer[] = "SELECT $1::bigint + 1";

absl::StatusOr<int64_t> PreparedAnswer(PgPool& pool) {
  return pool.Transact([](pqxx::work& txn) -> absl::StatusOr<int64_t> {
    return regsuite::common::ExecPrepared(txn, kAnswer, 41)[0][0].as<int64_t>();
  });
}

}  // namespace

TEST_CASE("the pool survives a PostgreSQL restart, prepared statements included") {
  PgPool pool(regsuite::testing::TestPgOptions());
  auto before = PreparedAnswer(pool);
  REQUIRE(before.ok());
  CHECK(*before == 42);

  regsuite::testing::StopPostgres();
  auto during = PreparedAnswer(pool);
  CHECK(during.status().code() == absl::StatusCode::kUnavailable);
  regsuite::testing::StartPostgres();

  absl::StatusOr<int64_t> after = absl::UnknownError("not tried");
  CHECK(Eventually([&] { return (after = PreparedAnswer(pool)).ok(); }, absl::Seconds(20)));
  CHECK(*after == 42);
  CHECK(pool.stats().reconnects >= 1);
}

TEST_CASE("a deadlock between two transactions is ABORTED (retry), not INTERNAL") {
  const std::string schema = regsuite::testing::UniqueSchemaName("deadlock");
  PgPool pool(regsuite::testing::TestPgOptions(schema));
  REQUIRE(pool.Transact([&](pqxx::work& txn) -> absl::Status {
                txn.exec(absl::StrCat("CREATE SCHEMA ", txn.quote_name(schema)));
                txn.exec(absl::StrCat("CREATE TABLE ", txn.quote_name(schema),
                                      ".pair (id int PRIMARY KEY, n int NOT NULL)"));
                txn.exec(absl::StrCat("INSERT INTO ", txn.quote_name(schema),
                                      ".pair VALUES (1, 0), (2, 0)"));
                return absl::OkStatus();
              })
              .ok());
  // Each locks its first row, waits until the other has too, then wants the other's.
  std::latch both_locked(2);
  auto cross = [&](int first, int second) {
    return pool.Transact([&](pqxx::work& txn) -> absl::Status {
      const std::string update =
          absl::StrCat("UPDATE ", txn.quote_name(schema), ".pair SET n = n + 1 WHERE id = $1");
      txn.exec_params(update, first);
      both_locked.arrive_and_wait();
      txn.exec_params(update, second);
      return absl::OkStatus();
    });
  };
  absl::Status a, b;
  std::thread other([&] { b = cross(2, 1); });
  a = cross(1, 2);
  other.join();
  regsuite::testing::DropSchema(schema);
  INFO(a.ToString() << " / " << b.ToString());
  CHECK(a.ok() != b.ok());  // PostgreSQL ends exactly one of them
  const absl::Status& lost = a.ok() ? b : a;
  CHECK(lost.code() == absl::StatusCode::kAborted);
  CHECK(absl::StrContains(lost.message(), "deadlock detected"));
}

TEST_CASE("a service reports NOT_SERVING while PostgreSQL or Redis is down and SERVING after") {
  const int grpc_port = regsuite::testing::FreePort();
  const int admin_port = regsuite::testing::FreePort();
  const std::string address = absl::StrCat("127.0.0.1:", grpc_port);
  regsuite::testing::ChildProcess service(
      regsuite::testing::BinaryPath("credit-service"), {},
      regsuite::testing::ServiceEnvironment({
          absl::StrCat("REGSUITE_SERVER_GRPC_LISTEN=", address),
          absl::StrCat("REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:", admin_port),
          "REGSUITE_HEALTH_CHECK_INTERVAL=200ms",
      }));
  auto status_is = [&](const std::string& want, const std::string& service_name = "") {
    auto status = CheckServingStatus(address, service_name, absl::Seconds(1));
    return status.ok() && *status == want;
  };
  REQUIRE(Eventually([&] { return status_is("SERVING", "regsuite.credit.v1.CreditService"); },
                     absl::Seconds(30)));
  CHECK(status_is("SERVING"));

  SECTION("the served API answers, bad input named by field") {
    auto stub = regsuite::credit::v1::CreditService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    regsuite::credit::v1::CheckSubjectRequest request;
    regsuite::credit::v1::SubjectStatus response;
    grpc::Status status = stub->CheckSubject(&ctx, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind("uscc:", 0) == 0);
  }
  SECTION("PostgreSQL down, then back") {
    regsuite::testing::StopPostgres();
    CHECK(Eventually([&] { return status_is("NOT_SERVING"); }, absl::Seconds(15)));
    CHECK(status_is("NOT_SERVING", "regsuite.credit.v1.CreditService"));
    regsuite::testing::StartPostgres();
    CHECK(Eventually([&] { return status_is("SERVING"); }, absl::Seconds(30)));
  }
  SECTION("Redis down, then back") {
    regsuite::testing::StopRedis();
    CHECK(Eventually([&] { return status_is("NOT_SERVING"); }, absl::Seconds(15)));
    regsuite::testing::StartRedis();
    CHECK(Eventually([&] { return status_is("SERVING"); }, absl::Seconds(30)));
  }
  SECTION("SIGTERM drains and exits cleanly") {
    service.Kill(SIGTERM);
    CHECK(service.Wait(absl::Seconds(20)) == 0);
  }
}
