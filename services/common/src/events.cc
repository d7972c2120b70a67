#include "regsuite/common/events.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/crypto.h"
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

absl::StatusOr<events::v1::EventAck> ApplyDeliveredEvent(
    PgPool& pool, const events::v1::EventEnvelope& envelope,
    const std::function<absl::Status(pqxx::work&, const events::v1::EventEnvelope&)>& effect) {
  if (!IsUuid(envelope.event_id())) return FieldError("event_id", "must be a UUID");
  if (envelope.event_type().empty()) return FieldError("event_type", "required");
  if (envelope.payload_type().empty()) return FieldError("payload_type", "required");
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
