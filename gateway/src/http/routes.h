#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "http/descriptors.h"

namespace regsuite::gateway {

/// One piece of a parsed google.api.http path template.
struct TemplateSegment {
  enum class Kind { kLiteral, kSingle, kMulti };  // literal, `*`, `**`
  Kind kind = Kind::kLiteral;
  std::string literal;
};

/// A variable of a path template: the field path it binds and the segments it covers.
struct TemplateVariable {
  std::string field_path;  // snake_case, "a.b" for nested fields
  size_t first_segment = 0;
  size_t end_segment = 0;  // exclusive
};

/// A parsed path template: "/v1/credit/listings/{listing_id}:notify".
struct PathTemplate {
  std::vector<TemplateSegment> segments;
  std::vector<TemplateVariable> variables;
  std::string verb;  // without the ':'; empty when none
  bool has_multi = false;

  /// Parses the google.api.http template grammar (literals, `*`, `**`, `{var}`, `{var=*}`,
  /// `{var=**}`, `{var=a/*}`, `:verb`). INVALID_ARGUMENT naming the rule broken.
  static absl::StatusOr<PathTemplate> Parse(absl::string_view text);
};

/// One HTTP binding of a gRPC method (its main rule or one of its additional_bindings).
struct HttpRoute {
  std::string http_method;    // "GET", "PUT", "POST", "DELETE", "PATCH" or a custom kind
  std::string path_template;  // as written in the proto, e.g. "/v1/credit/subjects/{uscc}"
  PathTemplate parsed;
  std::string grpc_method;    // "/regsuite.credit.v1.CreditService/CheckSubject"
  std::string input_type;     // full message names
  std::string output_type;
  std::string body;           // "", "*" or a top-level field name
  std::string response_body;  // "" or a top-level field name of the response
};

/// Outcome of HttpRouteTable::Match.
struct RouteMatch {
  enum class Outcome { kMatched, kNoRoute, kMethodNotAllowed };
  Outcome outcome = Outcome::kNoRoute;
  const HttpRoute* route = nullptr;  // kMatched only; owned by the table
  // Path variable field path → value, percent-decoded (`**` keeps '/').
  std::vector<std::pair<std::string, std::string>> bindings;
  // kMethodNotAllowed: the HTTP methods the path does accept (for the Allow header).
  std::vector<std::string> allowed_methods;
};

/// Every google.api.http rule of the API, built once at start-up; Match is thread-safe.
class HttpRouteTable {
 public:
  /// Reads every method's google.api.http option (with additional_bindings) from the set.
  /// INVALID_ARGUMENT naming the method for a template that does not parse, a body field
  /// that does not exist, or two identical bindings.
  static absl::StatusOr<std::shared_ptr<const HttpRouteTable>> Build(const ApiDescriptors& api);

  /// `method` is the HTTP method as sent; `path` the URL path as sent (no query).
  RouteMatch Match(absl::string_view method, absl::string_view path) const;

  const std::vector<std::unique_ptr<HttpRoute>>& routes() const { return routes_; }

 private:
  HttpRouteTable() = default;
  std::vector<std::unique_ptr<HttpRoute>> routes_;
};

/// Percent-decodes `in` ('+' stays '+' unless `plus_is_space`); nullopt-like failure is
/// reported as false for a malformed escape.
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out);

}  // namespace regsuite::gateway
