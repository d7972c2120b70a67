// Load generator for bench/gateway: an asynchronous gRPC client (one completion queue, generic
// stub, raw bytes) that keeps a fixed number of unary calls in flight for a fixed time and
// prints requests/s and latency percentiles. With --app-key it signs every request as API.md
// says (common::GatewayClient::Sign: a fresh nonce and the current timestamp each time).
//
//   gateway_loadgen --target 127.0.0.1:7000 --method /regsuite.bench.v1.Bench/Echo
//                   [--concurrency 32] [--connections 2] [--seconds 10] [--warmup 2]
//                   [--payload-bytes 64 | --requests-file FILE] [--app-key KEY --secret-file FILE
//                   [--sign-method HMAC-SHA256|HMAC-SM3]] [--label NAME] [--rate R]
//                   [--timeline 1]
// --rate R: open loop instead — call n starts at begin + n/R whatever is still in flight, and
// its latency counts from that scheduled moment, so a slow server cannot hold the offered rate
// down (no coordinated omission). Every call scheduled in the measured window counts, however
// late it completes; the first column is then the rate of calls completed OK over the window.
// --requests-file: serialized requests, each preceded by its varint length (protobuf's
// length-delimited stream); calls take them in turn (bench/credit: one subject after another).
// Output (one line): label rps p50_ms p99_ms ok errors [first error]
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/gateway_client.h"
#include "regsuite/common/signing.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string target = "127.0.0.1:7000";
  std::string method = "/regsuite.bench.v1.Bench/Echo";
  int concurrency = 32;
  int connections = 2;
  double seconds = 10;
  double warmup = 2;
  int payload_bytes = 64;
  std::string requests_file;
  std::string app_key;
  std::string secret;
  regsuite::common::SignatureMethod sign_method = regsuite::common::SignatureMethod::kHmacSha256;
  std::string label = "run";
  double rate = 0;  // calls per second, open loop; 0 = closed loop at --concurrency
  bool timeline = false;  // per measured second: calls, p50, max (stderr)
};

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr, "gateway_loadgen: %s\n", problem.c_str());
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) Usage(absl::StrCat(argv[i], ": value missing"));
    args[argv[i]] = argv[i + 1];
  }
  auto integer = [&](const char* name, int* out) {
    if (auto it = args.find(name); it != args.end() && (!absl::SimpleAtoi(it->second, out) || *out <= 0)) {
      Usage(absl::StrCat(name, ": positive integer expected"));
    }
  };
  auto real = [&](const char* name, double* out) {
    if (auto it = args.find(name); it != args.end() && (!absl::SimpleAtod(it->second, out) || *out < 0)) {
      Usage(absl::StrCat(name, ": number expected"));
    }
  };
  integer("--concurrency", &o.concurrency);
  integer("--connections", &o.connections);
  integer("--payload-bytes", &o.payload_bytes);
  real("--seconds", &o.seconds);
  real("--warmup", &o.warmup);
  real("--rate", &o.rate);
  if (auto it = args.find("--timeline"); it != args.end()) o.timeline = it->second == "1";
  if (args.count("--target")) o.target = args["--target"];
  if (args.count("--method")) o.method = args["--method"];
  if (args.count("--label")) o.label = args["--label"];
  if (args.count("--requests-file")) o.requests_file = args["--requests-file"];
  if (args.count("--app-key")) {
    o.app_key = args["--app-key"];
    std::ifstream in(args["--secret-file"]);
    std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    o.secret = std::string(absl::StripAsciiWhitespace(secret));
    if (o.secret.empty()) Usage("--secret-file: empty or unreadable");
    auto method = regsuite::common::ParseSignatureMethod(args["--sign-method"]);
    if (!method.ok()) Usage(std::string(method.status().message()));
    o.sign_method = *method;
  }
  return o;
}

