#include "credit_service.h"

#include "absl/strings/str_cat.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/log.h"
#include "regsuite/common/metrics.h"

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
                                     CheckBatcher* batcher, LocalCache* local)
    : logic_(logic), workers_(workers), batcher_(batcher), local_(local) {}

// The hot path: a subject in the local cache is answered right here, on gRPC's thread. Else
// the batcher reads Redis (one MGET shared with the calls queued beside it) and finishes the
// call from there; only a miss takes a worker to read PostgreSQL. Both fill the local cache.
grpc::ServerUnaryReactor* CreditServiceImpl::CheckSubject(grpc::CallbackServerContext* ctx,
                                                          const v1::CheckSubjectRequest* request,
                                                          v1::SubjectStatus* response) {
  // Built only when PostgreSQL must answer: a cached hit carries nothing but a few pointers.
  auto from_database = [this, request, response] {
    return IntoResponse(response, [this, request] { return logic_.CheckSubject(*request); });
  };
  auto uscc = common::Uscc::Parse(request->uscc());
  if (batcher_ == nullptr || !uscc.ok()) {
    // An invalid code gets its INVALID_ARGUMENT from the same place as every other path.
    return common::RunBlocking(ctx, workers_, from_database());
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  uint64_t ticket = 0;
  if (local_ != nullptr) {
    if (auto hit = local_->Get(uscc->str(), logic_.clock().Today())) {
      *response = *hit;
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    ticket = local_->Ticket(uscc->str());
  }
  batcher_->Lookup(uscc->str(), [this, ctx, reactor, response, ticket,
                                 from_database](std::optional<v1::SubjectStatus> cached) {
    if (cached.has_value()) {
      if (local_ != nullptr) local_->Put(ticket, *cached);
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
RS_CREDIT_METHOD(DeliverEvents, events::v1::EventBatch, events::v1::EventBatchAck)

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
  std::unique_ptr<LocalCache> local;     // nullptr when credit.local_cache_enabled is false
  std::unique_ptr<LocalCacheSync> sync;  // after local: unsubscribes before it goes
  std::unique_ptr<CreditLogic> logic;
  std::unique_ptr<CheckBatcher> batcher;  // after cache: stops before it goes
  std::unique_ptr<ExpiryJob> expiry;
};

struct CreditRuntimeHolder {
  explicit CreditRuntimeHolder(std::unique_ptr<CreditRuntime> r) : runtime(std::move(r)) {}
  std::unique_ptr<CreditRuntime> runtime;
};

void ExportLocalCacheMetrics(common::MetricsRegistry& metrics, LocalCacheSync& sync) {
  constexpr char kPrefix[] = "regsuite_credit_local_cache";
  const std::string hits = absl::StrCat(kPrefix, "_hits_total");
  const std::string misses = absl::StrCat(kPrefix, "_misses_total");
  const std::string entries = absl::StrCat(kPrefix, "_entries");
  const std::string subscribed = absl::StrCat(kPrefix, "_subscribed");
  const std::string ack_timeouts = absl::StrCat(kPrefix, "_ack_timeouts_total");
  const std::string publish_failures = absl::StrCat(kPrefix, "_publish_failures_total");
  metrics.Describe(hits, "counter", "CheckSubject answers served from the in-process cache");
  metrics.Describe(misses, "counter", "in-process cache lookups that went on to Redis");
  metrics.Describe(entries, "gauge", "subjects held in the in-process cache");
  metrics.Describe(subscribed, "gauge",
                   "1 while the invalidation channel is subscribed (else the cache is bypassed)");
  metrics.Describe(ack_timeouts, "counter",
                   "changes returned before every replica acknowledged dropping its entries");
  metrics.Describe(publish_failures, "counter",
                   "changes whose invalidation could not be published to the other replicas");
  metrics.AddCollector([&sync, hits, misses, entries, subscribed, ack_timeouts,
                        publish_failures](common::MetricsRegistry& m) {
    const LocalCache::Stats s = sync.cache().stats();
    m.SetCounter(hits, {}, static_cast<double>(s.hits));
    m.SetCounter(misses, {}, static_cast<double>(s.misses));
    m.SetGauge(entries, {}, static_cast<double>(s.entries));
    m.SetGauge(subscribed, {}, sync.subscribed() ? 1 : 0);
    m.SetCounter(ack_timeouts, {}, static_cast<double>(sync.ack_timeouts()));
    m.SetCounter(publish_failures, {}, static_cast<double>(sync.publish_failures()));
  });
}

// The handlers together with what they use, so the server's service list owns it all and the
// expiry job stops before PostgreSQL and Redis clients go away.
class OwningCreditService final : private CreditRuntimeHolder, public CreditServiceImpl {
 public:
  OwningCreditService(std::unique_ptr<CreditRuntime> runtime, common::WorkerPool& workers)
      : CreditRuntimeHolder(std::move(runtime)),
        CreditServiceImpl(*this->runtime->logic, workers, this->runtime->batcher.get(),
                          this->runtime->local.get()) {}
};

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> MakeCreditServices(
    common::ServiceContext& context) {
  auto settings = ReadCreditSettings(context.config);
  if (!settings.ok()) return settings.status();
  auto runtime = std::make_unique<CreditRuntime>();
  runtime->cache = std::make_unique<SubjectCache>(context.redis, settings->cache_ttl);
  if (settings->local_cache_enabled) {
    runtime->local = std::make_unique<LocalCache>(settings->local_cache_max_entries);
    LocalCacheSync::Options options;
    options.redis = context.redis.options();
    options.ack_timeout = settings->local_cache_ack_timeout;
    runtime->sync = std::make_unique<LocalCacheSync>(*runtime->local, context.redis, options);
    ExportLocalCacheMetrics(context.metrics, *runtime->sync);
  }
  runtime->logic = std::make_unique<CreditLogic>(context.pg, runtime->cache.get(), context.clock,
                                                 context.calendar, *settings, runtime->sync.get());
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
