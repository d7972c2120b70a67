#include "http/routes.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"

namespace regsuite::gateway {
namespace {

bool IsIdentifier(absl::string_view s) {
  if (s.empty() || !(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

bool IsFieldPath(absl::string_view s) {
  for (absl::string_view part : absl::StrSplit(s, '.')) {
    if (!IsIdentifier(part)) return false;
  }
  return true;
}

absl::Status TemplateError(absl::string_view text, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("path template \"", text, "\": ", rule));
}

absl::StatusOr<TemplateSegment> ParseSegment(absl::string_view token, absl::string_view text) {
  TemplateSegment segment;
  if (token == "*") {
    segment.kind = TemplateSegment::Kind::kSingle;
  } else if (token == "**") {
    segment.kind = TemplateSegment::Kind::kMulti;
  } else {
    if (token.empty()) return TemplateError(text, "empty segment");
    if (token.find_first_of("{}*:") != absl::string_view::npos) {
      return TemplateError(text, absl::StrCat("invalid literal segment \"", token, "\""));
    }
    segment.literal = std::string(token);
  }
  return segment;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A field path "a.b" that exists in `message` and ends at a non-message field (or a
// well-known type, which binds from a string).
bool FieldPathExists(const google::protobuf::Descriptor* message, absl::string_view path) {
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (message == nullptr) return false;
    const auto* field = message->FindFieldByName(std::string(part));
    if (field == nullptr) return false;
    message = field->message_type();
  }
  return true;
}

void AddRule(const google::api::HttpRule& rule, const std::string& grpc_method,
             const google::protobuf::MethodDescriptor* method,
             std::vector<std::unique_ptr<HttpRoute>>* routes, absl::Status* status) {
  auto route = std::make_unique<HttpRoute>();
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet: route->http_method = "GET"; route->path_template = rule.get(); break;
    case google::api::HttpRule::kPut: route->http_method = "PUT"; route->path_template = rule.put(); break;
    case google::api::HttpRule::kPost: route->http_method = "POST"; route->path_template = rule.post(); break;
    case google::api::HttpRule::kDelete: route->http_method = "DELETE"; route->path_template = rule.delete_(); break;
    case google::api::HttpRule::kPatch: route->http_method = "PATCH"; route->path_template = rule.patch(); break;
    case google::api::HttpRule::kCustom:
      route->http_method = rule.custom().kind();
      route->path_template = rule.custom().path();
      break;
    default:
      *status = absl::InvalidArgumentError(absl::StrCat(grpc_method, ": google.api.http rule without a pattern"));
      return;
  }
  auto parsed = PathTemplate::Parse(route->path_template);
  if (!parsed.ok()) {
    *status = absl::InvalidArgumentError(absl::StrCat(grpc_method, ": ", parsed.status().message()));
    return;
  }
  route->parsed = *std::move(parsed);
  route->grpc_method = grpc_method;
  route->input_type = method->input_type()->full_name();
  route->output_type = method->output_type()->full_name();
  route->body = rule.body();
  route->response_body = rule.response_body();
  for (const auto& variable : route->parsed.variables) {
    if (!FieldPathExists(method->input_type(), variable.field_path)) {
      *status = absl::InvalidArgumentError(absl::StrCat(
          grpc_method, ": path variable ", variable.field_path, " is not a field of ",
          route->input_type));
      return;
    }
  }
  if (!route->body.empty() && route->body != "*") {
    const auto* field = method->input_type()->FindFieldByName(route->body);
    if (field == nullptr || field->is_repeated() ||
        field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
      *status = absl::InvalidArgumentError(absl::StrCat(
          grpc_method, ": body \"", route->body, "\" must name a singular message field of ",
          route->input_type));
      return;
    }
  }
  if (!route->response_body.empty() &&
      method->output_type()->FindFieldByName(route->response_body) == nullptr) {
    *status = absl::InvalidArgumentError(absl::StrCat(
        grpc_method, ": response_body \"", route->response_body, "\" is not a field of ",
        route->output_type));
    return;
  }
  routes->push_back(std::move(route));
}

// How specific a matching template is: literals beat `*`, which beats `**`.
std::tuple<int, int> Specificity(const PathTemplate& t) {
  int literals = 0;
  for (const auto& s : t.segments) literals += s.kind == TemplateSegment::Kind::kLiteral;
  return {literals, t.has_multi ? 0 : 1};
}

// Splits "/a/b/c:verb" into raw segments and the verb (after the last ':' of the last
// segment). False when the path does not start with '/'.
bool SplitPath(absl::string_view path, std::vector<absl::string_view>* segments,
               absl::string_view* verb) {
  if (path.empty() || path[0] != '/') return false;
  path.remove_prefix(1);
  size_t last_slash = path.rfind('/');
  size_t last_start = last_slash == absl::string_view::npos ? 0 : last_slash + 1;
  size_t colon = path.rfind(':');
  *verb = absl::string_view();
  if (colon != absl::string_view::npos && colon >= last_start) {
    *verb = path.substr(colon + 1);
    path = path.substr(0, colon);
  }
  segments->clear();
  if (path.empty()) return true;  // "/" or "/:verb"
  for (absl::string_view s : absl::StrSplit(path, '/')) segments->push_back(s);
  return true;
}

bool MatchSegments(const PathTemplate& t, const std::vector<absl::string_view>& segments) {
  if (!t.has_multi) {
    if (segments.size() != t.segments.size()) return false;
  } else if (segments.size() + 1 < t.segments.size()) {
    return false;  // `**` matches zero or more segments
  }
  for (size_t i = 0; i < t.segments.size(); ++i) {
    const auto& s = t.segments[i];
    if (s.kind == TemplateSegment::Kind::kMulti) return true;  // always last
    if (s.kind == TemplateSegment::Kind::kLiteral) {
      if (segments[i] != s.literal) return false;
    } else if (segments[i].empty()) {
      return false;
    }
  }
  return true;
}

// Segment index range of a variable in the request path (a `**` stretches to the end).
std::pair<size_t, size_t> VariableRange(const PathTemplate& t, const TemplateVariable& v,
                                        size_t path_segments) {
  size_t end = v.end_segment;
  if (t.has_multi && v.end_segment == t.segments.size()) end = path_segments;
  return {v.first_segment, end};
}

}  // namespace

bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

absl::StatusOr<PathTemplate> PathTemplate::Parse(absl::string_view text) {
  PathTemplate t;
  if (text.empty() || text[0] != '/') return TemplateError(text, "must start with '/'");
  size_t i = 1;
  while (true) {
    if (i >= text.size()) return TemplateError(text, "ends with '/'");
    if (text[i] == '{') {
      size_t close = text.find('}', i);
      if (close == absl::string_view::npos) return TemplateError(text, "unclosed '{'");
      absl::string_view inner = text.substr(i + 1, close - i - 1);
      if (inner.find('{') != absl::string_view::npos) {
        return TemplateError(text, "nested variable");
      }
      absl::string_view field = inner;
      absl::string_view pattern = "*";
      if (size_t eq = inner.find('='); eq != absl::string_view::npos) {
        field = inner.substr(0, eq);
        pattern = inner.substr(eq + 1);
      }
      if (!IsFieldPath(field)) {
        return TemplateError(text, absl::StrCat("invalid variable name \"", field, "\""));
      }
      for (const auto& v : t.variables) {
        if (v.field_path == field) {
          return TemplateError(text, absl::StrCat("variable \"", field, "\" bound twice"));
        }
      }
      TemplateVariable variable;
      variable.field_path = std::string(field);
      variable.first_segment = t.segments.size();
      for (absl::string_view token : absl::StrSplit(pattern, '/')) {
        auto segment = ParseSegment(token, text);
        if (!segment.ok()) return segment.status();
        t.segments.push_back(*std::move(segment));
      }
      variable.end_segment = t.segments.size();
      t.variables.push_back(std::move(variable));
      i = close + 1;
    } else {
      size_t end = text.find_first_of("/:", i);
      if (end == absl::string_view::npos) end = text.size();
      auto segment = ParseSegment(text.substr(i, end - i), text);
      if (!segment.ok()) return segment.status();
      t.segments.push_back(*std::move(segment));
      i = end;
    }
    if (i >= text.size()) break;
    if (text[i] == '/') {
      ++i;
      continue;
    }
    if (text[i] == ':') {
      t.verb = std::string(text.substr(i + 1));
      if (t.verb.empty() || t.verb.find_first_of("/{}*:") != std::string::npos) {
        return TemplateError(text, "invalid verb");
      }
      break;
    }
    return TemplateError(text, absl::StrCat("unexpected '", text.substr(i, 1), "'"));
  }
  for (size_t k = 0; k < t.segments.size(); ++k) {
    if (t.segments[k].kind == TemplateSegment::Kind::kMulti) {
      if (k + 1 != t.segments.size()) {
        return TemplateError(text, "'**' must be the last segment");
      }
      t.has_multi = true;
    }
  }
  return t;
}

absl::StatusOr<std::shared_ptr<const HttpRouteTable>> HttpRouteTable::Build(
    const ApiDescriptors& api) {
  std::shared_ptr<HttpRouteTable> table(new HttpRouteTable());
  absl::Status status;
  for (const auto& file : api.set().file()) {
    for (const auto& service : file.service()) {
      std::string service_name =
          file.package().empty() ? service.name() : absl::StrCat(file.package(), ".", service.name());
      const auto* service_descriptor = api.pool().FindServiceByName(service_name);
      if (service_descriptor == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("service ", service_name, " not in pool"));
      }
      for (const auto& method : service.method()) {
        if (!method.options().HasExtension(google::api::http)) continue;
        const auto& rule = method.options().GetExtension(google::api::http);
        const auto* method_descriptor = service_descriptor->FindMethodByName(method.name());
        std::string grpc_method = absl::StrCat("/", service_name, "/", method.name());
        AddRule(rule, grpc_method, method_descriptor, &table->routes_, &status);
        for (const auto& extra : rule.additional_bindings()) {
          AddRule(extra, grpc_method, method_descriptor, &table->routes_, &status);
        }
        if (!status.ok()) return status;
      }
    }
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& route : table->routes_) {
    if (!seen.emplace(route->http_method, route->path_template).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          route->grpc_method, ": ", route->http_method, " ", route->path_template,
          " is bound twice"));
    }
  }
  return std::shared_ptr<const HttpRouteTable>(std::move(table));
}

