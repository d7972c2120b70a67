#pragma once

#include "absl/strings/string_view.h"
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace regsuite::common {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);

/// Request-scoped fields every log line carries while set on the current thread.
struct LogContext {
  std::string request_id;
  std::string trace_id;
};

/// Sets the current thread's LogContext for its lifetime (restores the previous one).
class ScopedLogContext {
 public:
  explicit ScopedLogContext(LogContext context);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext previous_;
};

const LogContext& CurrentLogContext();

using LogFields = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

/// Process-wide settings of the JSON-lines logger (stderr, one write per line).
void InitLogging(absl::string_view service, LogLevel min_level);

/// Writes {"ts","level","service","msg","request_id","trace_id", fields...}. Callers mask
/// personal data before passing it (masking.h).
void LogLine(LogLevel level, absl::string_view msg, LogFields fields = {});

inline void LogDebug(absl::string_view msg, LogFields f = {}) { LogLine(LogLevel::kDebug, msg, f); }
inline void LogInfo(absl::string_view msg, LogFields f = {}) { LogLine(LogLevel::kInfo, msg, f); }
inline void LogWarn(absl::string_view msg, LogFields f = {}) { LogLine(LogLevel::kWarn, msg, f); }
inline void LogError(absl::string_view msg, LogFields f = {}) { LogLine(LogLevel::kError, msg, f); }

/// Appends `text` to `out` as the body of a JSON string (quotes not included).
void AppendJsonEscaped(std::string* out, absl::string_view text);

}  // namespace regsuite::common
