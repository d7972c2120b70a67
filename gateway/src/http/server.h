#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dispatch.h"
#include "http/routes.h"
#include "http/transcode.h"

namespace regsuite::gateway {

/// Settings of the HTTP/JSON ingress.
struct HttpServerOptions {
  int io_threads = 2;                            // fixed; connections are multiplexed on them
  size_t max_body_bytes = 1 << 20;               // larger bodies → 413
  size_t max_header_bytes = 16 << 10;            // larger header blocks → 431
  absl::Duration default_timeout = absl::Seconds(30);  // deadline without x-timeout-ms
  absl::Duration max_timeout = absl::Minutes(5);       // x-timeout-ms is capped here
  absl::Duration idle_timeout = absl::Seconds(60);     // keep-alive connection idle limit
  absl::Duration drain_timeout = absl::Seconds(10);    // Stop() waits this long for in-flight calls
};

/// A plain answer of an operations endpoint (/healthz, /readyz, /metrics).
struct OpsResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// A request the ingress answered itself without reaching the core (unknown route 404,
/// wrong method 405, bad JSON/query/header 400, body too large 413, headers too large 431),
/// reported so the owner can count and audit it.
struct RejectedRequest {
  std::string method;      // as sent; empty when the request line did not parse
  std::string path;        // URL path as sent
  std::string route;       // the matched template, when the route was found
  std::string peer;        // "ipv4:127.0.0.1:50312"
  int http_status = 0;
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;     // "field: rule"
  std::string request_id;
  size_t request_bytes = 0;  // body bytes read (0 when the body was refused)
};

/// Callbacks answering the operations endpoints, unauthenticated; unset ones answer 404.
/// Called on an io thread: they must not block.
struct OpsHandlers {
  std::function<OpsResponse()> healthz;
  std::function<OpsResponse()> readyz;
  std::function<OpsResponse()> metrics;
  // Optional: told about every RejectedRequest (io thread, must not block).
  std::function<void(const RejectedRequest&)> on_rejected;
};

/// The gateway's HTTP/1.1 JSON ingress (Boost.Beast, asynchronous, keep-alive): routes a
/// request with the HttpRouteTable, transcodes its JSON, hands an IncomingCall to the
/// CallDispatcher and writes the JSON answer or the API.md error shape.
class HttpServer {
 public:
  /// `dispatcher` must outlive the server.
  HttpServer(HttpServerOptions options, std::shared_ptr<const HttpRouteTable> routes,
             std::shared_ptr<const JsonTranscoder> transcoder, CallDispatcher* dispatcher,
             OpsHandlers ops);
  ~HttpServer();  // Stop()s

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds `listen` ("host:port", port 0 = any), starts the io threads; returns the bound port.
  absl::StatusOr<int> Start(absl::string_view listen);

  /// Stops accepting, closes idle connections, lets in-flight calls write their responses
  /// (then closes those connections) for up to drain_timeout, and joins the io threads.
  void Stop();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

/// HTTP status for a gRPC code (API.md "HTTP mapping"), and the code's canonical name.
int HttpStatusForGrpcCode(grpc::StatusCode code);
absl::string_view GrpcCodeName(grpc::StatusCode code);

/// The API.md error body: {"error":{"code","status","message","details":[{field,description}],
/// "requestId"}}; details come from a "field: rule" message.
std::string ErrorJson(int http_status, grpc::StatusCode code, absl::string_view message,
                      absl::string_view request_id);

}  // namespace regsuite::gateway
