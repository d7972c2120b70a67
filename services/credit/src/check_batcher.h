#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "regsuite/common/clock.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "subject_cache.h"

namespace regsuite::credit {

/// Serves single CheckSubject calls from the Redis cache without a worker thread or a
/// blocking call on gRPC's threads: calls queue their USCC, one thread takes everything
/// queued, reads it with one MGET (SubjectCache::GetMany) and answers each call. Under load
/// many calls share one round trip. A miss, a stale entry or Redis being down answers
/// nullopt: the caller then takes the PostgreSQL path on the worker pool. Read-your-writes
/// holds as for GetMany: a decision's invalidation is in Redis before the decision returns.
class CheckBatcher {
 public:
  using Done = std::function<void(std::optional<v1::SubjectStatus>)>;

  CheckBatcher(SubjectCache& cache, const common::Clock& clock);
  ~CheckBatcher();  // answers what is queued, then stops
  CheckBatcher(const CheckBatcher&) = delete;
  CheckBatcher& operator=(const CheckBatcher&) = delete;

  /// `done` runs on the batcher's thread; it must not block.
  void Lookup(std::string uscc, Done done);

 private:
  void Run();

  SubjectCache& cache_;
  const common::Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, Done>> queue_;  // guarded by mu_
  bool stopping_ = false;                             // guarded by mu_
  bool sleeping_ = false;  // guarded by mu_: the thread waits on cv_ (only then is it woken)
  std::thread thread_;
};

}  // namespace regsuite::credit
