#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/time/time.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/signing.h"
#include "secret_box.h"

namespace regsuite::gateway {

/// One allowed method pattern: "regsuite.credit.v1.CreditService/*" or an exact method.
struct AccessRule {
  std::string pattern;
  double rate_per_second = 0;  // 0: no per-method limit
};

/// A gateway client with its secret opened, as the hot path needs it.
struct Client {
  std::string app_key;
  std::string display_name;
  std::string kind;  // system, service, platform
  std::string secret;
  common::SignatureMethod signature_method = common::SignatureMethod::kHmacSha256;
  bool disabled = false;
  std::string cert_subject;
  // mTLS: SHA-256 of the client certificate (lower-case hex), empty when none is registered.
  std::string cert_fingerprint;
  // After a rotation with a grace period: the previous secret, accepted until then.
  std::string previous_secret;
  absl::Time previous_secret_until = absl::InfinitePast();
  double rate_per_second = 0;
  int burst = 0;
  std::vector<AccessRule> access;
};

/// True when `method` ("pkg.Service/Method", no leading slash) matches `pattern`.
bool PatternMatches(absl::string_view pattern, absl::string_view method);
/// The first rule of `client` allowing `method`, or nullptr (deny by default).
const AccessRule* FindAccess(const Client& client, absl::string_view method);
/// INVALID_ARGUMENT naming `access[i]` unless every pattern is well formed.
absl::Status ValidatePatterns(const std::vector<AccessRule>& rules);

/// An immutable copy of every client, swapped atomically on refresh.
struct ClientSnapshot {
  int64_t version = 0;
  absl::flat_hash_map<std::string, Client> by_app_key;
  absl::flat_hash_map<std::string, std::string> app_key_by_cert_subject;
  absl::flat_hash_map<std::string, std::string> app_key_by_cert_fingerprint;
};

/// "AB:CD:..." or "abcd..." (64 hex digits) → lower-case hex without colons; "" when malformed.
std::string NormalizeFingerprint(absl::string_view text);

/// Clients cached in memory; a background thread polls one version row and reloads on change,
/// so authentication never reads the database per request.
class ClientRegistry {
 public:
  ClientRegistry(common::PgPool& pool, const SecretBox& box);
  ~ClientRegistry();

  /// Reloads when the version changed (or always when `force`).
  absl::Status Refresh(bool force = false);
  void Start(absl::Duration interval);
  void Stop();

  std::shared_ptr<const ClientSnapshot> Snapshot() const;

 private:
  common::PgPool& pool_;
  const SecretBox& box_;
  mutable std::mutex mu_;
  std::shared_ptr<const ClientSnapshot> snapshot_;
  std::mutex thread_mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Client administration in the gateway schema, shared by GatewayAdmin and regctl.
class ClientStore {
 public:
  ClientStore(common::PgPool& pool, const SecretBox& box) : pool_(pool), box_(box) {}

  struct Created {
    std::string app_key;
    std::string secret;  // shown once, never stored in clear
  };
  absl::StatusOr<Created> Create(absl::string_view app_key, absl::string_view display_name,
                                 absl::string_view kind, common::SignatureMethod method,
                                 const std::vector<AccessRule>& access, double rate_per_second,
                                 int burst);
  struct Rotated {
    std::string secret;  // the new secret, shown once
    absl::Time previous_valid_until;  // InfinitePast when the old secret was revoked at once
  };
  /// Replaces the secret; the previous one stays valid for `grace` (0: revoked at once).
  absl::StatusOr<Rotated> RotateSecret(absl::string_view app_key, absl::Duration grace);
  /// Registers the client certificate (SHA-256 fingerprint) that authenticates the client over
  /// mTLS; an empty fingerprint removes it.
  absl::Status SetCertFingerprint(absl::string_view app_key, absl::string_view fingerprint);
  absl::Status SetAccess(absl::string_view app_key, const std::vector<AccessRule>& access,
                         double rate_per_second, int burst);
  absl::Status SetDisabled(absl::string_view app_key, bool disabled);
  /// Every client without secrets (secret left empty).
  absl::StatusOr<std::vector<Client>> List();

 private:
  common::PgPool& pool_;
  const SecretBox& box_;
};

}  // namespace regsuite::gateway
