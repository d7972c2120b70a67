// credit-service: wiring only; the logic lives in src/.
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/credit/v1/credit.grpc.pb.h"

int main(int argc, char** argv) {
  using regsuite::common::ServeGenerated;
  return regsuite::common::RunService(
      {.name = "credit",
       .binary = "credit-service",
       .summary = "regsuite credit service: credit records, red and black lists, joint measures, credit repair, subject check",
       .default_grpc_listen = "127.0.0.1:7103",
       .default_metrics_listen = "127.0.0.1:7203",
       .migrations = regsuite::credit::MigrationFiles(),
       .make_services = ServeGenerated<regsuite::credit::v1::CreditService::CallbackService>,
       .health_service_names = {"regsuite.credit.v1.CreditService"}},
      argc, argv);
}
