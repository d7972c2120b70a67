#include "http/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "http/query.h"
#include "regsuite/common/crypto.h"

namespace regsuite::gateway {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

constexpr size_t kLingerDrainBytes = 1 << 20;

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[(c >> 4) & 0xf]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

bool IsFieldName(absl::string_view s) {
  if (s.empty() || !(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '[' || c == ']')) return false;
  }
  return true;
}

bool IsSafeRequestId(absl::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

// Response headers the ingress owns or HTTP/1.1 forbids copying from gRPC metadata.
bool IsCopyableMetadata(absl::string_view name, absl::string_view value) {
  static constexpr absl::string_view kReserved[] = {
      "content-type", "content-length", "connection", "transfer-encoding", "te",
      "keep-alive", "upgrade", "trailer", "x-request-id", "allow", "date", "server"};
  if (name.empty() || name[0] == ':' || absl::StartsWith(name, "grpc-") ||
      absl::EndsWith(name, "-bin")) {
    return false;
  }
  for (auto r : kReserved) {
    if (name == r) return false;
  }
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_')) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

std::string PeerString(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) {
    return absl::StrCat("ipv6:[", address.to_string(), "]:", endpoint.port());
  }
  return absl::StrCat("ipv4:", address.to_string(), ":", endpoint.port());
}

}  // namespace

int HttpStatusForGrpcCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::CANCELLED: return 499;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    default: return 500;  // INTERNAL, UNKNOWN, DATA_LOSS
  }
}

absl::string_view GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

std::string ErrorJson(int http_status, grpc::StatusCode code, absl::string_view message,
                      absl::string_view request_id) {
  std::string out = absl::StrCat("{\"error\":{\"code\":", http_status, ",\"status\":\"",
                                 GrpcCodeName(code), "\",\"message\":");
  AppendJsonString(&out, message);
  out.append(",\"details\":[");
  if (size_t colon = message.find(": "); colon != absl::string_view::npos &&
                                         IsFieldName(message.substr(0, colon))) {
    out.append("{\"field\":");
    AppendJsonString(&out, message.substr(0, colon));
    out.append(",\"description\":");
    AppendJsonString(&out, message.substr(colon + 2));
    out.push_back('}');
  }
  out.append("],\"requestId\":");
  AppendJsonString(&out, request_id);
  out.append("}}");
  return out;
}

class Session;

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(HttpServerOptions options, std::shared_ptr<const HttpRouteTable> routes,
       std::shared_ptr<const JsonTranscoder> transcoder, CallDispatcher* dispatcher,
       OpsHandlers ops)
      : options_(std::move(options)),
        routes_(std::move(routes)),
        transcoder_(std::move(transcoder)),
        dispatcher_(dispatcher),
        ops_(std::move(ops)),
        ioc_(std::max(1, options_.io_threads)),
        acceptor_(net::make_strand(ioc_)) {}

  absl::StatusOr<int> Start(absl::string_view listen);
  void Stop();

  void Register(Session* session, std::weak_ptr<Session> weak) {
    absl::MutexLock lock(&mu_);
    sessions_.emplace(session, std::move(weak));
  }
  void Unregister(Session* session) {
    absl::MutexLock lock(&mu_);
    sessions_.erase(session);
  }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  const HttpServerOptions options_;
  const std::shared_ptr<const HttpRouteTable> routes_;
  const std::shared_ptr<const JsonTranscoder> transcoder_;
  CallDispatcher* const dispatcher_;
  const OpsHandlers ops_;

 private:
  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  net::io_context ioc_;
  // Keeps the io threads running while calls wait on the core with no socket operation
  // pending (e.g. during Stop, once the acceptor is closed).
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  absl::Mutex mu_;
  absl::flat_hash_map<Session*, std::weak_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
};

