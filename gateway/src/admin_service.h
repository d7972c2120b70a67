#pragma once

#include "absl/time/time.h"

#include <memory>
#include <string>

#include "clients.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/worker_pool.h"
#include "regsuite/gateway/v1/admin.grpc.pb.h"

namespace regsuite::gateway {

/// Metadata key carrying the per-process token that proves a call came through the gateway's
/// own pipeline (authenticated, authorised, audited) to the internal admin listener.
inline constexpr char kInternalTokenHeader[] = "x-gateway-internal";

/// GatewayAdmin: client administration and audit queries. Served on an internal loopback
/// listener; reachable only through the gateway's proxy, which adds the internal token after
/// authenticating and authorising the caller like any other call.
class GatewayAdminService final : public v1::GatewayAdmin::CallbackService {
 public:
  /// `default_rotation_grace`: how long a rotated secret stays valid when RotateSecret names
  /// no grace period (auth.rotation_grace).
  GatewayAdminService(common::PgPool& pool, const SecretBox& box, common::WorkerPool& workers,
                      std::string internal_token, absl::Duration default_rotation_grace);

  grpc::ServerUnaryReactor* CreateClient(grpc::CallbackServerContext* ctx,
                                         const v1::CreateClientRequest* request,
                                         v1::CreateClientResponse* response) override;
  grpc::ServerUnaryReactor* GetClient(grpc::CallbackServerContext* ctx,
                                      const v1::GetClientRequest* request,
                                      v1::Client* response) override;
  grpc::ServerUnaryReactor* ListClients(grpc::CallbackServerContext* ctx,
                                        const v1::ListClientsRequest* request,
                                        v1::ListClientsResponse* response) override;
  grpc::ServerUnaryReactor* RotateSecret(grpc::CallbackServerContext* ctx,
                                         const v1::RotateSecretRequest* request,
                                         v1::RotateSecretResponse* response) override;
  grpc::ServerUnaryReactor* SetClientAccess(grpc::CallbackServerContext* ctx,
                                            const v1::SetClientAccessRequest* request,
                                            v1::Client* response) override;
  grpc::ServerUnaryReactor* DisableClient(grpc::CallbackServerContext* ctx,
                                          const v1::DisableClientRequest* request,
                                          v1::Client* response) override;
  grpc::ServerUnaryReactor* EnableClient(grpc::CallbackServerContext* ctx,
                                         const v1::EnableClientRequest* request,
                                         v1::Client* response) override;
  grpc::ServerUnaryReactor* QueryAudit(grpc::CallbackServerContext* ctx,
                                       const v1::QueryAuditRequest* request,
                                       v1::QueryAuditResponse* response) override;
  grpc::ServerUnaryReactor* VerifyAuditChain(grpc::CallbackServerContext* ctx,
                                             const v1::VerifyAuditChainRequest* request,
                                             v1::VerifyAuditChainResponse* response) override;

 private:
  template <typename Fn>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx, Fn&& fn);
  absl::Status FillClient(absl::string_view app_key, v1::Client* out);

  common::PgPool& pool_;
  ClientStore store_;
  common::WorkerPool& workers_;
  const std::string internal_token_;
  const absl::Duration default_rotation_grace_;
};

}  // namespace regsuite::gateway
