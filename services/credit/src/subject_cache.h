#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "regsuite/common/redis.h"
#include "regsuite/credit/v1/credit.pb.h"

namespace regsuite::credit {

/// The Redis cache of CheckSubject answers: one key per subject, `credit:subject:<uscc>`,
/// holding `<version>:<serialized SubjectStatus>`; `<version>:` alone is a tombstone left by an
/// invalidation. Both writes go through Lua scripts that never replace a newer version, so a
/// filler that read PostgreSQL before a change committed cannot store the old state after the
/// change invalidated the key. Redis failures never fail a check: the caller reads PostgreSQL.
class SubjectCache {
 public:
  SubjectCache(common::RedisClient& redis, absl::Duration ttl);

  static std::string Key(absl::string_view uscc);

  /// One MGET for all keys. An entry is nullopt on a miss, a tombstone, an undecodable value
  /// or a value computed on another day than `today` (dates move tiers). UNAVAILABLE when
  /// Redis is unreachable or invalidations that failed earlier could not be replayed.
  absl::StatusOr<std::vector<std::optional<v1::SubjectStatus>>> GetMany(
      const std::vector<std::string>& usccs, absl::CivilDay today);

  /// Stores freshly computed statuses (one pipelined round trip); best effort.
  void FillMany(const std::vector<std::pair<int64_t, const v1::SubjectStatus*>>& entries);

  /// Replaces the subjects' entries by tombstones of their new versions; called after the
  /// transaction that changed them committed. On failure the invalidation is kept and
  /// replayed before the next read is served from the cache.
  void Invalidate(const std::vector<std::pair<std::string, int64_t>>& subjects);

 private:
  absl::Status ReplayPending();

  common::RedisClient& redis_;
  const absl::Duration ttl_;
  const common::RedisScript fill_script_;
  const common::RedisScript invalidate_script_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, int64_t> pending_;  // guarded by mu_
  std::atomic<bool> has_pending_{false};
};

}  // namespace regsuite::credit
