#include "core.h"

#include <grpcpp/generic/generic_stub.h>

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/log.h"

namespace regsuite::gateway {
namespace {

constexpr absl::string_view kPublicMethods[] = {
    "/grpc.health.v1.Health/Check",
    "/regsuite.licensing.v1.LicensingService/VerifyCertificate",
    "/regsuite.disclosure.v1.DisclosureService/GetRecord",
    "/regsuite.disclosure.v1.DisclosureService/SearchRecords",
    "/regsuite.disclosure.v1.DisclosureService/GetAnnualReport",
};

// Metadata never forwarded: transport headers, the caller's signature, and identity headers
// the gateway itself sets (a caller must not be able to claim another identity).
bool Forwardable(absl::string_view key) {
  return !(key.empty() || key[0] == ':' || absl::StartsWith(key, "grpc-") || key == "te" ||
           key == "content-type" || key == "user-agent" || key == "host" || key == "x-caller" ||
           key == "x-signature" || key == "x-nonce" || key == "x-timestamp" ||
           key == "x-signature-method" || key == "content-length" || key == "connection" ||
           key == "x-gateway-internal" ||
           key == "accept" || key == "accept-encoding");
}

std::string NewTraceparent() {
  std::string id = common::NewUuid();
  std::string trace;
  for (char c : id) {
    if (c != '-') trace.push_back(c);
  }
  return absl::StrCat("00-", trace, "-", trace.substr(0, 16), "-01");
}

}  // namespace

bool IsPublicMethod(absl::string_view grpc_method) {
  for (absl::string_view m : kPublicMethods) {
    if (m == grpc_method) return true;
  }
  return false;
}

struct GatewayCore::Call {
  IncomingCall in;
  std::function<void(CallResult)> done;
  absl::Time started;
  std::string request_id;
  std::string traceparent;
  std::string caller = "-";
  std::optional<Client> client;
  std::optional<SignatureHeaders> headers;
  const AccessRule* rule = nullptr;
  Endpoint* endpoint = nullptr;
  bool internal = false;  // the gateway's own admin backend
  CallResult result;
  // Backend call state.
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

GatewayCore::GatewayCore(Deps deps) : deps_(deps) {
  deps_.metrics->Describe("regsuite_gateway_requests_total", "counter",
                          "calls through the gateway by route, method, code and client");
  deps_.metrics->Describe("regsuite_gateway_request_duration_seconds", "histogram",
                          "gateway call latency by method");
  deps_.metrics->Describe("regsuite_gateway_auth_failures_total", "counter",
                          "refused authentications by reason");
  deps_.metrics->Describe("regsuite_gateway_rate_limited_total", "counter",
                          "calls refused by rate limits, by client");
}

void GatewayCore::Dispatch(IncomingCall in, std::function<void(CallResult)> done) {
  auto call = std::make_shared<Call>();
  call->in = std::move(in);
  call->done = std::move(done);
  call->started = deps_.clock->Now();
  auto rid = call->in.headers.find("x-request-id");
  call->request_id = rid != call->in.headers.end() && !rid->second.empty() && rid->second.size() <= 128
                         ? rid->second
                         : common::NewUuid();
  auto tp = call->in.headers.find("traceparent");
  call->traceparent = tp != call->in.headers.end() ? tp->second : NewTraceparent();
  call->result.metadata.emplace_back("x-request-id", call->request_id);

  if (!deps_.audit->HasRoom()) {
    Finish(call, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "gateway overloaded: audit log backlog full, retry later"));
    return;
  }
  const std::string& method = call->in.grpc_method;
  const bool anonymous = call->in.headers.find("x-app-key") == call->in.headers.end() &&
                         IsPublicMethod(method);
  if (anonymous) {
    call->caller = "anonymous";
  } else {
    std::string reason;
    auto verified = deps_.authenticator->Verify(*deps_.clients->Snapshot(), call->in,
                                                deps_.clock->Now(), &reason);
    if (!verified.ok()) {
      deps_.metrics->IncCounter("regsuite_gateway_auth_failures_total", {{"reason", reason}});
      Finish(call, grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                std::string(verified.status().message())));
      return;
    }
    call->client = std::move(verified->first);
    call->headers = std::move(verified->second);
    call->caller = call->client->app_key;
    call->rule = FindAccess(*call->client, absl::StripPrefix(method, "/"));
    if (call->rule == nullptr && !IsPublicMethod(method)) {
      Finish(call, grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                absl::StrCat("method ", method, " is not allowed for client ",
                                             call->caller)));
      return;
    }
  }
  Backend* backend = deps_.backends->Route(method);
  if (backend == nullptr) {
    Finish(call, grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                              absl::StrCat("no service behind ", method)));
    return;
  }
  call->endpoint = backend->Pick();
  call->internal = backend->name() == "gateway";
  // Replay protection and rate limits talk to Redis: not on the ingress thread.
  bool queued = deps_.workers->TrySubmit([this, call] {
    RequestGuard::Outcome outcome = deps_.guard->Check(
        call->client ? &*call->client : nullptr, call->headers ? &*call->headers : nullptr,
        call->rule, absl::StripPrefix(call->in.grpc_method, "/"), call->in.peer,
        deps_.clock->Now());
    if (!outcome.status.ok()) {
      if (outcome.retry_after_seconds > 0 &&
          outcome.status.code() == absl::StatusCode::kResourceExhausted) {
        call->result.metadata.emplace_back("retry-after", absl::StrCat(outcome.retry_after_seconds));
        deps_.metrics->IncCounter("regsuite_gateway_rate_limited_total", {{"client", call->caller}});
      }
      if (outcome.reason == "replay") {
        deps_.metrics->IncCounter("regsuite_gateway_auth_failures_total", {{"reason", "replay"}});
      }
      Finish(call, grpc::Status(static_cast<grpc::StatusCode>(outcome.status.code()),
                                std::string(outcome.status.message())));
      return;
    }
    Forward(call);
  });
  if (!queued) {
    Finish(call, grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway overloaded, retry later"));
  }
}

