// exchange-service: wiring only; the logic lives in src/.
#include "exchange_service.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "settings.h"

int main(int argc, char** argv) {
  using regsuite::common::ServiceContext;
  return regsuite::common::RunService(
      {.name = "exchange",
       .binary = "exchange-service",
       .summary = "regsuite exchange service: provincial data-sharing feed and base-data import",
       .default_grpc_listen = "127.0.0.1:7105",
       .default_metrics_listen = "127.0.0.1:7205",
       .migrations = regsuite::exchange::MigrationFiles(),
       .add_config_keys = regsuite::exchange::AddExchangeConfigKeys,
       .make_services =
           [](ServiceContext& ctx) -> absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> {
         auto settings = regsuite::exchange::ReadExchangeSettings(ctx.config);
         if (!settings.ok()) return settings.status();
         auto service =
             std::make_unique<regsuite::exchange::ExchangeService>(ctx, *std::move(settings));
         service->StartBackgroundJobs();
         std::vector<std::unique_ptr<grpc::Service>> services;
         services.push_back(std::move(service));
         return services;
       },
       .health_service_names = {"regsuite.exchange.v1.ExchangeService"}},
      argc, argv);
}
