#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "regsuite/credit/v1/credit.pb.h"

namespace regsuite::credit {

/// The in-process (L1) cache of CheckSubject answers in front of the Redis SubjectCache, so a
/// hit is answered on gRPC's callback thread. An entry is valid on the day its status was
/// computed (`as_of` in the bureau time zone), like the Redis entries. The map is split in
/// shards, each under its own mutex held only for a hash lookup, and bounded: a shard that
/// reaches its share of `max_entries` is emptied before the next insert (amortised O(1), no
/// bookkeeping on hits; the subjects it held are read from Redis again).
///
/// Fill guard: every shard counts the invalidations applied to it. A filler takes Ticket()
/// before it reads Redis or PostgreSQL and Put() drops the value when an Erase() or a
/// SetEnabled() happened in that shard since, so a value read before an invalidation is
/// never stored after it.
///
/// While disabled (the invalidation subscriber is not subscribed) every Get() misses and
/// every Put() is dropped. A new cache starts disabled.
class LocalCache {
 public:
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t entries = 0;
  };

  explicit LocalCache(size_t max_entries);
  LocalCache(const LocalCache&) = delete;
  LocalCache& operator=(const LocalCache&) = delete;

  /// The status cached for `uscc` if it was computed on `today`, else nullptr (counted as a
  /// miss, like a disabled cache).
  std::shared_ptr<const v1::SubjectStatus> Get(absl::string_view uscc, absl::CivilDay today);

  /// Read before the Redis/PostgreSQL read whose result is to be Put().
  uint64_t Ticket(absl::string_view uscc) const;

  /// Stores `status` (keyed by its uscc) unless the shard saw an invalidation since `ticket`
  /// or the cache is disabled. True when stored.
  bool Put(uint64_t ticket, v1::SubjectStatus status);

  /// Removes the subjects' entries and voids the tickets of their shards.
  void Erase(const std::vector<std::string>& usccs);

  /// Disabling empties the cache; enabling starts from empty too. Both void every ticket.
  void SetEnabled(bool enabled);
  bool enabled() const { return enabled_.load(std::memory_order_acquire); }

  Stats stats() const;
  size_t max_entries() const { return max_entries_; }

 private:
  struct Entry {
    absl::CivilDay day;
    std::shared_ptr<const v1::SubjectStatus> status;
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    absl::flat_hash_map<std::string, Entry> map;  // guarded by mu
    std::atomic<uint64_t> sequence{0};            // changed under mu
    std::atomic<uint64_t> hits{0};
    std::atomic<uint64_t> misses{0};
    std::atomic<uint64_t> size{0};  // map.size(), for stats without the lock
  };
  Shard& ShardOf(absl::string_view uscc) const;
  static void ClearLocked(Shard& shard);

  const size_t max_entries_;
  const size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<bool> enabled_{false};
};

}  // namespace regsuite::credit
