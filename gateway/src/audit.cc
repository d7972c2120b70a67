#include "audit.h"

#include <pthread.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <openssl/evp.h>

#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "regsuite/common/check.h"
#include "regsuite/common/log.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"
#include "regsuite/exchange/v1/exchange.pb.h"
#include "regsuite/gateway/v1/admin.pb.h"
#include "regsuite/inspection/v1/inspection.pb.h"
#include "regsuite/licensing/v1/licensing.pb.h"

namespace regsuite::gateway {
namespace {

constexpr char kLockHead[] = "SELECT last_id, last_hash FROM audit_head FOR UPDATE";
constexpr char kUpdateHead[] = "UPDATE audit_head SET last_id = $1, last_hash = $2";
constexpr char kSelectChain[] =
    "SELECT id, (extract(epoch FROM at) * 1000000)::bigint, client, method, route, target_uscc,"
    " status_code, latency_us, request_bytes, response_bytes, request_id, peer, hash_algorithm,"
    " prev_hash, row_hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT 10000";

std::string AlgorithmName(AuditHash a) { return a == AuditHash::kSm3 ? "SM3" : "SHA-256"; }

// The generated descriptors register themselves only if their object files are linked; naming
// one message of each service file keeps them in the binary for the lookups below.
const google::protobuf::Descriptor* const kLinkedServiceFiles[] = {
    credit::v1::CheckSubjectRequest::descriptor(),
    licensing::v1::VerifyCertificateRequest::descriptor(),
    inspection::v1::DrawInspectionsRequest::descriptor(),
    disclosure::v1::PublishRecordRequest::descriptor(),
    exchange::v1::ListChangesRequest::descriptor(),
    gateway::v1::CreateClientRequest::descriptor(),
};

// Finds a string field named `uscc` at the top level or one message level down (applicant.uscc).
std::string FindUscc(const std::string& method, const std::string& body) {
  using google::protobuf::FieldDescriptor;
  absl::string_view m = absl::StripPrefix(method, "/");
  std::string full(m);
  for (char& c : full) c = c == '/' ? '.' : c;
  (void)kLinkedServiceFiles;
  const auto* md = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
  if (md == nullptr) return "";
  const auto* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(md->input_type());
  if (prototype == nullptr) return "";
  std::unique_ptr<google::protobuf::Message> msg(prototype->New());
  if (!msg->ParseFromString(body)) return "";
  const auto* reflection = msg->GetReflection();
  auto string_uscc = [&](const google::protobuf::Message& m) -> std::string {
    const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName("uscc");
    if (f == nullptr || f->type() != FieldDescriptor::TYPE_STRING || f->is_repeated()) return "";
    return m.GetReflection()->GetString(m, f);
  };
  if (std::string top = string_uscc(*msg); !top.empty()) return top;
  for (int i = 0; i < md->input_type()->field_count(); ++i) {
    const FieldDescriptor* f = md->input_type()->field(i);
    if (f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated() && reflection->HasField(*msg, f)) {
      if (std::string nested = string_uscc(reflection->GetMessage(*msg, f)); !nested.empty()) return nested;
    }
  }
  return "";
}

}  // namespace

std::string CanonicalAuditRow(int64_t id, int64_t at_unix_micros, const AuditRecord& r) {
  // Unit separators cannot occur in any field the gateway writes.
  return absl::StrCat(id, "\x1f", at_unix_micros, "\x1f", r.client, "\x1f", r.method, "\x1f",
                      r.route, "\x1f", r.target_uscc, "\x1f", r.status_code, "\x1f", r.latency_us,
                      "\x1f", r.request_bytes, "\x1f", r.response_bytes, "\x1f", r.request_id,
                      "\x1f", r.peer);
}

std::string ChainHash(AuditHash algorithm, absl::string_view prev_hash,
                      absl::string_view canonical) {
  const std::string input = absl::StrCat(prev_hash, "\n", canonical);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  RS_CHECK(EVP_Digest(input.data(), input.size(), digest, &len,
                      algorithm == AuditHash::kSm3 ? EVP_sm3() : EVP_sha256(), nullptr) == 1);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), len));
}

AuditLog::AuditLog(common::PgPool& pool, AuditHash algorithm, size_t capacity)
    : pool_(pool), algorithm_(algorithm), capacity_(capacity) {}

AuditLog::~AuditLog() { Stop(); }

// The writer wakes for a full batch or after the flush interval.
constexpr size_t kBatchWake = 512;

bool AuditLog::HasRoom() const {
  std::lock_guard lock(mu_);
  return queue_.size() + in_flight_ < capacity_;
}

bool AuditLog::TryAppend(AuditRecord record) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() + in_flight_ >= capacity_) return false;
    queue_.push_back(std::move(record));
    wake = queue_.size() == kBatchWake;
  }
  // Only when a batch is full: waking the writer for every call cost a futex wake and a
  // context switch per call, for a writer that went back to sleep at once.
  if (wake) cv_.notify_one();
  return true;
}

