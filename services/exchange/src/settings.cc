#include "settings.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace regsuite::exchange {
namespace {

using common::ConfigType;

absl::Status KeyError(absl::string_view key, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(key, ": ", rule));
}

absl::Status CheckUrl(absl::string_view key, const std::string& url) {
  if (url.empty() || absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://"))
    return absl::OkStatus();
  return KeyError(key, "must be an http:// or https:// URL");
}

absl::StatusOr<int> PositiveInt(const common::Config& config, absl::string_view key, int max) {
  const int64_t value = config.GetInt(key);
  if (value < 1 || value > max) return KeyError(key, absl::StrCat("must be 1 to ", max));
  return static_cast<int>(value);
}

}  // namespace

void AddExchangeConfigKeys(common::ConfigSchema& schema) {
  schema
      .Add("push.url", ConfigType::kString, "",
           "platform batch endpoint, e.g. https://platform/api/v1/feed/batches; empty = no push")
      .Add("push.app_key", ConfigType::kString, "", "app key the platform issued to the bureau")
      .AddSecret("push.secret", "HMAC secret the platform issued (REGSUITE_PUSH_SECRET(_FILE))")
      .Add("push.signature_method", ConfigType::kString, "HMAC-SHA256", "HMAC-SHA256 or HMAC-SM3")
      .Add("push.batch_size", ConfigType::kInt, "100", "changes per pushed batch (1-1000)")
      .Add("push.interval", ConfigType::kDuration, "1s", "poll interval when the feed is idle")
      .Add("push.timeout", ConfigType::kDuration, "10s", "deadline of one HTTP request")
      .Add("push.initial_backoff", ConfigType::kDuration, "1s", "first retry delay")
      .Add("push.max_backoff", ConfigType::kDuration, "5m", "retry delay cap (doubles up to it)")
      .Add("import.url", ConfigType::kString, "",
           "platform enterprise endpoint for PullEnterprises (GET ?offset=&limit=); empty = none")
      .Add("import.page_size", ConfigType::kInt, "200", "rows per pulled page (1-1000)")
      .Add("import.chunk_size", ConfigType::kInt, "500",
           "rows per InspectionService.ImportEnterprises call (1-1000)")
      .Add("import.timeout", ConfigType::kDuration, "30s", "deadline of one import call");
}

absl::StatusOr<ExchangeSettings> ReadExchangeSettings(const common::Config& config) {
  ExchangeSettings s;
  PushSettings& push = s.push;
  push.url = config.GetString("push.url");
  if (absl::Status st = CheckUrl("push.url", push.url); !st.ok()) return st;
  push.credentials.app_key = config.GetString("push.app_key");
  push.credentials.secret = config.GetString("push.secret");
  auto method = common::ParseSignatureMethod(config.GetString("push.signature_method"));
  if (!method.ok()) return KeyError("push.signature_method", "must be HMAC-SHA256 or HMAC-SM3");
  push.credentials.method = *method;
  if (push.enabled() && (push.credentials.app_key.empty() || push.credentials.secret.empty()))
    return KeyError("push.app_key", "push.app_key and push.secret are required with push.url");
  auto batch = PositiveInt(config, "push.batch_size", 1000);
  if (!batch.ok()) return batch.status();
  push.batch_size = *batch;
  push.interval = config.GetDuration("push.interval");
  push.timeout = config.GetDuration("push.timeout");
  push.initial_backoff = config.GetDuration("push.initial_backoff");
  push.max_backoff = config.GetDuration("push.max_backoff");
  if (push.interval <= absl::ZeroDuration()) return KeyError("push.interval", "must be positive");
  if (push.timeout <= absl::ZeroDuration()) return KeyError("push.timeout", "must be positive");
  if (push.initial_backoff <= absl::ZeroDuration() || push.max_backoff < push.initial_backoff)
    return KeyError("push.max_backoff", "must be at least push.initial_backoff (> 0)");

  s.import.url = config.GetString("import.url");
  if (absl::Status st = CheckUrl("import.url", s.import.url); !st.ok()) return st;
  auto page = PositiveInt(config, "import.page_size", 1000);
  if (!page.ok()) return page.status();
  s.import.page_size = *page;
  auto chunk = PositiveInt(config, "import.chunk_size", 1000);
  if (!chunk.ok()) return chunk.status();
  s.import.chunk_size = *chunk;
  s.import.timeout = config.GetDuration("import.timeout");
  return s;
}

}  // namespace regsuite::exchange
