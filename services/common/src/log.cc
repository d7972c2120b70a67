#include "regsuite/common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace regsuite::common {
namespace {

std::string& ServiceName() {
  static std::string name = "regsuite";
  return name;
}
std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};
thread_local LogContext t_context;

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void AppendField(std::string* out, absl::string_view key, absl::string_view value) {
  absl::StrAppend(out, ",\"");
  AppendJsonEscaped(out, key);
  absl::StrAppend(out, "\":\"");
  AppendJsonEscaped(out, value);
  out->push_back('"');
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == LevelName(level)) return level;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("log.level: must be debug, info, warn or error, got \"", text, "\""));
}

ScopedLogContext::ScopedLogContext(LogContext context) : previous_(std::move(t_context)) {
  t_context = std::move(context);
}
ScopedLogContext::~ScopedLogContext() { t_context = std::move(previous_); }

const LogContext& CurrentLogContext() { return t_context; }

void InitLogging(absl::string_view service, LogLevel min_level) {
  ServiceName() = std::string(service);
  g_min_level.store(static_cast<int>(min_level));
}

void AppendJsonEscaped(std::string* out, absl::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

void LogLine(LogLevel level, absl::string_view msg, LogFields fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  std::string line = absl::StrCat(
      "{\"ts\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      "\",\"level\":\"", LevelName(level), "\"");
  AppendField(&line, "service", ServiceName());
  AppendField(&line, "msg", msg);
  if (!t_context.request_id.empty()) AppendField(&line, "request_id", t_context.request_id);
  if (!t_context.trace_id.empty()) AppendField(&line, "trace_id", t_context.trace_id);
  for (const auto& [key, value] : fields) AppendField(&line, key, value);
  line.append("}\n");
  // One write(2) per line keeps lines whole when several threads log at once.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace regsuite::common