size_t AuditLog::depth() const {
  std::lock_guard lock(mu_);
  return queue_.size() + in_flight_;
}

int64_t AuditLog::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

void AuditLog::Start(absl::Duration flush_interval) {
  thread_ = std::thread([this, flush_interval] {
    pthread_setname_np(pthread_self(), "gw-audit");  // for top -H and perf
    Loop(flush_interval);
  });
}

void AuditLog::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AuditLog::Loop(absl::Duration flush_interval) {
  std::vector<AuditRecord> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, absl::ToChronoMilliseconds(flush_interval),
                   [this] { return stopping_ || queue_.size() >= kBatchWake; });
      // Records stay counted against capacity (in_flight_) until they are written.
      const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(queue_.size(), 2000));
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);
      in_flight_ = batch.size();
      if (batch.empty() && stopping_) return;
    }
    if (batch.empty()) continue;
    for (auto& r : batch) {
      if (r.target_uscc.empty() && !r.request_body.empty()) r.target_uscc = FindUscc(r.method, r.request_body);
    }
    absl::Status written = WriteBatch(batch);
    std::unique_lock lock(mu_);
    in_flight_ = 0;
    if (written.ok()) {
      written_ += static_cast<int64_t>(batch.size());
    } else {
      // Put the records back in front, in order; the queue fills and the gateway sheds load
      // until PostgreSQL accepts them again.
      queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
      common::LogError("audit batch not written; will retry", {{"error", written.ToString()}});
      if (stopping_) return;
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

absl::Status AuditLog::WriteBatch(std::vector<AuditRecord>& batch) {
  return pool_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto head = txn.exec1(kLockHead);
    int64_t id = head[0].as<int64_t>();
    std::string prev = head[1].as<std::string>();
    pqxx::stream_to stream(txn, "audit_log",
                           std::vector<std::string>{"id", "at", "client", "method", "route",
                                                    "target_uscc", "status_code", "latency_us",
                                                    "request_bytes", "response_bytes",
                                                    "request_id", "peer", "hash_algorithm",
                                                    "prev_hash", "row_hash"});
    const std::string algorithm = AlgorithmName(algorithm_);
    for (const auto& r : batch) {
      ++id;
      const int64_t micros = absl::ToUnixMicros(r.at);
      const std::string hash = ChainHash(algorithm_, prev, CanonicalAuditRow(id, micros, r));
      const std::string at = absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", r.at, absl::UTCTimeZone());
      stream << std::make_tuple(id, at, r.client, r.method, r.route, r.target_uscc, r.status_code,
                                r.latency_us, r.request_bytes, r.response_bytes, r.request_id,
                                r.peer, algorithm, prev, hash);
      prev = hash;
    }
    stream.complete();
    txn.exec_params(kUpdateHead, id, prev);
    return absl::OkStatus();
  });
}

absl::StatusOr<ChainVerification> VerifyAuditChain(common::PgPool& pool) {
  ChainVerification v;
  int64_t last_id = 0;
  std::string prev = std::string(64, '0');
  while (true) {
    auto page = pool.Transact([&](pqxx::work& txn) -> absl::StatusOr<bool> {
      auto rows = txn.exec_params(kSelectChain, last_id);
      for (const auto& row : rows) {
        const int64_t id = row[0].as<int64_t>();
        AuditRecord r;
        r.client = row[2].as<std::string>();
        r.method = row[3].as<std::string>();
        r.route = row[4].as<std::string>();
        r.target_uscc = row[5].as<std::string>();
        r.status_code = row[6].as<int>();
        r.latency_us = row[7].as<int64_t>();
        r.request_bytes = row[8].as<int64_t>();
        r.response_bytes = row[9].as<int64_t>();
        r.request_id = row[10].as<std::string>();
        r.peer = row[11].as<std::string>();
        const AuditHash algorithm = row[12].as<std::string>() == "SM3" ? AuditHash::kSm3 : AuditHash::kSha256;
        const std::string stored_prev = row[13].as<std::string>();
        const std::string stored_hash = row[14].as<std::string>();
        ++v.rows_checked;
        std::string reason;
        if (id != last_id + 1) {
          reason = absl::StrCat("row ", last_id + 1, " is missing");
        } else if (stored_prev != prev) {
          reason = "prev_hash does not match the previous row";
        } else if (ChainHash(algorithm, prev, CanonicalAuditRow(id, row[1].as<int64_t>(), r)) != stored_hash) {
          reason = "row content does not match its hash";
        }
        if (!reason.empty()) {
          v.ok = false;
          v.first_bad_row_id = id != last_id + 1 ? last_id + 1 : id;
          v.reason = reason;
          return false;
        }
        prev = stored_hash;
        last_id = id;
      }
      return !rows.empty();
    });
    if (!page.ok()) return page.status();
    if (!*page) break;
  }
  return v;
}

}  // namespace regsuite::gateway