/// One HTTP/1.1 connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = PeerString(endpoint);
  }
  ~Session() { server_->Unregister(this); }

  void Start() {
    server_->Register(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  // Called (on the session's strand) when the server stops: close now unless a call is in
  // flight, whose response is still written (with Connection: close).
  void Drain() {
    if (!busy_) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_.socket().close(ec);
    }
  }

  auto executor() { return stream_.get_executor(); }

 private:
  const HttpServerOptions& options() const { return server_->options_; }

  void DoRead() {
    if (server_->stopping()) return DoClose();
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    stream_.expires_after(absl::ToChronoMilliseconds(options().idle_timeout));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    busy_ = true;
    const auto& header = parser_->get();
    method_ = std::string(header.method_string());
    path_ = std::string(header.target().substr(0, header.target().find('?')));
    request_id_ = std::string(header["x-request-id"]);
    if (!IsSafeRequestId(request_id_)) request_id_ = regsuite::common::NewUuid();
    if (auto length = parser_->content_length(); length && *length > options().max_body_bytes) {
      return WriteOwnError(413, grpc::StatusCode::INVALID_ARGUMENT,
                           absl::StrCat("body: larger than the limit of ",
                                        options().max_body_bytes, " bytes"),
                           /*close=*/true);
    }
    stream_.expires_after(absl::ToChronoMilliseconds(options().idle_timeout));
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       header.version());
      bhttp::async_write(stream_, *cont,
                         [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                           if (ec) return self->DoClose();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->Handle(self->parser_->release());
                      });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      busy_ = true;
      return WriteOwnError(413, grpc::StatusCode::INVALID_ARGUMENT,
                           absl::StrCat("body: larger than the limit of ",
                                        options().max_body_bytes, " bytes"),
                           /*close=*/true);
    }
    if (ec == bhttp::error::header_limit) {
      busy_ = true;
      return WriteOwnError(431, grpc::StatusCode::INVALID_ARGUMENT,
                           "headers: larger than the limit", /*close=*/true);
    }
    if (ec.category() == beast::error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      busy_ = true;
      version_ = 11;
      return WriteOwnError(400, grpc::StatusCode::INVALID_ARGUMENT,
                           absl::StrCat("request: malformed HTTP request (", ec.message(), ")"),
                           /*close=*/true);
    }
    DoClose();  // end of stream, timeout, reset, or cancelled by Stop()
  }

  void Handle(Request request) {
    stream_.expires_never();
    body_bytes_ = request.body().size();
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    absl::string_view target(request.target().data(), request.target().size());
    absl::string_view path = target;
    absl::string_view raw_query;
    if (size_t q = target.find('?'); q != absl::string_view::npos) {
      path = target.substr(0, q);
      raw_query = target.substr(q + 1);
    }
    absl::string_view method(request.method_string().data(), request.method_string().size());

    if (method == "GET" && HandleOps(path)) return;

    RouteMatch match = server_->routes_->Match(method, path);
    if (match.outcome == RouteMatch::Outcome::kNoRoute) {
      return WriteOwnError(404, grpc::StatusCode::NOT_FOUND,
                           absl::StrCat("route: no method is bound to ", path), false);
    }
    if (match.outcome == RouteMatch::Outcome::kMethodNotAllowed) {
      allow_ = absl::StrJoin(match.allowed_methods, ", ");
      return WriteOwnError(405, grpc::StatusCode::UNIMPLEMENTED,
                           absl::StrCat("method: ", method, " is not allowed on ", path,
                                        " (allowed: ", allow_, ")"),
                           false);
    }
    route_ = match.route;
    auto query = ParseQuery(raw_query);
    if (!query.ok()) {
      return WriteOwnError(400, grpc::StatusCode::INVALID_ARGUMENT,
                           std::string(query.status().message()), false);
    }
    auto bytes = server_->transcoder_->RequestToBinary(*route_, match.bindings, *query,
                                                       request.body());
    if (!bytes.ok()) {
      return WriteOwnError(400, grpc::StatusCode::INVALID_ARGUMENT,
                           std::string(bytes.status().message()), false);
    }

    IncomingCall call;
    call.grpc_method = route_->grpc_method;
    call.request_bytes = *std::move(bytes);
    call.signed_method = std::string(method);
    call.signed_path = std::string(path);
    call.signed_query = CanonicalQuery(raw_query);
    call.peer = peer_;
    call.route = route_->path_template;
    for (const auto& [field, value] : match.bindings) {
      if (field == "uscc") call.target_uscc = value;
    }
    absl::Duration timeout = options().default_timeout;
    for (const auto& field : request) {
      std::string name = absl::AsciiStrToLower(
          absl::string_view(field.name_string().data(), field.name_string().size()));
      std::string value(field.value().data(), field.value().size());
      if (name == "x-timeout-ms") {
        int64_t ms = 0;
        if (!absl::SimpleAtoi(value, &ms) || ms <= 0) {
          return WriteOwnError(400, grpc::StatusCode::INVALID_ARGUMENT,
                               "x-timeout-ms: must be a positive whole number of milliseconds",
                               false);
        }
        timeout = std::min(absl::Milliseconds(ms), options().max_timeout);
      }
      call.headers.emplace(std::move(name), std::move(value));
    }
    call.deadline = absl::Now() + timeout;
    call.signed_body = std::move(request.body());

    server_->dispatcher_->Dispatch(
        std::move(call), [self = shared_from_this()](CallResult result) {
          auto executor = self->executor();
          net::post(executor, [self = std::move(self), result = std::move(result)]() mutable {
            self->OnResult(std::move(result));
          });
        });
  }

  bool HandleOps(absl::string_view path) {
    const std::function<OpsResponse()>* handler = nullptr;
    if (path == "/healthz") handler = &server_->ops_.healthz;
    if (path == "/readyz") handler = &server_->ops_.readyz;
    if (path == "/metrics") handler = &server_->ops_.metrics;
    if (handler == nullptr || !*handler) return false;
    OpsResponse ops = (*handler)();
    Response response(static_cast<bhttp::status>(ops.status), version_);
    response.set(bhttp::field::content_type, ops.content_type);
    response.body() = std::move(ops.body);
    Write(std::move(response), false);
    return true;
  }

  void OnResult(CallResult result) {
    std::string request_id = request_id_;
    for (const auto& [name, value] : result.metadata) {
      if (name == "x-request-id" && !value.empty()) request_id = value;
    }
    request_id_ = request_id;
    if (result.status.ok()) {
      auto json = server_->transcoder_->ResponseToJson(*route_, result.response_bytes);
      if (!json.ok()) {
        return WriteOwnError(500, grpc::StatusCode::INTERNAL,
                             std::string(json.status().message()), false);
      }
      Response response(bhttp::status::ok, version_);
      response.set(bhttp::field::content_type, "application/json");
      response.body() = *std::move(json);
      CopyMetadata(result.metadata, &response);
      return Write(std::move(response), false);
    }
    grpc::StatusCode code = result.status.error_code();
    int status = HttpStatusForGrpcCode(code);
    Response response(static_cast<bhttp::status>(status), version_);
    response.set(bhttp::field::content_type, "application/json");
    response.body() = ErrorJson(status, code, result.status.error_message(), request_id_);
    CopyMetadata(result.metadata, &response);
    Write(std::move(response), false);
  }

  void CopyMetadata(const std::vector<std::pair<std::string, std::string>>& metadata,
                    Response* response) {
    for (const auto& [name, value] : metadata) {
      if (IsCopyableMetadata(name, value)) response->insert(name, value);
    }
  }

  void WriteOwnError(int status, grpc::StatusCode code, absl::string_view message,
                     bool close) {
    if (request_id_.empty()) request_id_ = regsuite::common::NewUuid();
    if (server_->ops_.on_rejected) {
      RejectedRequest rejected;
      rejected.method = method_;
      rejected.path = path_;
      if (route_ != nullptr) rejected.route = route_->path_template;
      rejected.peer = peer_;
      rejected.http_status = status;
      rejected.code = code;
      rejected.message = std::string(message);
      rejected.request_id = request_id_;
      rejected.request_bytes = body_bytes_;
      server_->ops_.on_rejected(rejected);
    }
    Response response(static_cast<bhttp::status>(status), version_);
    response.set(bhttp::field::content_type, "application/json");
    response.body() = ErrorJson(status, code, message, request_id_);
    if (!allow_.empty()) response.set(bhttp::field::allow, allow_);
    Write(std::move(response), close);
  }

  void Write(Response response, bool close) {
    if (request_id_.empty()) request_id_ = regsuite::common::NewUuid();
    response.set("x-request-id", request_id_);
    response.keep_alive(keep_alive_ && !close && !server_->stopping());
    response.prepare_payload();
    auto shared = std::make_shared<Response>(std::move(response));
    stream_.expires_after(absl::ToChronoMilliseconds(options().idle_timeout));
    bhttp::async_write(stream_, *shared,
                       [self = shared_from_this(), shared, close](beast::error_code ec, size_t) {
                         self->OnWrite(ec, close || shared->need_eof());
                       });
  }

  void OnWrite(beast::error_code ec, bool close) {
    busy_ = false;
    route_ = nullptr;
    body_bytes_ = 0;
    method_.clear();
    path_.clear();
    allow_.clear();
    request_id_.clear();
    if (ec) return DoClose();
    if (close) return LingerClose();
    DoRead();
  }

  // Half-closes, then discards what the client is still sending (e.g. an oversized body) so
  // that closing does not reset the connection before it read the response.
  void LingerClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    DrainSome();
  }

  void DrainSome() {
    auto buffer = std::make_shared<std::array<char, 8192>>();
    stream_.async_read_some(net::buffer(*buffer),
                            [self = shared_from_this(), buffer](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerDrainBytes) return self->DoClose();
                              self->DrainSome();
                            });
  }

  void DoClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string peer_;
  std::string method_;
  std::string path_;
  size_t body_bytes_ = 0;
  std::string request_id_;
  std::string allow_;
  const HttpRoute* route_ = nullptr;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;
  size_t drained_ = 0;
};

