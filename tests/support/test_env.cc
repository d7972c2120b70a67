#include "test_env.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "regsuite/common/check.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/server.h"

extern char** environ;

namespace regsuite::testing {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    FAIL(name << " is not set: integration tests run against the PostgreSQL and Redis that "
                 "tools/test.sh starts (run ./tools/test.sh)");
  }
  return value;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

void RunCommand(const char* variable) {
  const std::string command = Env(variable);
  int rc = std::system(command.c_str());
  REQUIRE(rc == 0);
}

}  // namespace

common::PgOptions TestPgOptions(absl::string_view schema) {
  common::PgOptions o;
  o.host = Env("REGSUITE_TEST_PG_HOST");
  o.port = std::stoi(Env("REGSUITE_TEST_PG_PORT"));
  o.dbname = Env("REGSUITE_TEST_PG_DBNAME");
  o.user = Env("REGSUITE_TEST_PG_USER");
  o.password = ReadFile(Env("REGSUITE_TEST_PG_PASSWORD_FILE"));
  o.search_path = absl::StrCat(schema, ",public");
  o.application_name = "regsuite-tests";
  o.pool_size = 4;
  return o;
}

common::RedisOptions TestRedisOptions() {
  common::RedisOptions o;
  o.port = std::stoi(Env("REGSUITE_TEST_REDIS_PORT"));
  return o;
}

std::vector<std::string> ServiceEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env = {
      "REGSUITE_POSTGRES_HOST=" + Env("REGSUITE_TEST_PG_HOST"),
      "REGSUITE_POSTGRES_PORT=" + Env("REGSUITE_TEST_PG_PORT"),
      "REGSUITE_POSTGRES_DBNAME=" + Env("REGSUITE_TEST_PG_DBNAME"),
      "REGSUITE_POSTGRES_USER=" + Env("REGSUITE_TEST_PG_USER"),
      "REGSUITE_POSTGRES_PASSWORD_FILE=" + Env("REGSUITE_TEST_PG_PASSWORD_FILE"),
      "REGSUITE_REDIS_PORT=" + Env("REGSUITE_TEST_REDIS_PORT"),
      "PATH=/usr/local/bin:/usr/bin:/bin",
  };
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

void StopPostgres() { RunCommand("REGSUITE_TEST_PG_STOP_CMD"); }
void StartPostgres() { RunCommand("REGSUITE_TEST_PG_START_CMD"); }
void StopRedis() { RunCommand("REGSUITE_TEST_REDIS_STOP_CMD"); }
void StartRedis() { RunCommand("REGSUITE_TEST_REDIS_START_CMD"); }

std::string UniqueSchemaName(absl::string_view prefix) {
  std::string id = common::NewUuid().substr(0, 8);
  return absl::StrCat(prefix, "_", id);
}

void DropSchema(absl::string_view schema) {
  pqxx::connection conn(TestPgOptions().ConnectionString());
  pqxx::nontransaction txn(conn);
  txn.exec(absl::StrCat("DROP SCHEMA IF EXISTS ", conn.quote_name(std::string(schema)), " CASCADE"));
}

void MigrateSchema(absl::string_view schema, absl::string_view service,
                   std::span<const common::EmbeddedFile> own_files) {
  auto sets = common::ServiceMigrationSets(service, own_files);
  RS_CHECK(sets.ok()) << sets.status();
  pqxx::connection conn(TestPgOptions(schema).ConnectionString());
  auto applied = common::ApplyMigrations(conn, schema, *sets);
  RS_CHECK(applied.ok()) << applied.status();
}

std::string BinaryPath(absl::string_view name) {
  return absl::StrCat(Env("REGSUITE_BIN_DIR"), "/", name);
}

ChildProcess::ChildProcess(const std::string& path, const std::vector<std::string>& args,
                           const std::vector<std::string>& env, const std::string& log_file) {
  std::vector<std::string> argv_store = {path};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store = env;
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!log_file.empty()) {
      int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
    }
    execve(path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (Running()) {
    Kill(SIGKILL);
    Wait(absl::Seconds(10));
  }
}

void ChildProcess::Kill(int signal) {
  if (!reaped_) ::kill(pid_, signal);
}

bool ChildProcess::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return true;
}

int ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

bool Eventually(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace regsuite::testing
