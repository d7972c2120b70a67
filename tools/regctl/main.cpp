// regctl: the operator's command line for regsuite.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "regsuite/common/log.h"

namespace {

constexpr char kUsage[] =
    "usage: regctl [--config FILE] <command> [args]\n"
    "\n"
    "commands:\n"
    "  migrate [--schema NAME]...   apply migrations (calendar + every service schema, or the named ones)\n"
    "  calendar load FILE           load working-day calendar years from FILE into the database\n"
    "  calendar show YEAR           print a year's holidays, make-up workdays and working-day count\n"
    "  health HOST:PORT [SERVICE]   grpc.health.v1 check; exit 0 when SERVING\n"
    "  client create|list|rotate|disable|enable|access|cert ...   gateway clients (run without args for usage)\n"
    "  audit verify                 walk the gateway audit hash chain; names the first tampered row\n"
    "  sign ...                     print signature headers or a signed curl command for a request\n"
    "  exchange status|retry|import ...   platform push progress, re-queue parked batches, 法人库 import\n"
    "  help                         this text and every configuration key\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace regsuite;  // NOLINT: file-local convenience in a main
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string config_path;
  if (args.size() >= 2 && args[0] == "--config") {
    config_path = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  common::ConfigSchema schema = regctl::RegctlSchema();
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::printf("%s\n%s", kUsage, schema.HelpText("regctl", "regsuite operator CLI").c_str());
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--config-reference") {  // the Markdown table of docs/config-reference.md
    std::printf("%s", schema.MarkdownReference().c_str());
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "health") return regctl::Health(args);
  if (command == "sign") return regctl::Sign(args);

  auto config = common::Config::Load(schema, config_path, common::ProcessEnvironment());
  if (!config.ok()) {
    std::fprintf(stderr, "regctl: configuration error: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  common::InitLogging("regctl", common::LogLevel::kWarn);
  if (command == "migrate") return regctl::Migrate(*config, args);
  if (command == "calendar") return regctl::Calendar(*config, args);
  if (command == "client") return regctl::Client(*config, args);
  if (command == "audit") return regctl::Audit(*config, args);
  if (command == "exchange") return regctl::Exchange(*config, args);
  std::fprintf(stderr, "regctl: unknown command %s\n\n%s", command.c_str(), kUsage);
  return 2;
}
