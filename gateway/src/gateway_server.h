#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "regsuite/common/config.h"
#include "regsuite/common/server.h"

namespace regsuite::gateway {

/// The gateway's own configuration keys (auth.*, ratelimit.*, audit.*, backends.*, proxy.*,
/// http.*, admin.*).
void AddGatewayConfigKeys(common::ConfigSchema& schema);

/// Builds the gateway (client registry, authenticator, guard, backends, audit log, gRPC proxy,
/// HTTP ingress, admin service) on the bootstrap's dependencies.
absl::StatusOr<std::unique_ptr<common::ServerExtension>> MakeGateway(common::ServiceContext& ctx);

}  // namespace regsuite::gateway
