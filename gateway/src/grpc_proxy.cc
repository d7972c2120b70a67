#include "grpc_proxy.h"

#include "absl/time/clock.h"

namespace regsuite::gateway {
namespace {

class ProxyReactor : public grpc::ServerGenericBidiReactor {
 public:
  ProxyReactor(grpc::GenericCallbackServerContext* ctx, CallDispatcher* dispatcher)
      : ctx_(ctx), dispatcher_(dispatcher) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: no message received"));
      return;
    }
    IncomingCall call;
    call.grpc_method = ctx_->method();
    std::vector<grpc::Slice> slices;
    if (!request_.Dump(&slices).ok()) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "request: unreadable"));
      return;
    }
    for (const auto& s : slices) {
      call.request_bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    call.signed_method = "POST";
    call.signed_path = call.grpc_method;
    call.signed_body = call.request_bytes;
    for (const auto& [k, v] : ctx_->client_metadata()) {
      call.headers.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    call.peer = ctx_->peer();
    call.route = "grpc";
    if (ctx_->deadline() != std::chrono::system_clock::time_point::max()) {
      call.deadline = absl::FromChrono(ctx_->deadline());
    }
    dispatcher_->Dispatch(std::move(call), [this](CallResult result) {
      for (auto& [k, v] : result.metadata) {
        if (k.empty() || k[0] == ':' || k.rfind("grpc-", 0) == 0 || k == "content-type") continue;
        // Initial metadata carries the request id; everything else travels as trailers, which
        // gRPC clients read after the status.
        if (k == "x-request-id") {
          ctx_->AddInitialMetadata(k, v);
        } else {
          ctx_->AddTrailingMetadata(k, v);
        }
      }
      if (!result.status.ok()) {
        Finish(result.status);
        return;
      }
      grpc::Slice slice(result.response_bytes);
      response_ = grpc::ByteBuffer(&slice, 1);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    });
  }

  void OnDone() override { delete this; }

 private:
  grpc::GenericCallbackServerContext* ctx_;
  CallDispatcher* dispatcher_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

grpc::ServerGenericBidiReactor* GrpcProxy::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  return new ProxyReactor(ctx, dispatcher_);
}

}  // namespace regsuite::gateway
