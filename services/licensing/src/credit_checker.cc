#include "credit_checker.h"

#include "absl/strings/str_cat.h"
#include "regsuite/common/log.h"
#include "regsuite/credit/v1/credit.pb.h"

namespace regsuite::licensing {

std::string GatewayCreditChecker::CacheKey(absl::string_view uscc) {
  return absl::StrCat("licensing:credit:", uscc);
}

absl::StatusOr<CreditStanding> GatewayCreditChecker::Check(const std::string& uscc) {
  if (redis_ != nullptr) {
    auto cached = redis_->Command({"GET", CacheKey(uscc)});
    if (cached.ok() && cached->type == common::RedisValue::Type::kString &&
        cached->str.size() == 2) {
      return CreditStanding{.no_commitment_approval = cached->str[0] == '1',
                            .black_list = cached->str[1] == '1'};
    }
  }
  if (gateway_ == nullptr) {
    return absl::UnavailableError("credit: no gateway configured");
  }
  credit::v1::CheckSubjectRequest request;
  request.set_uscc(uscc);
  credit::v1::SubjectStatus status;
  absl::Status call = gateway_->Call(kCheckSubjectMethod, request, &status, call_timeout_);
  if (!call.ok()) {
    common::LogWarn("credit check failed; normal review",
                    {{"uscc", uscc}, {"error", call.ToString()}});
    return call;
  }
  CreditStanding standing;
  standing.black_list = status.tier() == credit::v1::CREDIT_TIER_BLACK;
  for (const auto& measure : status.measures()) {
    if (measure.code() == kNoCommitmentApprovalMeasure) standing.no_commitment_approval = true;
  }
  if (redis_ != nullptr && cache_ttl_ > absl::ZeroDuration()) {
    std::string value = absl::StrCat(standing.no_commitment_approval ? "1" : "0",
                                     standing.black_list ? "1" : "0");
    (void)redis_->Command({"SET", CacheKey(uscc), value, "PX",
                           absl::StrCat(absl::ToInt64Milliseconds(cache_ttl_))});
  }
  return standing;
}

void GatewayCreditChecker::Invalidate(const std::string& uscc) {
  if (redis_ == nullptr) return;
  auto r = redis_->Command({"DEL", CacheKey(uscc)});
  if (!r.ok()) {
    common::LogWarn("credit cache invalidation failed", {{"uscc", uscc}});
  }
}

}  // namespace regsuite::licensing
