#pragma once

#include <grpcpp/generic/async_generic_service.h>

#include <string>

#include "absl/container/flat_hash_set.h"
#include "dispatch.h"

namespace regsuite::gateway {

/// The gRPC ingress: a callback generic service that receives every method not served by the
/// gateway itself, keeps the request as raw bytes (never parsed), hands it to the dispatcher
/// and returns the backend's status, message(s), headers and trailers unchanged. Methods in
/// `server_streaming` ("/pkg.Service/Method") are answered as streams, message by message.
/// With `tls` (an mTLS listener is configured), each call's verified client certificate is
/// fingerprinted for authentication.
class GrpcProxy : public grpc::CallbackGenericService {
 public:
  GrpcProxy(CallDispatcher* dispatcher, absl::flat_hash_set<std::string> server_streaming, bool tls)
      : dispatcher_(dispatcher), server_streaming_(std::move(server_streaming)), tls_(tls) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  CallDispatcher* dispatcher_;
  const absl::flat_hash_set<std::string> server_streaming_;
  const bool tls_;
};

}  // namespace regsuite::gateway
