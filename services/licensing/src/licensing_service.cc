#include "licensing_service.h"

#include "regsuite/common/dates.h"
#include "regsuite/common/log.h"
#include "regsuite/common/server.h"

namespace regsuite::licensing {

LicensingServiceImpl::LicensingServiceImpl(
    common::WorkerPool& workers, std::unique_ptr<CreditChecker> credit,
    std::unique_ptr<CertificateSigner> signer,
    const std::function<std::unique_ptr<LicensingLogic>(CreditChecker*,
                                                        const CertificateSigner*)>& make_logic,
    absl::Duration job_interval)
    : workers_(workers), credit_(std::move(credit)), signer_(std::move(signer)) {
  logic_ = make_logic(credit_.get(), signer_.get());
  if (job_interval > absl::ZeroDuration()) {
    job_ = std::thread([this, job_interval] { JobLoop(job_interval); });
  }
}

LicensingServiceImpl::~LicensingServiceImpl() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (job_.joinable()) job_.join();
}

void LicensingServiceImpl::JobLoop(absl::Duration interval) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    v1::RunDeadlinesRequest request;
    v1::RunDeadlinesResponse response;
    absl::Status status = logic_->RunDeadlines(request, &response);
    if (!status.ok()) {
      common::LogWarn("deadline job failed; retrying next interval",
                      {{"error", status.ToString()}});
    }
    lock.lock();
    cv_.wait_for(lock, absl::ToChronoMilliseconds(interval), [this] { return stopping_; });
  }
}

#define REGSUITE_LICENSING_METHOD(Method, Request, Response)                              \
  grpc::ServerUnaryReactor* LicensingServiceImpl::Method(                                 \
      grpc::CallbackServerContext* ctx, const Request* request, Response* response) {     \
    return common::RunBlocking(ctx, workers_, [this, request, response]() -> absl::Status { \
      return logic_->Method(*request, response);                                          \
    });                                                                                   \
  }
#include "licensing_methods.inc"
#undef REGSUITE_LICENSING_METHOD

}  // namespace regsuite::licensing
