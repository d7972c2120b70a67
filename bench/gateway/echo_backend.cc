// A minimal gRPC backend for the gateway's benchmark and its streaming e2e check: a callback
// generic service that never parses a message.
//   /<anything>/Echo   unary: answers with the request bytes; the x-deadline-ms trailer tells how
//                      much of the call's deadline was left on arrival (to check propagation)
//   /<anything>/Sleep  unary: the request is a decimal number of milliseconds to wait before
//                      answering (at most 10000)
//   /<anything>/Count  server streaming: the request is a decimal count N, optionally followed by
//                      "!" ; answers N messages "message <i>" (i = 1..N) one at a time, each written
//                      after the previous one left, then OK, or ABORTED when "!" was given
//   /grpc.health.v1.Health/Check  SERVING
// Every answer carries the caller's x-caller back in the x-seen-caller trailer.
// Usage: gateway_echo_backend HOST:PORT
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/strip.h"

namespace {

std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer Buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

class Reactor : public grpc::ServerGenericBidiReactor {
 public:
  explicit Reactor(grpc::GenericCallbackServerContext* ctx) : ctx_(ctx) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    auto caller = ctx_->client_metadata().find("x-caller");
    if (caller != ctx_->client_metadata().end()) {
      ctx_->AddTrailingMetadata("x-seen-caller",
                                std::string(caller->second.data(), caller->second.size()));
    }
    const std::string& method = ctx_->method();
    if (method == "/grpc.health.v1.Health/Check") {
      response_ = Buffer(std::string("\x08\x01", 2));  // HealthCheckResponse{status: SERVING}
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    } else if (absl::EndsWith(method, "/Echo")) {
      if (ctx_->deadline() != std::chrono::system_clock::time_point::max()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            ctx_->deadline() - std::chrono::system_clock::now());
        ctx_->AddTrailingMetadata("x-deadline-ms", absl::StrCat(left.count()));
      }
      StartWriteAndFinish(&request_, grpc::WriteOptions(), grpc::Status::OK);
    } else if (absl::EndsWith(method, "/Sleep")) {
      int ms = 0;
      if (!absl::SimpleAtoi(Bytes(request_), &ms) || ms < 0 || ms > 10000) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "sleep: 0..10000 ms expected"));
        return;
      }
      // A test backend: a thread per sleeping call is fine here.
      std::thread([this, ms] {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        StartWriteAndFinish(&request_, grpc::WriteOptions(), grpc::Status::OK);
      }).detach();
    } else if (absl::EndsWith(method, "/Count")) {
      absl::string_view text = Bytes(request_);
      fail_ = absl::ConsumeSuffix(&text, "!");
      if (!absl::SimpleAtoi(text, &count_) || count_ < 0 || count_ > 100000) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "count: 0..100000 expected"));
        return;
      }
      ctx_->AddInitialMetadata("x-backend", "echo");
      WriteNext();
    } else {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, absl::StrCat(method, ": unknown")));
    }
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "caller gone"));
      return;
    }
    WriteNext();
  }

  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (sent_ == count_) {
      ctx_->AddTrailingMetadata("x-stream-count", absl::StrCat(sent_));
      Finish(fail_ ? grpc::Status(grpc::StatusCode::ABORTED, absl::StrCat("stopped after ", sent_))
                   : grpc::Status::OK);
      return;
    }
    ++sent_;
    response_ = Buffer(absl::StrCat("message ", sent_));
    StartWrite(&response_);
  }

  grpc::GenericCallbackServerContext* ctx_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  int count_ = 0;
  int sent_ = 0;
  bool fail_ = false;
};

class Service : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new Reactor(ctx);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
    return 2;
  }
  // As in the gateway: no Abseil deadlock detection (Debian builds it on) in the hot path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Blocked before gRPC starts its threads, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Service service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(argv[1], grpc::InsecureServerCredentials());
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::fprintf(stderr, "cannot listen on %s\n", argv[1]);
    return 1;
  }
  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
