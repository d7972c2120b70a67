#include "regsuite/common/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_split.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/migrations.h"

namespace regsuite::common {
namespace {

constexpr char kSelectCalendarYears[] = "SELECT year FROM calendar.calendar_years ORDER BY year";
constexpr char kSelectCalendarDays[] =
    "SELECT to_char(day, 'YYYY-MM-DD'), kind, name FROM calendar.calendar_days ORDER BY day";

/// Polls PostgreSQL and Redis and publishes SERVING only while both answer.
class DependencyHealth {
 public:
  DependencyHealth(PgPool& pg, RedisClient& redis, absl::Duration interval)
      : pg_(pg), redis_(redis), interval_(interval) {}
  ~DependencyHealth() { Stop(); }

  /// Probes once before the server starts, so the first published status is a real one.
  void Probe() { CheckOnce(); }

  void Start(grpc::HealthCheckServiceInterface* health, std::vector<std::string> names) {
    {
      std::lock_guard lock(publish_mu_);
      health_ = health;
      names_ = std::move(names);
    }
    Publish(Readiness().ok());
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, absl::ToChronoMilliseconds(interval_), [this] { return stopping_; })) {
        lock.unlock();
        CheckOnce();
        lock.lock();
      }
    });
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  /// Shutdown: report NOT_SERVING from now on, whatever the dependencies say.
  void Drain() {
    draining_ = true;
    Publish(false);
  }

  absl::Status Readiness() const {
    std::lock_guard lock(status_mu_);
    return last_;
  }

 private:
  void CheckOnce() {
    absl::Status pg = pg_.Ping();
    absl::Status redis = redis_.Ping();
    absl::Status combined = !pg.ok() ? pg : redis;
    bool changed;
    {
      std::lock_guard lock(status_mu_);
      changed = combined.ok() != last_.ok() || first_;
      first_ = false;
      last_ = combined;
    }
    if (changed) {
      if (combined.ok()) {
        LogInfo("dependencies reachable: SERVING");
      } else {
        LogWarn("dependency unreachable: NOT_SERVING", {{"error", combined.ToString()}});
      }
    }
    if (!draining_) Publish(combined.ok());
  }

  void Publish(bool serving) {
    std::lock_guard lock(publish_mu_);
    if (health_ == nullptr) return;
    health_->SetServingStatus(serving);
    for (const auto& name : names_) health_->SetServingStatus(name, serving);
  }

  PgPool& pg_;
  RedisClient& redis_;
  const absl::Duration interval_;
  grpc::HealthCheckServiceInterface* health_ = nullptr;
  std::vector<std::string> names_;
  std::atomic<bool> draining_{false};
  std::mutex publish_mu_;
  mutable std::mutex status_mu_;
  absl::Status last_ = absl::UnavailableError("not checked yet");
  bool first_ = true;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

bool SignalPending(const sigset_t& signals) {
  timespec zero{0, 0};
  sigset_t copy = signals;
  return sigtimedwait(&copy, nullptr, &zero) > 0;
}

}  // namespace

