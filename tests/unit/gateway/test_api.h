#pragma once

#include <memory>

#include "http/descriptors.h"
#include "http/routes.h"
#include "http/transcode.h"

namespace regsuite::gateway::testing {

/// The embedded regsuite descriptor set, its route table and transcoder, built once.
inline const std::shared_ptr<const ApiDescriptors>& Api() {
  static const auto api = [] {
    auto loaded = ApiDescriptors::Embedded();
    if (!loaded.ok()) std::abort();
    return *loaded;
  }();
  return api;
}

inline const std::shared_ptr<const HttpRouteTable>& Routes() {
  static const auto routes = [] {
    auto built = HttpRouteTable::Build(*Api());
    if (!built.ok()) std::abort();
    return *built;
  }();
  return routes;
}

inline const std::shared_ptr<const JsonTranscoder>& Transcoder() {
  static const auto transcoder = std::make_shared<const JsonTranscoder>(Api());
  return transcoder;
}

}  // namespace regsuite::gateway::testing