void GatewayCore::Forward(std::shared_ptr<Call> call) {
  absl::Time deadline = call->in.deadline;
  if (deadline == absl::InfiniteFuture()) deadline = deps_.clock->Now() + deps_.default_deadline;
  call->context.set_deadline(absl::ToChronoTime(deadline));
  for (const auto& [key, value] : call->in.headers) {
    if (Forwardable(key)) call->context.AddMetadata(key, value);
  }
  if (call->in.headers.find("x-request-id") == call->in.headers.end()) {
    call->context.AddMetadata("x-request-id", call->request_id);
  }
  if (call->in.headers.find("traceparent") == call->in.headers.end()) {
    call->context.AddMetadata("traceparent", call->traceparent);
  }
  call->context.AddMetadata("x-caller", call->caller);
  if (call->internal) call->context.AddMetadata("x-gateway-internal", deps_.internal_token);
  grpc::Slice slice(call->in.request_bytes);
  call->request = grpc::ByteBuffer(&slice, 1);
  grpc::GenericStub stub(call->endpoint->channel);
  stub.UnaryCall(&call->context, call->in.grpc_method, grpc::StubOptions(), &call->request,
                 &call->response, [this, call](grpc::Status status) {
                   for (const auto& [k, v] : call->context.GetServerInitialMetadata()) {
                     call->result.metadata.emplace_back(std::string(k.data(), k.size()),
                                                        std::string(v.data(), v.size()));
                   }
                   for (const auto& [k, v] : call->context.GetServerTrailingMetadata()) {
                     call->result.metadata.emplace_back(std::string(k.data(), k.size()),
                                                        std::string(v.data(), v.size()));
                   }
                   std::string body;
                   if (status.ok()) {
                     std::vector<grpc::Slice> slices;
                     (void)call->response.Dump(&slices);
                     for (const auto& s : slices) {
                       body.append(reinterpret_cast<const char*>(s.begin()), s.size());
                     }
                   }
                   Finish(call, std::move(status), std::move(body));
                 });
}

void GatewayCore::Finish(std::shared_ptr<Call> call, grpc::Status status, std::string response) {
  const absl::Time now = deps_.clock->Now();
  const int code = static_cast<int>(status.error_code());
  AuditRecord record;
  record.at = call->started;
  record.client = call->caller;
  record.method = call->in.grpc_method;
  record.route = call->in.route;
  record.target_uscc = call->in.target_uscc;
  record.status_code = code;
  record.latency_us = absl::ToInt64Microseconds(now - call->started);
  record.request_bytes = static_cast<int64_t>(call->in.request_bytes.size());
  record.response_bytes = static_cast<int64_t>(response.size());
  record.request_id = call->request_id;
  record.peer = call->in.peer;
  if (record.target_uscc.empty()) record.request_body = call->in.request_bytes;
  deps_.audit->TryAppend(std::move(record));
  deps_.metrics->IncCounter("regsuite_gateway_requests_total", {{"route", call->in.route},
                                                                {"method", call->in.grpc_method},
                                                                {"code", absl::StrCat(code)},
                                                                {"client", call->caller}});
  deps_.metrics->Observe("regsuite_gateway_request_duration_seconds",
                         {{"method", call->in.grpc_method}},
                         absl::ToDoubleSeconds(now - call->started));
  call->result.status = std::move(status);
  call->result.response_bytes = std::move(response);
  auto done = std::move(call->done);
  done(std::move(call->result));
}

}  // namespace regsuite::gateway
