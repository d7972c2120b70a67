// regctl exchange status|retry|import: the operator's side of the exchange service. status and
// retry work on the exchange schema directly (like `audit verify`); import parses a 法人库 file
// and sends it to ExchangeService.ImportEnterpriseBatch (directly or through the gateway, signed).
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "enterprise_import.h"
#include "pusher.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/gateway_client.h"
#include "regsuite/common/pg.h"

namespace regsuite::regctl {
namespace {

constexpr char kUsage[] =
    "usage: regctl exchange status\n"
    "       regctl exchange retry [BATCH_ID]      re-queue parked batches (all, or the one named)\n"
    "       regctl exchange import FILE [--target HOST:PORT] [--batch-id ID] [--source NAME]\n"
    "                              [--app-key KEY --secret-file FILE]\n"
    "  import: JSON lines or CSV with a header row; --target is the exchange service (default\n"
    "  127.0.0.1:7105) or the gateway (sign with --app-key/--secret-file). The batch id defaults\n"
    "  to a digest of the file, so importing the same file again returns the first report.\n";
constexpr char kImportMethod[] = "/regsuite.exchange.v1.ExchangeService/ImportEnterpriseBatch";

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "regctl: %s\n", status.ToString().c_str());
  return 1;
}

std::string TimeText(const google::protobuf::Timestamp& ts) {
  return ts.seconds() == 0 && ts.nanos() == 0 ? "-"
                                              : google::protobuf::util::TimeUtil::ToString(ts);
}

std::string ReadFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int ShowStatus(common::PgPool& pool) {
  auto status = exchange::ReadPushStatus(pool, exchange::PushSettings{});
  if (!status.ok()) return Fail(status.status());
  const auto& s = *status;
  std::printf("acknowledged cursor:  %s\n", s.last_acknowledged_cursor().empty()
                                                ? "(none)"
                                                : s.last_acknowledged_cursor().c_str());
  std::printf("pending changes:      %lld\n", static_cast<long long>(s.pending_changes()));
  std::printf("in flight:            %s\n",
              s.inflight_batch_id().empty() ? "-" : s.inflight_batch_id().c_str());
  std::printf("consecutive failures: %d\n", s.consecutive_failures());
  std::printf("last error:           %s\n", s.last_error().empty() ? "-" : s.last_error().c_str());
  std::printf("last attempt:         %s\n", TimeText(s.last_attempt_at()).c_str());
  std::printf("last success:         %s\n", TimeText(s.last_success_at()).c_str());
  std::printf("parked batches:       %d\n", s.parked_batches_size());
  for (const auto& p : s.parked_batches()) {
    std::printf("  %s  cursors %s-%s  HTTP %d  %s  since %s  %s\n", p.batch_id().c_str(),
                p.first_cursor().c_str(), p.last_cursor().c_str(), p.http_status(),
                p.state().c_str(), TimeText(p.parked_at()).c_str(), p.error().c_str());
  }
  return 0;
}

int Retry(common::PgPool& pool, const std::string& batch_id) {
  auto count = exchange::RequeueParkedBatches(pool, batch_id);
  if (!count.ok()) return Fail(count.status());
  std::printf("re-queued %d parked batch(es); the pusher sends them before new changes\n", *count);
  if (!batch_id.empty() && *count == 0) {
    std::fprintf(stderr, "regctl: no parked batch %s\n", batch_id.c_str());
    return 1;
  }
  return 0;
}

int Import(const std::vector<std::string>& args) {
  std::map<std::string, std::string> flags;
  std::string file;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0 && i + 1 < args.size()) {
      flags[args[i].substr(2)] = args[i + 1];
      ++i;
    } else if (file.empty()) {
      file = args[i];
    } else {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
  }
  if (file.empty()) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  bool readable = false;
  const std::string text = ReadFile(file, &readable);
  if (!readable) return Fail(absl::NotFoundError(absl::StrCat("cannot read ", file)));

  exchange::v1::ImportEnterpriseBatchRequest request;
  request.set_batch_id(flags.count("batch-id")
                           ? flags["batch-id"]
                           : absl::StrCat("file-", common::Sha256Hex(text).substr(0, 32)));
  request.set_source(flags.count("source") ? flags["source"] : "regctl-file");
  std::vector<int> line_of_row;
  int unparsed = 0;
  for (const auto& row : exchange::ParseEnterpriseFile(text)) {
    if (!row.record) {
      std::printf("line %d: rejected: %s\n", row.line, row.error.c_str());
      ++unparsed;
      continue;
    }
    *request.add_enterprises() = *row.record;
    line_of_row.push_back(row.line);
  }

  common::ServiceIdentity identity;
  if (flags.count("app-key")) {
    identity.app_key = flags["app-key"];
    bool ok = false;
    identity.secret = ReadFile(flags["secret-file"], &ok);
    while (!identity.secret.empty() &&
           (identity.secret.back() == '\n' || identity.secret.back() == '\r'))
      identity.secret.pop_back();
    if (!ok) return Fail(absl::NotFoundError("cannot read --secret-file"));
  }
  const std::string target = flags.count("target") ? flags["target"] : "127.0.0.1:7105";
  common::GatewayClient client(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
                               identity, absl::Seconds(60), common::SystemClock::Get());
  exchange::v1::ImportEnterpriseBatchResponse report;
  if (absl::Status s = client.Call(kImportMethod, request, &report); !s.ok()) return Fail(s);
  for (const auto& r : report.rejected_rows()) {
    const int line = r.row_index() >= 0 && r.row_index() < static_cast<int>(line_of_row.size())
                         ? line_of_row[r.row_index()]
                         : -1;
    std::printf("line %d: rejected: %s: %s%s%s\n", line, r.field().c_str(), r.reason().c_str(),
                r.uscc().empty() ? "" : "  uscc=", r.uscc().c_str());
  }
  std::printf("batch %s%s: %d rows, %d accepted, %d rejected\n", report.batch_id().c_str(),
              report.duplicate() ? " (imported before; first report)" : "",
              report.received() + unparsed, report.accepted(), report.rejected() + unparsed);
  return report.rejected() + unparsed == 0 ? 0 : 1;
}

}  // namespace

int Exchange(const common::Config& config, const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  if (sub == "import") return Import(args);
  if (sub != "status" && sub != "retry") {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  common::PgPool pool(common::ReadPgOptions(config, "exchange", "regctl"));
  if (sub == "status") return ShowStatus(pool);
  return Retry(pool, args.size() > 1 ? args[1] : "");
}

}  // namespace regsuite::regctl
