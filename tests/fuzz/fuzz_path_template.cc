// libFuzzer: route matching (and template parsing) on arbitrary method/path bytes. The
// input is "<method>\n<path>"; the whole input is also parsed as a path template.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/descriptors.h"
#include "http/query.h"
#include "http/routes.h"

namespace {

const regsuite::gateway::HttpRouteTable& Table() {
  static const auto table = [] {
    auto api = regsuite::gateway::ApiDescriptors::Embedded();
    if (!api.ok()) std::abort();
    auto built = regsuite::gateway::HttpRouteTable::Build(**api);
    if (!built.ok()) std::abort();
    return *built;
  }();
  return *table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string method = newline == std::string::npos ? "GET" : input.substr(0, newline);
  std::string target = newline == std::string::npos ? input : input.substr(newline + 1);
  std::string path = target.substr(0, target.find('?'));
  auto match = Table().Match(method, path);
  if (match.outcome == regsuite::gateway::RouteMatch::Outcome::kMatched) {
    if (match.route == nullptr) std::abort();
    if (match.bindings.size() != match.route->parsed.variables.size()) std::abort();
  }
  if (size_t q = target.find('?'); q != std::string::npos) {
    (void)regsuite::gateway::CanonicalQuery(target.substr(q + 1));
    (void)regsuite::gateway::ParseQuery(target.substr(q + 1));
  }
  (void)regsuite::gateway::PathTemplate::Parse(input);
  return 0;
}
