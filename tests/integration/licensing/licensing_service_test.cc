// The licensing-service binary end to end over gRPC: configuration keys, migrations and seed,
// handlers on the worker pool, status mapping, and the public certificate check.
#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "certificate_signer.h"
#include "regsuite/licensing/v1/licensing.grpc.pb.h"
#include "test_env.h"

namespace {

namespace v1 = regsuite::licensing::v1;

grpc::Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& fn) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return fn(&ctx);
}

}  // namespace

TEST_CASE("service binary: catalogue, submission, decision and public verification over gRPC",
          "[licensing][service]") {
  auto key = regsuite::licensing::CertificateSigner::Generate("e2e-key");
  REQUIRE(key.ok());
  const std::string key_file = absl::StrCat("/tmp/licensing-e2e-", getpid(), ".pem");
  {
    std::ofstream out(key_file);
    out << (*key)->PrivateKeyPem();
  }
  const int grpc_port = regsuite::testing::FreePort();
  const int admin_port = regsuite::testing::FreePort();
  const std::string address = absl::StrCat("127.0.0.1:", grpc_port);
  regsuite::testing::ChildProcess service(
      regsuite::testing::BinaryPath("licensing-service"), {},
      regsuite::testing::ServiceEnvironment({
          absl::StrCat("REGSUITE_SERVER_GRPC_LISTEN=", address),
          absl::StrCat("REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:", admin_port),
          absl::StrCat("REGSUITE_LICENSING_SIGNING_KEY_FILE=", key_file),
          "REGSUITE_LICENSING_SIGNING_KEY_ID=e2e-key",
          "REGSUITE_LICENSING_DEADLINE_JOB_INTERVAL=0s",
      }));
  auto stub = v1::LicensingService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));

  v1::ListPermitTypesResponse types;
  REQUIRE(regsuite::testing::Eventually(
      [&] {
        types.Clear();
        return Call([&](grpc::ClientContext* ctx) {
                 return stub->ListPermitTypes(ctx, v1::ListPermitTypesRequest(), &types);
               }).ok();
      },
      absl::Seconds(30)));
  CHECK(types.permit_types_size() >= 5);

  // No gateway configured: a commitment submission goes to normal review (never blind).
  v1::GetPermitTypeRequest get_type;
  get_type.set_code("WHJY");
  v1::PermitType whjy;
  REQUIRE(Call([&](grpc::ClientContext* ctx) { return stub->GetPermitType(ctx, get_type, &whjy); })
              .ok());
  v1::SubmitApplicationRequest submit;
  submit.set_permit_type_code("WHJY");
  submit.mutable_applicant()->set_uscc("91330100799655058B");
  submit.mutable_applicant()->set_name("青岛示例化工有限公司");
  submit.set_commitment_signed(true);
  for (const auto& m : whjy.required_materials()) {
    auto* material = submit.add_materials();
    material->set_code(m.code());
    material->set_document_ref("doc://e2e");
    material->set_issued_date("2026-09-01");
  }
  v1::Application app;
  auto submitted =
      Call([&](grpc::ClientContext* ctx) { return stub->SubmitApplication(ctx, submit, &app); });
  INFO(submitted.error_message());
  REQUIRE(submitted.ok());
  CHECK(app.status() == v1::APPLICATION_STATUS_ACCEPTED);
  REQUIRE(app.normal_review_reasons_size() == 1);
  CHECK(app.normal_review_reasons(0) == v1::NORMAL_REVIEW_REASON_CREDIT_CHECK_UNAVAILABLE);

  // Illegal transition: FAILED_PRECONDITION naming the state.
  v1::ResumeApplicationRequest resume;
  resume.set_application_id(app.application_id());
  resume.set_resumed_by("x");
  v1::Application ignored;
  auto illegal =
      Call([&](grpc::ClientContext* ctx) { return stub->ResumeApplication(ctx, resume, &ignored); });
  CHECK(illegal.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(illegal.error_message(), "ACCEPTED"));

  v1::DecideApplicationRequest decide;
  decide.set_application_id(app.application_id());
  decide.set_approve(true);
  decide.set_decided_by("局长");
  decide.set_scope("乙醇（不带储存设施）");
  v1::Application decided;
  REQUIRE(Call([&](grpc::ClientContext* ctx) {
            return stub->DecideApplication(ctx, decide, &decided);
          }).ok());
  CHECK(decided.status() == v1::APPLICATION_STATUS_APPROVED);
  CHECK((*key)->VerifyCertificate(decided.certificate()));

  v1::VerifyCertificateRequest verify;
  verify.set_certificate_no(decided.certificate().certificate_no());
  verify.set_verification_code(decided.certificate().verification_code());
  v1::VerifyCertificateResponse verified;
  REQUIRE(Call([&](grpc::ClientContext* ctx) {
            return stub->VerifyCertificate(ctx, verify, &verified);
          }).ok());
  CHECK(verified.genuine());
  CHECK(verified.status() == v1::CERTIFICATE_STATUS_VALID);
  CHECK(verified.scope() == "乙醇（不带储存设施）");

  service.Kill(SIGTERM);
  CHECK(service.Wait(absl::Seconds(20)) == 0);
  std::remove(key_file.c_str());
}
