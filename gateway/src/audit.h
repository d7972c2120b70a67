#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "regsuite/common/pg.h"

namespace regsuite::gateway {

enum class AuditHash { kSha256, kSm3 };

/// One call through the gateway.
struct AuditRecord {
  absl::Time at;
  std::string client;  // app key, "anonymous", or "-" when authentication failed
  std::string method;
  std::string route;
  std::string target_uscc;
  int status_code = 0;
  int64_t latency_us = 0;
  int64_t request_bytes = 0;
  int64_t response_bytes = 0;
  std::string request_id;
  std::string peer;
  // gRPC calls: the request bytes, parsed off the hot path to find a `uscc` field.
  std::string request_body;
};

/// The canonical text of a row that its hash covers (also what `regctl audit verify` rebuilds).
std::string CanonicalAuditRow(int64_t id, int64_t at_unix_micros, const AuditRecord& r);
/// hex(H(prev_hash || "\n" || canonical)).
std::string ChainHash(AuditHash algorithm, absl::string_view prev_hash, absl::string_view canonical);

/// Appends call records to PostgreSQL off the hot path: a bounded queue drained by a writer
/// thread in batches (COPY), each row hash-chained to the previous one under a lock on the
/// chain head, so several gateways append in turn. When the queue is full, TryAppend refuses
/// and the gateway sheds the call with UNAVAILABLE rather than lose audit rows silently.
class AuditLog {
 public:
  AuditLog(common::PgPool& pool, AuditHash algorithm, size_t capacity);
  ~AuditLog();

  bool HasRoom() const;
  bool TryAppend(AuditRecord record);
  void Start(absl::Duration flush_interval);
  /// Flushes what is queued, then stops.
  void Stop();
  size_t depth() const;
  int64_t written() const;

 private:
  absl::Status WriteBatch(std::vector<AuditRecord>& batch);
  void Loop(absl::Duration flush_interval);

  common::PgPool& pool_;
  const AuditHash algorithm_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<AuditRecord> queue_;
  size_t in_flight_ = 0;  // records taken by the writer, still counted against the capacity
  bool stopping_ = false;
  int64_t written_ = 0;
  std::thread thread_;
};

struct ChainVerification {
  bool ok = true;
  int64_t rows_checked = 0;
  int64_t first_bad_row_id = 0;
  std::string reason;
};

/// Walks the chain from the first row; names the first row whose hash does not match.
absl::StatusOr<ChainVerification> VerifyAuditChain(common::PgPool& pool);

}  // namespace regsuite::gateway
