#pragma once
// The credit check behind 告知承诺 / 秒批: CreditService.CheckSubject through the gateway, cached
// briefly in Redis, invalidated when credit announces a listing change.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "regsuite/common/gateway_client.h"
#include "regsuite/common/redis.h"
#include "rules.h"

namespace regsuite::licensing {

/// Source of a subject's credit standing; UNAVAILABLE (or any error) means "unknown".
class CreditChecker {
 public:
  virtual ~CreditChecker() = default;
  virtual absl::StatusOr<CreditStanding> Check(const std::string& uscc) = 0;
  /// Forgets any cached answer for the subject (ListingChanged).
  virtual void Invalidate(const std::string& uscc) = 0;
};

inline constexpr char kCheckSubjectMethod[] = "/regsuite.credit.v1.CreditService/CheckSubject";
inline constexpr char kNoCommitmentApprovalMeasure[] = "NO_COMMITMENT_APPROVAL";

/// CheckSubject through the gateway (nullptr gateway: always UNAVAILABLE), answers cached in
/// Redis under `licensing:credit:<uscc>` for `cache_ttl`. A Redis failure only skips the cache.
class GatewayCreditChecker final : public CreditChecker {
 public:
  GatewayCreditChecker(common::GatewayClient* gateway, common::RedisClient* redis,
                       absl::Duration cache_ttl, absl::Duration call_timeout)
      : gateway_(gateway), redis_(redis), cache_ttl_(cache_ttl), call_timeout_(call_timeout) {}

  absl::StatusOr<CreditStanding> Check(const std::string& uscc) override;
  void Invalidate(const std::string& uscc) override;

  static std::string CacheKey(absl::string_view uscc);

 private:
  common::GatewayClient* gateway_;
  common::RedisClient* redis_;
  absl::Duration cache_ttl_;
  absl::Duration call_timeout_;
};

}  // namespace regsuite::licensing
