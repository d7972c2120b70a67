#include "core.h"

#include <grpcpp/generic/generic_stub.h>

#include <optional>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
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

void AppendMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& from,
                    std::vector<std::pair<std::string, std::string>>* to) {
  for (const auto& [k, v] : from) {
    to->emplace_back(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  }
}

// Random identifiers for every call: a thread-local Randen generator (absl::BitGen, seeded from
// the OS), not the OS source and snprintf per call, which cost about 4% of the proxy's CPU.
// They only need to be unique, not secret.
void AppendRandomHex(size_t bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local absl::BitGen gen;
  for (size_t i = 0; i < bytes; i += 8) {
    uint64_t r = absl::Uniform<uint64_t>(gen);
    for (size_t j = 0; j < 8 && i + j < bytes; ++j, r >>= 8) {
      out->push_back(kHex[(r >> 4) & 0xf]);
      out->push_back(kHex[r & 0xf]);
    }
  }
}

// A version-4 UUID.
std::string NewRequestId() {
  std::string hex;
  hex.reserve(32);
  AppendRandomHex(16, &hex);
  hex[12] = '4';
  hex[16] = "89ab"[hex[16] % 4];
  return absl::StrCat(absl::string_view(hex).substr(0, 8), "-", absl::string_view(hex).substr(8, 4),
                      "-", absl::string_view(hex).substr(12, 4), "-",
                      absl::string_view(hex).substr(16, 4), "-", absl::string_view(hex).substr(20));
}

// W3C trace context: version 00, a 16-byte trace id, an 8-byte parent id, sampled.
std::string NewTraceparent() {
  std::string tp = "00-";
  tp.reserve(55);
  AppendRandomHex(16, &tp);
  tp.push_back('-');
  AppendRandomHex(8, &tp);
  tp.append("-01");
  return tp;
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
  int64_t streamed_bytes = 0;  // response bytes sent through in.stream
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
                         : NewRequestId();
  auto tp = call->in.headers.find("traceparent");
  call->traceparent = tp != call->in.headers.end() ? tp->second : NewTraceparent();
  call->result.metadata.emplace_back("x-request-id", call->request_id);
  const std::string& method = call->in.grpc_method;
  if (deps_.auth_off) {
    Backend* backend = deps_.backends->Route(method);
    if (backend == nullptr || backend->name() == "gateway") {
      Finish(call, grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                absl::StrCat("no service behind ", method)));
      return;
    }
    call->endpoint = backend->Pick();
    Forward(call);
    return;
  }

  if (!deps_.audit->HasRoom()) {
    Finish(call, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "gateway overloaded: audit log backlog full, retry later"));
    return;
  }
  const bool signed_call = call->in.headers.find("x-app-key") != call->in.headers.end();
  const bool with_certificate = !call->in.client_cert_fingerprint.empty();
  if (!signed_call && !with_certificate && IsPublicMethod(method)) {
    call->caller = "anonymous";
  } else {
    std::string reason;
    auto snapshot = deps_.clients->Snapshot();
    absl::Status verified;
    if (signed_call) {
      auto client = deps_.authenticator->Verify(*snapshot, call->in, deps_.clock->Now(), &reason);
      if (client.ok()) {
        call->client = std::move(client->first);
        call->headers = std::move(client->second);
      }
      verified = client.status();
    } else {
      // mTLS: a registered client certificate authenticates without signature headers.
      auto client = deps_.authenticator->VerifyCertificate(*snapshot, call->in, &reason);
      if (client.ok()) call->client = *std::move(client);
      verified = client.status();
    }
    if (verified.ok() && with_certificate && signed_call) {
      verified = deps_.authenticator->CheckCertificateMatches(*snapshot, call->in, *call->client,
                                                              &reason);
    }
    if (!verified.ok()) {
      deps_.metrics->IncCounter("regsuite_gateway_auth_failures_total", {{"reason", reason}});
      Finish(call, grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(verified.message())));
      return;
    }
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
  // Replay protection and rate limits: the Redis commands join the next pipelined batch; the
  // verdict arrives on a Redis I/O thread, which then starts the backend call.
  deps_.guard->CheckAsync(
      deps_.guard->MakePlan(call->client ? &*call->client : nullptr,
                            call->headers ? &*call->headers : nullptr, call->rule,
                            absl::StripPrefix(method, "/"), call->in.peer, deps_.clock->Now()),
      [this, call](RequestGuard::Outcome outcome) {
        if (outcome.status.ok()) {
          Forward(std::move(call));
          return;
        }
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
      });
}

