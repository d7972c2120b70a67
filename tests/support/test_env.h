#pragma once

#include "absl/strings/string_view.h"
#include <sys/types.h>

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "regsuite/common/embedded.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/redis.h"

namespace regsuite::testing {

/// PostgreSQL options of the test server started by tools/test.sh (REGSUITE_TEST_PG_*).
/// A missing variable fails the test with a message saying to run tools/test.sh.
common::PgOptions TestPgOptions(absl::string_view schema = "public");
common::RedisOptions TestRedisOptions();

/// Environment for a child service process pointing it at the test servers.
std::vector<std::string> ServiceEnvironment(const std::vector<std::string>& extra);

/// Stops / starts the test PostgreSQL or Redis with the commands tools/test.sh exported.
void StopPostgres();
void StartPostgres();
void StopRedis();
void StartRedis();

/// A unique, valid, lower-case identifier for a throwaway schema.
std::string UniqueSchemaName(absl::string_view prefix);
/// Drops the schema (and everything in it) when the test ends.
void DropSchema(absl::string_view schema);
/// Applies a service's migrations (the common outbox/inbox tables, then `own_files`) to
/// `schema`, as the service does at start-up; fails the test if they do not apply.
void MigrateSchema(absl::string_view schema, absl::string_view service,
                   std::span<const common::EmbeddedFile> own_files = {});

/// Path of a built binary (REGSUITE_BIN_DIR).
std::string BinaryPath(absl::string_view name);

/// A child process started with fork/exec; killed (SIGKILL) when destroyed if still running.
class ChildProcess {
 public:
  ChildProcess(const std::string& path, const std::vector<std::string>& args,
               const std::vector<std::string>& env, const std::string& log_file = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Kill(int signal);
  /// Waits for exit up to `timeout`; returns the exit status (or -1 on timeout).
  int Wait(absl::Duration timeout);
  bool Running();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

/// Polls `condition` every 50 ms until true or `timeout`; returns its last value.
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout);

/// A free TCP port on 127.0.0.1.
int FreePort();

}  // namespace regsuite::testing
