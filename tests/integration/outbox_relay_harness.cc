// A relay process for the crash test: delivers the outbox of one schema to one address until
// it is killed. Usage: outbox_relay_harness <schema> <target host:port>
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "regsuite/common/outbox.h"
#include "regsuite/common/pg.h"
#include "absl/strings/str_cat.h"

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <schema> <target>\n", argv[0]);
    return 2;
  }
  regsuite::common::PgOptions options;
  options.host = Env("REGSUITE_POSTGRES_HOST");
  options.port = std::atoi(Env("REGSUITE_POSTGRES_PORT").c_str());
  options.dbname = Env("REGSUITE_POSTGRES_DBNAME");
  options.user = Env("REGSUITE_POSTGRES_USER");
  std::FILE* f = std::fopen(Env("REGSUITE_POSTGRES_PASSWORD_FILE").c_str(), "r");
  char buf[256] = {0};
  if (f != nullptr) {
    if (std::fgets(buf, sizeof buf, f) == nullptr) buf[0] = 0;
    std::fclose(f);
  }
  options.password = buf;
  while (!options.password.empty() && options.password.back() == '\n') options.password.pop_back();
  options.search_path = absl::StrCat(argv[1], ",public");
  regsuite::common::PgPool pool(options);

  regsuite::common::OutboxRelayOptions relay_options;
  relay_options.batch_size = 16;
  relay_options.poll_interval = absl::Milliseconds(20);
  relay_options.initial_backoff = absl::Milliseconds(20);
  relay_options.max_backoff = absl::Milliseconds(200);
  regsuite::common::OutboxRelay relay(
      pool, grpc::CreateChannel(argv[2], grpc::InsecureChannelCredentials()), relay_options);
  relay.Start();
  std::printf("relay started\n");
  std::fflush(stdout);
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}
