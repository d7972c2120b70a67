#pragma once

#include "absl/strings/string_view.h"
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/config.h"
#include "regsuite/common/embedded.h"
#include "regsuite/common/gateway_client.h"
#include "regsuite/common/log.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/metrics.h"
#include "regsuite/common/outbox.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/redis.h"
#include "regsuite/common/status.h"
#include "regsuite/common/worker_pool.h"

namespace regsuite::common {

/// What a service's logic gets from the bootstrap: its configuration and dependencies.
struct ServiceContext {
  const Config& config;
  PgPool& pg;
  RedisClient& redis;
  WorkerPool& workers;
  MetricsRegistry& metrics;
  const Clock& clock;
  std::shared_ptr<const WorkingDayCalendar> calendar;
  // Calls to other services through the gateway; nullptr when gateway.target is empty.
  GatewayClient* gateway;
  // OK while PostgreSQL and Redis answer (the last health probe).
  std::function<absl::Status()> readiness;
};

/// Extra server behaviour beyond registered services (the gateway's generic proxy and HTTP
/// ingress): hooks called by RunService at each stage of the server's life.
class ServerExtension {
 public:
  virtual ~ServerExtension() = default;
  /// Before the server is built: register generic services, set options.
  virtual void ConfigureBuilder(grpc::ServerBuilder& builder) {}
  /// After the server started serving.
  virtual absl::Status OnStarted() { return absl::OkStatus(); }
  /// SIGTERM received, before the gRPC server drains.
  virtual void OnDraining() {}
  /// After the gRPC server and worker pool stopped: flush and stop own threads.
  virtual void OnStopped() {}
};

/// Everything that differs between the binaries; main.cpp fills it in and calls RunService.
struct ServiceSpec {
  std::string name;     // "credit": schema, metrics prefix, log `service=`, config section
  std::string binary;   // "credit-service"
  std::string summary;  // one line for --help
  std::string default_grpc_listen;
  std::string default_metrics_listen;
  std::span<const EmbeddedFile> migrations;  // the service's own NNNN_<what>.sql files
  std::function<void(ConfigSchema&)> add_config_keys;
  // Builds the service implementations once the dependencies are up.
  std::function<absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>>(ServiceContext&)>
      make_services;
  // Fully qualified names reported by grpc.health.v1 besides "" (the whole server).
  std::vector<std::string> health_service_names;
  // Optional extension (may be empty).
  std::function<absl::StatusOr<std::unique_ptr<ServerExtension>>(ServiceContext&)> make_extension;
  // The gateway serves /metrics, /healthz and /readyz on its own HTTP port instead.
  bool admin_http = true;
};

/// The keys every service binary accepts (server.*, log.*, health.*, calendar.*, outbox.*,
/// gateway.*, postgres.*, redis.*).
ConfigSchema BaseServiceSchema(const ServiceSpec& spec);

/// Parses flags and configuration, migrates the schema (retrying until PostgreSQL answers),
/// starts the gRPC server (callback API, health, reflection, metrics interceptor), the admin
/// HTTP endpoint, the dependency health checker and the outbox relay, then waits for
/// SIGTERM/SIGINT and shuts down gracefully: NOT_SERVING first, then drain in-flight calls
/// within server.shutdown_grace, then the worker pool and relay. Returns the exit code.
int RunService(const ServiceSpec& spec, int argc, char** argv);

/// Migration sets of a service schema: the common outbox/inbox tables, then its own files.
absl::StatusOr<std::vector<MigrationSet>> ServiceMigrationSets(
    absl::string_view service, std::span<const EmbeddedFile> own_files);

/// Built-in calendar years, plus years loaded into the `calendar` schema, plus an optional
/// file of further years.
absl::StatusOr<std::shared_ptr<const WorkingDayCalendar>> LoadWorkingDayCalendar(
    PgPool& pg, absl::string_view extra_file);

/// Request id and trace id from the call's metadata (x-request-id, traceparent).
LogContext LogContextFromCall(const grpc::CallbackServerContext& ctx);

/// Runs `fn` (blocking work returning absl::Status) on the worker pool and finishes the call
/// with its mapped status. Refuses with RESOURCE_EXHAUSTED when the pool's queue is full and
/// DEADLINE_EXCEEDED when the caller's deadline passed before the work could start.
/// FinishBlocking finishes a reactor the handler already holds (a call that tried a
/// non-blocking path first); RunBlocking uses the call's default reactor.
template <typename Fn>
void FinishBlocking(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                    WorkerPool& pool, Fn&& fn) {
  LogContext log_context = LogContextFromCall(*ctx);
  bool queued = pool.TrySubmit(
      [ctx, reactor, fn = std::forward<Fn>(fn), log_context = std::move(log_context)]() mutable {
        ScopedLogContext scoped(std::move(log_context));
        if (std::chrono::system_clock::now() > ctx->deadline()) {
          reactor->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                       "deadline passed before the request could start"));
          return;
        }
        reactor->Finish(ToGrpcStatus(fn()));
      });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "server busy: worker queue full, retry later"));
  }
}

template <typename Fn>
grpc::ServerUnaryReactor* RunBlocking(grpc::CallbackServerContext* ctx, WorkerPool& pool,
                                      Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  FinishBlocking(ctx, reactor, pool, std::forward<Fn>(fn));
  return reactor;
}

}  // namespace regsuite::common

namespace regsuite::common {

/// make_services for a binary whose API is not implemented yet: the generated callback
/// service base answers every method with UNIMPLEMENTED.
template <typename... Services>
absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> ServeGenerated(ServiceContext&) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  (services.push_back(std::make_unique<Services>()), ...);
  return services;
}

}  // namespace regsuite::common
