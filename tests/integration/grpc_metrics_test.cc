// Every service's per-call gRPC metrics (MakeGrpcMetricsInterceptor): counted by method and
// status code, latency histogram, rendered on /metrics. An in-process server on loopback.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "regsuite/common/metrics.h"

namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// Check answers SERVING for "" and NOT_FOUND for any other service name.
class FakeHealth : public Health::CallbackService {
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const HealthCheckRequest* request,
                                  HealthCheckResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (request->service().empty()) {
      response->set_status(HealthCheckResponse::SERVING);
      reactor->Finish(grpc::Status::OK);
    } else {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
    }
    return reactor;
  }
};

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

}  // namespace

TEST_CASE("gRPC calls are counted by method and status code, with their latency") {
  regsuite::common::MetricsRegistry metrics;
  FakeHealth health;
  grpc::ServerBuilder builder;
  builder.RegisterService(&health);
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(regsuite::common::MakeGrpcMetricsInterceptor(&metrics, "regsuite_test"));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server != nullptr);
  auto stub = Health::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                                  grpc::InsecureChannelCredentials()));

  auto check = [&](const std::string& service) {
    grpc::ClientContext ctx;
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    return stub->Check(&ctx, request, &response).error_code();
  };
  for (int i = 0; i < 3; ++i) REQUIRE(check("") == grpc::StatusCode::OK);
  REQUIRE(check("no.such.Service") == grpc::StatusCode::NOT_FOUND);

  const std::string text = metrics.RenderText();
  const std::string method = "method=\"/grpc.health.v1.Health/Check\"";
  CHECK(Contains(text, "# TYPE regsuite_test_grpc_requests_total counter"));
  CHECK(Contains(text, absl::StrCat("regsuite_test_grpc_requests_total{", method,
                                    ",code=\"0\"} 3\n")));
  CHECK(Contains(text, absl::StrCat("regsuite_test_grpc_requests_total{", method,
                                    ",code=\"5\"} 1\n")));
  CHECK(Contains(text, absl::StrCat("regsuite_test_grpc_request_duration_seconds_count{", method,
                                    "} 4\n")));
  // Cumulative buckets: +Inf holds every call.
  CHECK(Contains(text, absl::StrCat("regsuite_test_grpc_request_duration_seconds_bucket{", method,
                                    ",le=\"+Inf\"} 4\n")));

  // Later calls add to the same series.
  REQUIRE(check("") == grpc::StatusCode::OK);
  CHECK(Contains(metrics.RenderText(), absl::StrCat("regsuite_test_grpc_requests_total{", method,
                                                    ",code=\"0\"} 4\n")));
  server->Shutdown();
}
