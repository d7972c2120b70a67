#include "regsuite/common/gateway_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <latch>

#include "absl/strings/str_cat.h"
#include "regsuite/common/config.h"
#include "regsuite/common/status.h"

namespace regsuite::common {

void AddGatewayClientConfigKeys(ConfigSchema& schema, absl::string_view service) {
  schema
      .Add("gateway.target", ConfigType::kString, "",
           "gateway gRPC address used for calls to other services and outbox delivery; "
           "empty: none (the outbox relay stays off)")
      .Add("gateway.app_key", ConfigType::kString, absl::StrCat("svc-", service),
           "this service's client key at the gateway")
      .AddSecret("gateway.secret", "this service's signing secret at the gateway")
      .Add("gateway.signature_method", ConfigType::kString, "HMAC-SHA256",
           "HMAC-SHA256 or HMAC-SM3")
      .Add("gateway.call_timeout", ConfigType::kDuration, "2s",
           "deadline of a call to another service when the caller has none");
}

GatewayClient::GatewayClient(std::shared_ptr<grpc::Channel> channel, ServiceIdentity identity,
                             absl::Duration default_timeout, const Clock& clock)
    : channel_(std::move(channel)),
      identity_(std::move(identity)),
      default_timeout_(default_timeout),
      clock_(clock) {}

std::unique_ptr<GatewayClient> GatewayClient::FromConfig(const Config& config,
                                                         const Clock& clock) {
  const std::string& target = config.GetString("gateway.target");
  if (target.empty()) return nullptr;
  ServiceIdentity identity;
  identity.app_key = config.GetString("gateway.app_key");
  identity.secret = config.GetString("gateway.secret");
  auto method = ParseSignatureMethod(config.GetString("gateway.signature_method"));
  identity.method = method.ok() ? *method : SignatureMethod::kHmacSha256;
  return std::make_unique<GatewayClient>(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()), std::move(identity),
      config.GetDuration("gateway.call_timeout"), clock);
}

void GatewayClient::Sign(grpc::ClientContext& context, const std::string& method,
                         absl::string_view body) const {
  context.AddMetadata("x-app-key", identity_.app_key);
  if (identity_.secret.empty()) return;
  const std::string timestamp = absl::StrCat(absl::ToUnixSeconds(clock_.Now()));
  const std::string nonce = NewNonce();
  const std::string to_sign = StringToSign("POST", method, "", timestamp, nonce,
                                           BodyDigestHex(identity_.method, body));
  context.AddMetadata("x-timestamp", timestamp);
  context.AddMetadata("x-nonce", nonce);
  context.AddMetadata("x-signature-method", std::string(SignatureMethodName(identity_.method)));
  context.AddMetadata("x-signature", SignatureBase64(identity_.method, identity_.secret, to_sign));
}

absl::StatusOr<std::string> GatewayClient::CallRaw(const std::string& method,
                                                   const std::string& request,
                                                   absl::Duration timeout) const {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(
      clock_.Now() + (timeout == absl::ZeroDuration() ? default_timeout_ : timeout)));
  Sign(context, method, request);
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  std::latch done(1);
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.count_down();
                 });
  done.wait();
  if (!status.ok()) return FromGrpcStatus(status);
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) return absl::InternalError("response: unreadable");
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

absl::Status GatewayClient::Call(const std::string& method,
                                 const google::protobuf::Message& request,
                                 google::protobuf::Message* response,
                                 absl::Duration timeout) const {
  auto bytes = CallRaw(method, request.SerializeAsString(), timeout);
  if (!bytes.ok()) return bytes.status();
  if (!response->ParseFromString(*bytes)) {
    return absl::InternalError(absl::StrCat(method, ": response does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace regsuite::common
