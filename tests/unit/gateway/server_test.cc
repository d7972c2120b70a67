// The HTTP/JSON ingress end to end in-process: a Beast client against HttpServer on port 0
// with a fake CallDispatcher standing in for the gateway core.
#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "http/server.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "test_api.h"

namespace regsuite::gateway {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

constexpr char kCredit[] = "/regsuite.credit.v1.CreditService/";

/// Answers like a backend would, records every call, and holds GetListing calls until told.
class FakeDispatcher : public CallDispatcher {
 public:
  void Dispatch(IncomingCall call, std::function<void(CallResult)> done) override {
    CallResult result;
    result.metadata.emplace_back("x-request-id", "rid-core");
    std::string method = call.grpc_method;
    {
      absl::MutexLock lock(&mu_);
      calls_.push_back(call);
      if (method == std::string(kCredit) + "GetListing") {
        held_ = std::move(done);
        return;
      }
    }
    if (method == std::string(kCredit) + "BatchCheckSubjects") {
      credit::v1::BatchCheckSubjectsRequest request;
      request.ParseFromString(call.request_bytes);
      credit::v1::BatchCheckSubjectsResponse response;
      for (const auto& uscc : request.usccs()) {
        auto* status = response.add_statuses();
        status->set_uscc(uscc);
        status->set_tier(credit::v1::CREDIT_TIER_NORMAL);
      }
      result.response_bytes = response.SerializeAsString();
    } else if (call.target_uscc == "DENIED") {
      result.status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                   "method: not allowed for client demo");
    } else if (call.target_uscc == "BUSY") {
      result.status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "quota: exhausted");
      result.metadata.emplace_back("retry-after", "7");
    } else if (call.target_uscc == "BAD") {
      result.status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "uscc: check character mismatch");
    }
    // Answer from another thread, as the core does.
    std::thread([done = std::move(done), result = std::move(result)] { done(result); }).detach();
  }

  std::vector<IncomingCall> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Waits until a GetListing call is held by the "core".
  void AwaitHeld() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::function<void(CallResult)>* held) { return static_cast<bool>(*held); },
        &held_));
  }
  // Answers the held call.
  void ReleaseHeld(CallResult result) {
    std::function<void(CallResult)> done;
    {
      absl::MutexLock lock(&mu_);
      done = std::move(held_);
      held_ = nullptr;
    }
    done(std::move(result));
  }

 private:
  absl::Mutex mu_;
  std::vector<IncomingCall> calls_ ABSL_GUARDED_BY(mu_);
  std::function<void(CallResult)> held_ ABSL_GUARDED_BY(mu_);
};

/// An HttpServer on 127.0.0.1:0 with a 1 KiB body limit.
struct TestServer {
  TestServer() {
    HttpServerOptions options;
    options.io_threads = 2;
    options.max_body_bytes = 1024;
    OpsHandlers ops;
    ops.healthz = [] { return OpsResponse{200, "text/plain", "ok\n"}; };
    ops.metrics = [] { return OpsResponse{200, "text/plain; version=0.0.4", "up 1\n"}; };
    ops.on_rejected = [this](const RejectedRequest& r) {
      absl::MutexLock lock(&mu);
      rejected.push_back(r);
    };
    server.emplace(options, testing::Routes(), testing::Transcoder(), &dispatcher, ops);
    auto bound = server->Start("127.0.0.1:0");
    if (!bound.ok()) FAIL(bound.status().ToString());
    port = *bound;
  }
  std::vector<RejectedRequest> Rejected() {
    absl::MutexLock lock(&mu);
    return rejected;
  }
  FakeDispatcher dispatcher;
  absl::Mutex mu;
  std::vector<RejectedRequest> rejected ABSL_GUARDED_BY(mu);
  std::optional<HttpServer> server;
  int port = 0;
};

