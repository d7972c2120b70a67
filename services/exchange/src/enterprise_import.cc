#include "enterprise_import.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "http_client.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/signing.h"
#include "regsuite/common/status.h"

namespace regsuite::exchange {
namespace {

namespace insp = inspection::v1;
using common::FieldError;

constexpr char kImportMethod[] = "/regsuite.inspection.v1.InspectionService/ImportEnterprises";
constexpr char kSelectReport[] = "SELECT report::text FROM import_batches WHERE batch_id = $1";
constexpr char kInsertReport[] =
    "INSERT INTO import_batches (batch_id, source, report) VALUES ($1, $2, $3::jsonb) "
    "ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id";
constexpr size_t kMaxBatchIdBytes = 128;

std::string Trim(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

absl::StatusOr<insp::EnterpriseStatus> RegistrationStatus(const std::string& text) {
  static const auto* kStatuses = new absl::flat_hash_map<std::string, insp::EnterpriseStatus>{
      {"", insp::ENTERPRISE_STATUS_UNSPECIFIED},   {"存续", insp::ENTERPRISE_STATUS_OPERATING},
      {"在业", insp::ENTERPRISE_STATUS_OPERATING}, {"开业", insp::ENTERPRISE_STATUS_OPERATING},
      {"在营", insp::ENTERPRISE_STATUS_OPERATING}, {"停业", insp::ENTERPRISE_STATUS_SUSPENDED},
      {"歇业", insp::ENTERPRISE_STATUS_SUSPENDED}, {"注销", insp::ENTERPRISE_STATUS_CLOSED},
      {"吊销", insp::ENTERPRISE_STATUS_CLOSED},    {"撤销", insp::ENTERPRISE_STATUS_CLOSED},
      {"迁出", insp::ENTERPRISE_STATUS_CLOSED}};
  auto it = kStatuses->find(Trim(text));
  if (it == kStatuses->end())
    return FieldError("registration_status", "unknown wording (存续, 停业, 注销, 吊销 ...)");
  return it->second;
}

// "field: rule" → {field, rule}.
std::pair<std::string, std::string> SplitFieldError(const absl::Status& status) {
  std::pair<std::string, std::string> parts =
      absl::StrSplit(status.message(), absl::MaxSplits(": ", 1));
  if (parts.second.empty()) return {"", std::string(status.message())};
  return parts;
}

v1::RejectedRow Rejection(int row_index, const std::string& uscc, const absl::Status& status) {
  auto [field, reason] = SplitFieldError(status);
  v1::RejectedRow row;
  row.set_row_index(row_index);
  row.set_uscc(Trim(uscc));
  row.set_field(field);
  row.set_reason(reason);
  return row;
}

// CSV fields of one line; quotes may hold commas and doubled quotes.
std::vector<std::string> CsvFields(absl::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back().push_back('"');
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  return fields;
}

// snake_case of a header name ("regionCode" → "region_code").
std::string SnakeCase(absl::string_view name) {
  std::string out;
  for (char c : absl::StripAsciiWhitespace(name)) {
    if (absl::ascii_isupper(c)) {
      out.push_back('_');
      out.push_back(absl::ascii_tolower(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::Status RecordFromJson(absl::string_view json, v1::EnterpriseRecord* record) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json), record, options);
  if (!status.ok()) return absl::InvalidArgumentError("row: not a JSON enterprise object");
  return absl::OkStatus();
}

void AddRejections(v1::ImportEnterpriseBatchResponse& report,
                   const std::vector<v1::RejectedRow>& rows) {
  for (const auto& r : rows) *report.add_rejected_rows() = r;
}

}  // namespace

absl::StatusOr<insp::Enterprise> DirectoryEnterprise(const v1::EnterpriseRecord& row) {
  auto uscc = common::Uscc::Parse(row.uscc());
  if (!uscc.ok()) return uscc.status();
  insp::Enterprise e;
  e.set_uscc(uscc->str());
  e.set_name(Trim(row.name()));
  if (e.name().empty()) return FieldError("name", "is required");
  e.set_industry(Trim(row.industry()));
  if (e.industry().empty()) return FieldError("industry", "is required");
  e.set_region_code(Trim(row.region_code()));
  if (e.region_code().size() != 6 ||
      !std::all_of(e.region_code().begin(), e.region_code().end(), absl::ascii_isdigit))
    return FieldError("region_code", "must be a 6-digit administrative division code");
  if (!Trim(row.established_date()).empty() &&
      !common::ParseDate(Trim(row.established_date())).ok())
    return FieldError("established_date", "must be a YYYY-MM-DD date");
  auto status = RegistrationStatus(row.registration_status());
  if (!status.ok()) return status.status();
  e.set_operating_status(*status);
  e.set_address(Trim(row.address()));
  e.set_legal_representative(Trim(row.legal_representative()));
  e.set_source("exchange");
  return e;
}

std::vector<insp::Enterprise> ValidateEnterpriseRows(
    const google::protobuf::RepeatedPtrField<v1::EnterpriseRecord>& rows,
    std::vector<int>* accepted_index, std::vector<v1::RejectedRow>* rejected) {
  std::vector<insp::Enterprise> accepted;
  absl::flat_hash_map<std::string, int> first_row;
  for (int i = 0; i < rows.size(); ++i) {
    auto e = DirectoryEnterprise(rows[i]);
    if (!e.ok()) {
      rejected->push_back(Rejection(i, rows[i].uscc(), e.status()));
      continue;
    }
    auto [it, inserted] = first_row.emplace(e->uscc(), i);
    if (!inserted) {
      rejected->push_back(Rejection(
          i, rows[i].uscc(),
          FieldError("uscc", absl::StrCat("duplicate of row ", it->second, " in this batch"))));
      continue;
    }
    accepted_index->push_back(i);
    accepted.push_back(*std::move(e));
  }
  return accepted;
}

std::vector<FileRow> ParseEnterpriseFile(absl::string_view text) {
  std::vector<FileRow> rows;
  std::vector<std::string> header;
  const bool json = absl::StripLeadingAsciiWhitespace(text).substr(0, 1) == "{";
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripTrailingAsciiWhitespace(line);
    if (line_no == 1) absl::ConsumePrefix(&line, "\xEF\xBB\xBF");  // UTF-8 BOM
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (!json && header.empty()) {
      for (const auto& name : CsvFields(line)) header.push_back(SnakeCase(name));
      continue;
    }
    FileRow row{.line = line_no};
    v1::EnterpriseRecord record;
    absl::Status status;
    if (json) {
      status = RecordFromJson(line, &record);
    } else {
      google::protobuf::Struct object;
      std::vector<std::string> fields = CsvFields(line);
      for (size_t i = 0; i < fields.size() && i < header.size(); ++i)
        (*object.mutable_fields())[header[i]].set_string_value(Trim(fields[i]));
      std::string as_json;
      (void)google::protobuf::util::MessageToJsonString(object, &as_json);
      status = RecordFromJson(as_json, &record);
    }
    if (status.ok()) {
      row.record = std::move(record);
    } else {
      row.error = std::string(status.message());
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::Status ParseEnterprisePage(absl::string_view json, std::vector<v1::EnterpriseRecord>* rows,
                                 int64_t* next) {
  google::protobuf::Struct page;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &page).ok())
    return absl::DataLossError("platform page: not JSON");
  *next = -1;
  auto n = page.fields().find("next");
  if (n != page.fields().end() && n->second.has_number_value())
    *next = static_cast<int64_t>(n->second.number_value());
  auto list = page.fields().find("enterprises");
  if (list == page.fields().end()) return absl::DataLossError("platform page: no enterprises");
  for (const auto& item : list->second.list_value().values()) {
    std::string row_json;
    (void)google::protobuf::util::MessageToJsonString(item.struct_value(), &row_json);
    v1::EnterpriseRecord record;
    (void)RecordFromJson(row_json, &record);  // a malformed row is rejected by validation
    rows->push_back(std::move(record));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::ImportEnterpriseBatchResponse>> EnterpriseImporter::StoredReport(
    const std::string& batch_id) {
  return pg_.Transact(
      [&](pqxx::work& txn) -> absl::StatusOr<std::optional<v1::ImportEnterpriseBatchResponse>> {
        pqxx::result r = txn.exec_params(kSelectReport, batch_id);
        if (r.empty()) return std::optional<v1::ImportEnterpriseBatchResponse>();
        v1::ImportEnterpriseBatchResponse report;
        (void)google::protobuf::util::JsonStringToMessage(r[0][0].c_str(), &report);
        report.set_duplicate(true);
        return std::optional<v1::ImportEnterpriseBatchResponse>(std::move(report));
      });
}

absl::StatusOr<v1::ImportEnterpriseBatchResponse> EnterpriseImporter::Import(
    const v1::ImportEnterpriseBatchRequest& request) {
  const std::string batch_id = Trim(request.batch_id());
  if (batch_id.empty()) return FieldError("batch_id", "is required");
  if (batch_id.size() > kMaxBatchIdBytes) return FieldError("batch_id", "longer than 128 bytes");
  auto stored = StoredReport(batch_id);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) return **stored;
  if (gateway_ == nullptr)
    return absl::FailedPreconditionError("gateway.target is not configured: cannot import");

  std::vector<int> index;
  std::vector<v1::RejectedRow> rejected;
  std::vector<insp::Enterprise> accepted =
      ValidateEnterpriseRows(request.enterprises(), &index, &rejected);
  for (size_t start = 0; start < accepted.size();
       start += static_cast<size_t>(settings_.chunk_size)) {
    const size_t end = std::min(accepted.size(), start + settings_.chunk_size);
    insp::ImportEnterprisesRequest chunk;
    chunk.set_source(request.source().empty() ? "exchange" : request.source());
    chunk.set_batch_id(absl::StrCat(batch_id, "#", start / settings_.chunk_size));
    for (size_t i = start; i < end; ++i) *chunk.add_enterprises() = accepted[i];
    insp::ImportEnterprisesResponse answer;
    if (absl::Status s = gateway_->Call(kImportMethod, chunk, &answer, settings_.timeout); !s.ok())
      return absl::Status(s.code(), absl::StrCat("inspection ImportEnterprises: ", s.message()));
    for (const auto& r : answer.rejected_rows()) {
      if (r.row_index() < 0 || start + r.row_index() >= end) continue;  // not a row we sent
      v1::RejectedRow row;
      const int original = index[start + r.row_index()];
      row.set_row_index(original);
      row.set_uscc(r.uscc());
      row.set_field(r.field());
      row.set_reason(r.reason());
      rejected.push_back(std::move(row));
    }
  }
  std::sort(rejected.begin(), rejected.end(),
            [](const auto& a, const auto& b) { return a.row_index() < b.row_index(); });
  v1::ImportEnterpriseBatchResponse report;
  report.set_batch_id(batch_id);
  report.set_received(request.enterprises_size());
  report.set_rejected(static_cast<int>(rejected.size()));
  report.set_accepted(report.received() - report.rejected());
  AddRejections(report, rejected);
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(report, &json);
  auto inserted = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<bool> {
    return !txn.exec_params(kInsertReport, batch_id, request.source(), json).empty();
  });
  if (!inserted.ok()) return inserted.status();
  if (!*inserted) {  // a concurrent import of the same batch won: its report stands
    auto first = StoredReport(batch_id);
    if (!first.ok()) return first.status();
    if (first->has_value()) return **first;
  }
  return report;
}

absl::StatusOr<v1::ImportEnterpriseBatchResponse> EnterpriseImporter::Pull(
    const std::string& batch_id, const PlatformCredentials& credentials) {
  if (settings_.url.empty())
    return absl::FailedPreconditionError("import.url is not configured: nothing to pull from");
  if (Trim(batch_id).empty()) return FieldError("batch_id", "is required");
  v1::ImportEnterpriseBatchResponse total;
  total.set_batch_id(batch_id);
  int64_t offset = 0;
  while (offset >= 0) {
    const std::string url =
        absl::StrCat(settings_.url, settings_.url.find('?') == std::string::npos ? "?" : "&",
                     "offset=", offset, "&limit=", settings_.page_size);
    auto headers = SignedHeaders(credentials, "GET", url, "", absl::Now(), common::NewNonce());
    HttpResponse page = SendHttpRequest("GET", url, headers, "", settings_.timeout);
    if (page.status != 200) {
      return absl::UnavailableError(
          absl::StrCat("platform enterprises at offset ", offset, ": ",
                       page.status == 0 ? page.error : absl::StrCat("HTTP ", page.status)));
    }
    v1::ImportEnterpriseBatchRequest request;
    request.set_batch_id(absl::StrCat(batch_id, ":", offset));
    request.set_source("platform-pull");
    std::vector<v1::EnterpriseRecord> rows;
    int64_t next = -1;
    if (absl::Status s = ParseEnterprisePage(page.body, &rows, &next); !s.ok()) return s;
    for (auto& r : rows) *request.add_enterprises() = std::move(r);
    auto report = Import(request);
    if (!report.ok()) return report.status();
    for (auto row : report->rejected_rows()) {
      row.set_row_index(static_cast<int>(offset) + row.row_index());
      *total.add_rejected_rows() = std::move(row);
    }
    total.set_received(total.received() + report->received());
    total.set_accepted(total.accepted() + report->accepted());
    total.set_rejected(total.rejected() + report->rejected());
    offset = next > offset ? next : -1;
  }
  return total;
}

}  // namespace regsuite::exchange
