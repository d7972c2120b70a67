#include "exchange_env.h"

#include <catch2/catch.hpp>

#include "absl/time/clock.h"
#include "exchange_service.h"
#include "regsuite/common/events.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "test_env.h"

namespace regsuite::exchange::testing {

ExchangeDb::ExchangeDb()
    : schema(regsuite::testing::UniqueSchemaName("exchange")),
      pool(regsuite::testing::TestPgOptions(schema)) {
  regsuite::testing::MigrateSchema(schema, schema, MigrationFiles());
}

ExchangeDb::~ExchangeDb() { regsuite::testing::DropSchema(schema); }

events::v1::EventEnvelope ExchangeDb::ListingEvent(const std::string& listing_id,
                                                   events::v1::ListingChange change) {
  events::v1::ListingChanged l;
  l.set_listing_id(listing_id);
  l.set_uscc("91350100M000100Y43");
  l.set_subject_name("福州某某化工有限公司");
  l.set_list_type(events::v1::LIST_TYPE_BLACK);
  l.set_change(change);
  auto event =
      common::MakeEnvelopeEvent("credit", common::DeliverEventMethod("exchange"), "listing",
                                listing_id, "credit.listing_changed", l, absl::Now());
  events::v1::EventEnvelope envelope;
  REQUIRE(envelope.ParseFromString(event.payload));
  return envelope;
}

absl::StatusOr<events::v1::EventAck> ExchangeDb::Deliver(
    const events::v1::EventEnvelope& envelope) {
  return ExchangeService::ApplyEvent(pool, metrics, envelope);
}

}  // namespace regsuite::exchange::testing
