#pragma once

#include <google/protobuf/util/type_resolver.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "http/descriptors.h"
#include "http/routes.h"

namespace regsuite::gateway {

/// JSON ↔ protobuf for the HTTP ingress (proto3 JSON mapping: input accepts lowerCamelCase
/// and snake_case, output lowerCamelCase, enums as names, default values omitted).
/// Thread-safe; built once at start-up.
class JsonTranscoder {
 public:
  using Params = std::vector<std::pair<std::string, std::string>>;

  explicit JsonTranscoder(std::shared_ptr<const ApiDescriptors> api);
  ~JsonTranscoder();

  /// The serialized request of `route`: the JSON `body` (the whole message for `body: "*"`,
  /// the named field otherwise), then the path `bindings` (field path → decoded value), then
  /// the decoded `query` parameters (names snake_case or lowerCamelCase, `a.b` for nested
  /// fields; repeated fields from repeated parameters; enums by name). INVALID_ARGUMENT with
  /// a "field: rule" message for bad JSON, unknown fields and bad values.
  absl::StatusOr<std::string> RequestToBinary(const HttpRoute& route, const Params& bindings,
                                              const Params& query,
                                              absl::string_view body) const;

  /// The JSON body of a serialized response of `route` (its response_body field if set).
  absl::StatusOr<std::string> ResponseToJson(const HttpRoute& route,
                                             absl::string_view response_bytes) const;

 private:
  absl::StatusOr<std::string> JsonToBinary(absl::string_view type_name,
                                           absl::string_view json,
                                           absl::string_view field_prefix) const;

  std::shared_ptr<const ApiDescriptors> api_;
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver_;
};

/// Rewrites a protobuf JSON parser error ("(a.b) c: Cannot find field.", "(a): invalid value
/// x for type TYPE_INT32", syntax errors) as "field: rule", prefixing `field_prefix.`.
std::string JsonErrorToFieldMessage(absl::string_view parser_message,
                                    absl::string_view field_prefix);

}  // namespace regsuite::gateway
