#pragma once

#include "absl/strings/string_view.h"
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace regsuite::common {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// Prometheus metrics (counters, gauges, histograms with labels) rendered as text format.
/// Metric names carry the service prefix (`regsuite_credit_...`) chosen by the caller.
class MetricsRegistry {
 public:
  MetricsRegistry();

  void IncCounter(absl::string_view name, const MetricLabels& labels, double delta = 1);
  void SetGauge(absl::string_view name, const MetricLabels& labels, double value);
  /// A counter kept elsewhere (e.g. in atomics), copied in by a collector.
  void SetCounter(absl::string_view name, const MetricLabels& labels, double value);
  /// A histogram kept elsewhere: `buckets` per bound() (not cumulative), count, sum.
  void SetHistogram(absl::string_view name, const MetricLabels& labels,
                    const std::vector<uint64_t>& buckets, uint64_t count, double sum);
  /// The histogram bucket upper bounds (seconds).
  const std::vector<double>& bounds() const { return bounds_; }
  void Observe(absl::string_view name, const MetricLabels& labels, double value);
  void Describe(absl::string_view name, absl::string_view type, absl::string_view help);
  /// Called at the start of every render, to refresh gauges (pool sizes, outbox lag).
  void AddCollector(std::function<void(MetricsRegistry&)> collector);

  std::string RenderText();

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    absl::flat_hash_map<std::string, double> values;         // label text → value
    absl::flat_hash_map<std::string, Histogram> histograms;  // label text → histogram
  };
  Family& FamilyLocked(absl::string_view name, absl::string_view type);

  const std::vector<double> bounds_;
  std::mutex mu_;
  std::vector<std::string> order_;
  absl::flat_hash_map<std::string, Family> families_;
  std::vector<std::function<void(MetricsRegistry&)>> collectors_;
};

/// Counts every gRPC call by method and code and records its latency
/// (`<prefix>_grpc_requests_total`, `<prefix>_grpc_request_duration_seconds`).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcMetricsInterceptor(
    MetricsRegistry* registry, std::string prefix);

/// A small HTTP/1.1 endpoint for operators: GET /metrics, /healthz (process alive) and
/// /readyz (dependencies reachable). One thread; not for public traffic.
class AdminHttpServer {
 public:
  AdminHttpServer(MetricsRegistry* registry, std::function<absl::Status()> readiness);
  ~AdminHttpServer();
  /// Binds `host:port` (port 0 picks a free one). Returns the bound port.
  absl::StatusOr<int> Start(absl::string_view listen);
  void Stop();

 private:
  void Serve();
  void Handle(int fd);

  MetricsRegistry* registry_;
  std::function<absl::Status()> readiness_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace regsuite::common