/// One keep-alive client connection.
struct Client {
  explicit Client(int port) : stream(ioc) {
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  Response Send(bhttp::verb verb, const std::string& target, const std::string& body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request request(verb, target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty()) {
      request.set(bhttp::field::content_type, "application/json");
      request.body() = body;
    }
    request.prepare_payload();
    bhttp::write(stream, request);
    Response response;
    bhttp::read(stream, buffer, response);
    return response;
  }
  net::io_context ioc;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

std::string Header(const Response& response, const char* name) {
  return std::string(response[name]);
}

TEST_CASE("a POST round trip transcodes the JSON body and the backend's answer", "[server]") {
  TestServer t;
  Client client(t.port);
  Response response = client.Send(bhttp::verb::post, "/v1/credit/subjects:batchCheck",
                                  R"({"usccs":["91350100M000100Y43"]})",
                                  {{"X-App-Key", "demo"}, {"x-timeout-ms", "1500"}});
  CHECK(response.result_int() == 200);
  CHECK(Header(response, "content-type") == "application/json");
  CHECK(Header(response, "x-request-id") == "rid-core");
  CHECK(response.body() ==
        R"({"statuses":[{"uscc":"91350100M000100Y43","tier":"CREDIT_TIER_NORMAL"}]})");
  auto calls = t.dispatcher.calls();
  REQUIRE(calls.size() == 1);
  const IncomingCall& call = calls[0];
  CHECK(call.grpc_method == std::string(kCredit) + "BatchCheckSubjects");
  CHECK(call.signed_method == "POST");
  CHECK(call.signed_path == "/v1/credit/subjects:batchCheck");
  CHECK(call.signed_query.empty());
  CHECK(call.signed_body == R"({"usccs":["91350100M000100Y43"]})");
  CHECK(call.route == "/v1/credit/subjects:batchCheck");
  CHECK(call.headers.count("x-app-key") == 1);
  CHECK(call.headers.find("x-app-key")->second == "demo");
  CHECK_THAT(call.peer, Catch::StartsWith("ipv4:127.0.0.1:"));
  // x-timeout-ms bounds the deadline handed to the core.
  CHECK(call.deadline < absl::Now() + absl::Milliseconds(1500));
  credit::v1::BatchCheckSubjectsRequest forwarded;
  REQUIRE(forwarded.ParseFromString(call.request_bytes));
  CHECK(forwarded.usccs_size() == 1);
}

TEST_CASE("GET requests carry path variables, the target USCC and the canonical query",
          "[server]") {
  TestServer t;
  Client client(t.port);
  Response response =
      client.Send(bhttp::verb::get, "/v1/credit/subjects/91350100M000100Y43/profile?includeExpired=true");
  CHECK(response.result_int() == 200);
  CHECK(response.body() == "{}");
  Response list = client.Send(bhttp::verb::get,
                              "/v1/credit/listings?pageSize=5&listType=LIST_TYPE_RED&a=%20b");
  CHECK(list.result_int() == 400);  // "a" is not a field
  CHECK_THAT(list.body(), Catch::Contains(R"("field":"a")"));
  Response list_ok =
      client.Send(bhttp::verb::get, "/v1/credit/listings?pageSize=5&listType=LIST_TYPE_RED");
  CHECK(list_ok.result_int() == 200);
  auto calls = t.dispatcher.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].target_uscc == "91350100M000100Y43");
  CHECK(calls[0].route == "/v1/credit/subjects/{uscc}/profile");
  CHECK(calls[0].signed_query == "includeExpired=true");
  CHECK(calls[1].signed_query == "listType=LIST_TYPE_RED&pageSize=5");
  CHECK(calls[1].signed_path == "/v1/credit/listings");
}

