// disclosure-service: wiring only; the logic lives in src/.
#include "disclosure_service.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "settings.h"

int main(int argc, char** argv) {
  using regsuite::common::ServiceContext;
  return regsuite::common::RunService(
      {.name = "disclosure",
       .binary = "disclosure-service",
       .summary =
           "regsuite disclosure service: 双公示 publication, information requests, annual report",
       .default_grpc_listen = "127.0.0.1:7104",
       .default_metrics_listen = "127.0.0.1:7204",
       .migrations = regsuite::disclosure::MigrationFiles(),
       .add_config_keys = regsuite::disclosure::AddDisclosureConfigKeys,
       .make_services =
           [](ServiceContext& ctx) -> absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> {
         auto settings = regsuite::disclosure::ReadDisclosureSettings(ctx.config);
         if (!settings.ok()) return settings.status();
         auto service =
             std::make_unique<regsuite::disclosure::DisclosureService>(ctx, *std::move(settings));
         service->StartBackgroundJobs();
         std::vector<std::unique_ptr<grpc::Service>> services;
         services.push_back(std::move(service));
         return services;
       },
       .health_service_names = {"regsuite.disclosure.v1.DisclosureService"}},
      argc, argv);
}
