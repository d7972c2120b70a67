#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "regsuite/common/gateway_client.h"
#include "regsuite/common/pg.h"
#include "regsuite/exchange/v1/exchange.pb.h"
#include "regsuite/inspection/v1/inspection.pb.h"
#include "settings.h"

namespace regsuite::exchange {

/// One 法人库 row checked for the inspection directory: uscc (GB 32100 check characters),
/// name, industry and a 6-digit region_code required; established_date, when given, a
/// YYYY-MM-DD date; registration_status, when given, a known wording (存续/在业/开业 → operating,
/// 停业/歇业 → suspended, 注销/吊销/撤销/迁出 → closed). The rejection names field and rule.
absl::StatusOr<inspection::v1::Enterprise> DirectoryEnterprise(const v1::EnterpriseRecord& row);

/// Validates every row of a batch; returns the directory rows and, in `rejected`, the bad rows
/// (row_index into `rows`). A USCC seen earlier in the same batch is rejected as a duplicate.
/// `accepted_index[i]` is the request row of the i-th returned enterprise.
std::vector<inspection::v1::Enterprise> ValidateEnterpriseRows(
    const google::protobuf::RepeatedPtrField<v1::EnterpriseRecord>& rows,
    std::vector<int>* accepted_index, std::vector<v1::RejectedRow>* rejected);

/// A row of an import file: its 1-based line number and the record, or why it did not parse.
struct FileRow {
  int line = 0;
  std::optional<v1::EnterpriseRecord> record;
  std::string error;
};

/// Parses JSON lines (one EnterpriseRecord object a line, lowerCamelCase or snake_case) or CSV
/// with a header row naming the fields (uscc,name,legal_representative,address,region_code,
/// industry,registration_status,established_date; quoted values may hold commas and "").
/// The format is told by the first non-blank character ('{' = JSON lines). Blank lines skipped.
std::vector<FileRow> ParseEnterpriseFile(absl::string_view text);

/// The platform's enterprise page ({"enterprises": [...], "next": n|null}) as records; `next`
/// is -1 at the end.
absl::Status ParseEnterprisePage(absl::string_view json, std::vector<v1::EnterpriseRecord>* rows,
                                 int64_t* next);

/// ImportEnterpriseBatch: validates, forwards the good rows to InspectionService
/// .ImportEnterprises through the gateway (chunks of import.chunk_size, each idempotent by
/// "<batch_id>#<n>"), and keeps the report, so a repeated batch_id returns the first report.
class EnterpriseImporter {
 public:
  EnterpriseImporter(common::PgPool& pg, const common::GatewayClient* gateway,
                     ImportSettings settings)
      : pg_(pg), gateway_(gateway), settings_(std::move(settings)) {}

  absl::StatusOr<v1::ImportEnterpriseBatchResponse> Import(
      const v1::ImportEnterpriseBatchRequest& request);

  /// PullEnterprises: reads the platform's pages from import.url (signed with `credentials`)
  /// and imports each page as batch "<batch_id>:<offset>"; returns the summed report.
  absl::StatusOr<v1::ImportEnterpriseBatchResponse> Pull(const std::string& batch_id,
                                                         const PlatformCredentials& credentials);

 private:
  absl::StatusOr<std::optional<v1::ImportEnterpriseBatchResponse>> StoredReport(
      const std::string& batch_id);

  common::PgPool& pg_;
  const common::GatewayClient* gateway_;
  const ImportSettings settings_;
};

}  // namespace regsuite::exchange
