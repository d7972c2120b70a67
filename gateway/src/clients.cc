#include "clients.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/log.h"
#include "regsuite/common/status.h"

namespace regsuite::gateway {
namespace {

constexpr char kSelectVersion[] = "SELECT version FROM client_registry_version";
constexpr char kSelectClients[] =
    "SELECT app_key, display_name, kind, secret_sealed, signature_method, disabled,"
    " coalesce(cert_subject, ''), rate_per_second, burst, coalesce(cert_fingerprint, ''),"
    " CASE WHEN previous_secret_until > now() THEN previous_secret_sealed END,"
    " (extract(epoch FROM previous_secret_until) * 1000000)::bigint FROM clients";
constexpr char kSelectAccess[] = "SELECT app_key, pattern, rate_per_second FROM client_access";
constexpr char kInsertClient[] =
    "INSERT INTO clients (app_key, display_name, kind, secret_sealed, signature_method,"
    " rate_per_second, burst) VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr char kInsertAccess[] =
    "INSERT INTO client_access (app_key, pattern, rate_per_second) VALUES ($1, $2, $3)";
constexpr char kDeleteAccess[] = "DELETE FROM client_access WHERE app_key = $1";
// The previous secret is kept for $3 seconds (none when 0); SET reads the row's old values.
constexpr char kUpdateSecret[] =
    "UPDATE clients SET secret_sealed = $2, updated_at = now(),"
    " previous_secret_sealed = CASE WHEN $3::float8 > 0 THEN secret_sealed END,"
    " previous_secret_until = CASE WHEN $3::float8 > 0 THEN now() + make_interval(secs => $3::float8) END"
    " WHERE app_key = $1"
    " RETURNING coalesce((extract(epoch FROM previous_secret_until) * 1000000)::bigint, 0)";
constexpr char kUpdateFingerprint[] =
    "UPDATE clients SET cert_fingerprint = NULLIF($2, ''), updated_at = now() WHERE app_key = $1";
constexpr char kUpdateLimits[] =
    "UPDATE clients SET rate_per_second = $2, burst = $3, updated_at = now() WHERE app_key = $1";
constexpr char kUpdateDisabled[] =
    "UPDATE clients SET disabled = $2, updated_at = now() WHERE app_key = $1";

bool ValidName(absl::string_view text, bool allow_star) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
          (allow_star && c == '*'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string NormalizeFingerprint(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':') continue;
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return "";
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out.size() == 64 ? out : "";
}

namespace {

absl::Status NotFound(absl::string_view app_key) {
  return absl::NotFoundError(absl::StrCat("app_key: no client ", app_key));
}

}  // namespace

bool PatternMatches(absl::string_view pattern, absl::string_view method) {
  if (absl::EndsWith(pattern, "/*")) {
    absl::string_view service = pattern.substr(0, pattern.size() - 1);  // keeps the '/'
    return absl::StartsWith(method, service) && method.size() > service.size();
  }
  return pattern == method;
}

const AccessRule* FindAccess(const Client& client, absl::string_view method) {
  for (const auto& rule : client.access) {
    if (PatternMatches(rule.pattern, method)) return &rule;
  }
  return nullptr;
}

absl::Status ValidatePatterns(const std::vector<AccessRule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    absl::string_view p = rules[i].pattern;
    size_t slash = p.find('/');
    absl::string_view method = slash == absl::string_view::npos ? "" : p.substr(slash + 1);
    if (slash == absl::string_view::npos || !ValidName(p.substr(0, slash), false) ||
        !(method == "*" || ValidName(method, false)) || method.find('.') != absl::string_view::npos) {
      return common::FieldError(absl::StrCat("access[", i, "]"),
                                "must be package.Service/Method or package.Service/*");
    }
    if (rules[i].rate_per_second < 0) {
      return common::FieldError(absl::StrCat("access[", i, "].rate_per_second"), "must be >= 0");
    }
  }
  return absl::OkStatus();
}

ClientRegistry::ClientRegistry(common::PgPool& pool, const SecretBox& box)
    : pool_(pool), box_(box), snapshot_(std::make_shared<ClientSnapshot>()) {}

ClientRegistry::~ClientRegistry() { Stop(); }

absl::Status ClientRegistry::Refresh(bool force) {
  const int64_t current = Snapshot()->version;
  auto loaded = pool_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::shared_ptr<ClientSnapshot>> {
    const int64_t version = txn.exec1(kSelectVersion)[0].as<int64_t>();
    if (!force && version == current) return std::shared_ptr<ClientSnapshot>();
    auto snapshot = std::make_shared<ClientSnapshot>();
    snapshot->version = version;
    for (const auto& row : txn.exec(kSelectClients)) {
      Client c;
      c.app_key = row[0].as<std::string>();
      c.display_name = row[1].as<std::string>();
      c.kind = row[2].as<std::string>();
      auto secret = box_.Open(pqxx::binarystring(row[3]).str(), c.app_key);
      if (!secret.ok()) {
        common::LogError("client secret does not open; client disabled",
                         {{"app_key", c.app_key}, {"error", secret.status().ToString()}});
        c.disabled = true;
      } else {
        c.secret = *secret;
      }
      auto method = common::ParseSignatureMethod(row[4].as<std::string>());
      c.signature_method = method.ok() ? *method : common::SignatureMethod::kHmacSha256;
      c.disabled = c.disabled || row[5].as<bool>();
      c.cert_subject = row[6].as<std::string>();
      c.rate_per_second = row[7].as<double>();
      c.burst = row[8].as<int>();
      c.cert_fingerprint = row[9].as<std::string>();
      if (!row[10].is_null()) {
        auto previous = box_.Open(pqxx::binarystring(row[10]).str(), c.app_key);
        if (previous.ok()) {
          c.previous_secret = *std::move(previous);
          c.previous_secret_until = absl::FromUnixMicros(row[11].as<int64_t>());
        }
      }
      if (!c.cert_subject.empty()) snapshot->app_key_by_cert_subject[c.cert_subject] = c.app_key;
      if (!c.cert_fingerprint.empty()) {
        snapshot->app_key_by_cert_fingerprint[c.cert_fingerprint] = c.app_key;
      }
      snapshot->by_app_key.emplace(c.app_key, std::move(c));
    }
    for (const auto& row : txn.exec(kSelectAccess)) {
      auto it = snapshot->by_app_key.find(row[0].as<std::string>());
      if (it == snapshot->by_app_key.end()) continue;
      it->second.access.push_back({row[1].as<std::string>(), row[2].as<double>()});
    }
    return snapshot;
  });
  if (!loaded.ok()) return loaded.status();
  if (*loaded != nullptr) {
    std::lock_guard lock(mu_);
    snapshot_ = std::move(*loaded);
    common::LogInfo("client registry loaded",
                    {{"clients", absl::StrCat(snapshot_->by_app_key.size())},
                     {"version", absl::StrCat(snapshot_->version)}});
  }
  return absl::OkStatus();
}

