#include "feed_mapping.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "regsuite/common/events.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/masking.h"
#include "regsuite/common/proto_time.h"
#include "regsuite/common/status.h"

namespace regsuite::exchange {
namespace {

namespace ev = events::v1;
using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kPublishedRecordType[] = "regsuite.disclosure.v1.PublishedRecord";

enum class PersonalKind { kNone, kIdentity, kPhone, kEmail, kBankAccount };

// Keys (case and '_' ignored) whose values are a natural person's data wherever they occur.
PersonalKind KindOfKey(absl::string_view key) {
  std::string k = absl::AsciiStrToLower(absl::StrReplaceAll(key, {{"_", ""}}));
  for (const char* id : {"idnumber", "othercode", "personalid", "idcard", "idcardno"})
    if (k == id) return PersonalKind::kIdentity;
  for (const char* p : {"phone", "mobile", "telephone", "contactphone", "phonenumber"})
    if (k == p) return PersonalKind::kPhone;
  for (const char* e : {"email", "contactemail"})
    if (k == e) return PersonalKind::kEmail;
  for (const char* b : {"bankaccount", "bankcard", "accountno", "bankcardno"})
    if (k == b) return PersonalKind::kBankAccount;
  return PersonalKind::kNone;
}

std::string MaskValue(PersonalKind kind, const std::string& text) {
  if (absl::StrContains(text, '*') || text.empty()) return text;  // already masked
  if (common::IsValidPersonalIdNumber(text)) return common::MaskPersonalId(text);
  switch (kind) {
    case PersonalKind::kIdentity:
      return common::MaskMiddle(text, 4, 4);
    case PersonalKind::kPhone:
      return absl::StartsWith(absl::StripAsciiWhitespace(text), "0") ? common::MaskLandline(text)
                                                                     : common::MaskMobile(text);
    case PersonalKind::kEmail:
      return common::MaskEmail(text);
    case PersonalKind::kBankAccount:
      return common::MaskBankCard(text);
    case PersonalKind::kNone:
      break;
  }
  return text;
}

void MaskValueTree(PersonalKind kind, Value& value) {
  switch (value.kind_case()) {
    case Value::kStringValue:
      value.set_string_value(MaskValue(kind, value.string_value()));
      break;
    case Value::kStructValue:
      MaskPersonalData(*value.mutable_struct_value());
      break;
    case Value::kListValue:
      for (Value& item : *value.mutable_list_value()->mutable_values()) MaskValueTree(kind, item);
      break;
    default:
      break;
  }
}

FeedEntry Entry(const ev::EventEnvelope& envelope, v1::EntityType type, std::string entity_id,
                v1::ChangeOperation operation, const google::protobuf::Message& payload,
                std::string payload_type) {
  return FeedEntry{.entity_type = type,
                   .entity_id = std::move(entity_id),
                   .operation = operation,
                   .payload_json = MaskedJson(payload),
                   .payload_type = std::move(payload_type),
                   .occurred_at = common::FromTimestamp(envelope.occurred_at()),
                   .source_event_id = envelope.event_id()};
}

absl::Status RequireId(const std::string& id, absl::string_view field) {
  if (id.empty()) return common::FieldError(absl::StrCat("payload.", field), "is required");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<FeedEntry>> FromRecordPublished(const ev::EventEnvelope& envelope) {
  ev::RecordPublished e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  if (absl::Status s = RequireId(e.index_no(), "index_no"); !s.ok()) return s;
  if (e.record().fields().empty()) {  // a producer without the full record: the summary
    return Entry(envelope, v1::ENTITY_TYPE_PUBLISHED_RECORD, e.index_no(),
                 v1::CHANGE_OPERATION_UPSERT, e, e.GetTypeName());
  }
  return Entry(envelope, v1::ENTITY_TYPE_PUBLISHED_RECORD, e.index_no(),
               v1::CHANGE_OPERATION_UPSERT, e.record(), kPublishedRecordType);
}

absl::StatusOr<std::optional<FeedEntry>> FromRecordWithdrawn(const ev::EventEnvelope& envelope) {
  ev::RecordWithdrawn e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  if (absl::Status s = RequireId(e.index_no(), "index_no"); !s.ok()) return s;
  return Entry(envelope, v1::ENTITY_TYPE_PUBLISHED_RECORD, e.index_no(),
               v1::CHANGE_OPERATION_DELETE, e, e.GetTypeName());
}

absl::StatusOr<std::optional<FeedEntry>> FromListingChanged(const ev::EventEnvelope& envelope) {
  ev::ListingChanged e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  if (absl::Status s = RequireId(e.listing_id(), "listing_id"); !s.ok()) return s;
  v1::ChangeOperation operation;
  switch (e.change()) {
    case ev::LISTING_CHANGE_PUBLISHED:
    case ev::LISTING_CHANGE_RESTORED:
      operation = v1::CHANGE_OPERATION_UPSERT;
      break;
    case ev::LISTING_CHANGE_REPAIRED:
    case ev::LISTING_CHANGE_REMOVED:
    case ev::LISTING_CHANGE_EXPIRED:
      operation = v1::CHANGE_OPERATION_DELETE;
      break;
    default:
      return common::FieldError("payload.change", "must be a known listing change");
  }
  return Entry(envelope, v1::ENTITY_TYPE_CREDIT_LISTING, e.listing_id(), operation, e,
               e.GetTypeName());
}

absl::StatusOr<std::optional<FeedEntry>> FromCertificateStatus(const ev::EventEnvelope& envelope) {
  ev::CertificateStatusChanged e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  if (absl::Status s = RequireId(e.certificate_no(), "certificate_no"); !s.ok()) return s;
  v1::ChangeOperation operation;
  switch (e.status()) {
    case ev::CERTIFICATE_STATUS_VALID:
    case ev::CERTIFICATE_STATUS_SUSPENDED:
      operation = v1::CHANGE_OPERATION_UPSERT;
      break;
    case ev::CERTIFICATE_STATUS_REVOKED:
    case ev::CERTIFICATE_STATUS_EXPIRED:
    case ev::CERTIFICATE_STATUS_CANCELLED:
      operation = v1::CHANGE_OPERATION_DELETE;
      break;
    default:
      return common::FieldError("payload.status", "must be a known certificate status");
  }
  return Entry(envelope, v1::ENTITY_TYPE_CERTIFICATE, e.certificate_no(), operation, e,
               e.GetTypeName());
}

// An approval issues a certificate: the feed carries it in the certificate-status form.
absl::StatusOr<std::optional<FeedEntry>> FromLicensingDecision(const ev::EventEnvelope& envelope) {
  ev::LicensingDecisionMade d;
  if (absl::Status s = common::UnpackPayload(envelope, &d); !s.ok()) return s;
  if (d.outcome() == ev::LICENSING_OUTCOME_DENIED || d.certificate_no().empty())
    return std::optional<FeedEntry>();
  ev::CertificateStatusChanged c;
  c.set_certificate_no(d.certificate_no());
  c.set_certificate_name(d.certificate_name());
  c.set_permit_type_code(d.permit_type_code());
  c.set_permit_type_name(d.permit_type_name());
  c.set_uscc(d.uscc());
  c.set_holder_name(d.party_name());
  c.set_status(ev::CERTIFICATE_STATUS_VALID);
  c.set_valid_from(d.valid_from());
  c.set_valid_until(d.valid_until());
  c.set_effective_date(d.decision_date());
  c.set_decision_no(d.decision_no());
  c.set_authority(d.authority());
  return Entry(envelope, v1::ENTITY_TYPE_CERTIFICATE, c.certificate_no(),
               v1::CHANGE_OPERATION_UPSERT, c, c.GetTypeName());
}

// A licence expiry reminder for the holder, passed on to the platform's notification channel.
absl::StatusOr<std::optional<FeedEntry>> FromExpiryReminder(const ev::EventEnvelope& envelope) {
  ev::CertificateExpiryReminder e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  if (absl::Status s = RequireId(e.certificate_no(), "certificate_no"); !s.ok()) return s;
  return Entry(envelope, v1::ENTITY_TYPE_EXPIRY_REMINDER,
               absl::StrCat(e.certificate_no(), ":", e.reminder_kind()),
               v1::CHANGE_OPERATION_UPSERT, e, e.GetTypeName());
}

}  // namespace

absl::StatusOr<std::optional<FeedEntry>> FeedEntryFromEvent(const ev::EventEnvelope& envelope) {
  const std::string& type = envelope.event_type();
  if (type == "disclosure.record_published") return FromRecordPublished(envelope);
  if (type == "disclosure.record_withdrawn") return FromRecordWithdrawn(envelope);
  if (type == "credit.listing_changed") return FromListingChanged(envelope);
  if (type == "licensing.certificate_status_changed" || type == "licensing.certificate_changed")
    return FromCertificateStatus(envelope);
  if (type == "licensing.certificate_expiry_reminder") return FromExpiryReminder(envelope);
  if (type == "licensing.decision_made") return FromLicensingDecision(envelope);
  return std::optional<FeedEntry>();
}

void MaskPersonalData(Struct& payload) {
  for (auto& [key, value] : *payload.mutable_fields()) MaskValueTree(KindOfKey(key), value);
}

std::string MaskedJson(const google::protobuf::Message& message) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json);
  Struct tree;
  if (!google::protobuf::util::JsonStringToMessage(json, &tree).ok()) return "{}";
  MaskPersonalData(tree);
  json.clear();
  (void)google::protobuf::util::MessageToJsonString(tree, &json);
  return json;
}

std::string FormatCursor(int64_t cursor) { return cursor == 0 ? "" : absl::StrCat(cursor); }

absl::StatusOr<int64_t> ParseCursor(absl::string_view text) {
  if (text.empty()) return 0;
  int64_t cursor = 0;
  if (!absl::SimpleAtoi(text, &cursor) || cursor < 0 || absl::StrCat(cursor) != text)
    return common::FieldError("cursor", "not a cursor returned by ListChanges");
  return cursor;
}

absl::StatusOr<int> EffectiveLimit(int32_t requested) {
  if (requested == 0) return kDefaultListLimit;
  if (requested < 0 || requested > kMaxListLimit)
    return common::FieldError("limit", absl::StrCat("must be between 1 and ", kMaxListLimit));
  return requested;
}

}  // namespace regsuite::exchange
