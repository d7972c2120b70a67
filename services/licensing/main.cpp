// licensing-service: wiring only; the logic lives in src/.
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/licensing/v1/licensing.grpc.pb.h"

int main(int argc, char** argv) {
  using regsuite::common::ServeGenerated;
  return regsuite::common::RunService(
      {.name = "licensing",
       .binary = "licensing-service",
       .summary = "regsuite licensing service: permit catalogue, applications, e-certificates",
       .default_grpc_listen = "127.0.0.1:7101",
       .default_metrics_listen = "127.0.0.1:7201",
       .migrations = regsuite::licensing::MigrationFiles(),
       .make_services = ServeGenerated<regsuite::licensing::v1::LicensingService::CallbackService>,
       .health_service_names = {"regsuite.licensing.v1.LicensingService"}},
      argc, argv);
}