void ClientRegistry::Start(absl::Duration interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(thread_mu_);
    while (!cv_.wait_for(lock, absl::ToChronoMilliseconds(interval), [this] { return stopping_; })) {
      lock.unlock();
      if (absl::Status s = Refresh(); !s.ok()) {
        common::LogWarn("client registry refresh failed; serving the last copy",
                        {{"error", s.ToString()}});
      }
      lock.lock();
    }
  });
}

void ClientRegistry::Stop() {
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const ClientSnapshot> ClientRegistry::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

absl::StatusOr<ClientStore::Created> ClientStore::Create(
    absl::string_view app_key, absl::string_view display_name, absl::string_view kind,
    common::SignatureMethod method, const std::vector<AccessRule>& access, double rate_per_second,
    int burst) {
  bool key_ok = app_key.size() >= 3 && app_key.size() <= 64;
  for (char c : app_key) {
    key_ok = key_ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                        c == '.' || c == '-');
  }
  if (!key_ok) return common::FieldError("app_key", "3-64 characters from [A-Za-z0-9_.-]");
  if (display_name.empty()) return common::FieldError("display_name", "required");
  if (kind != "system" && kind != "service" && kind != "platform" && kind != "operator") {
    return common::FieldError("kind", "must be system, service, platform or operator");
  }
  if (rate_per_second < 0) return common::FieldError("rate_per_second", "must be >= 0");
  if (burst < 0) return common::FieldError("burst", "must be >= 0");
  if (absl::Status s = ValidatePatterns(access); !s.ok()) return s;
  Created created{std::string(app_key), NewClientSecret()};
  auto done = pool_.Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec_params(kInsertClient, created.app_key, std::string(display_name), std::string(kind),
                    pqxx::binarystring(box_.Seal(created.secret, created.app_key)),
                    std::string(common::SignatureMethodName(method)), rate_per_second, burst);
    for (const auto& rule : access) {
      txn.exec_params(kInsertAccess, created.app_key, rule.pattern, rule.rate_per_second);
    }
    return absl::OkStatus();
  });
  if (done.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("app_key: client ", app_key, " already exists"));
  }
  if (!done.ok()) return done;
  return created;
}

