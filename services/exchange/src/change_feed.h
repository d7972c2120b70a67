#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <vector>

#include "absl/status/statusor.h"
#include "feed_mapping.h"
#include "regsuite/common/pg.h"
#include "regsuite/exchange/v1/exchange.pb.h"

namespace regsuite::exchange {

/// The change feed in the `exchange` schema: appended by DeliverEvent, read by ListChanges and
/// the pusher. Cursors are handed out under a transaction-scoped advisory lock, so they commit
/// in increasing order and a reader positioned at a cursor never misses a later commit.
class ChangeFeed {
 public:
  /// Appends `entry` inside the caller's (inbox) transaction; returns its cursor.
  static absl::StatusOr<int64_t> Append(pqxx::work& txn, const FeedEntry& entry);

  /// Entries after `after`, in cursor order, at most `limit`, optionally of some types only.
  static std::vector<v1::Change> After(pqxx::work& txn, int64_t after, int limit,
                                       const std::vector<int>& entity_types = {});
  /// Entries with first <= cursor <= last, in order (a batch being resent).
  static std::vector<v1::Change> Range(pqxx::work& txn, int64_t first, int64_t last);
  /// Number of entries after `after`.
  static int64_t CountAfter(pqxx::work& txn, int64_t after);

  /// ListChanges: validates cursor and limit (INVALID_ARGUMENT naming the field).
  static absl::StatusOr<v1::ListChangesResponse> List(common::PgPool& pg,
                                                      const v1::ListChangesRequest& request);
};

/// Cursor of a change as a number (the feed's own cursors always parse).
int64_t CursorOf(const v1::Change& change);

}  // namespace regsuite::exchange
