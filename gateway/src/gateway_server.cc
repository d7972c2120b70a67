#include "gateway_server.h"

#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "admin_service.h"
#include "audit.h"
#include "auth.h"
#include "backends.h"
#include "clients.h"
#include "core.h"
#include "grpc_proxy.h"
#include "http/descriptors.h"
#include "http/routes.h"
#include "http/server.h"
#include "http/transcode.h"
#include "regsuite/common/log.h"
#include "regsuite/common/signing.h"
#include "secret_box.h"

namespace regsuite::gateway {
namespace {

constexpr const char* kBackends[] = {"licensing", "inspection", "credit", "disclosure", "exchange"};
constexpr int kDefaultPorts[] = {7101, 7102, 7103, 7104, 7105};

// "/pkg.Service/Method" of every server-streaming method in the descriptor set, plus those
// listed in `extra` (comma-separated), for backends whose protos the gateway does not carry.
absl::flat_hash_set<std::string> ServerStreamingMethods(const ApiDescriptors& api,
                                                        absl::string_view extra) {
  absl::flat_hash_set<std::string> methods;
  for (const auto& file : api.set().file()) {
    for (const auto& service : file.service()) {
      for (const auto& method : service.method()) {
        if (method.server_streaming() && !method.client_streaming()) {
          methods.insert(absl::StrCat("/", file.package(), ".", service.name(), "/", method.name()));
        }
      }
    }
  }
  for (absl::string_view m : absl::StrSplit(extra, ',', absl::SkipWhitespace())) {
    methods.insert(std::string(absl::StripAsciiWhitespace(m)));
  }
  return methods;
}

absl::StatusOr<std::string> ReadPem(const common::Config& config, const std::string& key) {
  const std::string& path = config.GetString(key);
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(key, ": required with tls.grpc_listen"));
  std::ifstream in(path);
  std::stringstream pem;
  pem << in.rdbuf();
  if (!in || pem.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", path, " is not a readable PEM file"));
  }
  return pem.str();
}

// The TLS listener's credentials (null when tls.grpc_listen is empty): the gateway's
// certificate and key, and the CA that client certificates must chain to.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(const common::Config& config) {
  if (config.GetString("tls.grpc_listen").empty()) return nullptr;
  const std::string& mode = config.GetString("tls.client_cert");
  if (mode != "require" && mode != "optional") {
    return absl::InvalidArgumentError("tls.client_cert: must be require or optional");
  }
  auto cert = ReadPem(config, "tls.cert_file");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(config, "tls.key_file");
  if (!key.ok()) return key.status();
  auto ca = ReadPem(config, "tls.client_ca_file");
  if (!ca.ok()) return ca.status();
  grpc::SslServerCredentialsOptions options(
      mode == "require" ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                        : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = *ca;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

class Gateway : public common::ServerExtension {
 public:
  Gateway(common::ServiceContext& ctx, SecretBox box) : ctx_(ctx), box_(std::move(box)) {}

  absl::Status Init() {
    const auto& config = ctx_.config;
    registry_ = std::make_unique<ClientRegistry>(ctx_.pg, box_);
    if (absl::Status s = registry_->Refresh(/*force=*/true); !s.ok()) return s;
    authenticator_ = std::make_unique<Authenticator>(config.GetDuration("auth.timestamp_window"));
    if (config.GetInt("ratelimit.redis_threads") < 1 || config.GetInt("ratelimit.queue_capacity") < 1) {
      return absl::InvalidArgumentError(
          "ratelimit.redis_threads, ratelimit.queue_capacity: must be at least 1");
    }
    GuardOptions guard;
    guard.nonce_window = 2 * config.GetDuration("auth.timestamp_window");
    guard.default_rate = static_cast<double>(config.GetInt("ratelimit.default_rate"));
    guard.default_burst = static_cast<int>(config.GetInt("ratelimit.default_burst"));
    guard.anonymous_rate = static_cast<double>(config.GetInt("ratelimit.anonymous_rate"));
    guard.anonymous_burst = static_cast<int>(config.GetInt("ratelimit.anonymous_burst"));
    guard.fail_open = config.GetBool("ratelimit.fail_open");
    guard.batcher.threads = static_cast<int>(config.GetInt("ratelimit.redis_threads"));
    guard.batcher.max_queued = static_cast<size_t>(config.GetInt("ratelimit.queue_capacity"));
    guard_ = std::make_unique<RequestGuard>(
        [redis = &ctx_.redis](const std::vector<RedisCommand>& commands) {
          return redis->Pipeline(commands);
        },
        guard);
    guard_->Start();
    // GatewayAdmin runs on an internal loopback listener reached only through the proxy.
    internal_token_ = common::NewNonce();
    admin_service_ = std::make_unique<GatewayAdminService>(
        ctx_.pg, box_, ctx_.workers, internal_token_, config.GetDuration("auth.rotation_grace"));
    grpc::ServerBuilder admin_builder;
    int admin_port = 0;
    admin_builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &admin_port);
    admin_builder.RegisterService(admin_service_.get());
    admin_server_ = admin_builder.BuildAndStart();
    if (admin_server_ == nullptr || admin_port == 0) {
      return absl::UnavailableError("GatewayAdmin: internal listener could not start");
    }
    std::map<std::string, std::string> backends;
    for (const char* name : kBackends) {
      backends[name] = config.GetString(absl::StrCat("backends.", name));
    }
    // Extra backends (a test or benchmark service): "name=host:port[,host:port];name2=...".
    for (absl::string_view entry :
         absl::StrSplit(config.GetString("backends.extra"), ';', absl::SkipWhitespace())) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(entry, '=');
      const std::string name(absl::StripAsciiWhitespace(kv.first));
      if (name.empty() || kv.second.empty() || backends.contains(name) || name == "gateway") {
        return absl::InvalidArgumentError(absl::StrCat(
            "backends.extra: \"", entry, "\" is not name=host:port[,host:port] with a new name"));
      }
      backends[name] = std::string(kv.second);
    }
    backends["gateway"] = absl::StrCat("127.0.0.1:", admin_port);
    auto pool = BackendPool::Create(backends);
    if (!pool.ok()) return pool.status();
    backends_ = std::move(*pool);
    const std::string& hash = config.GetString("audit.hash");
    if (hash != "SHA-256" && hash != "SM3") {
      return absl::InvalidArgumentError("audit.hash: must be SHA-256 or SM3");
    }
    audit_ = std::make_unique<AuditLog>(ctx_.pg, hash == "SM3" ? AuditHash::kSm3 : AuditHash::kSha256,
                                        static_cast<size_t>(config.GetInt("audit.queue_capacity")));
    core_ = std::make_unique<GatewayCore>(GatewayCore::Deps{
        registry_.get(), authenticator_.get(), guard_.get(), backends_.get(), audit_.get(),
        &ctx_.metrics, &ctx_.clock, config.GetDuration("proxy.default_deadline"),
        internal_token_, config.GetBool("bench.auth_off")});
    if (config.GetBool("bench.auth_off")) {
      common::LogWarn("bench.auth_off: calls are forwarded WITHOUT authentication, rate limits "
                         "or audit; benchmarks only", {});
    }

    auto api = ApiDescriptors::Embedded();
    if (!api.ok()) return api.status();
    auto tls = TlsCredentials(config);
    if (!tls.ok()) return tls.status();
    tls_credentials_ = *std::move(tls);
    proxy_ = std::make_unique<GrpcProxy>(
        core_.get(), ServerStreamingMethods(**api, config.GetString("proxy.streaming_methods")),
        tls_credentials_ != nullptr);
    auto routes = HttpRouteTable::Build(**api);
    if (!routes.ok()) return routes.status();
    HttpServerOptions http_options;
    http_options.io_threads = static_cast<int>(config.GetInt("http.io_threads"));
    http_options.max_body_bytes = static_cast<size_t>(config.GetInt("http.max_body_bytes"));
    http_options.default_timeout = config.GetDuration("proxy.default_deadline");
    OpsHandlers ops;
    ops.healthz = [] { return OpsResponse{200, "application/json", R"({"status":"ok"})"}; };
    ops.readyz = [this] {
      absl::Status ready = ctx_.readiness();
      if (ready.ok()) return OpsResponse{200, "application/json", R"({"status":"ready"})"};
      return OpsResponse{503, "application/json",
                         ErrorJson(503, grpc::StatusCode::UNAVAILABLE, ready.message(), "")};
    };
    ops.metrics = [this] {
      return OpsResponse{200, "text/plain; version=0.0.4", ctx_.metrics.RenderText()};
    };
    // The ingress's own refusals (404, 405, 400, 413) never reach the core: audit them here.
    ops.on_rejected = [this](const RejectedRequest& r) {
      AuditRecord record;
      record.at = ctx_.clock.Now();
      record.client = "-";
      record.method = absl::StrCat(r.method, " ", r.path);
      record.route = r.route.empty() ? "http" : r.route;
      record.status_code = static_cast<int>(r.code);
      record.request_id = r.request_id;
      record.peer = r.peer;
      record.request_bytes = static_cast<int64_t>(r.request_bytes);
      audit_->TryAppend(std::move(record));
      ctx_.metrics.IncCounter("regsuite_gateway_requests_total",
                              {{"route", record.route}, {"method", "-"},
                               {"code", absl::StrCat(static_cast<int>(r.code))}, {"client", "-"}});
    };
    http_ = std::make_unique<HttpServer>(http_options, *routes,
                                         std::make_shared<const JsonTranscoder>(*api), core_.get(),
                                         std::move(ops));
    ctx_.metrics.Describe("regsuite_gateway_audit_queue_depth", "gauge",
                          "audit records waiting to be written");
    ctx_.metrics.AddCollector([audit = audit_.get()](common::MetricsRegistry& m) {
      m.SetGauge("regsuite_gateway_audit_queue_depth", {}, static_cast<double>(audit->depth()));
    });
    return absl::OkStatus();
  }

