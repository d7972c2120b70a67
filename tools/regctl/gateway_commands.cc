// regctl client … / audit verify / sign: gateway administration for operators. These work on
// the gateway schema directly (the operator holds the database credentials and master key);
// the same operations are offered over gRPC by GatewayAdmin.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "audit.h"
#include "clients.h"
#include "commands.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/signing.h"
#include "secret_box.h"

namespace regsuite::regctl {
namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "regctl: %s\n", status.ToString().c_str());
  return 1;
}

// --flag value pairs and repeated --allow.
struct Flags {
  std::map<std::string, std::string> values;
  std::vector<std::string> allow;
  std::vector<std::string> positional;
};

Flags ParseFlags(const std::vector<std::string>& args, size_t from) {
  Flags f;
  for (size_t i = from; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0 && i + 1 < args.size()) {
      if (args[i] == "--allow") {
        f.allow.push_back(args[++i]);
      } else {
        f.values[args[i].substr(2)] = args[i + 1];
        ++i;
      }
    } else {
      f.positional.push_back(args[i]);
    }
  }
  return f;
}

std::string Get(const Flags& f, const std::string& key, const std::string& fallback = "") {
  auto it = f.values.find(key);
  return it == f.values.end() ? fallback : it->second;
}

std::vector<gateway::AccessRule> Rules(const Flags& f) {
  std::vector<gateway::AccessRule> rules;
  for (const auto& a : f.allow) rules.push_back({a, 0});
  return rules;
}

absl::Status WriteSecret(const std::string& path, const std::string& secret) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::InvalidArgumentError(absl::StrCat("cannot write ", path));
  out << secret << "\n";
  return absl::OkStatus();
}

std::string ReadFileTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string s = buffer.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

int Client(const common::Config& config, const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(stderr,
                 "usage: regctl client create APP_KEY --name NAME [--kind system|service|platform]\n"
                 "           [--method HMAC-SHA256|HMAC-SM3] [--allow PATTERN]... [--rate R] [--burst B]\n"
                 "           [--secret-out FILE]\n"
                 "       regctl client list | rotate APP_KEY [--grace DURATION (24h; 0s revokes at once)]\n"
                 "           [--secret-out FILE] | disable APP_KEY |\n"
                 "       enable APP_KEY | access APP_KEY --allow PATTERN... [--rate R] [--burst B]\n"
                 "       regctl client cert APP_KEY --fingerprint SHA256_HEX|\"\" (mTLS; \"\" removes)\n");
    return 2;
  }
  auto box = gateway::SecretBox::FromHex(config.GetString("auth.master_key"));
  if (!box.ok()) return Fail(box.status());
  common::PgPool pool(common::ReadPgOptions(config, "gateway", "regctl"));
  gateway::ClientStore store(pool, *box);
  const std::string& verb = args[0];
  Flags f = ParseFlags(args, 1);
  if (verb == "list") {
    auto clients = store.List();
    if (!clients.ok()) return Fail(clients.status());
    for (const auto& c : *clients) {
      std::vector<std::string> patterns;
      for (const auto& r : c.access) patterns.push_back(r.pattern);
      // rate and burst: the client's own quota, or "default" (the gateway's ratelimit.*)
      std::printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.app_key.c_str(), c.kind.c_str(),
                  c.disabled ? "disabled" : "enabled",
                  std::string(common::SignatureMethodName(c.signature_method)).c_str(),
                  absl::StrJoin(patterns, ",").c_str(),
                  c.rate_per_second > 0 ? absl::StrCat(c.rate_per_second).c_str() : "default",
                  c.burst > 0 ? absl::StrCat(c.burst).c_str() : "default");
    }
    return 0;
  }
  if (f.positional.empty()) return Fail(absl::InvalidArgumentError("APP_KEY is required"));
  const std::string& app_key = f.positional[0];
  double rate = 0;
  int burst = 0;
  if (!Get(f, "rate").empty() && !absl::SimpleAtod(Get(f, "rate"), &rate)) {
    return Fail(absl::InvalidArgumentError("--rate: must be a number"));
  }
  if (!Get(f, "burst").empty() && !absl::SimpleAtoi(Get(f, "burst"), &burst)) {
    return Fail(absl::InvalidArgumentError("--burst: must be an integer"));
  }
  auto emit_secret = [&](const std::string& secret) -> int {
    const std::string out = Get(f, "secret-out");
    if (out.empty()) {
      std::printf("app_key %s\nsecret  %s\n(shown once: store it now)\n", app_key.c_str(), secret.c_str());
      return 0;
    }
    if (absl::Status s = WriteSecret(out, secret); !s.ok()) return Fail(s);
    std::printf("app_key %s: secret written to %s\n", app_key.c_str(), out.c_str());
    return 0;
  };
  if (verb == "create") {
    auto method = common::ParseSignatureMethod(Get(f, "method"));
    if (!method.ok()) return Fail(method.status());
    auto created = store.Create(app_key, Get(f, "name", app_key), Get(f, "kind", "system"), *method,
                                Rules(f), rate, burst);
    if (!created.ok()) return Fail(created.status());
    return emit_secret(created->secret);
  }
  if (verb == "rotate") {
    absl::Duration grace;
    if (!absl::ParseDuration(Get(f, "grace", "24h"), &grace)) {
      return Fail(absl::InvalidArgumentError("--grace: a duration such as 24h, 90m or 0s"));
    }
    auto rotated = store.RotateSecret(app_key, grace);
    if (!rotated.ok()) return Fail(rotated.status());
    if (rotated->previous_valid_until != absl::InfinitePast()) {
      std::printf("previous secret valid until %s\n",
                  absl::FormatTime(absl::RFC3339_sec, rotated->previous_valid_until, absl::UTCTimeZone()).c_str());
    }
    return emit_secret(rotated->secret);
  }
  if (verb == "cert") {
    if (f.values.count("fingerprint") == 0) {
      return Fail(absl::InvalidArgumentError("--fingerprint: required (\"\" removes the certificate)"));
    }
    if (absl::Status s = store.SetCertFingerprint(app_key, Get(f, "fingerprint")); !s.ok()) return Fail(s);
    std::printf("%s: client certificate %s\n", app_key.c_str(),
                Get(f, "fingerprint").empty() ? "removed" : "registered");
    return 0;
  }
  if (verb == "disable" || verb == "enable") {
    absl::Status s = store.SetDisabled(app_key, verb == "disable");
    if (!s.ok()) return Fail(s);
    std::printf("%s %sd\n", app_key.c_str(), verb.c_str());
    return 0;
  }
  if (verb == "access") {
    absl::Status s = store.SetAccess(app_key, Rules(f), rate, burst);
    if (!s.ok()) return Fail(s);
    std::printf("%s: %zu access rules\n", app_key.c_str(), f.allow.size());
    return 0;
  }
  return Fail(absl::InvalidArgumentError(absl::StrCat("unknown client command ", verb)));
}

