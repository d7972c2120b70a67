#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace regsuite::common {

class Config;
class ConfigSchema;

/// Where and how to reach PostgreSQL.
struct PgOptions {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string dbname = "regsuite";
  std::string user = "regsuite";
  std::string password;
  std::string application_name = "regsuite";
  // The service's own schema first; every query of a service is unqualified.
  std::string search_path = "public";
  int pool_size = 8;
  absl::Duration connect_timeout = absl::Seconds(3);
  absl::Duration statement_timeout = absl::Seconds(5);
  absl::Duration acquire_timeout = absl::Seconds(2);

  /// libpq key=value string with values quoted; the password is included.
  std::string ConnectionString() const;
};

/// Adds the `postgres.*` keys to a schema; ReadPgOptions reads them back.
void AddPgConfigKeys(ConfigSchema& schema);
PgOptions ReadPgOptions(const Config& config, absl::string_view service_schema,
                        absl::string_view application_name);

/// A PostgreSQL array literal ({"a","b"}) for a text[] (or, cast in SQL, bigint[] ...)
/// parameter: several rows in one statement through unnest.
template <typename Container>
std::string PgTextArray(const Container& values) {
  std::string out = "{";
  bool first = true;
  for (const auto& value : values) {
    if (!first) out += ',';
    first = false;
    out += '"';
    for (char c : absl::string_view(value)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

/// The name ExecPrepared gives a statement: "rs_" and a 64-bit hash of its text.
std::string PreparedStatementName(absl::string_view sql);

/// Runs `sql` as a prepared statement of the transaction's connection: PostgreSQL parses and
/// plans it once per connection instead of on every call (for the short statements of a hot
/// path, planning costs more than executing). `sql` must be a query constant (a literal or a
/// constexpr array; text built at run time would pile up statements on every connection). Only
/// for statements whose generic plan is as good as a custom one: not for "($1 = '' OR col =
/// $1)" filters.
template <size_t N, typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& txn, const char (&sql)[N], Args&&... args) {
  const std::string name = PreparedStatementName(absl::string_view(sql, N - 1));
  txn.conn().prepare(name, sql);  // declares it once per connection; then a lookup
  return txn.exec_prepared(name, std::forward<Args>(args)...);
}

/// Maps a libpqxx/std exception (inside a catch block) to a status: broken connection →
/// UNAVAILABLE, unique violation → ALREADY_EXISTS, serialization failure/deadlock → ABORTED,
/// statement timeout → DEADLINE_EXCEEDED, anything else → INTERNAL.
absl::Status StatusFromCurrentException(absl::string_view what);

/// Bounded pool of PostgreSQL connections. A connection that broke is dropped and a new one
/// opened on the next call, so a server restart costs one failed call at most; statements run
/// with ExecPrepared are prepared again on the new connection at their first use.
class PgPool {
 public:
  struct Stats {
    int size = 0;     // open connections
    int in_use = 0;   // leased out
    int waiting = 0;  // callers waiting for a connection
    int64_t reconnects = 0;
  };

  /// A leased connection; returned to the pool (or dropped if it broke) when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& conn() { return *conn_; }
    void MarkBroken() { broken_ = true; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn);
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool broken_ = false;
  };

  explicit PgPool(PgOptions options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  /// Waits up to acquire_timeout; UNAVAILABLE when the pool is exhausted or the server down.
  absl::StatusOr<Lease> Acquire();

  /// Runs `fn(pqxx::work&)` in one transaction and commits. `fn` returns absl::Status or
  /// absl::StatusOr<T>; a non-OK result rolls back. A connection that broke before commit
  /// is replaced and `fn` runs once more, so `fn` must only change state through the txn.
  template <typename Fn>
  auto Transact(Fn&& fn) -> std::invoke_result_t<Fn, pqxx::work&> {
    return Run<pqxx::work>(std::forward<Fn>(fn));
  }

  /// Runs `fn(pqxx::nontransaction&)`: each statement commits on its own, without BEGIN and
  /// COMMIT round trips. For reads that are one statement, or need no common snapshot.
  template <typename Fn>
  auto Autocommit(Fn&& fn) -> std::invoke_result_t<Fn, pqxx::nontransaction&> {
    return Run<pqxx::nontransaction>(std::forward<Fn>(fn));
  }

  /// `SELECT 1` on a dedicated probe connection (reconnecting as needed); used by health.
  absl::Status Ping();

  Stats stats() const;
  const PgOptions& options() const { return options_; }

 private:
  template <typename Txn, typename Fn>
  auto Run(Fn&& fn) -> std::invoke_result_t<Fn, Txn&>;
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect();
  void Return(std::unique_ptr<pqxx::connection> conn, bool broken);

  const PgOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int size_ = 0;
  int in_use_ = 0;
  int waiting_ = 0;
  int64_t reconnects_ = 0;

  std::mutex probe_mu_;
  std::unique_ptr<pqxx::connection> probe_;
};

template <typename Txn, typename Fn>
auto PgPool::Run(Fn&& fn) -> std::invoke_result_t<Fn, Txn&> {
  using Result = std::invoke_result_t<Fn, Txn&>;
  absl::Status last = absl::UnavailableError("postgres: no attempt made");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto lease = Acquire();
    if (!lease.ok()) return Result(lease.status());
    bool committing = false;
    try {
      Txn txn(lease->conn());
      Result result = fn(txn);
      if (!result.ok()) return result;  // txn destructor rolls back
      committing = true;
      txn.commit();
      return result;
    } catch (const pqxx::broken_connection&) {
      lease->MarkBroken();
      last = StatusFromCurrentException("postgres");
      // Retrying after a lost COMMIT could apply the change twice; only retry before it.
      if (committing) return Result(last);
    } catch (...) {
      return Result(StatusFromCurrentException("postgres"));
    }
  }
  return Result(last);
}

}  // namespace regsuite::common
