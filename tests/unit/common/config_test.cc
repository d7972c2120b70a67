#include <catch2/catch.hpp>

#include "regsuite/common/config.h"

using regsuite::common::Config;
using regsuite::common::ConfigSchema;
using regsuite::common::ConfigType;
using regsuite::common::Environment;

namespace {

ConfigSchema TestSchema() {
  ConfigSchema schema;
  schema.Add("server.grpc_listen", ConfigType::kString, "127.0.0.1:7103", "listen address")
      .Add("postgres.port", ConfigType::kInt, "7432", "port")
      .Add("postgres.statement_timeout", ConfigType::kDuration, "5s", "timeout")
      .Add("outbox.enabled", ConfigType::kBool, "true", "relay on")
      .AddSecret("postgres.password", "password");
  return schema;
}

}  // namespace

TEST_CASE("config: defaults apply, the file overrides them, the environment overrides the file") {
  auto config = Config::Parse(TestSchema(),
                              "[postgres]\nport = 6000\nstatement_timeout = 250ms\n",
                              Environment{{"REGSUITE_POSTGRES_PORT", "6001"}});
  REQUIRE(config.ok());
  CHECK(config->GetString("server.grpc_listen") == "127.0.0.1:7103");
  CHECK(config->GetInt("postgres.port") == 6001);
  CHECK(config->GetDuration("postgres.statement_timeout") == absl::Milliseconds(250));
  CHECK(config->GetBool("outbox.enabled"));
}

TEST_CASE("config: an unknown key in the file is rejected with its line and name") {
  auto config = Config::Parse(TestSchema(), "[postgres]\nprot = 6000\n", {});
  REQUIRE(config.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(config.status().message() == "config line 2: unknown key postgres.prot");
}

TEST_CASE("config: a misspelt REGSUITE_<SECTION>_ variable is rejected, unrelated ones ignored") {
  auto typo = Config::Parse(TestSchema(), "", Environment{{"REGSUITE_POSTGRES_PROT", "1"}});
  CHECK(typo.status().message() ==
        "environment: unknown configuration variable REGSUITE_POSTGRES_PROT");
  auto unrelated = Config::Parse(TestSchema(), "", Environment{{"REGSUITE_TEST_PG_PORT", "1"}});
  CHECK(unrelated.ok());
}

TEST_CASE("config: a secret written in the config file is refused; it comes from the environment") {
  auto in_file = Config::Parse(TestSchema(), "[postgres]\npassword = hunter2\n", {});
  REQUIRE(in_file.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(in_file.status().message().find("REGSUITE_POSTGRES_PASSWORD") != absl::string_view::npos);

  auto from_env =
      Config::Parse(TestSchema(), "", Environment{{"REGSUITE_POSTGRES_PASSWORD", "hunter2"}});
  REQUIRE(from_env.ok());
  CHECK(from_env->GetString("postgres.password") == "hunter2");
  CHECK(from_env->Describe().find("hunter2") == std::string::npos);
}

TEST_CASE("config: ill-typed values name the key and the expected type") {
  CHECK(Config::Parse(TestSchema(), "[postgres]\nport = seventy\n", {}).status().message() ==
        "postgres.port: must be an integer, got \"seventy\"");
  CHECK(Config::Parse(TestSchema(), "[outbox]\nenabled = yes\n", {}).status().message() ==
        "outbox.enabled: must be true or false, got \"yes\"");
  CHECK(Config::Parse(TestSchema(), "", Environment{{"REGSUITE_POSTGRES_STATEMENT_TIMEOUT", "5"}})
            .status()
            .message()
            .find("postgres.statement_timeout: must be a duration") == 0);
}

TEST_CASE("config: --help lists every key with its environment variable") {
  const ConfigSchema schema = TestSchema();
  std::string help = schema.HelpText("credit-service", "test");
  for (const auto& key : schema.keys()) {
    CHECK(help.find(key.name) != std::string::npos);
    CHECK(help.find(ConfigSchema::EnvName(key.name)) != std::string::npos);
  }
}
