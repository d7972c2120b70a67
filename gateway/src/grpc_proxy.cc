#include "grpc_proxy.h"

#include <grpc/grpc_security_constants.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"

namespace regsuite::gateway {
namespace {

// SHA-256 (lower-case hex) of the DER of the client certificate that the TLS handshake
// verified; empty without one.
std::string ClientCertificateFingerprint(const grpc::GenericCallbackServerContext& ctx) {
  auto auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  auto pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) return "";
  BIO* bio = BIO_new_mem_buf(pems[0].data(), static_cast<int>(pems[0].size()));
  X509* cert = bio == nullptr ? nullptr : PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const bool ok = X509_digest(cert, EVP_sha256(), digest, &size) == 1;
  X509_free(cert);
  return ok ? absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), size)) : "";
}

bool PassedBack(const std::string& key) {
  return !(key.empty() || key[0] == ':' || key.rfind("grpc-", 0) == 0 || key == "content-type");
}

class ProxyReactor : public grpc::ServerGenericBidiReactor, public ResponseStream {
 public:
  ProxyReactor(grpc::GenericCallbackServerContext* ctx, CallDispatcher* dispatcher, bool streaming,
               bool tls)
      : ctx_(ctx), dispatcher_(dispatcher), streaming_(streaming), tls_(tls) {
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
    if (tls_) call.client_cert_fingerprint = ClientCertificateFingerprint(*ctx_);
    call.route = "grpc";
    if (ctx_->deadline() != std::chrono::system_clock::time_point::max()) {
      call.deadline = absl::FromChrono(ctx_->deadline());
    }
    if (streaming_) call.stream = this;
    call.cancel = cancel_;
    dispatcher_->Dispatch(std::move(call), [this](CallResult result) {
      for (auto& [k, v] : result.metadata) {
        if (!PassedBack(k)) continue;
        // Initial metadata carries the request id (unless a stream already sent its headers);
        // everything else travels as trailers, which gRPC clients read after the status.
        if (k == "x-request-id" && !headers_sent_) {
          ctx_->AddInitialMetadata(k, v);
        } else {
          ctx_->AddTrailingMetadata(k, v);
        }
      }
      if (!result.status.ok() || streaming_) {
        Finish(result.status);
        return;
      }
      grpc::Slice slice(result.response_bytes);
      response_ = grpc::ByteBuffer(&slice, 1);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    });
  }

  // ResponseStream: the core's stream forwarder calls these for a server-streaming method.
  void Start(const std::vector<std::pair<std::string, std::string>>& headers) override {
    for (const auto& [k, v] : headers) {
      if (PassedBack(k)) ctx_->AddInitialMetadata(k, v);
    }
    headers_sent_ = true;
  }

  void Write(const grpc::ByteBuffer& message, std::function<void(bool)> written) override {
    response_ = message;
    written_ = std::move(written);
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (written_) std::exchange(written_, nullptr)(ok);
  }

  void OnCancel() override { cancel_->Cancel(); }

  void OnDone() override { delete this; }

 private:
  grpc::GenericCallbackServerContext* ctx_;
  CallDispatcher* dispatcher_;
  const bool streaming_;
  const bool tls_;
  bool headers_sent_ = false;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::function<void(bool)> written_;
  const std::shared_ptr<CancelSignal> cancel_ = std::make_shared<CancelSignal>();
};

}  // namespace

grpc::ServerGenericBidiReactor* GrpcProxy::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  return new ProxyReactor(ctx, dispatcher_, server_streaming_.contains(ctx->method()), tls_);
}

}  // namespace regsuite::gateway
