// exchange-service: wiring only; the logic lives in src/.
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/exchange/v1/exchange.grpc.pb.h"

int main(int argc, char** argv) {
  using regsuite::common::ServeGenerated;
  return regsuite::common::RunService(
      {.name = "exchange",
       .binary = "exchange-service",
       .summary = "regsuite exchange service: provincial data-sharing feed and base-data import",
       .default_grpc_listen = "127.0.0.1:7105",
       .default_metrics_listen = "127.0.0.1:7205",
       .migrations = regsuite::exchange::MigrationFiles(),
       .make_services = ServeGenerated<regsuite::exchange::v1::ExchangeService::CallbackService>,
       .health_service_names = {"regsuite.exchange.v1.ExchangeService"}},
      argc, argv);
}
