#pragma once

#include <grpcpp/generic/async_generic_service.h>

#include "dispatch.h"

namespace regsuite::gateway {

/// The gRPC ingress: a callback generic service that receives every method not served by the
/// gateway itself, keeps the request as raw bytes (never parsed), hands it to the dispatcher
/// and returns the backend's status, message, headers and trailers unchanged.
class GrpcProxy : public grpc::CallbackGenericService {
 public:
  explicit GrpcProxy(CallDispatcher* dispatcher) : dispatcher_(dispatcher) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  CallDispatcher* dispatcher_;
};

}  // namespace regsuite::gateway
