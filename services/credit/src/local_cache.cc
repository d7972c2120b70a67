#include "local_cache.h"

#include <algorithm>
#include <functional>
#include <string_view>

#include "absl/time/time.h"
#include "regsuite/common/clock.h"

namespace regsuite::credit {
namespace {
// Enough that gRPC's callback threads rarely meet on one mutex.
constexpr size_t kShards = 64;
}  // namespace

LocalCache::LocalCache(size_t max_entries)
    : max_entries_(std::max<size_t>(max_entries, 1)),
      shard_capacity_(max_entries_ / std::min(kShards, max_entries_)) {
  shards_.resize(std::min(kShards, max_entries_));
  for (auto& shard : shards_) shard = std::make_unique<Shard>();
}

LocalCache::Shard& LocalCache::ShardOf(absl::string_view uscc) const {
  // Not absl::Hash: the map inside the shard uses it, and its low bits would then be equal
  // for every key of a shard.
  return *shards_[std::hash<std::string_view>()(std::string_view(uscc.data(), uscc.size())) %
                  shards_.size()];
}

std::shared_ptr<const v1::SubjectStatus> LocalCache::Get(absl::string_view uscc,
                                                         absl::CivilDay today) {
  Shard& shard = ShardOf(uscc);
  std::shared_ptr<const v1::SubjectStatus> found;
  if (enabled()) {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.map.find(uscc);
    if (it != shard.map.end() && it->second.day == today) found = it->second.status;
  }
  (found ? shard.hits : shard.misses).fetch_add(1, std::memory_order_relaxed);
  return found;
}

uint64_t LocalCache::Ticket(absl::string_view uscc) const {
  return ShardOf(uscc).sequence.load(std::memory_order_acquire);
}

bool LocalCache::Put(uint64_t ticket, v1::SubjectStatus status) {
  const absl::CivilDay day =
      absl::ToCivilDay(absl::FromUnixSeconds(status.as_of().seconds()), common::BureauTimeZone());
  std::string uscc = status.uscc();
  Shard& shard = ShardOf(uscc);
  Entry entry{day, std::make_shared<const v1::SubjectStatus>(std::move(status))};
  std::lock_guard<std::mutex> lock(shard.mu);
  if (!enabled() || shard.sequence.load(std::memory_order_relaxed) != ticket) return false;
  if (shard.map.size() >= shard_capacity_ && !shard.map.contains(uscc)) ClearLocked(shard);
  shard.map.insert_or_assign(std::move(uscc), std::move(entry));
  shard.size.store(shard.map.size(), std::memory_order_relaxed);
  return true;
}

void LocalCache::Erase(const std::vector<std::string>& usccs) {
  for (const auto& uscc : usccs) {
    Shard& shard = ShardOf(uscc);
    std::lock_guard<std::mutex> lock(shard.mu);
    shard.sequence.fetch_add(1, std::memory_order_release);
    shard.map.erase(uscc);
    shard.size.store(shard.map.size(), std::memory_order_relaxed);
  }
}

void LocalCache::SetEnabled(bool enabled) {
  // Disabled first, so no Get() serves an entry while the shards are being emptied.
  if (!enabled) enabled_.store(false, std::memory_order_release);
  for (auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu);
    shard->sequence.fetch_add(1, std::memory_order_release);
    ClearLocked(*shard);
  }
  if (enabled) enabled_.store(true, std::memory_order_release);
}

void LocalCache::ClearLocked(Shard& shard) {
  shard.map.clear();
  shard.size.store(0, std::memory_order_relaxed);
}

LocalCache::Stats LocalCache::stats() const {
  Stats s;
  for (const auto& shard : shards_) {
    s.hits += shard->hits.load(std::memory_order_relaxed);
    s.misses += shard->misses.load(std::memory_order_relaxed);
    s.entries += shard->size.load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace regsuite::credit
