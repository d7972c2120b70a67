#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "audit.h"
#include "auth.h"
#include "backends.h"
#include "clients.h"
#include "dispatch.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/metrics.h"

namespace regsuite::gateway {

/// Methods served to anonymous callers (API.md: health, certificate verification, disclosure
/// read methods), under the stricter per-address limit.
bool IsPublicMethod(absl::string_view grpc_method);

/// The gateway's pipeline for both ingresses: authenticate (pure), authorise (deny by
/// default), then replay protection and rate limits (Redis, batched, never blocking), then forward
/// the raw request bytes to the backend with deadline and metadata, and audit the outcome.
class GatewayCore : public CallDispatcher {
 public:
  struct Deps {
    ClientRegistry* clients;
    Authenticator* authenticator;
    RequestGuard* guard;
    BackendPool* backends;
    AuditLog* audit;
    common::MetricsRegistry* metrics;
    const common::Clock* clock;
    absl::Duration default_deadline;
    // Proves to the internal GatewayAdmin listener that a call passed this pipeline.
    std::string internal_token;
    // Benchmarks only (`bench.auth_off`): forward every call without authentication,
    // authorisation, rate limits or audit, to measure the proxy alone.
    bool auth_off = false;
  };
  explicit GatewayCore(Deps deps);

  void Dispatch(IncomingCall call, std::function<void(CallResult)> done) override;

 private:
  struct Call;
  class StreamForwarder;
  void Forward(std::shared_ptr<Call> call);
  void Finish(std::shared_ptr<Call> call, grpc::Status status, std::string response = "");
  // Audit row and metrics of a finished call.
  void Record(const Call& call, const grpc::Status& status, size_t response_size);

  Deps deps_;
};

}  // namespace regsuite::gateway
