#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace regsuite::gateway {

/// Where the responses of a server-streaming call go, one message at a time, as the backend
/// sends them. The gRPC ingress implements it for methods that stream; the core calls Start
/// once before the first message, then Write, waiting for each `written` before reading the
/// next message from the backend (flow control: the gateway never buffers a stream).
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  /// The response headers (x-request-id and the backend's initial metadata), before any message.
  virtual void Start(const std::vector<std::pair<std::string, std::string>>& headers) = 0;
  /// Sends one raw message; `written(false)` means the caller has gone (the core then cancels
  /// the backend call).
  virtual void Write(const grpc::ByteBuffer& message, std::function<void(bool)> written) = 0;
};

/// Tells the core that the caller cancelled (gRPC ingress), so that it cancels its backend call
/// instead of waiting for the backend or the deadline. Thread-safe.
class CancelSignal {
 public:
  /// Runs `fn` once when the caller cancels; at once if it already has.
  void OnCancel(std::function<void()> fn) {
    std::unique_lock lock(mu_);
    if (!cancelled_) {
      fn_ = std::move(fn);
      return;
    }
    lock.unlock();
    fn();
  }
  void Cancel() {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
      fn = std::move(fn_);
      fn_ = nullptr;
    }
    if (fn) fn();
  }

 private:
  std::mutex mu_;
  bool cancelled_ = false;
  std::function<void()> fn_;
};

/// A call arriving at the gateway, from either ingress, after decoding but before
/// authentication. The gRPC ingress fills it from the call; the HTTP ingress from the request
/// and its transcoded protobuf body.
struct IncomingCall {
  // Full gRPC method: "/regsuite.credit.v1.CreditService/CheckSubject".
  std::string grpc_method;
  // The serialized request message forwarded to the backend.
  std::string request_bytes;

  // What the signature covers (API.md): for gRPC, "POST", the method path, "", and the
  // request bytes; for HTTP, the HTTP method, the URL path as sent, the canonical query
  // (parameters sorted by name then value, "name=value" joined by "&", percent-encoding as
  // sent) and the raw body bytes.
  std::string signed_method;
  std::string signed_path;
  std::string signed_query;
  std::string signed_body;

  // Lower-case header / metadata names → values (x-app-key, x-timestamp, x-nonce,
  // x-signature-method, x-signature, x-request-id, traceparent, ...).
  std::multimap<std::string, std::string> headers;
  std::string peer;        // client address, e.g. "ipv4:127.0.0.1:50312"
  std::string route;       // "grpc" or the HTTP route template, for metrics and audit
  std::string target_uscc; // when the ingress already knows it (an HTTP path variable)
  // mTLS: SHA-256 (lower-case hex) of the verified client certificate's DER; empty otherwise.
  std::string client_cert_fingerprint;
  absl::Time deadline = absl::InfiniteFuture();
  // Set by the gRPC ingress for a server-streaming method: responses go there as they arrive
  // and CallResult::response_bytes stays empty. Owned by the ingress, alive until `done`.
  ResponseStream* stream = nullptr;
  // Set by the gRPC ingress: fires when the caller cancels.
  std::shared_ptr<CancelSignal> cancel;
};

/// The outcome returned to the ingress.
struct CallResult {
  grpc::Status status;
  std::string response_bytes;  // serialized response message when status is OK (unary)
  // Response headers / trailers to pass back (x-request-id, retry-after, backend metadata).
  std::vector<std::pair<std::string, std::string>> metadata;
};

/// The gateway's core: authenticate, authorise, rate-limit, forward, audit. Implemented in
/// gateway/src/core.cc; `done` is called exactly once, on some thread, never inline while
/// the caller holds a lock it needs.
class CallDispatcher {
 public:
  virtual ~CallDispatcher() = default;
  virtual void Dispatch(IncomingCall call, std::function<void(CallResult)> done) = 0;
};

}  // namespace regsuite::gateway
