#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace regsuite::gateway {

/// One address of a backend with its pooled HTTP/2 channel.
struct Endpoint {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::atomic<bool> healthy{true};
};

/// The endpoints serving one backend, picked round robin among the healthy ones.
class Backend {
 public:
  Backend(std::string name, const std::vector<std::string>& addresses);
  /// A healthy endpoint, or any endpoint when none is healthy (the call then fails fast).
  Endpoint* Pick();
  const std::string& name() const { return name_; }
  std::vector<std::unique_ptr<Endpoint>>& endpoints() { return endpoints_; }

 private:
  std::string name_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::atomic<uint64_t> next_{0};
};

/// Routes a gRPC method to its backend by package: regsuite.<name>.v1.* → backend <name>.
/// A health-check thread takes endpoints out while grpc.health.v1 does not say SERVING.
class BackendPool {
 public:
  /// `backends`: backend name → "host:port[,host:port...]".
  static absl::StatusOr<std::unique_ptr<BackendPool>> Create(
      const std::map<std::string, std::string>& backends);
  ~BackendPool();

  /// "/regsuite.credit.v1.CreditService/CheckSubject" → the credit backend, or nullptr.
  Backend* Route(absl::string_view grpc_method);

  void StartHealthChecks(absl::Duration interval);
  void Stop();

 private:
  BackendPool() = default;
  void CheckAll();

  std::map<std::string, std::unique_ptr<Backend>, std::less<>> backends_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace regsuite::gateway
