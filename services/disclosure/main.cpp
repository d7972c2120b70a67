// disclosure-service: wiring only; the logic lives in src/.
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/disclosure/v1/disclosure.grpc.pb.h"

int main(int argc, char** argv) {
  using regsuite::common::ServeGenerated;
  return regsuite::common::RunService(
      {.name = "disclosure",
       .binary = "disclosure-service",
       .summary = "regsuite disclosure service: 双公示 publication, information requests, annual report",
       .default_grpc_listen = "127.0.0.1:7104",
       .default_metrics_listen = "127.0.0.1:7204",
       .migrations = regsuite::disclosure::MigrationFiles(),
       .make_services = ServeGenerated<regsuite::disclosure::v1::DisclosureService::CallbackService>,
       .health_service_names = {"regsuite.disclosure.v1.DisclosureService"}},
      argc, argv);
}