int Audit(const common::Config& config, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "verify") {
    std::fprintf(stderr, "usage: regctl audit verify\n");
    return 2;
  }
  common::PgPool pool(common::ReadPgOptions(config, "gateway", "regctl"));
  auto result = gateway::VerifyAuditChain(pool);
  if (!result.ok()) return Fail(result.status());
  if (result->ok) {
    std::printf("audit chain intact: %lld rows checked\n", static_cast<long long>(result->rows_checked));
    return 0;
  }
  std::printf("audit chain BROKEN at row %lld: %s (%lld rows checked)\n",
              static_cast<long long>(result->first_bad_row_id), result->reason.c_str(),
              static_cast<long long>(result->rows_checked));
  return 1;
}

int Sign(const std::vector<std::string>& args) {
  Flags f = ParseFlags(args, 0);
  const std::string app_key = Get(f, "app-key");
  const std::string secret_file = Get(f, "secret-file");
  if (app_key.empty() || secret_file.empty() || (Get(f, "grpc").empty() && Get(f, "http").empty())) {
    std::fprintf(stderr,
                 "usage: regctl sign --app-key KEY --secret-file FILE [--method HMAC-SM3]\n"
                 "         (--grpc /pkg.Service/Method --body-file REQUEST.bin |\n"
                 "          --http METHOD --url http://host:port/path?query [--body JSON])\n"
                 "       [--timestamp UNIX] [--nonce NONCE]   (fixed values reproduce a signature)\n");
    return 2;
  }
  auto method = common::ParseSignatureMethod(Get(f, "method"));
  if (!method.ok()) return Fail(method.status());
  const std::string secret = ReadFileTrimmed(secret_file);
  const std::string timestamp = Get(f, "timestamp", absl::StrCat(absl::ToUnixSeconds(absl::Now())));
  const std::string nonce = Get(f, "nonce", common::NewNonce());
  std::string http_method = "POST", path, query, body;
  std::string url;
  if (!Get(f, "grpc").empty()) {
    path = Get(f, "grpc");
    if (!Get(f, "body-file").empty()) body = ReadFileTrimmed(Get(f, "body-file"));
  } else {
    http_method = Get(f, "http");
    url = Get(f, "url");
    body = Get(f, "body");
    size_t scheme = url.find("://");
    size_t start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    std::string target = start == std::string::npos ? "/" : url.substr(start);
    size_t q = target.find('?');
    path = target.substr(0, q);
    if (q != std::string::npos) {
      std::vector<std::string> params = absl::StrSplit(target.substr(q + 1), '&', absl::SkipEmpty());
      std::sort(params.begin(), params.end());
      query = absl::StrJoin(params, "&");
    }
  }
  const std::string digest = common::BodyDigestHex(*method, body);
  const std::string to_sign = common::StringToSign(http_method, path, query, timestamp, nonce, digest);
  const std::string signature = common::SignatureBase64(*method, secret, to_sign);
  std::printf("# string-to-sign (\\n-separated):\n");
  for (absl::string_view line : absl::StrSplit(to_sign, '\n')) {
    std::printf("#   %s\n", std::string(line).c_str());
  }
  const std::string method_name(common::SignatureMethodName(*method));
  if (!Get(f, "grpc").empty()) {
    std::printf("x-app-key: %s\nx-timestamp: %s\nx-nonce: %s\nx-signature-method: %s\nx-signature: %s\n",
                app_key.c_str(), timestamp.c_str(), nonce.c_str(), method_name.c_str(), signature.c_str());
  } else {
    std::printf("curl -sS -X %s '%s' -H 'content-type: application/json' -H 'x-app-key: %s' "
                "-H 'x-timestamp: %s' -H 'x-nonce: %s' -H 'x-signature-method: %s' -H 'x-signature: %s'%s\n",
                http_method.c_str(), url.c_str(), app_key.c_str(), timestamp.c_str(), nonce.c_str(),
                method_name.c_str(), signature.c_str(),
                body.empty() ? "" : absl::StrCat(" --data '", body, "'").c_str());
  }
  return 0;
}

}  // namespace regsuite::regctl
