// regsuite-gateway: wiring only; the gateway lives in gateway/src/.
#include "gateway_server.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"

int main(int argc, char** argv) {
  return regsuite::common::RunService(
      {.name = "gateway",
       .binary = "regsuite-gateway",
       .summary = "regsuite API gateway: the only door into regsuite (gRPC and HTTP/JSON)",
       .default_grpc_listen = "127.0.0.1:7000",
       // Unused: the HTTP ingress (http.listen) serves /metrics, /healthz and /readyz.
       .default_metrics_listen = "127.0.0.1:0",
       .migrations = regsuite::gateway::MigrationFiles(),
       .add_config_keys = regsuite::gateway::AddGatewayConfigKeys,
       .make_services =
           [](regsuite::common::ServiceContext&)
           -> absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> {
         return std::vector<std::unique_ptr<grpc::Service>>{};
       },
       .make_extension = regsuite::gateway::MakeGateway,
       .admin_http = false},
      argc, argv);
}
