#include "event_receiver.h"

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/events.h"
#include "regsuite/common/outbox.h"
#include "regsuite/events/v1/events.pb.h"
#include "test_env.h"

namespace regsuite::testing {
namespace {

constexpr char kInsertEffect[] =
    "INSERT INTO effects (event_id, aggregate_id, seq) VALUES ($1, $2, $3)";

class DeliverReactor : public grpc::ServerGenericBidiReactor {
 public:
  DeliverReactor(EventReceiver* receiver, common::WorkerPool* workers, std::string method)
      : receiver_(receiver), workers_(workers), method_(std::move(method)) {
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: missing"));
      return;
    }
    // The effect is database work: off the callback thread.
    workers_->TrySubmit([this] {
      std::vector<grpc::Slice> slices;
      request_.Dump(&slices);
      std::string body;
      for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
      std::string ack;
      grpc::Status status = receiver_->Handle(method_, body, &ack);
      if (!status.ok()) {
        Finish(status);
        return;
      }
      grpc::Slice slice(ack);
      response_ = grpc::ByteBuffer(&slice, 1);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    });
  }
  void OnDone() override { delete this; }

 private:
  EventReceiver* receiver_;
  common::WorkerPool* workers_;
  const std::string method_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

class EventReceiver::Service : public grpc::CallbackGenericService {
 public:
  Service(EventReceiver* receiver, common::WorkerPool* workers)
      : receiver_(receiver), workers_(workers) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new DeliverReactor(receiver_, workers_, ctx->method());
  }

 private:
  EventReceiver* receiver_;
  common::WorkerPool* workers_;
};

EventReceiver::EventReceiver(std::string schema, absl::Duration per_call_delay,
                             bool accepts_batches)
    : schema_(std::move(schema)),
      delay_(per_call_delay),
      accepts_batches_(accepts_batches),
      pool_(TestPgOptions(schema_)) {
  auto created = pool_.Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec(absl::StrCat("CREATE SCHEMA ", txn.quote_name(schema_)));
    txn.exec(absl::StrCat("SET LOCAL search_path TO ", txn.quote_name(schema_)));
    txn.exec("CREATE TABLE inbox (event_id uuid PRIMARY KEY, source_service text NOT NULL,"
             " event_type text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())");
    txn.exec("CREATE TABLE effects (n bigserial PRIMARY KEY, event_id uuid NOT NULL,"
             " aggregate_id text NOT NULL, seq integer NOT NULL)");
    return absl::OkStatus();
  });
  if (!created.ok()) throw std::runtime_error(created.ToString());
  service_ = std::make_unique<Service>(this, &workers_);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(service_.get());
  server_ = builder.BuildAndStart();
  address_ = absl::StrCat("127.0.0.1:", port);
}

EventReceiver::~EventReceiver() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  workers_.Shutdown();
}

void EventReceiver::LoseAckOnce(const std::string& event_id) {
  std::lock_guard lock(mu_);
  lose_ack_.insert(event_id);
}

void EventReceiver::RejectOnce(const std::string& event_id) { RejectTimes(event_id, 1); }

void EventReceiver::RejectTimes(const std::string& event_id, int times) {
  std::lock_guard lock(mu_);
  reject_[event_id] = times;
}

absl::Status EventReceiver::Effect(pqxx::work& txn, const events::v1::EventEnvelope& envelope) {
  {
    std::lock_guard lock(mu_);
    auto it = reject_.find(envelope.event_id());
    if (it != reject_.end()) {
      if (--it->second == 0) reject_.erase(it);
      return absl::UnavailableError("injected: rejected before effect");
    }
  }
  txn.exec_params(kInsertEffect, envelope.event_id(), envelope.aggregate_id(),
                  std::stoi(envelope.payload()));
  return absl::OkStatus();
}

grpc::Status EventReceiver::Handle(const std::string& method, const std::string& body,
                                   std::string* ack) {
  const bool batch = absl::EndsWith(method, "/DeliverEvents");
  if (batch && !accepts_batches_) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no DeliverEvents here");
  }
  ++calls_;
  if (delay_ > absl::ZeroDuration()) std::this_thread::sleep_for(absl::ToChronoMilliseconds(delay_));
  auto effect = [this](pqxx::work& txn, const events::v1::EventEnvelope& envelope) {
    return Effect(txn, envelope);
  };
  std::string first_event_id;
  std::string reply;
  if (batch) {
    events::v1::EventBatch request;
    if (!request.ParseFromString(body)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: not an EventBatch");
    }
    ++batch_calls_;
    batch_events_ += request.events_size();
    auto answer = common::ApplyDeliveredEvents(pool_, request, effect);
    for (const auto& r : answer.results()) duplicates_ += r.duplicate() ? 1 : 0;
    if (request.events_size() > 0) first_event_id = request.events(0).event_id();
    reply = answer.SerializeAsString();
  } else {
    events::v1::EventEnvelope envelope;
    if (!envelope.ParseFromString(body)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: not an EventEnvelope");
    }
    auto answer = common::ApplyDeliveredEvent(pool_, envelope, effect);
    if (!answer.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(answer.status().code()),
                          std::string(answer.status().message()));
    }
    if (answer->duplicate()) ++duplicates_;
    first_event_id = envelope.event_id();
    reply = answer->SerializeAsString();
  }
  {
    // A lost acknowledgement: the effect is applied, the answer never arrives.
    std::lock_guard lock(mu_);
    if (lose_ack_.erase(first_event_id) > 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected: ack lost");
    }
  }
  *ack = std::move(reply);
  return grpc::Status::OK;
}

int64_t EventReceiver::effects() {
  return *pool_.Transact([](pqxx::work& txn) -> absl::StatusOr<int64_t> {
    return txn.exec1("SELECT count(*) FROM effects")[0].as<int64_t>();
  });
}

int64_t EventReceiver::distinct_effects() {
  return *pool_.Transact([](pqxx::work& txn) -> absl::StatusOr<int64_t> {
    return txn.exec1("SELECT count(DISTINCT event_id) FROM effects")[0].as<int64_t>();
  });
}

std::vector<int> EventReceiver::SequenceOf(const std::string& aggregate_id) {
  return *pool_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<int>> {
    std::vector<int> out;
    for (const auto& row :
         txn.exec_params("SELECT seq FROM effects WHERE aggregate_id = $1 ORDER BY n", aggregate_id)) {
      out.push_back(row[0].as<int>());
    }
    return out;
  });
}

}  // namespace regsuite::testing
