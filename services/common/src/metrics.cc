#include "regsuite/common/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "regsuite/common/log.h"

namespace regsuite::common {
namespace {

std::string LabelText(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", labels[i].first, "=\"");
    AppendJsonEscaped(&out, labels[i].second);  // same escaping rules as Prometheus
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string WithLabel(const std::string& labels, absl::string_view extra) {
  if (labels.empty()) return absl::StrCat("{", extra, "}");
  return absl::StrCat(labels.substr(0, labels.size() - 1), ",", extra, "}");
}

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// One method's call counts and latencies, updated with atomics: the interceptor runs on every
// call, so it takes no lock and builds no label text; a collector copies the values into the
// registry when /metrics is rendered.
struct MethodCallStats {
  MethodCallStats(std::string name, size_t bucket_count)
      : method(std::move(name)), buckets(bucket_count) {}

  void Record(int code, double seconds, const std::vector<double>& bounds) {
    by_code[static_cast<size_t>(code) < by_code.size() ? code : by_code.size() - 1].fetch_add(
        1, std::memory_order_relaxed);
    for (size_t i = 0; i < bounds.size(); ++i) {
      if (seconds <= bounds[i]) {
        buckets[i].fetch_add(1, std::memory_order_relaxed);
        break;  // cumulated when rendered
      }
    }
    count.fetch_add(1, std::memory_order_relaxed);
    sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  }

  const std::string method;
  std::array<std::atomic<uint64_t>, 17> by_code{};  // gRPC codes 0..16
  std::vector<std::atomic<uint64_t>> buckets;
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_ns{0};
};

// The methods seen so far. Lookups compare gRPC's method name pointers (stable for registered
// methods) without a lock; a new method is added under the mutex.
class MethodTable {
 public:
  explicit MethodTable(size_t bucket_count) : bucket_count_(bucket_count) {}

  MethodCallStats* Find(const char* method) {
    const size_t n = size_.load(std::memory_order_acquire);
    for (size_t i = 0; i < n; ++i) {
      if (keys_[i] == method) return stats_[i].get();
    }
    std::lock_guard lock(mu_);
    const size_t now = size_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < now; ++i) {
      if (std::strcmp(stats_[i]->method.c_str(), method) == 0) return stats_[i].get();
    }
    if (now == kCapacity) return &overflow_;
    stats_[now] = std::make_unique<MethodCallStats>(method, bucket_count_);
    keys_[now] = method;
    size_.store(now + 1, std::memory_order_release);
    return stats_[now].get();
  }

  template <typename Fn>
  void ForEach(Fn&& fn) {
    const size_t n = size_.load(std::memory_order_acquire);
    for (size_t i = 0; i < n; ++i) fn(*stats_[i]);
    fn(overflow_);
  }

 private:
  static constexpr size_t kCapacity = 512;
  const size_t bucket_count_;
  std::mutex mu_;
  std::atomic<size_t> size_{0};
  std::array<const char*, kCapacity> keys_{};
  std::array<std::unique_ptr<MethodCallStats>, kCapacity> stats_;
  MethodCallStats overflow_{"(other)", bucket_count_};
};

class GrpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  GrpcMetricsInterceptor(MethodCallStats* stats, const std::vector<double>* bounds)
      : stats_(stats), bounds_(bounds), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      stats_->Record(static_cast<int>(methods->GetSendStatus().error_code()), seconds, *bounds_);
    }
    methods->Proceed();
  }

 private:
  MethodCallStats* stats_;
  const std::vector<double>* bounds_;
  std::chrono::steady_clock::time_point start_;
};

class GrpcMetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  GrpcMetricsInterceptorFactory(MetricsRegistry* registry, const std::string& prefix)
      : bounds_(&registry->bounds()),
        table_(std::make_shared<MethodTable>(registry->bounds().size())) {
    const std::string requests = prefix + "_grpc_requests_total";
    const std::string duration = prefix + "_grpc_request_duration_seconds";
    registry->Describe(requests, "counter", "gRPC calls served, by method and status code");
    registry->Describe(duration, "histogram", "gRPC call latency, by method");
    registry->AddCollector([table = table_, requests, duration](MetricsRegistry& m) {
      table->ForEach([&](const MethodCallStats& s) {
        if (s.count.load(std::memory_order_relaxed) == 0) return;
        for (size_t code = 0; code < s.by_code.size(); ++code) {
          const uint64_t n = s.by_code[code].load(std::memory_order_relaxed);
          if (n > 0) {
            m.SetCounter(requests, {{"method", s.method}, {"code", std::to_string(code)}},
                         static_cast<double>(n));
          }
        }
        std::vector<uint64_t> buckets;
        for (const auto& b : s.buckets) buckets.push_back(b.load(std::memory_order_relaxed));
        m.SetHistogram(duration, {{"method", s.method}}, buckets,
                       s.count.load(std::memory_order_relaxed),
                       static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) / 1e9);
      });
    });
  }
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new GrpcMetricsInterceptor(table_->Find(info->method()), bounds_);
  }

 private:
  const std::vector<double>* bounds_;  // the registry's, which outlives the server
  std::shared_ptr<MethodTable> table_;  // shared with the collector
};

}  // namespace

MetricsRegistry::MetricsRegistry()
    : bounds_{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10} {}

MetricsRegistry::Family& MetricsRegistry::FamilyLocked(absl::string_view name,
                                                       absl::string_view type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    order_.emplace_back(name);
    it = families_.emplace(std::string(name), Family{std::string(type), "", {}, {}}).first;
  }
  return it->second;
}

