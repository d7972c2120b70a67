#include "check_batcher.h"

namespace regsuite::credit {
namespace {
// Yields before the batcher sleeps (see Run).
constexpr int kSpins = 50;
}  // namespace

CheckBatcher::CheckBatcher(SubjectCache& cache, const common::Clock& clock)
    : cache_(cache), clock_(clock), thread_([this] { Run(); }) {}

CheckBatcher::~CheckBatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void CheckBatcher::Lookup(std::string uscc, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.emplace_back(std::move(uscc), std::move(done));
      // A busy batcher takes the queue when its round trip ends: waking it would only cost a
      // futex call and a context switch per check.
      if (sleeping_) cv_.notify_one();
      return;
    }
  }
  done(std::nullopt);
}

void CheckBatcher::Run() {
  std::vector<std::pair<std::string, Done>> batch;
  std::vector<std::string> usccs;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (queue_.empty() && !stopping_) {
        // Under load the next checks arrive within microseconds: look again a few times
        // before going to sleep (a sleep costs a wake-up and two context switches).
        for (int spin = 0; spin < kSpins && queue_.empty() && !stopping_; ++spin) {
          lock.unlock();
          std::this_thread::yield();
          lock.lock();
        }
        sleeping_ = true;
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        sleeping_ = false;
      }
      if (queue_.empty()) return;  // stopping, nothing left to answer
      batch.swap(queue_);
    }
    usccs.clear();
    for (const auto& entry : batch) usccs.push_back(entry.first);
    auto found = cache_.GetMany(usccs, clock_.Today());
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].second(found.ok() ? std::move((*found)[i]) : std::nullopt);
    }
    batch.clear();
  }
}

}  // namespace regsuite::credit
