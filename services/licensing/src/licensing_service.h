#pragma once
// gRPC handlers of regsuite.licensing.v1.LicensingService: each one runs its logic method on
// the worker pool (RunBlocking) and maps the status; no rules here.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "credit_checker.h"
#include "licensing_logic.h"
#include "regsuite/common/worker_pool.h"
#include "regsuite/licensing/v1/licensing.grpc.pb.h"

namespace regsuite::licensing {

/// The LicensingService callback implementation plus the periodic deadline job.
class LicensingServiceImpl final : public v1::LicensingService::CallbackService {
 public:
  /// Owns the credit checker and signer (either may be null). `job_interval` zero: no job.
  LicensingServiceImpl(common::WorkerPool& workers, std::unique_ptr<CreditChecker> credit,
                       std::unique_ptr<CertificateSigner> signer,
                       const std::function<std::unique_ptr<LicensingLogic>(
                           CreditChecker*, const CertificateSigner*)>& make_logic,
                       absl::Duration job_interval);
  ~LicensingServiceImpl() override;

  LicensingLogic& logic() { return *logic_; }

#define REGSUITE_LICENSING_METHOD(Method, Request, Response)                                \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const Request* request, \
                                   Response* response) override;
#include "licensing_methods.inc"
#undef REGSUITE_LICENSING_METHOD

 private:
  void JobLoop(absl::Duration interval);

  common::WorkerPool& workers_;
  std::unique_ptr<CreditChecker> credit_;
  std::unique_ptr<CertificateSigner> signer_;
  std::unique_ptr<LicensingLogic> logic_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread job_;
};

}  // namespace regsuite::licensing
