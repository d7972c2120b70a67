#include "subject_cache.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/log.h"

namespace regsuite::credit {
namespace {

// KEYS[1] key; ARGV[1] version; ARGV[2] serialized status; ARGV[3] ttl ms. Stores unless the
// stored version is newer, or equal and already a full value.
constexpr char kFillScript[] = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur then
  local p = string.find(cur, ':', 1, true)
  if p then
    local v = tonumber(string.sub(cur, 1, p - 1))
    local n = tonumber(ARGV[1])
    if v and (v > n or (v == n and p < #cur)) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
)lua";

// KEYS[1] key; ARGV[1] new version; ARGV[2] ttl ms. Leaves a tombstone unless a newer
// version is already stored.
constexpr char kInvalidateScript[] = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur then
  local p = string.find(cur, ':', 1, true)
  if p then
    local v = tonumber(string.sub(cur, 1, p - 1))
    if v and v > tonumber(ARGV[1]) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':', 'PX', ARGV[2])
return 1
)lua";

}  // namespace

SubjectCache::SubjectCache(common::RedisClient& redis, absl::Duration ttl)
    : redis_(redis), ttl_(ttl), fill_script_(kFillScript), invalidate_script_(kInvalidateScript) {}

std::string SubjectCache::Key(absl::string_view uscc) {
  return absl::StrCat("credit:subject:", uscc);
}

absl::StatusOr<std::vector<std::optional<v1::SubjectStatus>>> SubjectCache::GetMany(
    const std::vector<std::string>& usccs, absl::CivilDay today) {
  if (has_pending_.load()) {
    absl::Status replayed = ReplayPending();
    if (!replayed.ok()) return replayed;
  }
  std::vector<std::string> command;
  command.reserve(usccs.size() + 1);
  command.push_back("MGET");
  for (const auto& u : usccs) command.push_back(Key(u));
  auto reply = redis_.Command(command);
  if (!reply.ok()) return reply.status();
  if (reply->type != common::RedisValue::Type::kArray || reply->elements.size() != usccs.size()) {
    return absl::UnavailableError("redis: unexpected MGET reply");
  }
  // An entry computed on another day is stale (measures and listings change at midnight):
  // today's bounds once per batch, not a time-zone conversion per entry.
  const absl::TimeZone tz = common::BureauTimeZone();
  const int64_t day_start = absl::ToUnixSeconds(absl::FromCivil(today, tz));
  const int64_t day_end = absl::ToUnixSeconds(absl::FromCivil(today + 1, tz));
  std::vector<std::optional<v1::SubjectStatus>> out(usccs.size());
  for (size_t i = 0; i < usccs.size(); ++i) {
    const auto& value = reply->elements[i];
    if (value.type != common::RedisValue::Type::kString) continue;
    const size_t colon = value.str.find(':');
    if (colon == std::string::npos || colon + 1 == value.str.size()) continue;  // tombstone
    v1::SubjectStatus status;
    if (!status.ParseFromArray(value.str.data() + colon + 1,
                               static_cast<int>(value.str.size() - colon - 1))) {
      continue;
    }
    if (status.as_of().seconds() < day_start || status.as_of().seconds() >= day_end) continue;
    out[i] = std::move(status);
  }
  return out;
}

void SubjectCache::FillMany(
    const std::vector<std::pair<int64_t, const v1::SubjectStatus*>>& entries) {
  if (entries.empty()) return;
  const std::string ttl_ms = absl::StrCat(absl::ToInt64Milliseconds(ttl_));
  std::vector<std::vector<std::string>> commands;
  commands.reserve(entries.size());
  for (const auto& [version, status] : entries) {
    commands.push_back({"EVALSHA", fill_script_.sha1(), "1", Key(status->uscc()),
                        absl::StrCat(version), status->SerializeAsString(), ttl_ms});
  }
  auto replies = redis_.Pipeline(commands);
  if (!replies.ok()) return;
  for (size_t i = 0; i < replies->size() && i < entries.size(); ++i) {
    const auto& r = (*replies)[i];
    if (r.type == common::RedisValue::Type::kError && r.str.rfind("NOSCRIPT", 0) == 0) {
      // First use on this Redis: Eval loads the script; the rest of the batch stays a miss.
      (void)redis_.Eval(fill_script_, {commands[i][3]},
                        {commands[i][4], commands[i][5], commands[i][6]});
      break;
    }
  }
}

void SubjectCache::Invalidate(const std::vector<std::pair<std::string, int64_t>>& subjects) {
  const std::string ttl_ms = absl::StrCat(absl::ToInt64Milliseconds(ttl_));
  for (const auto& [uscc, version] : subjects) {
    auto reply = redis_.Eval(invalidate_script_, {Key(uscc)}, {absl::StrCat(version), ttl_ms});
    if (!reply.ok() || reply->type == common::RedisValue::Type::kError) {
      std::lock_guard<std::mutex> lock(mu_);
      int64_t& pending = pending_[uscc];
      pending = std::max(pending, version);
      has_pending_.store(true);
      common::LogWarn(
          "credit cache invalidation deferred",
          {{"uscc", uscc}, {"error", reply.ok() ? reply->str : reply.status().ToString()}});
    }
  }
}

absl::Status SubjectCache::ReplayPending() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string ttl_ms = absl::StrCat(absl::ToInt64Milliseconds(ttl_));
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto reply =
        redis_.Eval(invalidate_script_, {Key(it->first)}, {absl::StrCat(it->second), ttl_ms});
    if (!reply.ok() || reply->type == common::RedisValue::Type::kError) {
      return absl::UnavailableError("redis: deferred invalidations not yet replayed");
    }
    pending_.erase(it++);
  }
  has_pending_.store(false);
  return absl::OkStatus();
}

}  // namespace regsuite::credit