TEST_CASE("the gateway's own failures are JSON errors: 404, 405, 400, 413", "[server]") {
  TestServer t;
  Client client(t.port);
  Response not_found = client.Send(bhttp::verb::get, "/v1/credit/nowhere");
  CHECK(not_found.result_int() == 404);
  CHECK(Header(not_found, "content-type") == "application/json");
  CHECK_THAT(not_found.body(), Catch::StartsWith(R"({"error":{"code":404,"status":"NOT_FOUND",)"));
  CHECK_FALSE(Header(not_found, "x-request-id").empty());

  Response wrong_method = client.Send(bhttp::verb::delete_, "/v1/credit/subjects/X");
  CHECK(wrong_method.result_int() == 405);
  CHECK(Header(wrong_method, "allow") == "GET");
  CHECK_THAT(wrong_method.body(), Catch::StartsWith(R"({"error":{"code":405,)"));

  Response bad_json = client.Send(bhttp::verb::post, "/v1/credit/subjects:batchCheck", "{\"usccs\":",
                                  {{"x-request-id", "client-rid-1"}});
  CHECK(bad_json.result_int() == 400);
  CHECK_THAT(bad_json.body(),
             Catch::StartsWith(R"({"error":{"code":400,"status":"INVALID_ARGUMENT",)"));
  CHECK_THAT(bad_json.body(), Catch::Contains(R"("details":[{"field":"body")"));
  CHECK_THAT(bad_json.body(), Catch::Contains(R"("requestId":"client-rid-1")"));
  CHECK(Header(bad_json, "x-request-id") == "client-rid-1");

  Response unknown_field =
      client.Send(bhttp::verb::post, "/v1/credit/subjects:batchCheck", R"({"uscs":["x"]})");
  CHECK(unknown_field.result_int() == 400);
  CHECK_THAT(unknown_field.body(), Catch::Contains(R"("field":"uscs")"));

  Response bad_timeout = client.Send(bhttp::verb::get, "/v1/credit/subjects/X", "",
                                     {{"x-timeout-ms", "soon"}});
  CHECK(bad_timeout.result_int() == 400);
  CHECK_THAT(bad_timeout.body(), Catch::Contains(R"("field":"x-timeout-ms")") ||
                                     Catch::Contains("x-timeout-ms"));

  Response too_large = client.Send(bhttp::verb::post, "/v1/credit/subjects:batchCheck",
                                   "{\"usccs\":[\"" + std::string(4096, 'A') + "\"]}");
  CHECK(too_large.result_int() == 413);
  CHECK_THAT(too_large.body(), Catch::StartsWith(R"({"error":{"code":413,)"));
  CHECK(t.dispatcher.calls().empty());

  // Each was reported to on_rejected (for metrics and the audit log).
  auto rejected = t.Rejected();
  REQUIRE(rejected.size() == 6);
  CHECK(rejected[0].http_status == 404);
  CHECK(rejected[0].method == "GET");
  CHECK(rejected[0].path == "/v1/credit/nowhere");
  CHECK(rejected[1].http_status == 405);
  CHECK(rejected[2].http_status == 400);
  CHECK(rejected[2].request_id == "client-rid-1");
  CHECK(rejected[2].route == "/v1/credit/subjects:batchCheck");
  CHECK(rejected[5].http_status == 413);
  CHECK(rejected[5].code == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("a core error keeps its code, message, request id and retry-after", "[server]") {
  TestServer t;
  Client client(t.port);
  Response denied = client.Send(bhttp::verb::get, "/v1/credit/subjects/DENIED");
  CHECK(denied.result_int() == 403);
  CHECK(denied.body() ==
        R"({"error":{"code":403,"status":"PERMISSION_DENIED","message":"method: not allowed )"
        R"(for client demo","details":[{"field":"method","description":"not allowed for )"
        R"(client demo"}],"requestId":"rid-core"}})");
  CHECK(Header(denied, "x-request-id") == "rid-core");
  Response busy = client.Send(bhttp::verb::get, "/v1/credit/subjects/BUSY");
  CHECK(busy.result_int() == 429);
  CHECK(Header(busy, "retry-after") == "7");
  Response bad = client.Send(bhttp::verb::get, "/v1/credit/subjects/BAD");
  CHECK(bad.result_int() == 400);
  CHECK_THAT(bad.body(), Catch::Contains(
                             R"("details":[{"field":"uscc","description":"check character mismatch"}])"));
}

TEST_CASE("keep-alive serves two requests on one connection", "[server]") {
  TestServer t;
  Client client(t.port);
  Response first = client.Send(bhttp::verb::get, "/v1/credit/subjects/91350100M000100Y43");
  CHECK(first.result_int() == 200);
  CHECK(first.keep_alive());
  Response second = client.Send(bhttp::verb::post, "/v1/credit/subjects:batchCheck",
                                R"({"usccs":["A","B"]})");
  CHECK(second.result_int() == 200);
  auto calls = t.dispatcher.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].peer == calls[1].peer);
}

TEST_CASE("health and metrics are served without the dispatcher", "[server]") {
  TestServer t;
  Client client(t.port);
  Response health = client.Send(bhttp::verb::get, "/healthz");
  CHECK(health.result_int() == 200);
  CHECK(health.body() == "ok\n");
  Response metrics = client.Send(bhttp::verb::get, "/metrics");
  CHECK(metrics.body() == "up 1\n");
  Response ready = client.Send(bhttp::verb::get, "/readyz");  // no handler configured
  CHECK(ready.result_int() == 404);
  CHECK_THAT(ready.body(), Catch::StartsWith(R"({"error":)"));
  CHECK(t.dispatcher.calls().empty());
}

TEST_CASE("Stop lets an in-flight call write its response, then refuses connections",
          "[server]") {
  TestServer t;
  Client client(t.port);
  std::optional<Response> response;
  std::thread request([&] { response = client.Send(bhttp::verb::get, "/v1/credit/listings/L1"); });
  credit::v1::Listing listing;
  listing.set_listing_id("L1");
  CallResult result;
  result.response_bytes = listing.SerializeAsString();
  // Stop while the core holds the call; then the core answers it.
  t.dispatcher.AwaitHeld();
  std::thread stopper([&] { t.server->Stop(); });
  t.dispatcher.ReleaseHeld(result);
  request.join();
  stopper.join();
  REQUIRE(response.has_value());
  CHECK(response->result_int() == 200);
  CHECK(response->body() == R"({"listingId":"L1"})");
  net::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), t.port), ec);
  CHECK(ec);
}

}  // namespace
}  // namespace regsuite::gateway
