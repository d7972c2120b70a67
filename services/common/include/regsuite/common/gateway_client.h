#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/signing.h"

namespace regsuite::common {

class Config;
class ConfigSchema;

/// A service's own identity towards the gateway (a gateway client of kind "service").
struct ServiceIdentity {
  std::string app_key;
  std::string secret;  // empty: calls are sent unsigned (only a test setup accepts them)
  SignatureMethod method = SignatureMethod::kHmacSha256;
};

/// Adds the `gateway.*` keys: target address, identity, call timeout.
void AddGatewayClientConfigKeys(ConfigSchema& schema, absl::string_view service);

/// Calls other regsuite services the way DESIGN.md requires: through the gateway, signed with
/// the calling service's identity (API.md), with a deadline on every call. Thread-safe.
/// Blocking: call it from worker threads, never from gRPC callback threads.
class GatewayClient {
 public:
  GatewayClient(std::shared_ptr<grpc::Channel> channel, ServiceIdentity identity,
                absl::Duration default_timeout, const Clock& clock);
  /// From configuration; nullptr when gateway.target is empty.
  static std::unique_ptr<GatewayClient> FromConfig(const Config& config, const Clock& clock);

  /// Adds x-app-key, x-timestamp, x-nonce, x-signature-method, x-signature for a gRPC call of
  /// `method` (full path) with serialized request `body`.
  void Sign(grpc::ClientContext& context, const std::string& method, absl::string_view body) const;

  /// A unary call with raw bytes. `timeout` zero means the default.
  absl::StatusOr<std::string> CallRaw(const std::string& method, const std::string& request,
                                      absl::Duration timeout = absl::ZeroDuration()) const;

  /// A unary call of typed messages, e.g.
  /// Call("/regsuite.credit.v1.CreditService/CheckSubject", request, &status).
  absl::Status Call(const std::string& method, const google::protobuf::Message& request,
                    google::protobuf::Message* response,
                    absl::Duration timeout = absl::ZeroDuration()) const;

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  ServiceIdentity identity_;
  absl::Duration default_timeout_;
  const Clock& clock_;
};

}  // namespace regsuite::common
