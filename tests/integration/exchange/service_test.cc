// The exchange-service binary end to end over gRPC with push configured to the platform
// stand-in: events delivered twice are one feed entry; the pusher sends them in the background;
// after kill -9 and a restart the push resumes and the platform records every change once;
// ListChanges validates its arguments and GetPushStatus reports progress.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "platform_stub_process.h"
#include "regsuite/common/events.h"
#include "regsuite/common/health_client.h"
#include "regsuite/exchange/v1/exchange.grpc.pb.h"
#include "test_env.h"

namespace {

namespace v1 = regsuite::exchange::v1;
namespace ev = regsuite::events::v1;
using regsuite::testing::Eventually;

struct SchemaCleanup {
  ~SchemaCleanup() { regsuite::testing::DropSchema("exchange"); }
};

ev::EventEnvelope ListingEvent(int i) {
  ev::ListingChanged l;
  l.set_listing_id(absl::StrCat("L-", i));
  l.set_uscc("91350100M000100Y43");
  l.set_change(ev::LISTING_CHANGE_PUBLISHED);
  auto event = regsuite::common::MakeEnvelopeEvent(
      "credit", regsuite::common::DeliverEventMethod("exchange"), "listing", l.listing_id(),
      "credit.listing_changed", l, absl::Now());
  ev::EventEnvelope envelope;
  REQUIRE(envelope.ParseFromString(event.payload));
  return envelope;
}

class Service {
 public:
  Service(const regsuite::exchange::testing::PlatformStub& stub, const std::string& log)
      : address_(absl::StrCat("127.0.0.1:", regsuite::testing::FreePort())) {
    process_ = std::make_unique<regsuite::testing::ChildProcess>(
        regsuite::testing::BinaryPath("exchange-service"), std::vector<std::string>{},
        regsuite::testing::ServiceEnvironment({
            absl::StrCat("REGSUITE_SERVER_GRPC_LISTEN=", address_),
            absl::StrCat("REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:",
                         regsuite::testing::FreePort()),
            "REGSUITE_HEALTH_CHECK_INTERVAL=200ms",
            absl::StrCat("REGSUITE_PUSH_URL=", stub.feed_url()),
            absl::StrCat("REGSUITE_PUSH_APP_KEY=", stub.app_key()),
            absl::StrCat("REGSUITE_PUSH_SECRET_FILE=", stub.secret_file()),
            "REGSUITE_PUSH_BATCH_SIZE=3",
            "REGSUITE_PUSH_INTERVAL=100ms",
            "REGSUITE_PUSH_INITIAL_BACKOFF=100ms",
        }),
        log);
    REQUIRE(Eventually(
        [&] {
          auto status = regsuite::common::CheckServingStatus(
              address_, "regsuite.exchange.v1.ExchangeService", absl::Seconds(1));
          return status.ok() && *status == "SERVING";
        },
        absl::Seconds(30)));
    stub_ = v1::ExchangeService::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  ev::EventAck Deliver(const ev::EventEnvelope& envelope) {
    grpc::ClientContext ctx;
    ev::EventAck ack;
    auto status = stub_->DeliverEvent(&ctx, envelope, &ack);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return ack;
  }

  v1::ExchangeService::Stub& stub() { return *stub_; }
  regsuite::testing::ChildProcess& process() { return *process_; }

 private:
  std::string address_;
  std::unique_ptr<regsuite::testing::ChildProcess> process_;
  std::unique_ptr<v1::ExchangeService::Stub> stub_;
};

}  // namespace

TEST_CASE("exchange-service pushes delivered events and resumes after kill -9 without duplicates") {
  regsuite::testing::DropSchema("exchange");
  SchemaCleanup cleanup;
  const std::string dir = regsuite::exchange::testing::TempDir("exchange-service");
  regsuite::exchange::testing::PlatformStub stub(dir);
  std::vector<std::string> expected;
  {
    Service service(stub, dir + "/exchange-1.log");
    for (int i = 1; i <= 5; ++i) {
      auto event = ListingEvent(i);
      CHECK_FALSE(service.Deliver(event).duplicate());
      CHECK(service.Deliver(event).duplicate());  // the relay's redelivery
      expected.push_back(std::to_string(i));
    }
    REQUIRE(Eventually([&] { return stub.RecordedCursors().size() == 5; }, absl::Seconds(20)));

    grpc::ClientContext ctx;
    v1::ListChangesRequest bad;
    bad.set_limit(1001);
    v1::ListChangesResponse out;
    auto status = service.stub().ListChanges(&ctx, bad, &out);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "limit: must be between 1 and 1000");

    stub.Fail(R"({"status": 503, "count": 1000})");  // the platform is down ...
    for (int i = 6; i <= 8; ++i) service.Deliver(ListingEvent(i));
    REQUIRE(Eventually(
        [&] {
          grpc::ClientContext c;
          v1::PushStatus push;
          return service.stub().GetPushStatus(&c, v1::GetPushStatusRequest(), &push).ok() &&
                 push.consecutive_failures() > 0 && push.pending_changes() == 3 &&
                 push.last_acknowledged_cursor() == "5" && push.enabled();
        },
        absl::Seconds(20)));
    service.process().Kill(SIGKILL);  // ... and the service dies mid-retry
    service.process().Wait(absl::Seconds(10));
  }
  stub.Restart();  // back up, failures forgotten, record kept
  Service restarted(stub, dir + "/exchange-2.log");
  for (int i = 9; i <= 10; ++i) restarted.Deliver(ListingEvent(i));
  for (int i = 6; i <= 10; ++i) expected.push_back(std::to_string(i));
  REQUIRE(Eventually([&] { return stub.RecordedCursors().size() >= 10; }, absl::Seconds(20)));
  CHECK(stub.RecordedCursors() == expected);

  grpc::ClientContext ctx;
  v1::ListChangesRequest all;
  v1::ListChangesResponse feed;
  REQUIRE(restarted.stub().ListChanges(&ctx, all, &feed).ok());
  CHECK(feed.changes_size() == 10);
  restarted.process().Kill(SIGTERM);
  CHECK(restarted.process().Wait(absl::Seconds(20)) == 0);
}
