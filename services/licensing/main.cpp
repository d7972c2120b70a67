// licensing-service: wiring only; the logic lives in src/.
#include "absl/strings/str_cat.h"
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
  // Public keys of earlier signing keys, so certificates signed before a rotation still verify.
  std::shared_ptr<CertificateKeyRing> earlier_keys;
  if (!options.verification_public_keys_dir.empty()) {
    earlier_keys = std::make_shared<CertificateKeyRing>();
    if (auto s = earlier_keys->AddDirectory(options.verification_public_keys_dir); !s.ok()) {
      return s;
    }
    if (signer != nullptr && earlier_keys->Has(signer->key_id())) {
      // A file for the current key id must hold the current key's public half.
      if (auto s = earlier_keys->AddPublicKeyPem(signer->key_id(), signer->PublicKeyPem());
          !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("licensing.verification_public_keys_dir: ", signer->key_id(),
                         ".pem is not the public half of licensing.signing_key_file"));
      }
    }
  }
  auto credit = std::make_unique<GatewayCreditChecker>(ctx.gateway, &ctx.redis,
                                                       options.credit_cache_ttl,
                                                       options.credit_timeout);
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<LicensingServiceImpl>(
      ctx.workers, std::move(credit), std::move(signer),
      [&ctx, options, earlier_keys](CreditChecker* checker, const CertificateSigner* key) {
        return std::make_unique<LicensingLogic>(ctx.pg, ctx.clock, ctx.calendar, checker, key,
                                                options, earlier_keys);
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
