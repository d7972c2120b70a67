// Micro-benchmarks of the gateway's per-call computation (Google Benchmark):
//   signature verification, HMAC-SHA256 against HMAC-SM3, for a small and a 4 KiB body;
//   HTTP route matching against the full route table built from the embedded descriptor set.
#include <benchmark/benchmark.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "auth.h"
#include "http/descriptors.h"
#include "http/routes.h"
#include "regsuite/common/signing.h"

namespace regsuite::gateway {
namespace {

constexpr char kMethod[] = "/regsuite.credit.v1.CreditService/CheckSubject";
constexpr char kSecret[] = "bench-secret-not-a-real-one-0123456789";

ClientSnapshot Clients() {
  ClientSnapshot s;
  for (auto method : {common::SignatureMethod::kHmacSha256, common::SignatureMethod::kHmacSm3}) {
    Client c;
    c.app_key = std::string(common::SignatureMethodName(method));
    c.secret = kSecret;
    c.signature_method = method;
    c.access = {{"regsuite.credit.v1.CreditService/*", 0}};
    s.by_app_key[c.app_key] = c;
  }
  return s;
}

IncomingCall Signed(common::SignatureMethod method, const std::string& body, absl::Time now) {
  IncomingCall call;
  call.grpc_method = kMethod;
  call.signed_method = "POST";
  call.signed_path = kMethod;
  call.signed_body = body;
  call.request_bytes = body;
  const std::string ts = absl::StrCat(absl::ToUnixSeconds(now));
  const std::string nonce = common::NewNonce();
  const std::string name(common::SignatureMethodName(method));
  const std::string to_sign = common::StringToSign("POST", kMethod, "", ts, nonce,
                                                   common::BodyDigestHex(method, body));
  call.headers = {{"x-app-key", name},
                  {"x-timestamp", ts},
                  {"x-nonce", nonce},
                  {"x-signature-method", name},
                  {"x-signature", common::SignatureBase64(method, kSecret, to_sign)}};
  return call;
}

void BM_VerifySignature(benchmark::State& state, common::SignatureMethod method) {
  const ClientSnapshot clients = Clients();
  const Authenticator auth(absl::Seconds(300));
  const absl::Time now = absl::Now();
  const IncomingCall call = Signed(method, std::string(static_cast<size_t>(state.range(0)), 'b'), now);
  std::string reason;
  for (auto _ : state) {
    auto verified = auth.Verify(clients, call, now, &reason);
    if (!verified.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(verified);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK_CAPTURE(BM_VerifySignature, hmac_sha256, common::SignatureMethod::kHmacSha256)
    ->Arg(64)->Arg(4096);
BENCHMARK_CAPTURE(BM_VerifySignature, hmac_sm3, common::SignatureMethod::kHmacSm3)
    ->Arg(64)->Arg(4096);

void BM_MatchRoute(benchmark::State& state, const char* http_method, const char* path) {
  auto api = ApiDescriptors::Embedded();
  auto table = api.ok() ? HttpRouteTable::Build(**api) : api.status();
  if (!table.ok()) {
    state.SkipWithError("route table did not build");
    return;
  }
  for (auto _ : state) {
    RouteMatch match = (*table)->Match(http_method, path);
    benchmark::DoNotOptimize(match);
  }
}
BENCHMARK_CAPTURE(BM_MatchRoute, get_subject, "GET", "/v1/credit/subjects/91350100M000100Y43");
BENCHMARK_CAPTURE(BM_MatchRoute, list_listings, "GET", "/v1/credit/listings");
BENCHMARK_CAPTURE(BM_MatchRoute, no_route, "GET", "/v1/nothing/here/at/all");

}  // namespace
}  // namespace regsuite::gateway

BENCHMARK_MAIN();
