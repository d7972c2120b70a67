#include "disclosure_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "overdue.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/log.h"

namespace regsuite::disclosure {
namespace {

using common::RunBlocking;

// Runs `fn` (returning StatusOr<T>) on the workers and copies the value into `response`.
template <typename Response, typename Fn>
grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* ctx, common::WorkerPool& pool,
                                  Response* response, Fn fn) {
  return RunBlocking(ctx, pool, [response, fn = std::move(fn)]() -> absl::Status {
    auto result = fn();
    if (!result.ok()) return result.status();
    *response = *std::move(result);
    return absl::OkStatus();
  });
}

absl::StatusOr<absl::CivilDay> DayOrToday(const std::string& text, absl::string_view field,
                                          const common::Clock& clock) {
  if (text.empty()) return clock.Today();
  auto day = common::ParseDate(text);
  if (!day.ok()) return common::FieldError(field, "is not a YYYY-MM-DD date");
  return *day;
}

}  // namespace

absl::StatusOr<v1::ExpireRecordsResponse> ExpirySweep::RunOnce(absl::CivilDay as_of) {
  v1::ExpireRecordsResponse response;
  auto expired = publications_.Expire(as_of);
  if (!expired.ok()) return expired.status();
  for (auto& id : *expired) response.add_expired_index_nos(id);
  auto closed = requests_.CloseLapsedCorrections(as_of);
  if (!closed.ok()) return closed.status();
  for (auto& id : *closed) response.add_closed_request_ids(id);
  return response;
}

void ExpirySweep::Start(absl::Duration interval, const common::Clock& clock) {
  thread_ = std::thread([this, interval, &clock] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      auto result = RunOnce(clock.Today());
      if (!result.ok()) {
        common::LogInfo("disclosure sweep failed; retrying next interval",
                        {{"error", std::string(result.status().message())}});
      } else if (result->expired_index_nos_size() + result->closed_request_ids_size() > 0) {
        common::LogInfo("disclosure sweep",
                        {{"expired", std::to_string(result->expired_index_nos_size())},
                         {"closed_requests", std::to_string(result->closed_request_ids_size())}});
      }
      lock.lock();
      cv_.wait_for(lock, absl::ToChronoMilliseconds(interval), [this] { return stopping_; });
    }
  });
}

void ExpirySweep::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

DisclosureService::DisclosureService(common::ServiceContext& ctx, DisclosureSettings settings)
    : ctx_(ctx),
      settings_(std::move(settings)),
      publications_(ctx.pg, settings_, ctx.calendar, ctx.clock),
      requests_(ctx.pg, settings_, ctx.calendar, ctx.clock),
      reports_(ctx.pg, settings_, ctx.clock),
      intake_(publications_),
      sweep_(publications_, requests_) {}

DisclosureService::~DisclosureService() { sweep_.Stop(); }

void DisclosureService::StartBackgroundJobs() {
  if (settings_.expiry_job_enabled) sweep_.Start(settings_.expiry_job_interval, ctx_.clock);
}

grpc::ServerUnaryReactor* DisclosureService::PublishRecord(grpc::CallbackServerContext* ctx,
                                                           const v1::PublishRecordRequest* request,
                                                           v1::PublishedRecord* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return publications_.Publish(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::GetRecord(grpc::CallbackServerContext* ctx,
                                                       const v1::GetRecordRequest* request,
                                                       v1::PublishedRecord* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return publications_.Get(request->index_no()); });
}

