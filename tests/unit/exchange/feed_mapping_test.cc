// Feed entries from delivered events: entity, operation, masked payload; cursor and limit rules.
#include "feed_mapping.h"

#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>

#include "regsuite/common/events.h"

namespace {

namespace ev = regsuite::events::v1;
namespace v1 = regsuite::exchange::v1;
using regsuite::exchange::FeedEntryFromEvent;

ev::EventEnvelope Envelope(const std::string& event_type,
                           const google::protobuf::Message& payload) {
  auto event = regsuite::common::MakeEnvelopeEvent(
      "test", regsuite::common::DeliverEventMethod("exchange"), "aggregate", "id-1", event_type,
      payload, absl::FromUnixSeconds(1790000000));
  ev::EventEnvelope envelope;
  REQUIRE(envelope.ParseFromString(event.payload));
  return envelope;
}

ev::ListingChanged Listing(ev::ListingChange change) {
  ev::ListingChanged l;
  l.set_listing_id("L-1");
  l.set_uscc("91350100M000100Y43");
  l.set_subject_name("福州某某化工有限公司");
  l.set_list_type(ev::LIST_TYPE_BLACK);
  l.set_change(change);
  return l;
}

}  // namespace

TEST_CASE("a published listing is an upsert and a repaired one a delete of the same listing") {
  auto upsert =
      FeedEntryFromEvent(Envelope("credit.listing_changed", Listing(ev::LISTING_CHANGE_PUBLISHED)));
  REQUIRE(upsert.ok());
  REQUIRE(upsert->has_value());
  CHECK((*upsert)->entity_type == v1::ENTITY_TYPE_CREDIT_LISTING);
  CHECK((*upsert)->entity_id == "L-1");
  CHECK((*upsert)->operation == v1::CHANGE_OPERATION_UPSERT);
  CHECK((*upsert)->payload_type == "regsuite.events.v1.ListingChanged");
  CHECK((*upsert)->occurred_at == absl::FromUnixSeconds(1790000000));
  CHECK((*upsert)->payload_json.find("福州某某化工有限公司") != std::string::npos);

  for (auto change :
       {ev::LISTING_CHANGE_REPAIRED, ev::LISTING_CHANGE_REMOVED, ev::LISTING_CHANGE_EXPIRED}) {
    auto removal = FeedEntryFromEvent(Envelope("credit.listing_changed", Listing(change)));
    REQUIRE(removal.ok());
    CHECK((*removal)->operation == v1::CHANGE_OPERATION_DELETE);
    CHECK((*removal)->entity_id == "L-1");
  }
}

TEST_CASE("a published record carries the masked record and a withdrawal deletes it") {
  ev::RecordPublished published;
  published.set_index_no("AGENCY/2026-00001");
  (*published.mutable_record()->mutable_fields())["indexNo"].set_string_value("AGENCY/2026-00001");
  (*published.mutable_record()->mutable_fields())["title"].set_string_value("处罚决定");
  auto entry = FeedEntryFromEvent(Envelope("disclosure.record_published", published));
  REQUIRE(entry.ok());
  CHECK((*entry)->entity_type == v1::ENTITY_TYPE_PUBLISHED_RECORD);
  CHECK((*entry)->operation == v1::CHANGE_OPERATION_UPSERT);
  CHECK((*entry)->payload_type == "regsuite.disclosure.v1.PublishedRecord");
  CHECK((*entry)->payload_json.find("处罚决定") != std::string::npos);

  ev::RecordWithdrawn withdrawn;
  withdrawn.set_index_no("AGENCY/2026-00001");
  withdrawn.set_reason("决定撤销");
  auto removal = FeedEntryFromEvent(Envelope("disclosure.record_withdrawn", withdrawn));
  REQUIRE(removal.ok());
  CHECK((*removal)->operation == v1::CHANGE_OPERATION_DELETE);
  CHECK((*removal)->entity_id == "AGENCY/2026-00001");
}

TEST_CASE("certificate status: suspended is an upsert, revoked a delete; an approval issues one") {
  ev::CertificateStatusChanged c;
  c.set_certificate_no("CERT-9");
  c.set_status(ev::CERTIFICATE_STATUS_SUSPENDED);
  auto suspended = FeedEntryFromEvent(Envelope("licensing.certificate_status_changed", c));
  REQUIRE(suspended.ok());
  CHECK((*suspended)->entity_type == v1::ENTITY_TYPE_CERTIFICATE);
  CHECK((*suspended)->operation == v1::CHANGE_OPERATION_UPSERT);
  c.set_status(ev::CERTIFICATE_STATUS_REVOKED);
  auto revoked = FeedEntryFromEvent(Envelope("licensing.certificate_status_changed", c));
  REQUIRE(revoked.ok());
  CHECK((*revoked)->operation == v1::CHANGE_OPERATION_DELETE);

  ev::LicensingDecisionMade d;
  d.set_outcome(ev::LICENSING_OUTCOME_APPROVED);
  d.set_certificate_no("CERT-10");
  d.set_party_name("某某公司");
  d.set_legal_representative("张三丰");
  auto issued = FeedEntryFromEvent(Envelope("licensing.decision_made", d));
  REQUIRE(issued.ok());
  REQUIRE(issued->has_value());
  CHECK((*issued)->entity_id == "CERT-10");
  CHECK((*issued)->payload_type == "regsuite.events.v1.CertificateStatusChanged");
  CHECK((*issued)->payload_json.find("CERTIFICATE_STATUS_VALID") != std::string::npos);

  d.set_outcome(ev::LICENSING_OUTCOME_DENIED);
  d.clear_certificate_no();
  auto denied = FeedEntryFromEvent(Envelope("licensing.decision_made", d));
  REQUIRE(denied.ok());
  CHECK_FALSE(denied->has_value());
}