  void ConfigureBuilder(grpc::ServerBuilder& builder) override {
    builder.RegisterCallbackGenericService(proxy_.get());
    if (tls_credentials_ != nullptr) {
      builder.AddListeningPort(ctx_.config.GetString("tls.grpc_listen"), tls_credentials_);
      common::LogInfo("gRPC TLS ingress", {{"listen", ctx_.config.GetString("tls.grpc_listen")},
                                           {"client_cert", ctx_.config.GetString("tls.client_cert")}});
    }
  }

  absl::Status OnStarted() override {
    registry_->Start(ctx_.config.GetDuration("auth.client_refresh"));
    backends_->StartHealthChecks(ctx_.config.GetDuration("proxy.health_interval"));
    audit_->Start(ctx_.config.GetDuration("audit.flush_interval"));
    auto port = http_->Start(ctx_.config.GetString("http.listen"));
    if (!port.ok()) return port.status();
    common::LogInfo("HTTP/JSON ingress listening", {{"port", absl::StrCat(*port)}});
    return absl::OkStatus();
  }

  void OnDraining() override { http_->Stop(); }

  void OnStopped() override {
    guard_->Stop();  // completes any call still waiting for Redis, while its backend is up
    admin_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    backends_->Stop();
    registry_->Stop();
    audit_->Stop();  // flushes what is queued
    common::LogInfo("audit log flushed", {{"rows_written", absl::StrCat(audit_->written())}});
  }

