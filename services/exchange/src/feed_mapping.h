#pragma once

#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "regsuite/events/v1/events.pb.h"
#include "regsuite/exchange/v1/exchange.pb.h"

namespace regsuite::exchange {

/// One change-feed entry before it gets its cursor: what a delivered event means for the
/// platform. `payload_json` is the masked public form (proto3 JSON object).
struct FeedEntry {
  v1::EntityType entity_type = v1::ENTITY_TYPE_UNSPECIFIED;
  std::string entity_id;
  v1::ChangeOperation operation = v1::CHANGE_OPERATION_UNSPECIFIED;
  std::string payload_json;
  std::string payload_type;
  absl::Time occurred_at;
  std::string source_event_id;
};

/// Maps a delivered event to its feed entry:
///   disclosure.record_published → PUBLISHED_RECORD upsert (the masked PublishedRecord);
///   disclosure.record_withdrawn → PUBLISHED_RECORD delete;
///   credit.listing_changed → CREDIT_LISTING upsert (PUBLISHED, RESTORED) or delete (REPAIRED,
///     REMOVED, EXPIRED);
///   licensing.certificate_status_changed, licensing.certificate_changed (变更) → CERTIFICATE
///     upsert (VALID, SUSPENDED) or delete (REVOKED, EXPIRED, CANCELLED);
///   licensing.certificate_expiry_reminder → EXPIRY_REMINDER upsert ("<certificate_no>:<kind>");
///   licensing.decision_made with a certificate → CERTIFICATE upsert.
/// std::nullopt for events that change nothing on the platform (a denial, other event types);
/// INVALID_ARGUMENT when the payload does not parse or lacks the entity id.
absl::StatusOr<std::optional<FeedEntry>> FeedEntryFromEvent(
    const events::v1::EventEnvelope& envelope);

/// Defensive masking of a payload before it leaves the bureau (DOMAIN.md 脱敏): whatever a
/// producer sent, a natural person's ID number (any string value that is a valid resident ID,
/// and the values of id/other-code keys), phone numbers, e-mail addresses and bank accounts
/// (by key) are masked. Values already masked stay as they are. Recurses into lists/objects.
void MaskPersonalData(google::protobuf::Struct& payload);

/// Proto3 JSON of `message` with MaskPersonalData applied.
std::string MaskedJson(const google::protobuf::Message& message);

/// Opaque feed cursor: the decimal entry number; "" is the start (0).
std::string FormatCursor(int64_t cursor);
/// INVALID_ARGUMENT "cursor: not a cursor returned by ListChanges" for anything else.
absl::StatusOr<int64_t> ParseCursor(absl::string_view text);

/// ListChanges limit: 0 → 100; 1..1000 as given; otherwise INVALID_ARGUMENT naming `limit`.
absl::StatusOr<int> EffectiveLimit(int32_t requested);

constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;

}  // namespace regsuite::exchange
