// inspection-service: wiring only; the logic lives in src/.
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/inspection/v1/inspection.grpc.pb.h"

int main(int argc, char** argv) {
  using regsuite::common::ServeGenerated;
  return regsuite::common::RunService(
      {.name = "inspection",
       .binary = "inspection-service",
       .summary = "regsuite inspection service: directories, random draws, inspections, hazards, penalties",
       .default_grpc_listen = "127.0.0.1:7102",
       .default_metrics_listen = "127.0.0.1:7202",
       .migrations = regsuite::inspection::MigrationFiles(),
       .make_services = ServeGenerated<regsuite::inspection::v1::InspectionService::CallbackService>,
       .health_service_names = {"regsuite.inspection.v1.InspectionService"}},
      argc, argv);
}