absl::StatusOr<int> HttpServer::Impl::Start(absl::string_view listen) {
  if (started_) return absl::FailedPreconditionError("http server: already started");
  size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen: \"", listen, "\" is not host:port"));
  }
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("listen: bad address \"", host, "\""));
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("listen ", listen, ": ", ec.message()));
  }
  int bound = acceptor_.local_endpoint(ec).port();
  started_ = true;
  work_.emplace(ioc_.get_executor());
  DoAccept();
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
  return bound;
}

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                           self->OnAccept(ec, std::move(socket));
                         });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping() || !acceptor_.is_open()) return;
  if (!ec) {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(socket), shared_from_this())->Start();
  }
  DoAccept();
}

void HttpServer::Impl::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  // Close the acceptor on its strand and wait, so no connection is accepted after Stop().
  std::promise<void> closed;
  net::post(acceptor_.get_executor(), [this, &closed] {
    beast::error_code ec;
    acceptor_.close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
  std::vector<std::shared_ptr<Session>> live;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  // Released outside mu_: the last reference runs ~Session, which takes mu_.
  for (auto& session : live) {
    net::post(session->executor(), [session] { session->Drain(); });
  }
  live.clear();
  {
    absl::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sessions_.empty(); };
    mu_.AwaitWithTimeout(absl::Condition(&drained), options_.drain_timeout);
  }
  work_.reset();
  ioc_.stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

HttpServer::HttpServer(HttpServerOptions options, std::shared_ptr<const HttpRouteTable> routes,
                       std::shared_ptr<const JsonTranscoder> transcoder,
                       CallDispatcher* dispatcher, OpsHandlers ops)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(routes), std::move(transcoder),
                                   dispatcher, std::move(ops))) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Start(absl::string_view listen) { return impl_->Start(listen); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace regsuite::gateway