ConfigSchema BaseServiceSchema(const ServiceSpec& spec) {
  ConfigSchema schema;
  schema.Add("server.grpc_listen", ConfigType::kString, spec.default_grpc_listen,
             "gRPC listen address host:port")
      .Add("server.metrics_listen", ConfigType::kString, spec.default_metrics_listen,
           "admin HTTP address for /metrics, /healthz, /readyz")
      .Add("server.worker_threads", ConfigType::kInt, "8",
           "threads for blocking work (database, Redis)")
      .Add("server.worker_queue", ConfigType::kInt, "1024",
           "queued requests beyond which calls get RESOURCE_EXHAUSTED")
      .Add("server.shutdown_grace", ConfigType::kDuration, "10s",
           "time given to in-flight calls on SIGTERM before they are cancelled")
      .Add("server.max_message_bytes", ConfigType::kInt, "8388608",
           "largest gRPC message accepted")
      .Add("log.level", ConfigType::kString, "info", "debug, info, warn or error")
      .Add("health.check_interval", ConfigType::kDuration, "1s",
           "how often PostgreSQL and Redis are probed for grpc.health.v1")
      .Add("calendar.file", ConfigType::kString, "",
           "optional file of further working-day calendar years (same format as regctl calendar load)")
      .Add("calendar.warn_days", ConfigType::kInt, "60",
           "warn at start-up when the calendar's data ends within this many days (next year's "
           "holidays not loaded yet)")
      .Add("outbox.batch_size", ConfigType::kInt, "64", "outbox rows delivered per pass")
      .Add("outbox.poll_interval", ConfigType::kDuration, "200ms",
           "pause between outbox passes when idle")
      .Add("outbox.call_timeout", ConfigType::kDuration, "5s", "deadline of each delivery call")
      .Add("outbox.batch_delivery", ConfigType::kBool, "true",
           "rows of one pass for the same receiver go as one DeliverEvents call")
      .Add("outbox.max_backoff", ConfigType::kDuration, "60s",
           "longest wait before retrying a failed delivery")
      .Add("clock.test_offset_file", ConfigType::kString, "",
           "TEST ONLY: file holding seconds added to the service clock (end-to-end tests move "
           "time across statutory deadlines); refused unless clock.allow_test_offset is true")
      .Add("clock.allow_test_offset", ConfigType::kBool, "false",
           "TEST ONLY: permits clock.test_offset_file; never set in production");
  AddPgConfigKeys(schema);
  AddRedisConfigKeys(schema);
  // The gateway does not call itself.
  if (spec.name != "gateway") AddGatewayClientConfigKeys(schema, spec.name);
  if (spec.add_config_keys) spec.add_config_keys(schema);
  return schema;
}

absl::StatusOr<std::vector<MigrationSet>> ServiceMigrationSets(
    absl::string_view service, std::span<const EmbeddedFile> own_files) {
  std::vector<MigrationSet> sets;
  auto common = ParseMigrationSet("common", CommonMigrationFiles());
  if (!common.ok()) return common.status();
  sets.push_back(std::move(*common));
  auto own = ParseMigrationSet(std::string(service), own_files);
  if (!own.ok()) return own.status();
  sets.push_back(std::move(*own));
  return sets;
}

