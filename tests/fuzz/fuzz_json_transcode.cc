// libFuzzer: arbitrary bytes as the JSON body (and, after a NUL, a query string) of a few
// methods with nested messages, enums, repeated fields, maps and timestamps.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "http/descriptors.h"
#include "http/query.h"
#include "http/routes.h"
#include "http/transcode.h"

namespace {

struct Fixture {
  std::shared_ptr<const regsuite::gateway::HttpRouteTable> table;
  std::shared_ptr<const regsuite::gateway::JsonTranscoder> transcoder;
  std::vector<const regsuite::gateway::HttpRoute*> routes;
};

const Fixture& Get() {
  static const Fixture fixture = [] {
    Fixture f;
    auto api = regsuite::gateway::ApiDescriptors::Embedded();
    if (!api.ok()) std::abort();
    auto built = regsuite::gateway::HttpRouteTable::Build(**api);
    if (!built.ok()) std::abort();
    f.table = *built;
    f.transcoder = std::make_shared<regsuite::gateway::JsonTranscoder>(*api);
    const std::pair<const char*, const char*> kRoutes[] = {
        {"POST", "/v1/credit/listings"},                  // enums, repeated strings
        {"POST", "/v1/credit/listings/L1:decide"},        // map, path variable
        {"POST", "/v1/credit/listings/L1:object"},        // Timestamp
        {"POST", "/v1/licensing/applications"},           // nested, repeated messages
        {"GET", "/v1/credit/listings"},                   // query only
        {"GET", "/v1/licensing/certificates:expiring"},   // query only
    };
    for (const auto& [method, path] : kRoutes) {
      auto match = f.table->Match(method, path);
      if (match.route == nullptr) std::abort();
      f.routes.push_back(match.route);
    }
    return f;
  }();
  return fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Fixture& f = Get();
  const auto* route = f.routes[data[0] % f.routes.size()];
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string body = input;
  regsuite::gateway::JsonTranscoder::Params query;
  if (size_t nul = input.find('\0'); nul != std::string::npos) {
    body = input.substr(0, nul);
    auto parsed = regsuite::gateway::ParseQuery(input.substr(nul + 1));
    if (parsed.ok()) query = *std::move(parsed);
  }
  if (route->http_method == "GET") body.clear();
  regsuite::gateway::JsonTranscoder::Params bindings;
  for (const auto& variable : route->parsed.variables) {
    bindings.emplace_back(variable.field_path, "L1");
  }
  auto bytes = f.transcoder->RequestToBinary(*route, bindings, query, body);
  if (bytes.ok()) {
    // What a backend echoes back must render as JSON again.
    (void)f.transcoder->ResponseToJson(*route, *bytes);
  }
  return 0;
}