/// A server-streaming backend call, opened as a generic bidi stream (the wire format is the
/// same): writes the one request message, then reads the backend's messages one at a time,
/// reading the next only once the previous one has been written to the caller.
class GatewayCore::StreamForwarder
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamForwarder(GatewayCore* core, std::shared_ptr<Call> call)
      : core_(core), call_(std::move(call)) {}

  void Start(grpc::GenericStub& stub) {
    stub.PrepareBidiStreamingCall(&call_->context, call_->in.grpc_method, grpc::StubOptions(),
                                  this);
    StartWriteLast(&call_->request, grpc::WriteOptions());
    StartRead(&message_);
    // Reads are restarted from the caller's write completion, outside this reactor's callbacks:
    // the hold keeps OnDone (which frees the call) back until no such read can come.
    AddHold();
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // end of stream or failure: the status arrives in OnDone
      RemoveHold();
      return;
    }
    if (!started_) {
      started_ = true;
      auto headers = std::move(call_->result.metadata);
      call_->result.metadata.clear();
      AppendMetadata(call_->context.GetServerInitialMetadata(), &headers);
      call_->in.stream->Start(headers);
    }
    call_->streamed_bytes += static_cast<int64_t>(message_.Length());
    call_->in.stream->Write(message_, [this](bool written) {
      if (written) {
        StartRead(&message_);
      } else {
        call_->context.TryCancel();  // the caller has gone
        RemoveHold();
      }
    });
  }

  void OnDone(const grpc::Status& status) override {
    if (!started_) {
      AppendMetadata(call_->context.GetServerInitialMetadata(), &call_->result.metadata);
    }
    AppendMetadata(call_->context.GetServerTrailingMetadata(), &call_->result.metadata);
    core_->Finish(std::move(call_), status);
    delete this;
  }

 private:
  GatewayCore* core_;
  std::shared_ptr<Call> call_;
  grpc::ByteBuffer message_;
  bool started_ = false;
};

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
  if (call->in.cancel != nullptr) {
    // The caller went away: stop the backend call too (weak: the signal lives in the call).
    call->in.cancel->OnCancel([weak = std::weak_ptr<Call>(call)] {
      if (auto c = weak.lock()) c->context.TryCancel();
    });
  }
  grpc::GenericStub stub(call->endpoint->channel);
  if (call->in.stream != nullptr) {
    (new StreamForwarder(this, std::move(call)))->Start(stub);
    return;
  }
  stub.UnaryCall(&call->context, call->in.grpc_method, grpc::StubOptions(), &call->request,
                 &call->response, [this, call](grpc::Status status) {
                   AppendMetadata(call->context.GetServerInitialMetadata(), &call->result.metadata);
                   AppendMetadata(call->context.GetServerTrailingMetadata(), &call->result.metadata);
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
  if (!deps_.auth_off) Record(*call, status, response.size());
  call->result.status = std::move(status);
  call->result.response_bytes = std::move(response);
  auto done = std::move(call->done);
  done(std::move(call->result));
}

void GatewayCore::Record(const Call& call, const grpc::Status& status, size_t response_size) {
  const absl::Time now = deps_.clock->Now();
  const int code = static_cast<int>(status.error_code());
  AuditRecord record;
  record.at = call.started;
  record.client = call.caller;
  record.method = call.in.grpc_method;
  record.route = call.in.route;
  record.target_uscc = call.in.target_uscc;
  record.status_code = code;
  record.latency_us = absl::ToInt64Microseconds(now - call.started);
  record.request_bytes = static_cast<int64_t>(call.in.request_bytes.size());
  record.response_bytes = static_cast<int64_t>(response_size) + call.streamed_bytes;
  record.request_id = call.request_id;
  record.peer = call.in.peer;
  if (record.target_uscc.empty()) record.request_body = call.in.request_bytes;
  deps_.audit->TryAppend(std::move(record));
  deps_.metrics->IncCounter("regsuite_gateway_requests_total", {{"route", call.in.route},
                                                                {"method", call.in.grpc_method},
                                                                {"code", absl::StrCat(code)},
                                                                {"client", call.caller}});
  deps_.metrics->Observe("regsuite_gateway_request_duration_seconds",
                         {{"method", call.in.grpc_method}},
                         absl::ToDoubleSeconds(now - call.started));
}

}  // namespace regsuite::gateway