RouteMatch HttpRouteTable::Match(absl::string_view method, absl::string_view path) const {
  RouteMatch result;
  std::vector<absl::string_view> segments;
  absl::string_view verb;
  if (!SplitPath(path, &segments, &verb)) return result;
  const HttpRoute* best = nullptr;
  std::tuple<int, int> best_specificity;
  for (const auto& route : routes_) {
    if (route->parsed.verb != verb || !MatchSegments(route->parsed, segments)) continue;
    if (route->http_method != method) {
      result.allowed_methods.push_back(route->http_method);
      continue;
    }
    auto specificity = Specificity(route->parsed);
    if (best == nullptr || specificity > best_specificity) {
      best = route.get();
      best_specificity = specificity;
    }
  }
  if (best == nullptr) {
    if (!result.allowed_methods.empty()) {
      std::sort(result.allowed_methods.begin(), result.allowed_methods.end());
      result.allowed_methods.erase(
          std::unique(result.allowed_methods.begin(), result.allowed_methods.end()),
          result.allowed_methods.end());
      result.outcome = RouteMatch::Outcome::kMethodNotAllowed;
    }
    return result;
  }
  result.allowed_methods.clear();
  for (const auto& variable : best->parsed.variables) {
    auto [first, end] = VariableRange(best->parsed, variable, segments.size());
    std::string raw;
    for (size_t k = first; k < end && k < segments.size(); ++k) {
      if (k > first) raw.push_back('/');
      raw.append(segments[k].data(), segments[k].size());
    }
    std::string value;
    if (!PercentDecode(raw, /*plus_is_space=*/false, &value)) {
      result.bindings.clear();
      return result;  // a malformed escape matches nothing: 404
    }
    result.bindings.emplace_back(variable.field_path, std::move(value));
  }
  result.outcome = RouteMatch::Outcome::kMatched;
  result.route = best;
  return result;
}

}  // namespace regsuite::gateway
