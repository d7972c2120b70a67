#include "regsuite/common/pg.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/config.h"
#include "regsuite/common/log.h"

namespace regsuite::common {
namespace {

std::string Quote(absl::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::string PgOptions::ConnectionString() const {
  // libpq's connect_timeout is whole seconds and at least 2.
  int64_t connect_s = std::max<int64_t>(2, absl::ToInt64Seconds(connect_timeout));
  std::string options =
      absl::StrCat("-c statement_timeout=", absl::ToInt64Milliseconds(statement_timeout),
                   " -c search_path=", search_path);
  return absl::StrCat("host=", Quote(host), " port=", port, " dbname=", Quote(dbname),
                      " user=", Quote(user), " password=", Quote(password),
                      " connect_timeout=", connect_s, " application_name=", Quote(application_name),
                      " options=", Quote(options));
}

void AddPgConfigKeys(ConfigSchema& schema) {
  schema.Add("postgres.host", ConfigType::kString, "127.0.0.1", "PostgreSQL host")
      .Add("postgres.port", ConfigType::kInt, "7432", "PostgreSQL port")
      .Add("postgres.dbname", ConfigType::kString, "regsuite", "database name")
      .Add("postgres.user", ConfigType::kString, "regsuite", "database role")
      .AddSecret("postgres.password", "password of the database role")
      .Add("postgres.pool_size", ConfigType::kInt, "8", "maximum open connections in the pool")
      .Add("postgres.connect_timeout", ConfigType::kDuration, "3s", "connection timeout")
      .Add("postgres.statement_timeout", ConfigType::kDuration, "5s",
           "server-side statement timeout for every query")
      .Add("postgres.acquire_timeout", ConfigType::kDuration, "2s",
           "how long a call waits for a free pooled connection before UNAVAILABLE");
}

PgOptions ReadPgOptions(const Config& config, absl::string_view service_schema,
                        absl::string_view application_name) {
  PgOptions o;
  o.host = config.GetString("postgres.host");
  o.port = static_cast<int>(config.GetInt("postgres.port"));
  o.dbname = config.GetString("postgres.dbname");
  o.user = config.GetString("postgres.user");
  o.password = config.GetString("postgres.password");
  o.pool_size = static_cast<int>(config.GetInt("postgres.pool_size"));
  o.connect_timeout = config.GetDuration("postgres.connect_timeout");
  o.statement_timeout = config.GetDuration("postgres.statement_timeout");
  o.acquire_timeout = config.GetDuration("postgres.acquire_timeout");
  o.application_name = std::string(application_name);
  o.search_path = absl::StrCat(service_schema, ",public");
  return o;
}

absl::Status StatusFromCurrentException(absl::string_view what) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat(what, ": connection lost: ", e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnavailableError(absl::StrCat(what, ": commit outcome unknown: ", e.what()));
  } catch (const pqxx::transaction_rollback& e) {
    // Serialization failure (40001) and deadlock (40P01): libpqxx throws every class-40 state
    // as a transaction_rollback, which in libpqxx 6 is not an sql_error.
    return absl::AbortedError(absl::StrCat(what, ": concurrent update, retry: ", e.what()));
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    if (state == "23505") return absl::AlreadyExistsError(absl::StrCat(what, ": ", e.what()));
    if (state == "57014") {
      return absl::DeadlineExceededError(absl::StrCat(what, ": statement timeout: ", e.what()));
    }
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
      return absl::UnavailableError(absl::StrCat(what, ": server unavailable: ", e.what()));
    }
    return absl::InternalError(absl::StrCat(what, ": sqlstate ", state, ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(what, ": unknown exception"));
  }
}

PgPool::Lease::Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

PgPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), broken_(other.broken_) {
  other.pool_ = nullptr;
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) {
    // A connection that failed at the transport level is not reused.
    pool_->Return(std::move(conn_), broken_ || !conn_->is_open());
  }
}

std::string PreparedStatementName(absl::string_view sql) {
  return absl::StrCat("rs_", absl::Hex(absl::HashOf(sql), absl::kZeroPad16));
}

PgPool::PgPool(PgOptions options) : options_(std::move(options)) {}

PgPool::~PgPool() = default;

absl::StatusOr<std::unique_ptr<pqxx::connection>> PgPool::Connect() {
  try {
    return std::make_unique<pqxx::connection>(options_.ConnectionString());
  } catch (...) {
    return StatusFromCurrentException("postgres connect");
  }
}

absl::StatusOr<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock lock(mu_);
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(options_.acquire_timeout);
  while (true) {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->is_open()) {
        ++in_use_;
        return Lease(this, std::move(conn));
      }
      --size_;
    }
    if (size_ < options_.pool_size) {
      ++size_;
      ++in_use_;
      lock.unlock();
      auto conn = Connect();
      lock.lock();
      if (!conn.ok()) {
        --size_;
        --in_use_;
        cv_.notify_one();
        return conn.status();
      }
      return Lease(this, std::move(*conn));
    }
    ++waiting_;
    bool timed_out = cv_.wait_until(lock, deadline) == std::cv_status::timeout;
    --waiting_;
    if (timed_out && idle_.empty() && size_ >= options_.pool_size) {
      return absl::UnavailableError(
          absl::StrCat("postgres: all ", options_.pool_size, " pooled connections busy"));
    }
  }
}

void PgPool::Return(std::unique_ptr<pqxx::connection> conn, bool broken) {
  {
    std::lock_guard lock(mu_);
    --in_use_;
    if (broken) {
      --size_;
      ++reconnects_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  cv_.notify_one();
  if (broken) LogWarn("postgres connection dropped from pool; a new one opens on demand");
}

absl::Status PgPool::Ping() {
  std::lock_guard lock(probe_mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (probe_ == nullptr || !probe_->is_open()) {
      auto conn = Connect();
      if (!conn.ok()) return conn.status();
      probe_ = std::move(*conn);
    }
    try {
      pqxx::nontransaction txn(*probe_);
      txn.exec("SELECT 1");
      return absl::OkStatus();
    } catch (...) {
      probe_.reset();
      if (attempt == 1) return StatusFromCurrentException("postgres ping");
    }
  }
  return absl::UnavailableError("postgres ping failed");
}

PgPool::Stats PgPool::stats() const {
  std::lock_guard lock(mu_);
  return {size_, in_use_, waiting_, reconnects_};
}

}  // namespace regsuite::common
