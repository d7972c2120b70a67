#include "regsuite/common/events.h"

#include <google/protobuf/util/time_util.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/log.h"
#include "regsuite/common/status.h"

namespace regsuite::common {

std::string DeliverEventMethod(absl::string_view service) {
  std::string type(service);
  if (!type.empty()) type[0] = absl::ascii_toupper(type[0]);
  return absl::StrCat("/regsuite.", service, ".v1.", type, "Service/DeliverEvent");
}

OutboxEvent MakeEnvelopeEvent(absl::string_view source_service, absl::string_view target_method,
                              absl::string_view aggregate_type, absl::string_view aggregate_id,
                              absl::string_view event_type,
                              const google::protobuf::Message& payload, absl::Time occurred_at,
                              absl::string_view event_id) {
  events::v1::EventEnvelope envelope;
  envelope.set_event_id(event_id.empty() ? NewUuid() : std::string(event_id));
  envelope.set_source_service(std::string(source_service));
  envelope.set_aggregate_type(std::string(aggregate_type));
  envelope.set_aggregate_id(std::string(aggregate_id));
  envelope.set_event_type(std::string(event_type));
  *envelope.mutable_occurred_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(occurred_at));
  envelope.set_payload_type(payload.GetDescriptor()->full_name());
  envelope.set_payload(payload.SerializeAsString());
  OutboxEvent event;
  event.event_id = envelope.event_id();
  event.aggregate_type = std::string(aggregate_type);
  event.aggregate_id = std::string(aggregate_id);
  event.event_type = std::string(event_type);
  event.target_method = std::string(target_method);
  event.payload = envelope.SerializeAsString();
  return event;
}

namespace {

// All the fresh ids of a batch claimed in one statement; the ids it returns are the fresh ones.
constexpr char kClaimInboxBatch[] =
    "INSERT INTO inbox (event_id, source_service, event_type)"
    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id::text";

absl::Status ValidateEnvelope(const events::v1::EventEnvelope& envelope) {
  if (!IsUuid(envelope.event_id())) return FieldError("event_id", "must be a UUID");
  if (envelope.event_type().empty()) return FieldError("event_type", "required");
  if (envelope.payload_type().empty()) return FieldError("payload_type", "required");
  return absl::OkStatus();
}

void SetResult(events::v1::EventResult& result, const absl::Status& status) {
  result.set_code(static_cast<int32_t>(status.code()));
  result.set_message(std::string(status.message()));
}

}  // namespace

absl::StatusOr<events::v1::EventAck> ApplyDeliveredEvent(PgPool& pool,
                                                         const events::v1::EventEnvelope& envelope,
                                                         const EventEffect& effect) {
  if (absl::Status s = ValidateEnvelope(envelope); !s.ok()) return s;
  return pool.Transact([&](pqxx::work& txn) -> absl::StatusOr<events::v1::EventAck> {
    auto fresh = ClaimInbox(txn, envelope.event_id(), envelope.source_service(),
                            envelope.event_type());
    if (!fresh.ok()) return fresh.status();
    if (*fresh) {
      if (absl::Status s = effect(txn, envelope); !s.ok()) return s;
    }
    events::v1::EventAck ack;
    ack.set_event_id(envelope.event_id());
    ack.set_duplicate(!*fresh);
    return ack;
  });
}

events::v1::EventBatchAck ApplyDeliveredEvents(PgPool& pool, const events::v1::EventBatch& batch,
                                               const EventEffect& effect) {
  events::v1::EventBatchAck out;
  std::vector<int> valid;
  for (int i = 0; i < batch.events_size(); ++i) {
    const auto& envelope = batch.events(i);
    auto& result = *out.add_results();
    result.set_event_id(envelope.event_id());
    absl::Status s = ValidateEnvelope(envelope);
    if (s.ok()) {
      valid.push_back(i);
    } else {
      SetResult(result, s);
    }
  }
  if (valid.empty()) return out;

  // Optimistic: every valid event in one transaction.
  auto duplicates = pool.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<bool>> {
    std::vector<std::string> ids, sources, types;
    for (int i : valid) {
      ids.push_back(batch.events(i).event_id());
      sources.push_back(batch.events(i).source_service());
      types.push_back(batch.events(i).event_type());
    }
    absl::flat_hash_set<std::string> fresh;
    for (const auto& row : ExecPrepared(txn, kClaimInboxBatch, PgTextArray(ids),
                                        PgTextArray(sources), PgTextArray(types))) {
      fresh.insert(row[0].as<std::string>());
    }
    std::vector<bool> duplicate(valid.size(), true);
    for (size_t k = 0; k < valid.size(); ++k) {
      const auto& envelope = batch.events(valid[k]);
      // erase: a second copy of one id in the batch is a duplicate of the first.
      if (fresh.erase(absl::AsciiStrToLower(envelope.event_id())) == 0) continue;
      duplicate[k] = false;
      if (absl::Status s = effect(txn, envelope); !s.ok()) return s;
    }
    return duplicate;
  });
  if (duplicates.ok()) {
    for (size_t k = 0; k < valid.size(); ++k) {
      out.mutable_results(valid[k])->set_duplicate((*duplicates)[k]);
    }
    return out;
  }
  // One event failed (or the database did): that transaction rolled back whole, so each event
  // now gets its own, and only the failing ones fail.
  LogWarn("event batch rolled back; applying its events one by one",
          {{"events", absl::StrCat(valid.size())}, {"error", duplicates.status().ToString()}});
  for (int i : valid) {
    auto ack = ApplyDeliveredEvent(pool, batch.events(i), effect);
    auto& result = *out.mutable_results(i);
    if (ack.ok()) {
      result.set_duplicate(ack->duplicate());
    } else {
      SetResult(result, ack.status());
    }
  }
  return out;
}

absl::Status UnpackPayload(const events::v1::EventEnvelope& envelope,
                           google::protobuf::Message* message) {
  if (envelope.payload_type() != message->GetDescriptor()->full_name()) {
    return FieldError("payload_type", absl::StrCat("expected ", message->GetDescriptor()->full_name(),
                                                   ", got ", envelope.payload_type()));
  }
  if (!message->ParseFromString(envelope.payload())) {
    return FieldError("payload", "does not parse as " + envelope.payload_type());
  }
  return absl::OkStatus();
}

}  // namespace regsuite::common
