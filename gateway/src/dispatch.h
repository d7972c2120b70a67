#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace regsuite::gateway {

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
  absl::Time deadline = absl::InfiniteFuture();
};

/// The outcome returned to the ingress.
struct CallResult {
  grpc::Status status;
  std::string response_bytes;  // serialized response message when status is OK
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
