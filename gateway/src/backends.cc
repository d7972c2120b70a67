#include "backends.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "regsuite/common/log.h"

namespace regsuite::gateway {

Backend::Backend(std::string name, const std::vector<std::string>& addresses)
    : name_(std::move(name)) {
  for (const auto& address : addresses) {
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->address = address;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 16 * 1024 * 1024);
    // Separate channels per endpoint keep their own HTTP/2 connection.
    args.SetString("regsuite.endpoint", address);
    endpoint->channel =
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    endpoints_.push_back(std::move(endpoint));
  }
}

Endpoint* Backend::Pick() {
  const size_t n = endpoints_.size();
  const uint64_t start = next_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    Endpoint* e = endpoints_[(start + i) % n].get();
    if (e->healthy.load(std::memory_order_relaxed)) return e;
  }
  return endpoints_[start % n].get();
}

absl::StatusOr<std::unique_ptr<BackendPool>> BackendPool::Create(
    const std::map<std::string, std::string>& backends) {
  std::unique_ptr<BackendPool> pool(new BackendPool());
  for (const auto& [name, list] : backends) {
    std::vector<std::string> addresses;
    for (absl::string_view a : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      a = absl::StripAsciiWhitespace(a);
      if (a.find(':') == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("backends.", name, ": \"", a, "\" is not host:port"));
      }
      addresses.emplace_back(a);
    }
    if (addresses.empty()) continue;
    pool->backends_[name] = std::make_unique<Backend>(name, addresses);
  }
  return pool;
}

BackendPool::~BackendPool() { Stop(); }

Backend* BackendPool::Route(absl::string_view grpc_method) {
  // "/regsuite.<name>.v1.Service/Method"
  absl::string_view m = absl::StripPrefix(grpc_method, "/");
  if (!absl::ConsumePrefix(&m, "regsuite.")) return nullptr;
  absl::string_view name = m.substr(0, m.find('.'));
  auto it = backends_.find(name);
  return it == backends_.end() ? nullptr : it->second.get();
}

void BackendPool::CheckAll() {
  for (auto& [name, backend] : backends_) {
    for (auto& e : backend->endpoints()) {
      auto stub = grpc::health::v1::Health::NewStub(e->channel);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      const bool serving = stub->Check(&ctx, request, &response).ok() &&
                           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
      if (serving != e->healthy.exchange(serving)) {
        common::LogInfo(serving ? "backend endpoint back in rotation"
                                : "backend endpoint out of rotation (health check failed)",
                        {{"backend", name}, {"endpoint", e->address}});
      }
    }
  }
}

void BackendPool::StartHealthChecks(absl::Duration interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      CheckAll();
      lock.lock();
      cv_.wait_for(lock, absl::ToChronoMilliseconds(interval), [this] { return stopping_; });
    }
  });
}

void BackendPool::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace regsuite::gateway
