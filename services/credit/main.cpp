// credit-service: wiring only; the logic lives in src/.
#include "credit_service.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "settings.h"

int main(int argc, char** argv) {
  regsuite::common::ServiceSpec spec;
  spec.name = "credit";
  spec.binary = "credit-service";
  spec.summary =
      "regsuite credit service: credit records, red and black lists, joint measures, credit "
      "repair, subject check";
  spec.default_grpc_listen = "127.0.0.1:7103";
  spec.default_metrics_listen = "127.0.0.1:7203";
  spec.migrations = regsuite::credit::MigrationFiles();
  spec.add_config_keys = regsuite::credit::AddCreditConfigKeys;
  spec.make_services = regsuite::credit::MakeCreditServices;
  spec.health_service_names = {"regsuite.credit.v1.CreditService"};
  return regsuite::common::RunService(spec, argc, argv);
}
