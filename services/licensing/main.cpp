// licensing-service: wiring only; the logic lives in src/.
#include "credit_checker.h"
#include "licensing_logic.h"
#include "licensing_service.h"
#include "options.h"
#include "regsuite/common/log.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/licensing/v1/licensing.grpc.pb.h"

namespace {

using regsuite::common::ServiceContext;
using namespace regsuite::licensing;  // NOLINT: wiring file

absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> MakeServices(ServiceContext& ctx) {
  LicensingOptions options = ReadLicensingOptions(ctx.config);
  std::unique_ptr<CertificateSigner> signer;
  if (options.signing_key_file.empty()) {
    regsuite::common::LogWarn(
        "licensing.signing_key_file is empty: certificates can be neither issued nor verified");
  } else {
    auto loaded = CertificateSigner::FromPemFile(options.signing_key_file, options.signing_key_id);
    if (!loaded.ok()) return loaded.status();
    signer = std::move(*loaded);
  }
  auto credit = std::make_unique<GatewayCreditChecker>(ctx.gateway, &ctx.redis,
                                                       options.credit_cache_ttl,
                                                       options.credit_timeout);
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<LicensingServiceImpl>(
      ctx.workers, std::move(credit), std::move(signer),
      [&ctx, options](CreditChecker* checker, const CertificateSigner* key) {
        return std::make_unique<LicensingLogic>(ctx.pg, ctx.clock, ctx.calendar, checker, key,
                                                options);
      },
      options.deadline_job_interval));
  return services;
}

}  // namespace

int main(int argc, char** argv) {
  return regsuite::common::RunService(
      {.name = "licensing",
       .binary = "licensing-service",
       .summary = "regsuite licensing service: permit catalogue, applications, e-certificates",
       .default_grpc_listen = "127.0.0.1:7101",
       .default_metrics_listen = "127.0.0.1:7201",
       .migrations = regsuite::licensing::MigrationFiles(),
       .add_config_keys = AddLicensingConfigKeys,
       .make_services = MakeServices,
       .health_service_names = {"regsuite.licensing.v1.LicensingService"}},
      argc, argv);
}
