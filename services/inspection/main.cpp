// inspection-service: wiring only; the logic lives in src/.
#include "inspection_service.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"

int main(int argc, char** argv) {
  using regsuite::common::ServiceContext;
  return regsuite::common::RunService(
      {.name = "inspection",
       .binary = "inspection-service",
       .summary = "regsuite inspection service: directories, random draws, inspections, hazards, penalties",
       .default_grpc_listen = "127.0.0.1:7102",
       .default_metrics_listen = "127.0.0.1:7202",
       .migrations = regsuite::inspection::MigrationFiles(),
       .add_config_keys = regsuite::inspection::AddInspectionConfigKeys,
       .make_services =
           [](ServiceContext& ctx)
           -> absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> {
         std::vector<std::unique_ptr<grpc::Service>> services;
         services.push_back(std::make_unique<regsuite::inspection::InspectionServiceImpl>(
             regsuite::inspection::InspectionDeps{
                 .pg = ctx.pg,
                 .workers = ctx.workers,
                 .clock = ctx.clock,
                 .calendar = ctx.calendar,
                 .gateway = ctx.gateway,
                 .options = regsuite::inspection::ReadInspectionOptions(ctx.config)}));
         return services;
       },
       .health_service_names = {"regsuite.inspection.v1.InspectionService"},
       .make_extension = nullptr},
      argc, argv);
}