absl::StatusOr<std::shared_ptr<const WorkingDayCalendar>> LoadWorkingDayCalendar(
    PgPool& pg, absl::string_view extra_file) {
  WorkingDayCalendar::Builder builder;
  auto builtin = WorkingDayCalendar::Builtin();
  if (!builtin.ok()) return builtin.status();
  if (auto s = builder.AddCalendar(*builtin, "built-in"); !s.ok()) return s;

  auto loaded = pg.Transact([&](pqxx::work& txn) -> absl::Status {
    for (const auto& row : txn.exec(kSelectCalendarYears)) {
      if (auto s = builder.AddYear(row[0].as<int>()); !s.ok()) return s;
    }
    for (const auto& row : txn.exec(kSelectCalendarDays)) {
      auto day = ParseDate(row[0].as<std::string>());
      auto kind = ParseDayKind(row[1].as<std::string>());
      if (!day.ok()) return day.status();
      if (!kind.ok()) return kind.status();
      if (auto s = builder.AddOverride({*day, *kind, row[2].as<std::string>()}, "database");
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  });
  if (!loaded.ok()) return loaded;

  if (!extra_file.empty()) {
    FILE* f = std::fopen(std::string(extra_file).c_str(), "rb");
    if (f == nullptr) {
      return absl::NotFoundError(absl::StrCat("calendar.file: cannot read ", extra_file));
    }
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    if (auto s = builder.AddText(text, std::string(extra_file)); !s.ok()) return s;
  }
  auto calendar = builder.Build();
  if (!calendar.ok()) return calendar.status();
  return std::make_shared<const WorkingDayCalendar>(std::move(*calendar));
}

// Deadlines that run past the calendar's data are refused (never guessed): say so early, when
// the State Council's next-year holidays should be loaded (docs/operations.md §5).
static void WarnIfCalendarEndsSoon(const WorkingDayCalendar& calendar, const Clock& clock,
                                   int warn_days) {
  const absl::CivilDay today = clock.Today();
  const int ahead = calendar.DaysOfDataAhead(today);
  if (ahead >= warn_days) return;
  LogWarn("working-day calendar ends soon: load next year's holidays (regctl calendar load)",
          {{"days_ahead", absl::StrCat(ahead)},
           {"last_day", FormatDate(today + ahead)},
           {"procedure", "docs/operations.md section 5"}});
}

LogContext LogContextFromCall(const grpc::CallbackServerContext& ctx) {
  LogContext out;
  const auto& md = ctx.client_metadata();
  if (auto it = md.find("x-request-id"); it != md.end()) {
    out.request_id.assign(it->second.data(), it->second.size());
  }
  if (auto it = md.find("traceparent"); it != md.end()) {
    // traceparent = version-traceid-parentid-flags; the trace id is the second field.
    std::vector<absl::string_view> parts =
        absl::StrSplit(absl::string_view(it->second.data(), it->second.size()), '-');
    if (parts.size() == 4) out.trace_id = std::string(parts[1]);
  }
  return out;
}

int RunService(const ServiceSpec& spec, int argc, char** argv) {
  // Debian's Abseil is built with deadlock detection on: every absl::Mutex that gRPC creates
  // and destroys per call updates a global lock graph (about 7% of the gateway's CPU in
  // bench/gateway, 2-3% of credit's CheckSubject). It is a debugging aid; servers turn it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  ConfigSchema schema = BaseServiceSchema(spec);
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", schema.HelpText(spec.binary, spec.summary).c_str());
      return 0;
    }
    if (arg == "--config-reference") {
      std::printf("%s", schema.MarkdownReference().c_str());
      return 0;
    }
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (absl::StartsWith(arg, "--config=")) {
      config_path = std::string(arg.substr(9));
    } else {
      std::fprintf(stderr, "%s: unknown argument %s (try --help)\n", spec.binary.c_str(), argv[i]);
      return 2;
    }
  }
  auto config = Config::Load(schema, config_path, ProcessEnvironment());
  if (!config.ok()) {
    std::fprintf(stderr, "%s: configuration error: %s\n", spec.binary.c_str(),
                 std::string(config.status().message()).c_str());
    return 2;
  }
  auto level = ParseLogLevel(config->GetString("log.level"));
  if (!level.ok()) {
    std::fprintf(stderr, "%s: %s\n", spec.binary.c_str(), std::string(level.status().message()).c_str());
    return 2;
  }
  InitLogging(spec.name, *level);
  if (!config->GetString("clock.test_offset_file").empty() &&
      !config->GetBool("clock.allow_test_offset")) {
    std::fprintf(stderr,
                 "%s: configuration error: clock.test_offset_file is test-only; it needs "
                 "clock.allow_test_offset = true\n",
                 spec.binary.c_str());
    return 2;
  }

  // Every thread started from here on inherits the blocked mask; main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  LogInfo("starting", {{"config", config->Describe()}});
  PgPool pg(ReadPgOptions(*config, spec.name, spec.binary));

  auto sets = ServiceMigrationSets(spec.name, spec.migrations);
  auto calendar_set = ParseMigrationSet("calendar", CalendarMigrationFiles());
  if (!sets.ok() || !calendar_set.ok()) {
    LogError("bad migration files", {{"error", (!sets.ok() ? sets.status() : calendar_set.status()).ToString()}});
    return 1;
  }
  // PostgreSQL may still be starting (or restarting): keep trying until it answers.
  while (true) {
    absl::Status migrated = [&]() -> absl::Status {
      auto lease = pg.Acquire();
      if (!lease.ok()) return lease.status();
      auto calendar_report = ApplyMigrations(lease->conn(), "calendar", std::span(&*calendar_set, 1));
      if (!calendar_report.ok()) return calendar_report.status();
      auto report = ApplyMigrations(lease->conn(), spec.name, *sets);
      return report.status();
    }();
    if (migrated.ok()) break;
    if (migrated.code() == absl::StatusCode::kFailedPrecondition ||
        migrated.code() == absl::StatusCode::kInternal) {
      LogError("migration failed", {{"error", migrated.ToString()}});
      return 1;
    }
    LogWarn("waiting for PostgreSQL", {{"error", migrated.ToString()}});
    if (SignalPending(signals)) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }

  auto calendar = LoadWorkingDayCalendar(pg, config->GetString("calendar.file"));
  if (!calendar.ok()) {
    LogError("working-day calendar could not be loaded", {{"error", calendar.status().ToString()}});
    return 1;
  }

  RedisClient redis(ReadRedisOptions(*config));
  WorkerPool workers(static_cast<int>(config->GetInt("server.worker_threads")),
                     static_cast<int>(config->GetInt("server.worker_queue")));
  MetricsRegistry metrics;
  const std::string prefix = absl::StrCat("regsuite_", spec.name);
  metrics.Describe(prefix + "_pg_pool_connections", "gauge", "PostgreSQL pool connections by state");
  metrics.Describe(prefix + "_worker_queue_depth", "gauge", "requests waiting for a worker thread");
  metrics.AddCollector([&pg, &workers, prefix](MetricsRegistry& m) {
    PgPool::Stats s = pg.stats();
    m.SetGauge(prefix + "_pg_pool_connections", {{"state", "open"}}, s.size);
    m.SetGauge(prefix + "_pg_pool_connections", {{"state", "in_use"}}, s.in_use);
    m.SetGauge(prefix + "_pg_pool_connections", {{"state", "waiting"}}, s.waiting);
    m.SetGauge(prefix + "_worker_queue_depth", {}, workers.queued());
  });

  // Test-only time travel; requests are still signed with the real time.
  std::unique_ptr<Clock> offset_clock;
  if (const std::string file = config->GetString("clock.test_offset_file"); !file.empty()) {
    LogWarn("TEST ONLY: the service clock follows an offset file", {{"file", file}});
    offset_clock = std::make_unique<OffsetFileClock>(file);
  }
  const Clock& clock = offset_clock ? *offset_clock : SystemClock::Get();
  WarnIfCalendarEndsSoon(**calendar, clock, static_cast<int>(config->GetInt("calendar.warn_days")));
  metrics.Describe(prefix + "_calendar_days_ahead", "gauge",
                   "days of working-day calendar data ahead of today (deadlines past them fail)");
  metrics.AddCollector([calendar = *calendar, &clock, prefix](MetricsRegistry& m) {
    m.SetGauge(prefix + "_calendar_days_ahead", {}, calendar->DaysOfDataAhead(clock.Today()));
  });
  std::unique_ptr<GatewayClient> gateway =
      spec.name == "gateway" ? nullptr : GatewayClient::FromConfig(*config, SystemClock::Get());
  DependencyHealth health(pg, redis, config->GetDuration("health.check_interval"));
  health.Probe();
  ServiceContext context{*config,       pg,       redis, workers, metrics, clock,
                         *calendar,     gateway.get(), [&health] { return health.Readiness(); }};
  auto services = spec.make_services(context);
  if (!services.ok()) {
    LogError("service construction failed", {{"error", services.status().ToString()}});
    return 1;
  }
  std::unique_ptr<ServerExtension> extension;
  if (spec.make_extension) {
    auto made = spec.make_extension(context);
    if (!made.ok()) {
      LogError("server extension failed", {{"error", made.status().ToString()}});
      return 1;
    }
    extension = std::move(*made);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(config->GetString("server.grpc_listen"),
                           grpc::InsecureServerCredentials(), &bound_port);
  const int max_message = static_cast<int>(config->GetInt("server.max_message_bytes"));
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  for (auto& service : *services) builder.RegisterService(service.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeGrpcMetricsInterceptor(&metrics, prefix));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  if (extension) extension->ConfigureBuilder(builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    LogError("cannot listen", {{"address", config->GetString("server.grpc_listen")}});
    return 1;
  }

  health.Start(server->GetHealthCheckService(), spec.health_service_names);

  AdminHttpServer admin(&metrics, [&health] { return health.Readiness(); });
  absl::StatusOr<int> admin_port = 0;
  if (spec.admin_http) admin_port = admin.Start(config->GetString("server.metrics_listen"));
  if (!admin_port.ok()) {
    LogError("admin HTTP endpoint failed", {{"error", admin_port.status().ToString()}});
    return 1;
  }
  if (extension) {
    if (absl::Status started = extension->OnStarted(); !started.ok()) {
      LogError("server extension could not start", {{"error", started.ToString()}});
      server->Shutdown();
      return 1;
    }
  }

  std::unique_ptr<OutboxRelay> relay;
  if (gateway != nullptr) {
    OutboxRelayOptions relay_options;
    relay_options.batch_size = static_cast<int>(config->GetInt("outbox.batch_size"));
    relay_options.poll_interval = config->GetDuration("outbox.poll_interval");
    relay_options.call_timeout = config->GetDuration("outbox.call_timeout");
    relay_options.max_backoff = config->GetDuration("outbox.max_backoff");
    relay_options.batch_delivery = config->GetBool("outbox.batch_delivery");
    relay_options.decorate_call = [client = gateway.get()](grpc::ClientContext& ctx,
                                                           const std::string& method,
                                                           const std::string& payload) {
      client->Sign(ctx, method, payload);
    };
    relay = std::make_unique<OutboxRelay>(pg, gateway->channel(), relay_options);
    metrics.Describe(prefix + "_outbox_pending", "gauge", "outbox rows not yet acknowledged");
    metrics.Describe(prefix + "_outbox_oldest_pending_seconds", "gauge",
                     "age of the oldest undelivered outbox row (delivery lag)");
    metrics.Describe(prefix + "_outbox_delivered_total", "counter",
                     "outbox rows acknowledged by their receiver");
    metrics.Describe(prefix + "_outbox_failed_total", "counter",
                     "outbox delivery attempts that failed (retried with backoff)");
    metrics.Describe(prefix + "_outbox_batch_calls_total", "counter",
                     "DeliverEvents calls answered, each carrying several rows");
    metrics.AddCollector([r = relay.get(), prefix](MetricsRegistry& m) {
      m.SetCounter(prefix + "_outbox_delivered_total", {},
                   static_cast<double>(r->delivered_total()));
      m.SetCounter(prefix + "_outbox_failed_total", {}, static_cast<double>(r->failed_total()));
      m.SetCounter(prefix + "_outbox_batch_calls_total", {},
                   static_cast<double>(r->batch_calls_total()));
      auto backlog = r->Backlog();
      if (!backlog.ok()) return;
      m.SetGauge(prefix + "_outbox_pending", {}, static_cast<double>(backlog->pending));
      m.SetGauge(prefix + "_outbox_oldest_pending_seconds", {}, backlog->oldest_pending_seconds);
    });
    relay->Start();
  }

  LogInfo("serving", {{"grpc", absl::StrCat(bound_port)}, {"admin_http", absl::StrCat(*admin_port)}});

  int signal = 0;
  sigwait(&signals, &signal);
  LogInfo("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  health.Drain();
  if (extension) extension->OnDraining();
  server->Shutdown(absl::ToChronoTime(absl::Now() + config->GetDuration("server.shutdown_grace")));
  workers.Shutdown();
  if (extension) extension->OnStopped();
  if (relay) relay->Stop();
  health.Stop();
  admin.Stop();
  LogInfo("stopped");
  return 0;
}

}  // namespace regsuite::common