// The request bodies: the --requests-file messages, or one payload of --payload-bytes.
std::vector<std::string> LoadRequests(const Options& o) {
  if (o.requests_file.empty()) return {std::string(static_cast<size_t>(o.payload_bytes), 'x')};
  std::ifstream in(o.requests_file, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  size_t at = 0;
  while (at < data.size()) {
    uint64_t length = 0;
    int shift = 0;
    while (at < data.size() && shift < 64) {
      const auto byte = static_cast<unsigned char>(data[at++]);
      length |= static_cast<uint64_t>(byte & 0x7F) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (length > data.size() - at) Usage("--requests-file: truncated message");
    out.push_back(data.substr(at, length));
    at += length;
  }
  if (out.empty()) Usage("--requests-file: no requests (empty or unreadable)");
  return out;
}

struct Call {
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  Clock::time_point started;
};

}  // namespace

int main(int argc, char** argv) {
  // As in the gateway: no Abseil deadlock detection (Debian builds it on) in the hot path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const Options o = Parse(argc, argv);
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int i = 0; i < o.connections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one HTTP/2 connection per channel
    args.SetInt("regsuite.loadgen.connection", i);
    stubs.push_back(std::make_unique<grpc::GenericStub>(
        grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args)));
  }
  const std::vector<std::string> bodies = LoadRequests(o);
  std::vector<grpc::ByteBuffer> requests;
  for (const std::string& body : bodies) {
    grpc::Slice slice(body);
    requests.emplace_back(&slice, 1);
  }
  // Signing exactly as the services sign their calls through the gateway (fresh nonce each).
  std::unique_ptr<regsuite::common::GatewayClient> signer;
  if (!o.app_key.empty()) {
    signer = std::make_unique<regsuite::common::GatewayClient>(
        nullptr, regsuite::common::ServiceIdentity{o.app_key, o.secret, o.sign_method},
        absl::Seconds(10), regsuite::common::SystemClock::Get());
  }

  grpc::CompletionQueue cq;
  const Clock::time_point begin = Clock::now();
  const Clock::time_point measure_from =
      begin + std::chrono::microseconds(static_cast<int64_t>(o.warmup * 1e6));
  const Clock::time_point end =
      measure_from + std::chrono::microseconds(static_cast<int64_t>(o.seconds * 1e6));
  int64_t issued = 0;
  // `started`: when the call counts from: its scheduled moment in open loop, else (a default
  // time point) the moment it is sent.
  auto start_call = [&](Clock::time_point started) {
    auto* call = new Call;
    const size_t which = static_cast<size_t>(issued) % bodies.size();
    if (o.rate > 0 && issued == static_cast<int64_t>(bodies.size())) {
      std::fprintf(stderr, "gateway_loadgen: --requests-file exhausted, requests repeat\n");
    }
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (signer != nullptr) signer->Sign(call->context, o.method, bodies[which]);
    call->started = started == Clock::time_point{} ? Clock::now() : started;
    call->reader = stubs[static_cast<size_t>(issued++ % o.connections)]->PrepareUnaryCall(
        &call->context, o.method, requests[which], &cq);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
  };

  std::vector<uint32_t> latencies_us;
  latencies_us.reserve(1 << 20);
  std::map<int64_t, std::vector<uint32_t>> by_second;  // --timeline: second of start → µs
  int64_t ok = 0, errors = 0, in_flight = 0;
  std::string first_error;
  auto record = [&](Call* call, Clock::time_point now) {
    // Closed loop: calls started and finished inside the window. Open loop: calls scheduled
    // inside it, whenever they finish.
    if (call->started < measure_from || call->started >= end) return;
    if (o.rate <= 0 && now > end) return;
    if (call->status.ok()) {
      ++ok;
      latencies_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - call->started).count()));
      if (o.timeline) {
        by_second[std::chrono::duration_cast<std::chrono::seconds>(call->started - measure_from)
                      .count()]
            .push_back(latencies_us.back());
      }
    } else {
      ++errors;
      if (first_error.empty()) {
        first_error = absl::StrCat(call->status.error_code(), " ", call->status.error_message());
      }
    }
  };
  void* tag = nullptr;
  bool cq_ok = false;
  if (o.rate > 0) {
    const auto interval = std::chrono::duration<double>(1.0 / o.rate);
    auto due = [&] {
      return begin + std::chrono::duration_cast<Clock::duration>(interval * issued);
    };
    while (true) {
      const Clock::time_point now = Clock::now();
      while (due() <= now && due() < end) {
        start_call(due());
        ++in_flight;
      }
      if (due() >= end && in_flight == 0) break;
      const Clock::time_point wake = due() < end ? due() : now + std::chrono::seconds(1);
      const auto next = cq.AsyncNext(&tag, &cq_ok,  // gRPC takes system_clock deadlines
                                     std::chrono::system_clock::now() + (wake - Clock::now()));
      if (next == grpc::CompletionQueue::SHUTDOWN) break;
      if (next != grpc::CompletionQueue::GOT_EVENT) continue;
      auto* call = static_cast<Call*>(tag);
      record(call, Clock::now());
      delete call;
      --in_flight;
    }
  } else {
    for (int i = 0; i < o.concurrency; ++i) start_call({});
    in_flight = o.concurrency;
    while (in_flight > 0 && cq.Next(&tag, &cq_ok)) {
      auto* call = static_cast<Call*>(tag);
      const Clock::time_point now = Clock::now();
      record(call, now);
      delete call;
      if (now < end) {
        start_call({});
      } else {
        --in_flight;
      }
    }
  }
  for (auto& [second, values] : by_second) {
    std::sort(values.begin(), values.end());
    std::fprintf(stderr, "second %lld: %zu calls, p50 %.1f ms, max %.1f ms\n",
                 static_cast<long long>(second), values.size(), values[values.size() / 2] / 1000.0,
                 values.back() / 1000.0);
  }
  std::sort(latencies_us.begin(), latencies_us.end());
  auto percentile = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    size_t i = static_cast<size_t>(p * static_cast<double>(latencies_us.size() - 1));
    return latencies_us[i] / 1000.0;
  };
  std::printf("%s %.0f %.2f %.2f %lld %lld%s%s\n", o.label.c_str(),
              static_cast<double>(ok) / o.seconds, percentile(0.50), percentile(0.99),
              static_cast<long long>(ok), static_cast<long long>(errors),
              first_error.empty() ? "" : " ", first_error.c_str());
  return ok > 0 ? 0 : 1;
}
