// The disclosure-service binary end to end over gRPC (wiring, config keys, migrations, handlers):
// publish → search by a Chinese substring → withdraw → gone; an event delivered twice is one
// record; bad input is INVALID_ARGUMENT naming the field.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "regsuite/common/events.h"
#include "regsuite/common/health_client.h"
#include "regsuite/disclosure/v1/disclosure.grpc.pb.h"
#include "test_env.h"

namespace {

namespace v1 = regsuite::disclosure::v1;
namespace ev = regsuite::events::v1;
using regsuite::testing::Eventually;

struct SchemaCleanup {
  ~SchemaCleanup() { regsuite::testing::DropSchema("disclosure"); }
};

}  // namespace

TEST_CASE("the disclosure service publishes, finds by Chinese substring and withdraws over gRPC") {
  regsuite::testing::DropSchema("disclosure");
  SchemaCleanup cleanup;
  const int grpc_port = regsuite::testing::FreePort();
  const int admin_port = regsuite::testing::FreePort();
  const std::string address = absl::StrCat("127.0.0.1:", grpc_port);
  regsuite::testing::ChildProcess service(
      regsuite::testing::BinaryPath("disclosure-service"), {},
      regsuite::testing::ServiceEnvironment({
          absl::StrCat("REGSUITE_SERVER_GRPC_LISTEN=", address),
          absl::StrCat("REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:", admin_port),
          "REGSUITE_HEALTH_CHECK_INTERVAL=200ms",
          "REGSUITE_DISCLOSURE_AGENCY_CODE=E2EAGENCY",
      }));
  REQUIRE(Eventually(
      [&] {
        auto status = regsuite::common::CheckServingStatus(
            address, "regsuite.disclosure.v1.DisclosureService", absl::Seconds(1));
        return status.ok() && *status == "SERVING";
      },
      absl::Seconds(30)));
  auto stub = v1::DisclosureService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));

  v1::PublishRecordRequest publish;
  auto* r = publish.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_INSPECTION_RESULT);
  r->mutable_source()->set_service("inspection");
  r->mutable_source()->set_source_id("insp-e2e-1");
  r->set_title("福州某某加油站 检查结果");
  r->set_body("现场检查发现消防器材过期两具，已责令整改，联系人邮箱 lisi@example.com。");
  r->set_uscc("91330100799655058B");
  v1::PublishedRecord published;
  {
    grpc::ClientContext ctx;
    auto status = stub->PublishRecord(&ctx, publish, &published);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }
  CHECK(published.index_no().rfind("E2EAGENCY/", 0) == 0);
  CHECK(published.status() == v1::RECORD_STATUS_PUBLISHED);
  CHECK(published.body().find("l***@example.com") != std::string::npos);

  auto search = [&](const std::string& query) {
    grpc::ClientContext ctx;
    v1::SearchRecordsRequest request;
    request.set_query(query);
    v1::SearchRecordsResponse response;
    REQUIRE(stub->SearchRecords(&ctx, request, &response).ok());
    return response.records_size();
  };
  CHECK(search("消防器材") == 1);

  {
    grpc::ClientContext ctx;
    v1::WithdrawRecordRequest request;
    request.set_index_no(published.index_no());
    request.set_reason("检查结果更正后重新公开");
    v1::PublishedRecord withdrawn;
    REQUIRE(stub->WithdrawRecord(&ctx, request, &withdrawn).ok());
    CHECK(withdrawn.status() == v1::RECORD_STATUS_WITHDRAWN);
  }
  CHECK(search("消防器材") == 0);

  // An event delivered twice (the relay's redelivery) is acknowledged as a duplicate.
  ev::DrawPublished draw;
  draw.set_draw_id("draw-e2e-1");
  draw.set_check_item_name("危险化学品储存");
  draw.set_seed(12345678901234567ULL);
  draw.add_enterprises()->set_name("福州某某化工有限公司");
  auto event = regsuite::common::MakeEnvelopeEvent(
      "inspection", regsuite::common::DeliverEventMethod("disclosure"), "draw", "draw-e2e-1",
      "inspection.draw_published", draw, absl::Now());
  ev::EventEnvelope envelope;
  REQUIRE(envelope.ParseFromString(event.payload));
  for (bool duplicate : {false, true}) {
    grpc::ClientContext ctx;
    ev::EventAck ack;
    auto status = stub->DeliverEvent(&ctx, envelope, &ack);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(ack.duplicate() == duplicate);
  }
  CHECK(search("危险化学品储存") == 1);

  {
    grpc::ClientContext ctx;
    v1::PublishRecordRequest bad;
    bad.mutable_record()->set_category(v1::RECORD_CATEGORY_PENALTY_DECISION);
    bad.mutable_record()->set_title("x");
    v1::PublishedRecord out;
    auto status = stub->PublishRecord(&ctx, bad, &out);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "record.penalty: is required for a penalty");
  }
  {
    grpc::ClientContext ctx;
    v1::GetAnnualReportRequest request;
    request.set_year(2026);
    v1::AnnualReport report;
    REQUIRE(stub->GetAnnualReport(&ctx, request, &report).ok());
    CHECK(report.rendered_markdown().find("## 三、收到和处理政府信息公开申请情况") !=
          std::string::npos);
  }
  service.Kill(SIGTERM);
  CHECK(service.Wait(absl::Seconds(20)) == 0);
}