TEST_CASE(
    "licensing: a certificate change (变更) upserts the certificate; an expiry reminder "
    "is an EXPIRY_REMINDER upsert per certificate and kind") {
  ev::CertificateStatusChanged c;
  c.set_certificate_no("CERT-9");
  c.set_status(ev::CERTIFICATE_STATUS_VALID);
  c.set_holder_name("青岛新名化工有限公司");
  c.set_revision(1);
  auto changed = FeedEntryFromEvent(Envelope("licensing.certificate_changed", c));
  REQUIRE(changed.ok());
  REQUIRE(changed->has_value());
  CHECK((*changed)->entity_type == v1::ENTITY_TYPE_CERTIFICATE);
  CHECK((*changed)->operation == v1::CHANGE_OPERATION_UPSERT);
  CHECK((*changed)->payload_json.find("青岛新名化工有限公司") != std::string::npos);

  ev::CertificateExpiryReminder r;
  r.set_certificate_no("CERT-9");
  r.set_reminder_kind("EXPIRY_90D");
  r.set_valid_until("2029-09-27");
  r.set_renew_by_date("2029-08-28");
  auto reminder = FeedEntryFromEvent(Envelope("licensing.certificate_expiry_reminder", r));
  REQUIRE(reminder.ok());
  REQUIRE(reminder->has_value());
  CHECK((*reminder)->entity_type == v1::ENTITY_TYPE_EXPIRY_REMINDER);
  CHECK((*reminder)->entity_id == "CERT-9:EXPIRY_90D");
  CHECK((*reminder)->operation == v1::CHANGE_OPERATION_UPSERT);
  CHECK((*reminder)->payload_type == "regsuite.events.v1.CertificateExpiryReminder");
  CHECK((*reminder)->payload_json.find("2029-08-28") != std::string::npos);
  r.clear_certificate_no();
  CHECK(absl::IsInvalidArgument(
      FeedEntryFromEvent(Envelope("licensing.certificate_expiry_reminder", r)).status()));
}

TEST_CASE(
    "an event for another service's flow changes nothing; a payload without its id is refused") {
  ev::DrawPublished draw;
  draw.set_draw_id("D-1");
  auto other = FeedEntryFromEvent(Envelope("inspection.draw_published", draw));
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());

  auto missing = FeedEntryFromEvent(Envelope("credit.listing_changed", ev::ListingChanged()));
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.status().message() == "payload.listing_id: is required");
}

TEST_CASE("payload masking hides a natural person's ID, phone, e-mail and bank account anywhere") {
  google::protobuf::Struct payload;
  auto& f = *payload.mutable_fields();
  f["title"].set_string_value("处罚决定");
  f["otherCode"].set_string_value("11010519491231002X");
  f["note"].set_string_value("11010519491231002X");  // a valid ID number under any key
  auto& party = *f["party"].mutable_struct_value()->mutable_fields();
  party["mobile"].set_string_value("13812345678");
  party["email"].set_string_value("zhangsan@example.com");
  party["bank_account"].set_string_value("6222021234567890");
  party["phone"].set_string_value("0571-88884321");
  f["alreadyMasked"].set_string_value("3301**********1234");
  regsuite::exchange::MaskPersonalData(payload);
  CHECK(f["title"].string_value() == "处罚决定");
  CHECK(f["otherCode"].string_value() == "1101**********002X");
  CHECK(f["note"].string_value() == "1101**********002X");
  CHECK(party["mobile"].string_value() == "138****5678");
  CHECK(party["email"].string_value() == "z***@example.com");
  CHECK(party["bank_account"].string_value() == "6222********7890");
  CHECK(party["phone"].string_value() == "0571-****4321");
  CHECK(f["alreadyMasked"].string_value() == "3301**********1234");
}

TEST_CASE("a producer's unmasked ID number never reaches the feed entry") {
  ev::RecordPublished published;
  published.set_index_no("AGENCY/2026-00002");
  auto& record = *published.mutable_record()->mutable_fields();
  record["indexNo"].set_string_value("AGENCY/2026-00002");
  (*record["penalty"].mutable_struct_value()->mutable_fields())["otherCode"].set_string_value(
      "11010519491231002X");
  auto entry = FeedEntryFromEvent(Envelope("disclosure.record_published", published));
  REQUIRE(entry.ok());
  CHECK((*entry)->payload_json.find("11010519491231002X") == std::string::npos);
  CHECK((*entry)->payload_json.find("1101**********002X") != std::string::npos);
}

TEST_CASE(
    "cursor and limit: empty is the start, anything not a cursor or out of range is refused") {
  using regsuite::exchange::EffectiveLimit;
  using regsuite::exchange::FormatCursor;
  using regsuite::exchange::ParseCursor;
  CHECK(*ParseCursor("") == 0);
  CHECK(*ParseCursor(FormatCursor(42)) == 42);
  for (const char* bad : {"-1", "abc", "042", "1.5", " 7"}) {
    auto parsed = ParseCursor(bad);
    CHECK(parsed.status().message() == "cursor: not a cursor returned by ListChanges");
  }
  CHECK(*EffectiveLimit(0) == 100);
  CHECK(*EffectiveLimit(1000) == 1000);
  CHECK(EffectiveLimit(1001).status().message() == "limit: must be between 1 and 1000");
  CHECK(EffectiveLimit(-5).status().code() == absl::StatusCode::kInvalidArgument);
}
