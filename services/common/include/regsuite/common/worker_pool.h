#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace regsuite::common {

/// A bounded pool of threads for blocking work (libpqxx, hiredis) so that gRPC's callback
/// threads never block. TrySubmit refuses work when the queue is full: the caller answers
/// RESOURCE_EXHAUSTED instead of queueing without limit.
class WorkerPool {
 public:
  WorkerPool(int threads, int max_queue);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  bool TrySubmit(std::function<void()> task);
  /// Runs every queued task, then joins the threads. Later submissions are refused.
  void Shutdown();

  int queued() const;
  int busy() const;

 private:
  void Run();

  const int max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace regsuite::common
