// The licensing-service binary end to end over gRPC: configuration keys, migrations and seed,
// handlers on the worker pool, status mapping, and the public certificate check.
#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

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

// The service binary on `address` with the signing key `key_file` / `key_id`, no deadline job.
std::unique_ptr<regsuite::testing::ChildProcess> StartService(
    const std::string& address, const std::string& key_file, const std::string& key_id,
    std::vector<std::string> extra_env = {}, const std::string& log_file = "") {
  std::vector<std::string> env = {
      absl::StrCat("REGSUITE_SERVER_GRPC_LISTEN=", address),
      absl::StrCat("REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:", regsuite::testing::FreePort()),
      absl::StrCat("REGSUITE_LICENSING_SIGNING_KEY_FILE=", key_file),
      absl::StrCat("REGSUITE_LICENSING_SIGNING_KEY_ID=", key_id),
      "REGSUITE_LICENSING_DEADLINE_JOB_INTERVAL=0s",
  };
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return std::make_unique<regsuite::testing::ChildProcess>(
      regsuite::testing::BinaryPath("licensing-service"), std::vector<std::string>{},
      regsuite::testing::ServiceEnvironment(env), log_file);
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
  const std::string address = absl::StrCat("127.0.0.1:", regsuite::testing::FreePort());
  auto service = StartService(address, key_file, "e2e-key");
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

  // 变更 over gRPC: same number and code, signed again, the public check shows the new name.
  v1::ChangeCertificateRequest change;
  change.set_certificate_no(decided.certificate().certificate_no());
  change.mutable_holder()->set_name("青岛新名化工有限公司");
  change.set_reason("企业名称变更");
  change.set_changed_by("窗口");
  v1::Certificate changed;
  REQUIRE(Call([&](grpc::ClientContext* ctx) {
            return stub->ChangeCertificate(ctx, change, &changed);
          }).ok());
  CHECK(changed.revision() == 1);
  CHECK((*key)->VerifyCertificate(changed));
  REQUIRE(Call([&](grpc::ClientContext* ctx) {
            return stub->VerifyCertificate(ctx, verify, &verified);
          }).ok());
  CHECK(verified.genuine());
  CHECK(verified.holder_name() == "青岛新名化工有限公司");
  change.set_scope("乙醇、甲醇（带储存设施）");
  auto wider = Call(
      [&](grpc::ClientContext* ctx) { return stub->ChangeCertificate(ctx, change, &changed); });
  CHECK(wider.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(wider.error_message(), "scope"));

  service->Kill(SIGTERM);
  CHECK(service->Wait(absl::Seconds(20)) == 0);
  std::remove(key_file.c_str());
}

TEST_CASE(
    "service binary: a verification keys folder holding another key under the signing "
    "key id stops the start",
    "[licensing][service][rotation]") {
  auto key = regsuite::licensing::CertificateSigner::Generate("bureau-ed25519-2");
  auto other = regsuite::licensing::CertificateSigner::Generate("bureau-ed25519-2");
  REQUIRE(key.ok());
  REQUIRE(other.ok());
  const std::string dir = absl::StrCat("/tmp/licensing-keys-", getpid());
  const std::string key_file = absl::StrCat(dir, "-signing.pem");
  const std::string log_file = absl::StrCat(dir, ".log");
  REQUIRE(mkdir(dir.c_str(), 0700) == 0);
  std::ofstream(key_file) << (*key)->PrivateKeyPem();
  std::ofstream(dir + "/bureau-ed25519-2.pem") << (*other)->PublicKeyPem();
  auto service = StartService(
      absl::StrCat("127.0.0.1:", regsuite::testing::FreePort()), key_file, "bureau-ed25519-2",
      {absl::StrCat("REGSUITE_LICENSING_VERIFICATION_PUBLIC_KEYS_DIR=", dir)}, log_file);
  const int status = service->Wait(absl::Seconds(30));
  CHECK(status != 0);
  CHECK(status != -1);  // it exited by itself
  std::ifstream log(log_file);
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  INFO(text);
  CHECK(absl::StrContains(text, "bureau-ed25519-2.pem is not the public half"));
  std::remove(log_file.c_str());
  std::remove((dir + "/bureau-ed25519-2.pem").c_str());
  std::remove(key_file.c_str());
  rmdir(dir.c_str());
}
