#include "admin_service.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "audit.h"
#include "regsuite/common/server.h"
#include "regsuite/common/signing.h"
#include "regsuite/common/status.h"

namespace regsuite::gateway {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kQueryAudit[] =
    "SELECT id, request_id, client, method, route, target_uscc, status_code, latency_us,"
    " request_bytes, response_bytes, peer, (extract(epoch FROM at) * 1000000)::bigint,"
    " prev_hash, row_hash FROM audit_log"
    " WHERE id > $1 AND ($2 = '' OR client = $2)"
    "   AND ($3 = '' OR method = $3 OR (right($3, 1) = '*' AND starts_with(method, rtrim($3, '*'))))"
    "   AND ($4 = '' OR target_uscc = $4) AND ($5 = '' OR request_id = $5)"
    "   AND at >= to_timestamp($6::double precision / 1000000)"
    "   AND at < to_timestamp($7::double precision / 1000000)"
    "   AND ($8 < 0 OR status_code = $8)"
    " ORDER BY id LIMIT $9";

std::string KindToDb(v1::ClientKind kind) {
  switch (kind) {
    case v1::CLIENT_KIND_SERVICE_IDENTITY: return "service";
    case v1::CLIENT_KIND_OPERATOR: return "operator";
    default: return "system";
  }
}

v1::ClientKind KindFromDb(absl::string_view kind) {
  if (kind == "service") return v1::CLIENT_KIND_SERVICE_IDENTITY;
  if (kind == "operator") return v1::CLIENT_KIND_OPERATOR;
  return v1::CLIENT_KIND_EXTERNAL_SYSTEM;
}

// Proto patterns carry a leading '/' ("/regsuite.credit.v1.CreditService/*"); stored ones not.
std::vector<AccessRule> RulesFrom(const v1::ClientAccess& access) {
  std::vector<AccessRule> rules;
  for (const auto& m : access.allowed_methods()) {
    AccessRule rule{std::string(absl::StripPrefix(m, "/")), 0};
    for (const auto& limit : access.method_rate_limits()) {
      if (PatternMatches(absl::StripPrefix(limit.method_pattern(), "/"), rule.pattern) ||
          absl::StripPrefix(limit.method_pattern(), "/") == rule.pattern) {
        rule.rate_per_second = limit.limit().requests_per_second();
        break;
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

void ToProto(const Client& c, v1::Client* out) {
  out->set_app_key(c.app_key);
  out->set_display_name(c.display_name);
  out->set_kind(KindFromDb(c.kind));
  out->set_status(c.disabled ? v1::CLIENT_STATUS_DISABLED : v1::CLIENT_STATUS_ACTIVE);
  out->set_mtls_subject(c.cert_subject);
  if (c.previous_secret_until != absl::InfinitePast()) {
    *out->mutable_previous_secret_valid_until() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
        absl::ToUnixMicros(c.previous_secret_until));
  }
  auto* access = out->mutable_access();
  access->clear_allowed_methods();
  for (const auto& rule : c.access) {
    access->add_allowed_methods(absl::StrCat("/", rule.pattern));
    if (rule.rate_per_second > 0) {
      auto* limit = access->add_method_rate_limits();
      limit->set_method_pattern(absl::StrCat("/", rule.pattern));
      limit->mutable_limit()->set_requests_per_second(rule.rate_per_second);
    }
  }
  access->mutable_rate_limit()->set_requests_per_second(c.rate_per_second);
  access->mutable_rate_limit()->set_burst(c.burst);
  access->add_signature_methods(c.signature_method == common::SignatureMethod::kHmacSm3
                                    ? v1::SIGNATURE_METHOD_HMAC_SM3
                                    : v1::SIGNATURE_METHOD_HMAC_SHA256);
}

}  // namespace

GatewayAdminService::GatewayAdminService(common::PgPool& pool, const SecretBox& box,
                                         common::WorkerPool& workers, std::string internal_token,
                                         absl::Duration default_rotation_grace)
    : pool_(pool),
      store_(pool, box),
      workers_(workers),
      internal_token_(std::move(internal_token)),
      default_rotation_grace_(default_rotation_grace) {}

template <typename Fn>
grpc::ServerUnaryReactor* GatewayAdminService::Serve(grpc::CallbackServerContext* ctx, Fn&& fn) {
  auto it = ctx->client_metadata().find(kInternalTokenHeader);
  if (it == ctx->client_metadata().end() ||
      !common::SignaturesEqual(std::string(it->second.data(), it->second.size()), internal_token_)) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                 "GatewayAdmin is served only through the gateway"));
    return reactor;
  }
  return common::RunBlocking(ctx, workers_, std::forward<Fn>(fn));
}