absl::StatusOr<ClientStore::Rotated> ClientStore::RotateSecret(absl::string_view app_key,
                                                               absl::Duration grace) {
  if (grace < absl::ZeroDuration() || grace > absl::Hours(24 * 30)) {
    return common::FieldError("grace_period", "must be between 0 and 30 days");
  }
  Rotated rotated{NewClientSecret(), absl::InfinitePast()};
  auto done = pool_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto r = txn.exec_params(kUpdateSecret, std::string(app_key),
                             pqxx::binarystring(box_.Seal(rotated.secret, app_key)),
                             absl::ToDoubleSeconds(grace));
    if (r.size() != 1) return NotFound(app_key);
    if (const int64_t until = r[0][0].as<int64_t>(); until != 0) {
      rotated.previous_valid_until = absl::FromUnixMicros(until);
    }
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  return rotated;
}

absl::Status ClientStore::SetCertFingerprint(absl::string_view app_key,
                                             absl::string_view fingerprint) {
  std::string normalized = NormalizeFingerprint(fingerprint);
  if (!fingerprint.empty() && normalized.empty()) {
    return common::FieldError("cert_fingerprint", "must be the SHA-256 of the certificate: 64 hex digits, ':' allowed");
  }
  auto done = pool_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto r = txn.exec_params(kUpdateFingerprint, std::string(app_key), normalized);
    return r.affected_rows() == 1 ? absl::OkStatus() : NotFound(app_key);
  });
  if (done.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError("cert_fingerprint: registered to another client");
  }
  return done;
}

absl::Status ClientStore::SetAccess(absl::string_view app_key,
                                    const std::vector<AccessRule>& access, double rate_per_second,
                                    int burst) {
  if (absl::Status s = ValidatePatterns(access); !s.ok()) return s;
  if (rate_per_second < 0) return common::FieldError("rate_per_second", "must be >= 0");
  if (burst < 0) return common::FieldError("burst", "must be >= 0");
  return pool_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto r = txn.exec_params(kUpdateLimits, std::string(app_key), rate_per_second, burst);
    if (r.affected_rows() != 1) return NotFound(app_key);
    txn.exec_params(kDeleteAccess, std::string(app_key));
    for (const auto& rule : access) {
      txn.exec_params(kInsertAccess, std::string(app_key), rule.pattern, rule.rate_per_second);
    }
    return absl::OkStatus();
  });
}

absl::Status ClientStore::SetDisabled(absl::string_view app_key, bool disabled) {
  return pool_.Transact([&](pqxx::work& txn) -> absl::Status {
    auto r = txn.exec_params(kUpdateDisabled, std::string(app_key), disabled);
    return r.affected_rows() == 1 ? absl::OkStatus() : NotFound(app_key);
  });
}

absl::StatusOr<std::vector<Client>> ClientStore::List() {
  return pool_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<Client>> {
    std::vector<Client> out;
    absl::flat_hash_map<std::string, size_t> index;
    for (const auto& row : txn.exec(std::string(kSelectClients) + " ORDER BY app_key")) {
      Client c;
      c.app_key = row[0].as<std::string>();
      c.display_name = row[1].as<std::string>();
      c.kind = row[2].as<std::string>();
      auto method = common::ParseSignatureMethod(row[4].as<std::string>());
      c.signature_method = method.ok() ? *method : common::SignatureMethod::kHmacSha256;
      c.disabled = row[5].as<bool>();
      c.cert_subject = row[6].as<std::string>();
      c.rate_per_second = row[7].as<double>();
      c.burst = row[8].as<int>();
      c.cert_fingerprint = row[9].as<std::string>();
      if (!row[10].is_null()) c.previous_secret_until = absl::FromUnixMicros(row[11].as<int64_t>());
      index[c.app_key] = out.size();
      out.push_back(std::move(c));
    }
    for (const auto& row : txn.exec(kSelectAccess)) {
      auto it = index.find(row[0].as<std::string>());
      if (it != index.end()) out[it->second].access.push_back({row[1].as<std::string>(), row[2].as<double>()});
    }
    return out;
  });
}

}  // namespace regsuite::gateway
