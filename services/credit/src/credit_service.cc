#include "credit_service.h"

#include "regsuite/common/identifiers.h"
#include "regsuite/common/log.h"

namespace regsuite::credit {
namespace {

// `call` (returning absl::StatusOr<T>) as the worker pool's absl::Status work, moving the
// value into `response`.
template <typename Response, typename Call>
auto IntoResponse(Response* response, Call&& call) {
  return [response, call = std::forward<Call>(call)]() mutable -> absl::Status {
    auto result = call();
    if (!result.ok()) return result.status();
    *response = std::move(*result);
    return absl::OkStatus();
  };
}

// Runs `call` on the worker pool and copies the value out.
template <typename Response, typename Call>
grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx, common::WorkerPool& workers,
                                Response* response, Call&& call) {
  return common::RunBlocking(ctx, workers, IntoResponse(response, std::forward<Call>(call)));
}

}  // namespace

CreditServiceImpl::CreditServiceImpl(CreditLogic& logic, common::WorkerPool& workers,
                                     CheckBatcher* batcher)
    : logic_(logic), workers_(workers), batcher_(batcher) {}

// The hot path: a cached answer is read by the batcher (one MGET shared with the calls queued
// beside it) and the call finished from there; only a miss takes a worker to read PostgreSQL.
grpc::ServerUnaryReactor* CreditServiceImpl::CheckSubject(grpc::CallbackServerContext* ctx,
                                                          const v1::CheckSubjectRequest* request,
                                                          v1::SubjectStatus* response) {
  // Built only when PostgreSQL must answer: a cached hit carries nothing but four pointers.
  auto from_database = [this, request, response] {
    return IntoResponse(response, [this, request] { return logic_.CheckSubject(*request); });
  };
  auto uscc = common::Uscc::Parse(request->uscc());
  if (batcher_ == nullptr || !uscc.ok()) {
    // An invalid code gets its INVALID_ARGUMENT from the same place as every other path.
    return common::RunBlocking(ctx, workers_, from_database());
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  batcher_->Lookup(uscc->str(), [this, ctx, reactor, response, from_database](
                                    std::optional<v1::SubjectStatus> cached) {
    if (cached.has_value()) {
      *response = std::move(*cached);
      reactor->Finish(grpc::Status::OK);
      return;
    }
    common::FinishBlocking(ctx, reactor, workers_, from_database());
  });
  return reactor;
}

#define RS_CREDIT_METHOD(Method, Request, Response)                                             \
  grpc::ServerUnaryReactor* CreditServiceImpl::Method(                                          \
      grpc::CallbackServerContext* ctx, const Request* request, Response* response) {           \
    return Serve(ctx, workers_, response, [this, request] { return logic_.Method(*request); }); \
  }

RS_CREDIT_METHOD(BatchCheckSubjects, v1::BatchCheckSubjectsRequest, v1::BatchCheckSubjectsResponse)
RS_CREDIT_METHOD(GetCreditProfile, v1::GetCreditProfileRequest, v1::CreditProfile)
RS_CREDIT_METHOD(RecordCreditEvent, v1::RecordCreditEventRequest, v1::RecordCreditEventResponse)
RS_CREDIT_METHOD(ProposeListing, v1::ProposeListingRequest, v1::Listing)
RS_CREDIT_METHOD(NotifyListing, v1::NotifyListingRequest, v1::Listing)
RS_CREDIT_METHOD(RecordObjection, v1::RecordObjectionRequest, v1::Listing)
RS_CREDIT_METHOD(DecideListing, v1::DecideListingRequest, v1::Listing)
RS_CREDIT_METHOD(GetListing, v1::GetListingRequest, v1::Listing)
RS_CREDIT_METHOD(ListListings, v1::ListListingsRequest, v1::ListListingsResponse)
RS_CREDIT_METHOD(ExpireListings, v1::ExpireListingsRequest, v1::ExpireListingsResponse)
RS_CREDIT_METHOD(ApplyRepair, v1::ApplyRepairRequest, v1::Repair)
RS_CREDIT_METHOD(GetRepair, v1::GetRepairRequest, v1::Repair)
RS_CREDIT_METHOD(ListOverdueRepairs, v1::ListOverdueRepairsRequest, v1::ListOverdueRepairsResponse)
RS_CREDIT_METHOD(DecideRepair, v1::DecideRepairRequest, v1::Repair)
RS_CREDIT_METHOD(RevokeRepair, v1::RevokeRepairRequest, v1::Repair)
RS_CREDIT_METHOD(ListMeasures, v1::ListMeasuresRequest, v1::ListMeasuresResponse)
RS_CREDIT_METHOD(DeliverEvent, events::v1::EventEnvelope, events::v1::EventAck)

#undef RS_CREDIT_METHOD

ExpiryJob::ExpiryJob(CreditLogic& logic, absl::Duration interval)
    : logic_(logic), interval_(interval) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      auto result = logic_.ExpireListings(v1::ExpireListingsRequest());
      if (!result.ok()) {
        common::LogWarn("credit expiry job failed", {{"error", result.status().ToString()}});
      }
      lock.lock();
      cv_.wait_for(lock, absl::ToChronoNanoseconds(interval_), [this] { return stopping_; });
    }
  });
}

ExpiryJob::~ExpiryJob() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

namespace {

struct CreditRuntime {
  std::unique_ptr<SubjectCache> cache;
  std::unique_ptr<CreditLogic> logic;
  std::unique_ptr<CheckBatcher> batcher;  // after cache: stops before it goes
  std::unique_ptr<ExpiryJob> expiry;
};

struct CreditRuntimeHolder {
  explicit CreditRuntimeHolder(std::unique_ptr<CreditRuntime> r) : runtime(std::move(r)) {}
  std::unique_ptr<CreditRuntime> runtime;
};

// The handlers together with what they use, so the server's service list owns it all and the
// expiry job stops before PostgreSQL and Redis clients go away.
class OwningCreditService final : private CreditRuntimeHolder, public CreditServiceImpl {
 public:
  OwningCreditService(std::unique_ptr<CreditRuntime> runtime, common::WorkerPool& workers)
      : CreditRuntimeHolder(std::move(runtime)),
        CreditServiceImpl(*this->runtime->logic, workers, this->runtime->batcher.get()) {}
};

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> MakeCreditServices(
    common::ServiceContext& context) {
  auto settings = ReadCreditSettings(context.config);
  if (!settings.ok()) return settings.status();
  auto runtime = std::make_unique<CreditRuntime>();
  runtime->cache = std::make_unique<SubjectCache>(context.redis, settings->cache_ttl);
  runtime->logic = std::make_unique<CreditLogic>(context.pg, runtime->cache.get(), context.clock,
                                                 context.calendar, *settings);
  if (auto st = runtime->logic->Init(); !st.ok()) return st;
  runtime->batcher = std::make_unique<CheckBatcher>(*runtime->cache, context.clock);
  if (settings->expiry_interval > absl::ZeroDuration()) {
    runtime->expiry = std::make_unique<ExpiryJob>(*runtime->logic, settings->expiry_interval);
  }
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<OwningCreditService>(std::move(runtime), context.workers));
  return services;
}

}  // namespace regsuite::credit