absl::Status GatewayAdminService::FillClient(absl::string_view app_key, v1::Client* out) {
  auto clients = store_.List();
  if (!clients.ok()) return clients.status();
  for (const auto& c : *clients) {
    if (c.app_key == app_key) {
      ToProto(c, out);
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("app_key: no client ", app_key));
}

grpc::ServerUnaryReactor* GatewayAdminService::CreateClient(grpc::CallbackServerContext* ctx,
                                                            const v1::CreateClientRequest* request,
                                                            v1::CreateClientResponse* response) {
  return Serve(ctx, [this, request, response]() -> absl::Status {
    common::SignatureMethod method = common::SignatureMethod::kHmacSha256;
    if (request->access().signature_methods_size() > 0 &&
        request->access().signature_methods(0) == v1::SIGNATURE_METHOD_HMAC_SM3) {
      method = common::SignatureMethod::kHmacSm3;
    }
    auto created = store_.Create(request->app_key(), request->display_name(),
                                 KindToDb(request->kind()), method, RulesFrom(request->access()),
                                 request->access().rate_limit().requests_per_second(),
                                 request->access().rate_limit().burst());
    if (!created.ok()) return created.status();
    response->set_secret(created->secret);
    return FillClient(created->app_key, response->mutable_client());
  });
}

grpc::ServerUnaryReactor* GatewayAdminService::GetClient(grpc::CallbackServerContext* ctx,
                                                         const v1::GetClientRequest* request,
                                                         v1::Client* response) {
  return Serve(ctx, [this, request, response] { return FillClient(request->app_key(), response); });
}

grpc::ServerUnaryReactor* GatewayAdminService::ListClients(grpc::CallbackServerContext* ctx,
                                                           const v1::ListClientsRequest* request,
                                                           v1::ListClientsResponse* response) {
  return Serve(ctx, [this, request, response]() -> absl::Status {
    auto clients = store_.List();
    if (!clients.ok()) return clients.status();
    for (const auto& c : *clients) {
      if (request->kind() != v1::CLIENT_KIND_UNSPECIFIED && KindFromDb(c.kind) != request->kind()) continue;
      const auto status = c.disabled ? v1::CLIENT_STATUS_DISABLED : v1::CLIENT_STATUS_ACTIVE;
      if (request->status() != v1::CLIENT_STATUS_UNSPECIFIED && status != request->status()) continue;
      ToProto(c, response->add_clients());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GatewayAdminService::RotateSecret(grpc::CallbackServerContext* ctx,
                                                            const v1::RotateSecretRequest* request,
                                                            v1::RotateSecretResponse* response) {
  return Serve(ctx, [this, request, response]() -> absl::Status {
    const absl::Duration grace =
        request->has_grace_period()
            ? absl::Microseconds(google::protobuf::util::TimeUtil::DurationToMicroseconds(
                  request->grace_period()))
            : default_rotation_grace_;
    auto rotated = store_.RotateSecret(request->app_key(), grace);
    if (!rotated.ok()) return rotated.status();
    response->set_secret(rotated->secret);
    if (rotated->previous_valid_until != absl::InfinitePast()) {
      *response->mutable_previous_secret_valid_until() =
          google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
              absl::ToUnixMicros(rotated->previous_valid_until));
    }
    return FillClient(request->app_key(), response->mutable_client());
  });
}

grpc::ServerUnaryReactor* GatewayAdminService::SetClientAccess(
    grpc::CallbackServerContext* ctx, const v1::SetClientAccessRequest* request,
    v1::Client* response) {
  return Serve(ctx, [this, request, response]() -> absl::Status {
    absl::Status s = store_.SetAccess(request->app_key(), RulesFrom(request->access()),
                                      request->access().rate_limit().requests_per_second(),
                                      request->access().rate_limit().burst());
    if (!s.ok()) return s;
    return FillClient(request->app_key(), response);
  });
}

grpc::ServerUnaryReactor* GatewayAdminService::DisableClient(grpc::CallbackServerContext* ctx,
                                                             const v1::DisableClientRequest* request,
                                                             v1::Client* response) {
  return Serve(ctx, [this, request, response]() -> absl::Status {
    if (absl::Status s = store_.SetDisabled(request->app_key(), true); !s.ok()) return s;
    return FillClient(request->app_key(), response);
  });
}

grpc::ServerUnaryReactor* GatewayAdminService::EnableClient(grpc::CallbackServerContext* ctx,
                                                            const v1::EnableClientRequest* request,
                                                            v1::Client* response) {
  return Serve(ctx, [this, request, response]() -> absl::Status {
    if (absl::Status s = store_.SetDisabled(request->app_key(), false); !s.ok()) return s;
    return FillClient(request->app_key(), response);
  });
}

grpc::ServerUnaryReactor* GatewayAdminService::QueryAudit(grpc::CallbackServerContext* ctx,
                                                          const v1::QueryAuditRequest* request,
                                                          v1::QueryAuditResponse* response) {
  return Serve(ctx, [this, request, response]() -> absl::Status {
    int64_t after = 0;
    if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &after)) {
      return common::FieldError("page_token", "not a token returned by QueryAudit");
    }
    if (request->page_size() < 0) return common::FieldError("page_size", "must be >= 0");
    const int page_size = request->page_size() == 0 ? 100 : std::min(request->page_size(), 1000);
    const int64_t start = request->has_start_time() ? TimeUtil::TimestampToMicroseconds(request->start_time()) : 0;
    const int64_t end = request->has_end_time() ? TimeUtil::TimestampToMicroseconds(request->end_time())
                                                : int64_t{253402300799} * 1000000;
    const int status = request->has_status_code() ? request->status_code() : -1;
    return pool_.Transact([&](pqxx::work& txn) -> absl::Status {
      auto rows = txn.exec_params(kQueryAudit, after, request->app_key(), request->method(),
                                  request->uscc(), request->request_id(), start, end, status,
                                  page_size + 1);
      int n = 0;
      for (const auto& row : rows) {
        if (++n > page_size) {
          response->set_next_page_token(absl::StrCat(response->entries().rbegin()->row_id()));
          break;
        }
        auto* e = response->add_entries();
        e->set_row_id(row[0].as<int64_t>());
        e->set_request_id(row[1].as<std::string>());
        e->set_app_key(row[2].as<std::string>());
        e->set_method(row[3].as<std::string>());
        const std::string route = row[4].as<std::string>();
        if (route != "grpc") e->set_http_path(route);
        e->set_uscc(row[5].as<std::string>());
        e->set_status_code(row[6].as<int>());
        e->set_status(grpc::StatusCode(e->status_code()) == grpc::StatusCode::OK ? "OK" : absl::StrCat(e->status_code()));
        *e->mutable_latency() = TimeUtil::MicrosecondsToDuration(row[7].as<int64_t>());
        e->set_request_bytes(row[8].as<int64_t>());
        e->set_response_bytes(row[9].as<int64_t>());
        e->set_peer(row[10].as<std::string>());
        *e->mutable_call_time() = TimeUtil::MicrosecondsToTimestamp(row[11].as<int64_t>());
        e->set_prev_hash(row[12].as<std::string>());
        e->set_row_hash(row[13].as<std::string>());
      }
      return absl::OkStatus();
    });
  });
}

grpc::ServerUnaryReactor* GatewayAdminService::VerifyAuditChain(
    grpc::CallbackServerContext* ctx, const v1::VerifyAuditChainRequest* request,
    v1::VerifyAuditChainResponse* response) {
  return Serve(ctx, [this, response]() -> absl::Status {
    auto result = gateway::VerifyAuditChain(pool_);
    if (!result.ok()) return result.status();
    response->set_ok(result->ok);
    response->set_rows_checked(result->rows_checked);
    response->set_first_bad_row_id(result->first_bad_row_id);
    response->set_reason(result->reason);
    *response->mutable_checked_at() = TimeUtil::GetCurrentTime();
    return absl::OkStatus();
  });
}

}  // namespace regsuite::gateway
