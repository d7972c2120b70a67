#include "change_feed.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/status.h"

namespace regsuite::exchange {
namespace {

// Serialises appends (see the class comment); the key is "exchange.changes" as a number.
constexpr char kLockAppend[] = "SELECT pg_advisory_xact_lock(7105001)";
constexpr char kInsertChange[] =
    "INSERT INTO changes (entity_type, entity_id, operation, payload, payload_type, occurred_at, "
    "source_event_id) VALUES ($1, $2, $3, $4::jsonb, $5, to_timestamp($6::double precision), $7) "
    "RETURNING cursor";
constexpr char kSelectColumns[] =
    "SELECT cursor, entity_type, entity_id, operation, payload::text, payload_type, "
    "(extract(epoch from occurred_at) * 1000000)::bigint, source_event_id FROM changes ";
constexpr char kWhereAfter[] =
    "WHERE cursor > $1 AND (cardinality($3::int[]) = 0 OR entity_type = ANY($3::int[])) "
    "ORDER BY cursor LIMIT $2";
constexpr char kWhereRange[] = "WHERE cursor BETWEEN $1 AND $2 ORDER BY cursor";
constexpr char kCountAfter[] = "SELECT count(*) FROM changes WHERE cursor > $1";

std::vector<v1::Change> ToChanges(const pqxx::result& rows) {
  std::vector<v1::Change> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    v1::Change c;
    c.set_cursor(FormatCursor(row[0].as<int64_t>()));
    c.set_entity_type(static_cast<v1::EntityType>(row[1].as<int>()));
    c.set_entity_id(row[2].c_str());
    c.set_operation(static_cast<v1::ChangeOperation>(row[3].as<int>()));
    (void)google::protobuf::util::JsonStringToMessage(row[4].c_str(), c.mutable_payload());
    c.set_payload_type(row[5].c_str());
    const int64_t micros = row[6].as<int64_t>();
    c.mutable_occurred_at()->set_seconds(micros / 1000000);
    c.mutable_occurred_at()->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
    c.set_source_event_id(row[7].c_str());
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

int64_t CursorOf(const v1::Change& change) {
  auto cursor = ParseCursor(change.cursor());
  return cursor.ok() ? *cursor : 0;
}

absl::StatusOr<int64_t> ChangeFeed::Append(pqxx::work& txn, const FeedEntry& entry) {
  common::ExecPrepared(txn, kLockAppend);
  pqxx::result r = common::ExecPrepared(
      txn, kInsertChange, static_cast<int>(entry.entity_type), entry.entity_id,
      static_cast<int>(entry.operation), entry.payload_json, entry.payload_type,
      absl::ToDoubleSeconds(entry.occurred_at - absl::UnixEpoch()), entry.source_event_id);
  return r[0][0].as<int64_t>();
}

std::vector<v1::Change> ChangeFeed::After(pqxx::work& txn, int64_t after, int limit,
                                          const std::vector<int>& entity_types) {
  const std::string types = absl::StrCat("{", absl::StrJoin(entity_types, ","), "}");
  return ToChanges(txn.exec_params(absl::StrCat(kSelectColumns, kWhereAfter), after, limit, types));
}

std::vector<v1::Change> ChangeFeed::Range(pqxx::work& txn, int64_t first, int64_t last) {
  return ToChanges(txn.exec_params(absl::StrCat(kSelectColumns, kWhereRange), first, last));
}

int64_t ChangeFeed::CountAfter(pqxx::work& txn, int64_t after) {
  return txn.exec_params(kCountAfter, after)[0][0].as<int64_t>();
}

absl::StatusOr<v1::ListChangesResponse> ChangeFeed::List(common::PgPool& pg,
                                                         const v1::ListChangesRequest& request) {
  auto after = ParseCursor(request.cursor());
  if (!after.ok()) return after.status();
  auto limit = EffectiveLimit(request.limit());
  if (!limit.ok()) return limit.status();
  std::vector<int> types;
  for (int t : request.entity_types()) {
    if (!v1::EntityType_IsValid(t) || t == v1::ENTITY_TYPE_UNSPECIFIED)
      return common::FieldError("entity_types", "must be known entity types");
    types.push_back(t);
  }
  return pg.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::ListChangesResponse> {
    std::vector<v1::Change> changes = After(txn, *after, *limit + 1, types);
    v1::ListChangesResponse response;
    response.set_has_more(static_cast<int>(changes.size()) > *limit);
    if (response.has_more()) changes.pop_back();
    for (auto& c : changes) *response.add_changes() = std::move(c);
    response.set_next_cursor(response.changes().empty() ? request.cursor()
                                                        : response.changes().rbegin()->cursor());
    return response;
  });
}

}  // namespace regsuite::exchange