void MetricsRegistry::Describe(absl::string_view name, absl::string_view type,
                               absl::string_view help) {
  std::lock_guard lock(mu_);
  Family& f = FamilyLocked(name, type);
  f.type = std::string(type);
  f.help = std::string(help);
}

void MetricsRegistry::IncCounter(absl::string_view name, const MetricLabels& labels,
                                 double delta) {
  std::string key = LabelText(labels);
  std::lock_guard lock(mu_);
  FamilyLocked(name, "counter").values[key] += delta;
}

void MetricsRegistry::SetGauge(absl::string_view name, const MetricLabels& labels, double value) {
  std::string key = LabelText(labels);
  std::lock_guard lock(mu_);
  FamilyLocked(name, "gauge").values[key] = value;
}

void MetricsRegistry::SetCounter(absl::string_view name, const MetricLabels& labels,
                                 double value) {
  std::string key = LabelText(labels);
  std::lock_guard lock(mu_);
  FamilyLocked(name, "counter").values[key] = value;
}

void MetricsRegistry::SetHistogram(absl::string_view name, const MetricLabels& labels,
                                   const std::vector<uint64_t>& buckets, uint64_t count,
                                   double sum) {
  std::string key = LabelText(labels);
  std::lock_guard lock(mu_);
  Histogram& h = FamilyLocked(name, "histogram").histograms[key];
  h.buckets.assign(bounds_.size(), 0);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size() && i < buckets.size(); ++i) {
    cumulative += buckets[i];
    h.buckets[i] = cumulative;
  }
  h.count = count;
  h.sum = sum;
}

void MetricsRegistry::Observe(absl::string_view name, const MetricLabels& labels, double value) {
  std::string key = LabelText(labels);
  std::lock_guard lock(mu_);
  Histogram& h = FamilyLocked(name, "histogram").histograms[key];
  if (h.buckets.empty()) h.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += value;
}

void MetricsRegistry::AddCollector(std::function<void(MetricsRegistry&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::RenderText() {
  std::vector<std::function<void(MetricsRegistry&)>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c(*this);

  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& name : order_) {
    const Family& f = families_.at(name);
    if (!f.help.empty()) absl::StrAppend(&out, "# HELP ", name, " ", f.help, "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", f.type, "\n");
    for (const auto& [labels, value] : f.values) {
      absl::StrAppend(&out, name, labels, " ", FormatDouble(value), "\n");
    }
    for (const auto& [labels, h] : f.histograms) {
      for (size_t i = 0; i < bounds_.size(); ++i) {
        absl::StrAppend(&out, name, "_bucket",
                        WithLabel(labels, absl::StrCat("le=\"", FormatDouble(bounds_[i]), "\"")),
                        " ", h.buckets[i], "\n");
      }
      absl::StrAppend(&out, name, "_bucket", WithLabel(labels, "le=\"+Inf\""), " ", h.count, "\n");
      absl::StrAppend(&out, name, "_sum", labels, " ", FormatDouble(h.sum), "\n");
      absl::StrAppend(&out, name, "_count", labels, " ", h.count, "\n");
    }
  }
  return out;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcMetricsInterceptor(
    MetricsRegistry* registry, std::string prefix) {
  return std::make_unique<GrpcMetricsInterceptorFactory>(registry, prefix);
}

AdminHttpServer::AdminHttpServer(MetricsRegistry* registry,
                                 std::function<absl::Status()> readiness)
    : registry_(registry), readiness_(std::move(readiness)) {}

AdminHttpServer::~AdminHttpServer() { Stop(); }

absl::StatusOr<int> AdminHttpServer::Start(absl::string_view listen) {
  std::vector<std::string> parts = absl::StrSplit(listen, absl::MaxSplits(':', 1));
  int port = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port)) {
    return absl::InvalidArgumentError(absl::StrCat("metrics listen address must be host:port, got ", listen));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, parts[0].c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("metrics listen host must be an IPv4 address, got ", parts[0]));
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    std::string err = std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, ": ", err));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  thread_ = std::thread([this] { Serve(); });
  return static_cast<int>(ntohs(addr.sin_port));
}

void AdminHttpServer::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void AdminHttpServer::Serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    Handle(fd);
    ::close(fd);
  }
}

void AdminHttpServer::Handle(int fd) {
  std::string request;
  char buf[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<size_t>(n));
  }
  absl::string_view line(request);
  line = line.substr(0, line.find("\r\n"));
  std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
  int code = 200;
  std::string type = "application/json";
  std::string body;
  if (words.size() < 2 || words[0] != "GET") {
    code = 405;
    body = R"({"error":{"code":405,"status":"METHOD_NOT_ALLOWED","message":"only GET is served here"}})";
  } else if (words[1] == "/metrics") {
    type = "text/plain; version=0.0.4";
    body = registry_->RenderText();
  } else if (words[1] == "/healthz") {
    body = R"({"status":"ok"})";
  } else if (words[1] == "/readyz") {
    absl::Status ready = readiness_ ? readiness_() : absl::OkStatus();
    if (ready.ok()) {
      body = R"({"status":"ready"})";
    } else {
      code = 503;
      body = R"({"error":{"code":503,"status":"UNAVAILABLE","message":")";
      AppendJsonEscaped(&body, ready.message());
      body += "\"}}";
    }
  } else {
    code = 404;
    body = R"({"error":{"code":404,"status":"NOT_FOUND","message":"unknown path"}})";
  }
  std::string response = absl::StrCat(
      "HTTP/1.1 ", code, code == 200 ? " OK" : " Error", "\r\nContent-Type: ", type,
      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
  size_t sent = 0;
  while (sent < response.size()) {
    ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace regsuite::common