 private:
  common::ServiceContext& ctx_;
  SecretBox box_;
  std::unique_ptr<ClientRegistry> registry_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<RequestGuard> guard_;
  std::unique_ptr<BackendPool> backends_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<GatewayCore> core_;
  std::unique_ptr<GrpcProxy> proxy_;
  std::shared_ptr<grpc::ServerCredentials> tls_credentials_;  // null: no TLS listener
  std::unique_ptr<HttpServer> http_;
  std::string internal_token_;
  std::unique_ptr<GatewayAdminService> admin_service_;
  std::unique_ptr<grpc::Server> admin_server_;
};

}  // namespace

void AddGatewayConfigKeys(common::ConfigSchema& schema) {
  schema.AddSecret("auth.master_key",
                   "64 hex characters: the key that seals client secrets in the database")
      .Add("auth.timestamp_window", common::ConfigType::kDuration, "300s",
           "accepted distance between x-timestamp and the gateway clock (API.md: ±300 s)")
      .Add("auth.rotation_grace", common::ConfigType::kDuration, "24h",
           "how long the previous secret stays valid after RotateSecret, when the request names no "
           "grace period (0s revokes it at once)")
      .Add("auth.client_refresh", common::ConfigType::kDuration, "1s",
           "how often the client registry checks for changes")
      .Add("ratelimit.default_rate", common::ConfigType::kInt, "200",
           "requests per second per client when the client sets none")
      .Add("ratelimit.default_burst", common::ConfigType::kInt, "400", "token bucket size")
      .Add("ratelimit.anonymous_rate", common::ConfigType::kInt, "5",
           "requests per second per address for public methods")
      .Add("ratelimit.anonymous_burst", common::ConfigType::kInt, "10",
           "token bucket size for anonymous callers")
      .Add("ratelimit.fail_open", common::ConfigType::kBool, "false",
           "when Redis is down: true lets calls through, false applies a local bucket")
      .Add("ratelimit.redis_threads", common::ConfigType::kInt, "1",
           "threads sending the replay and rate-limit checks of concurrent calls to Redis, each "
           "one pipeline (one round trip) per batch")
      .Add("ratelimit.queue_capacity", common::ConfigType::kInt, "20000",
           "calls waiting for their Redis check before new ones are shed with UNAVAILABLE")
      .Add("audit.hash", common::ConfigType::kString, "SHA-256", "audit chain hash: SHA-256 or SM3")
      .Add("audit.queue_capacity", common::ConfigType::kInt, "100000",
           "audit records held in memory before calls are shed with UNAVAILABLE")
      .Add("audit.flush_interval", common::ConfigType::kDuration, "100ms",
           "longest wait before queued audit records are written")
      .Add("proxy.default_deadline", common::ConfigType::kDuration, "30s",
           "deadline of a backend call when the caller sets none")
      .Add("proxy.streaming_methods", common::ConfigType::kString, "",
           "server-streaming methods (/pkg.Service/Method, comma-separated) besides those of the "
           "built-in descriptor set; their responses are forwarded message by message")
      .Add("backends.extra", common::ConfigType::kString, "",
           "more backends, name=host:port[,host:port] separated by ';': methods of package "
           "regsuite.<name>.* go there (test and benchmark services)")
      .Add("bench.auth_off", common::ConfigType::kBool, "false",
           "BENCHMARKS ONLY: forward calls without authentication, rate limits or audit")
      .Add("proxy.health_interval", common::ConfigType::kDuration, "1s",
           "how often backend endpoints are health-checked")
      .Add("tls.grpc_listen", common::ConfigType::kString, "",
           "gRPC ingress over TLS (e.g. 127.0.0.1:7443); empty: none. A client certificate "
           "registered to a client (regctl client cert) authenticates it without signatures")
      .Add("tls.cert_file", common::ConfigType::kString, "", "PEM certificate of the TLS listener")
      .Add("tls.key_file", common::ConfigType::kString, "", "PEM private key of the TLS listener")
      .Add("tls.client_ca_file", common::ConfigType::kString, "",
           "PEM CA bundle that client certificates must chain to")
      .Add("tls.client_cert", common::ConfigType::kString, "optional",
           "require: refuse TLS connections without a valid client certificate; optional: "
           "accept them (callers then sign their requests)")
      .Add("http.listen", common::ConfigType::kString, "127.0.0.1:7080",
           "HTTP/JSON ingress, also /healthz, /readyz and /metrics")
      .Add("http.io_threads", common::ConfigType::kInt, "2", "HTTP server I/O threads")
      .Add("http.max_body_bytes", common::ConfigType::kInt, "1048576",
           "largest HTTP request body; larger ones get 413");
  for (size_t i = 0; i < std::size(kBackends); ++i) {
    schema.Add(absl::StrCat("backends.", kBackends[i]), common::ConfigType::kString,
               absl::StrCat("127.0.0.1:", kDefaultPorts[i]),
               absl::StrCat("endpoints of the ", kBackends[i],
                            " service, host:port[,host:port...], round robin"));
  }
}

absl::StatusOr<std::unique_ptr<common::ServerExtension>> MakeGateway(common::ServiceContext& ctx) {
  const std::string& key = ctx.config.GetString("auth.master_key");
  if (key.empty()) {
    return absl::InvalidArgumentError(
        "auth.master_key: required; set REGSUITE_AUTH_MASTER_KEY or REGSUITE_AUTH_MASTER_KEY_FILE "
        "(64 hex characters, e.g. from `openssl rand -hex 32`)");
  }
  auto box = SecretBox::FromHex(key);
  if (!box.ok()) return box.status();
  auto gateway = std::make_unique<Gateway>(ctx, std::move(*box));
  if (absl::Status s = gateway->Init(); !s.ok()) return s;
  return gateway;
}

}  // namespace regsuite::gateway
