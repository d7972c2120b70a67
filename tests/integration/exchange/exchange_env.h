#pragma once
// A throwaway `exchange` schema migrated from services/exchange/migrations, and helpers that
// deliver events the way the outbox relay does.

#include <string>

#include "absl/status/statusor.h"
#include "regsuite/common/metrics.h"
#include "regsuite/common/pg.h"
#include "regsuite/events/v1/events.pb.h"

namespace regsuite::exchange::testing {

struct ExchangeDb {
  ExchangeDb();
  ~ExchangeDb();

  /// A credit.listing_changed event for listing `listing_id` (a fresh event id).
  events::v1::EventEnvelope ListingEvent(const std::string& listing_id,
                                         events::v1::ListingChange change);
  /// Delivers through ExchangeService::ApplyEvent (inbox + feed, one transaction).
  absl::StatusOr<events::v1::EventAck> Deliver(const events::v1::EventEnvelope& envelope);

  std::string schema;
  common::PgPool pool;
  common::MetricsRegistry metrics;
};

}  // namespace regsuite::exchange::testing
