// regsuite-gateway: wiring only. The proxy, transcoding, signing, rate limits and audit log
// arrive with the gateway issue; until then it serves health, metrics and GatewayAdmin
// (UNIMPLEMENTED) on the gateway's ports.
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/gateway/v1/admin.grpc.pb.h"

int main(int argc, char** argv) {
  using regsuite::common::ServeGenerated;
  return regsuite::common::RunService(
      {.name = "gateway",
       .binary = "regsuite-gateway",
       .summary = "regsuite API gateway: the only door into regsuite",
       .default_grpc_listen = "127.0.0.1:7000",
       .default_metrics_listen = "127.0.0.1:7080",
       .migrations = regsuite::gateway::MigrationFiles(),
       .make_services = ServeGenerated<regsuite::gateway::v1::GatewayAdmin::CallbackService>,
       .health_service_names = {"regsuite.gateway.v1.GatewayAdmin"}},
      argc, argv);
}
