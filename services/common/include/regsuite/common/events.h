#pragma once

#include <functional>
#include <string>

#include <google/protobuf/message.h>
#include <pqxx/pqxx>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "regsuite/common/outbox.h"
#include "regsuite/common/pg.h"
#include "regsuite/events/v1/events.pb.h"

namespace regsuite::common {

/// The DeliverEvent method of a domain service, e.g. DeliverEventMethod("disclosure") →
/// "/regsuite.disclosure.v1.DisclosureService/DeliverEvent".
std::string DeliverEventMethod(absl::string_view service);

/// An outbox event carrying an EventEnvelope around `payload` for `target_method`.
/// The envelope's event id is fresh unless `event_id` is given.
OutboxEvent MakeEnvelopeEvent(absl::string_view source_service, absl::string_view target_method,
                              absl::string_view aggregate_type, absl::string_view aggregate_id,
                              absl::string_view event_type,
                              const google::protobuf::Message& payload, absl::Time occurred_at,
                              absl::string_view event_id = "");

/// What a receiver does with one delivered event, inside the transaction that claims its id.
/// It may run more than once for one event (a rolled-back batch is applied again one event per
/// transaction), so state it keeps for after the commit must be keyed by event id.
using EventEffect = std::function<absl::Status(pqxx::work&, const events::v1::EventEnvelope&)>;

/// Applies a delivered event exactly once: claims its id in the inbox and runs `effect` in
/// the same transaction; a redelivery skips `effect` and is acknowledged as a duplicate.
/// Validates the envelope first (event_id a UUID, event_type and payload_type present).
absl::StatusOr<events::v1::EventAck> ApplyDeliveredEvent(PgPool& pool,
                                                         const events::v1::EventEnvelope& envelope,
                                                         const EventEffect& effect);

/// DeliverEvents: the batch's fresh ids claimed in one statement and every effect applied in
/// one transaction, in the batch's order. If any effect (or the transaction) fails, that
/// transaction rolls back and each event is applied alone with ApplyDeliveredEvent, so one bad
/// event fails only itself. One result per event, in order; an invalid envelope is
/// INVALID_ARGUMENT in its result and is not applied.
events::v1::EventBatchAck ApplyDeliveredEvents(PgPool& pool, const events::v1::EventBatch& batch,
                                               const EventEffect& effect);

/// Unpacks the envelope's payload into `message`; INVALID_ARGUMENT when payload_type names
/// another message or the bytes do not parse.
absl::Status UnpackPayload(const events::v1::EventEnvelope& envelope,
                           google::protobuf::Message* message);

}  // namespace regsuite::common