grpc::ServerUnaryReactor* DisclosureService::SearchRecords(grpc::CallbackServerContext* ctx,
                                                           const v1::SearchRecordsRequest* request,
                                                           v1::SearchRecordsResponse* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return publications_.Search(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::ReviewRecord(grpc::CallbackServerContext* ctx,
                                                          const v1::ReviewRecordRequest* request,
                                                          v1::PublishedRecord* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return publications_.Review(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::WithdrawRecord(
    grpc::CallbackServerContext* ctx, const v1::WithdrawRecordRequest* request,
    v1::PublishedRecord* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return publications_.Withdraw(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::ExpireRecords(grpc::CallbackServerContext* ctx,
                                                           const v1::ExpireRecordsRequest* request,
                                                           v1::ExpireRecordsResponse* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request]() -> absl::StatusOr<v1::ExpireRecordsResponse> {
                   auto as_of = DayOrToday(request->as_of_date(), "as_of_date", ctx_.clock);
                   if (!as_of.ok()) return as_of.status();
                   return sweep_.RunOnce(*as_of);
                 });
}

grpc::ServerUnaryReactor* DisclosureService::ListOverdue(grpc::CallbackServerContext* ctx,
                                                         const v1::ListOverdueRequest* request,
                                                         v1::ListOverdueResponse* response) {
  return Respond(
      ctx, ctx_.workers, response, [this, request]() -> absl::StatusOr<v1::ListOverdueResponse> {
        auto as_of = DayOrToday(request->as_of_date(), "as_of_date", ctx_.clock);
        if (!as_of.ok()) return as_of.status();
        if (request->page_size() < 0)
          return common::FieldError("page_size", "must not be negative");
        int offset = 0;
        if (!request->page_token().empty() &&
            (!absl::SimpleAtoi(request->page_token(), &offset) || offset < 0)) {
          return common::FieldError("page_token", "is not a token this service issued");
        }
        // Items due within the warning window are listed too (approaching their deadline).
        auto cutoff = ctx_.calendar->AddWorkingDays(*as_of, settings_.overdue_warning_wd);
        if (!cutoff.ok()) return cutoff.status();
        auto records = publications_.PendingDueBy(*cutoff);
        if (!records.ok()) return records.status();
        auto open = requests_.OpenDueBy(*cutoff);
        if (!open.ok()) return open.status();
        auto items = BuildOverdueList(*records, *open, *as_of, *ctx_.calendar);
        if (!items.ok()) return items.status();
        const int page_size = request->page_size() == 0 ? 50 : std::min(request->page_size(), 500);
        v1::ListOverdueResponse out;
        for (int i = offset; i < static_cast<int>(items->size()) && i < offset + page_size; ++i) {
          *out.add_items() = (*items)[i];
        }
        if (offset + page_size < static_cast<int>(items->size())) {
          out.set_next_page_token(std::to_string(offset + page_size));
        }
        return out;
      });
}

grpc::ServerUnaryReactor* DisclosureService::SubmitInfoRequest(
    grpc::CallbackServerContext* ctx, const v1::SubmitInfoRequestRequest* request,
    v1::InfoRequest* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.Submit(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::GetInfoRequest(
    grpc::CallbackServerContext* ctx, const v1::GetInfoRequestRequest* request,
    v1::InfoRequest* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.Get(request->request_id()); });
}

grpc::ServerUnaryReactor* DisclosureService::ListInfoRequests(
    grpc::CallbackServerContext* ctx, const v1::ListInfoRequestsRequest* request,
    v1::ListInfoRequestsResponse* response) {
  return Respond(ctx, ctx_.workers, response, [this, request] { return requests_.List(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::RequestCorrection(
    grpc::CallbackServerContext* ctx, const v1::RequestCorrectionRequest* request,
    v1::InfoRequest* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.RequestCorrection(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::SubmitCorrection(
    grpc::CallbackServerContext* ctx, const v1::SubmitCorrectionRequest* request,
    v1::InfoRequest* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.SubmitCorrection(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::ExtendInfoRequest(
    grpc::CallbackServerContext* ctx, const v1::ExtendInfoRequestRequest* request,
    v1::InfoRequest* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.Extend(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::StartConsultation(
    grpc::CallbackServerContext* ctx, const v1::StartConsultationRequest* request,
    v1::InfoRequest* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.StartConsultation(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::FinishConsultation(
    grpc::CallbackServerContext* ctx, const v1::FinishConsultationRequest* request,
    v1::InfoRequest* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.FinishConsultation(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::ReplyInfoRequest(
    grpc::CallbackServerContext* ctx, const v1::ReplyInfoRequestRequest* request,
    v1::InfoRequest* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.Reply(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::RecordAppeal(grpc::CallbackServerContext* ctx,
                                                          const v1::RecordAppealRequest* request,
                                                          v1::Appeal* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return requests_.RecordAppeal(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::GetAnnualReport(
    grpc::CallbackServerContext* ctx, const v1::GetAnnualReportRequest* request,
    v1::AnnualReport* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return reports_.Get(request->year()); });
}

grpc::ServerUnaryReactor* DisclosureService::UpdateAnnualReportNotes(
    grpc::CallbackServerContext* ctx, const v1::UpdateAnnualReportNotesRequest* request,
    v1::AnnualReport* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request] { return reports_.UpdateNotes(*request); });
}

grpc::ServerUnaryReactor* DisclosureService::DeliverEvent(grpc::CallbackServerContext* ctx,
                                                          const events::v1::EventEnvelope* request,
                                                          events::v1::EventAck* response) {
  return Respond(ctx, ctx_.workers, response, [this, request] {
    return common::ApplyDeliveredEvent(ctx_.pg, *request, IntakeEffect());
  });
}

grpc::ServerUnaryReactor* DisclosureService::DeliverEvents(grpc::CallbackServerContext* ctx,
                                                           const events::v1::EventBatch* request,
                                                           events::v1::EventBatchAck* response) {
  return Respond(ctx, ctx_.workers, response,
                 [this, request]() -> absl::StatusOr<events::v1::EventBatchAck> {
                   return common::ApplyDeliveredEvents(ctx_.pg, *request, IntakeEffect());
                 });
}

common::EventEffect DisclosureService::IntakeEffect() {
  return [this](pqxx::work& txn, const events::v1::EventEnvelope& envelope) {
    return intake_.Apply(txn, envelope);
  };
}

}  // namespace regsuite::disclosure
