#include "http/transcode.h"

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace regsuite::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com";

std::string TypeUrl(absl::string_view type_name) {
  return absl::StrCat(kTypeUrlPrefix, "/", type_name);
}

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[(c >> 4) & 0xf]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

const FieldDescriptor* FindField(const Descriptor* message, absl::string_view name) {
  if (const auto* f = message->FindFieldByName(std::string(name))) return f;
  for (int i = 0; i < message->field_count(); ++i) {
    if (message->field(i)->json_name() == name) return message->field(i);
  }
  return nullptr;
}

bool IsWellKnownType(const Descriptor* message) {
  return message->file()->name().rfind("google/protobuf/", 0) == 0;
}

// The path variables and query parameters of a request, as a tree of fields that renders
// into one JSON object for the protobuf JSON parser.
struct ParamNode {
  const FieldDescriptor* field = nullptr;
  std::vector<std::string> values;  // JSON-encoded leaf values
  std::map<std::string, ParamNode> children;

  void Render(std::string* out) const {
    out->push_back('{');
    bool first = true;
    for (const auto& [name, child] : children) {
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(out, name);
      out->push_back(':');
      if (!child.children.empty()) {
        child.Render(out);
      } else if (child.field->is_repeated()) {
        out->push_back('[');
        for (size_t i = 0; i < child.values.size(); ++i) {
          if (i > 0) out->push_back(',');
          out->append(child.values[i]);
        }
        out->push_back(']');
      } else {
        out->append(child.values.front());
      }
    }
    out->push_back('}');
  }
};

absl::Status AddParam(const Descriptor* message, absl::string_view name,
                      absl::string_view value, absl::string_view body_field, ParamNode* root) {
  ParamNode* node = root;
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = message == nullptr ? nullptr : FindField(message, parts[i]);
    if (field == nullptr) return absl::InvalidArgumentError(absl::StrCat(name, ": unknown field"));
    if (i == 0 && !body_field.empty() && field->name() == body_field) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": belongs to the request body, not the query string"));
    }
    bool leaf = i + 1 == parts.size();
    bool message_field = field->type() == FieldDescriptor::TYPE_MESSAGE;
    if (field->is_map() || (message_field && field->is_repeated()) ||
        (leaf && message_field && !IsWellKnownType(field->message_type()))) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": cannot be set from a path or query parameter"));
    }
    ParamNode& child = node->children[field->name()];
    child.field = field;
    if (!leaf) {
      if (!message_field) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": ", field->name(), " has no fields"));
      }
      if (!child.values.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": given more than once"));
      }
      message = field->message_type();
      node = &child;
      continue;
    }
    if (!child.children.empty() || (!field->is_repeated() && !child.values.empty())) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": given more than once"));
    }
    std::string json;
    if (field->type() == FieldDescriptor::TYPE_BOOL) {
      if (value == "true" || value == "1") {
        json = "true";
      } else if (value == "false" || value == "0") {
        json = "false";
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": must be true or false, got \"", value, "\""));
      }
    } else {
      AppendJsonString(&json, value);
    }
    child.values.push_back(std::move(json));
  }
  return absl::OkStatus();
}

bool IsBlank(absl::string_view s) {
  return absl::StripAsciiWhitespace(s).empty();
}

// Length-delimited field `number` holding `payload` in the protobuf wire format.
void AppendLengthDelimited(int number, absl::string_view payload, std::string* out) {
  auto varint = [out](uint64_t v) {
    while (v >= 0x80) {
      out->push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out->push_back(static_cast<char>(v));
  };
  varint((static_cast<uint64_t>(number) << 3) | 2);
  varint(payload.size());
  out->append(payload.data(), payload.size());
}

}  // namespace

std::string JsonErrorToFieldMessage(absl::string_view message, absl::string_view field_prefix) {
  message = absl::StripAsciiWhitespace(message);
  std::string field;
  std::string rule;
  absl::string_view rest = message;
  std::string location;
  if (absl::ConsumePrefix(&rest, "(")) {
    size_t close = rest.find(')');
    if (close != absl::string_view::npos) {
      location = std::string(rest.substr(0, close));
      rest.remove_prefix(close + 1);
      rest = absl::StripLeadingAsciiWhitespace(rest);
    } else {
      rest = message;
    }
  }
  if (absl::StartsWith(rest, ":")) {
    // "(loc): invalid value x for type T"
    field = location;
    rule = std::string(absl::StripAsciiWhitespace(rest.substr(1)));
  } else if (size_t colon = rest.find(": "); colon != absl::string_view::npos &&
             rest.substr(0, colon).find_first_of(" \n\"{}") == absl::string_view::npos &&
             colon > 0) {
    // "(loc) name: Cannot find field."
    field = location.empty() ? std::string(rest.substr(0, colon))
                             : absl::StrCat(location, ".", rest.substr(0, colon));
    rule = std::string(rest.substr(colon + 2));
  } else {
    field = location;
    rule = std::string(rest);
  }
  if (rule == "Cannot find field.") rule = "unknown field";
  // Parser syntax errors come with a caret diagram on later lines.
  if (size_t nl = rule.find('\n'); nl != std::string::npos) rule.resize(nl);
  while (!rule.empty() && rule.back() == '.') rule.pop_back();
  if (field.empty()) {
    field = field_prefix.empty() ? "body" : std::string(field_prefix);
    if (rule.empty()) rule = "invalid JSON";
    if (!absl::StrContains(absl::AsciiStrToLower(rule), "json")) rule = absl::StrCat("invalid JSON: ", rule);
  } else if (!field_prefix.empty()) {
    field = absl::StrCat(field_prefix, ".", field);
  }
  return absl::StrCat(field, ": ", rule);
}

JsonTranscoder::JsonTranscoder(std::shared_ptr<const ApiDescriptors> api)
    : api_(std::move(api)),
      resolver_(google::protobuf::util::NewTypeResolverForDescriptorPool(
          std::string(kTypeUrlPrefix), &api_->pool())) {}

JsonTranscoder::~JsonTranscoder() = default;

absl::StatusOr<std::string> JsonTranscoder::JsonToBinary(absl::string_view type_name,
                                                         absl::string_view json,
                                                         absl::string_view field_prefix) const {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string binary;
  auto status = google::protobuf::util::JsonToBinaryString(
      resolver_.get(), TypeUrl(type_name), std::string(json), &binary, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        JsonErrorToFieldMessage(std::string(status.message()), field_prefix));
  }
  return binary;
}

absl::StatusOr<std::string> JsonTranscoder::RequestToBinary(const HttpRoute& route,
                                                            const Params& bindings,
                                                            const Params& query,
                                                            absl::string_view body) const {
  const Descriptor* input = api_->pool().FindMessageTypeByName(route.input_type);
  if (input == nullptr) {
    return absl::InternalError(absl::StrCat(route.input_type, ": not in the descriptor pool"));
  }
  std::string binary;
  if (route.body.empty()) {
    if (!IsBlank(body)) {
      return absl::InvalidArgumentError("body: this route takes no request body");
    }
  } else if (!IsBlank(body)) {
    if (route.body == "*") {
      auto parsed = JsonToBinary(route.input_type, body, "");
      if (!parsed.ok()) return parsed.status();
      binary = *std::move(parsed);
    } else {
      const FieldDescriptor* field = input->FindFieldByName(route.body);
      if (field == nullptr || field->message_type() == nullptr) {
        return absl::InternalError(absl::StrCat(route.grpc_method, ": bad body field"));
      }
      auto parsed = JsonToBinary(field->message_type()->full_name(), body, field->json_name());
      if (!parsed.ok()) return parsed.status();
      AppendLengthDelimited(field->number(), *parsed, &binary);
    }
  }
  if (bindings.empty() && query.empty()) return binary;

  ParamNode root;
  for (const auto& [name, value] : bindings) {
    if (auto status = AddParam(input, name, value, "", &root); !status.ok()) return status;
  }
  if (route.body == "*" && !query.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        query.front().first, ": query parameters are not accepted here; send every field in "
        "the JSON body"));
  }
  for (const auto& [name, value] : query) {
    if (auto status = AddParam(input, name, value, route.body, &root); !status.ok()) {
      return status;
    }
  }
  std::string json;
  root.Render(&json);
  auto parsed = JsonToBinary(route.input_type, json, "");
  if (!parsed.ok()) return parsed.status();
  // Concatenated messages parse as their merge: path and query values win over the body.
  binary.append(*parsed);
  return binary;
}

absl::StatusOr<std::string> JsonTranscoder::ResponseToJson(const HttpRoute& route,
                                                           absl::string_view bytes) const {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = false;
  options.preserve_proto_field_names = false;
  std::string type_name = route.output_type;
  std::string payload;
  if (!route.response_body.empty()) {
    const Descriptor* output = api_->pool().FindMessageTypeByName(route.output_type);
    const FieldDescriptor* field =
        output == nullptr ? nullptr : output->FindFieldByName(route.response_body);
    if (field == nullptr || field->is_repeated() || field->message_type() == nullptr) {
      return absl::InternalError(
          absl::StrCat(route.grpc_method, ": response_body must name a singular message field"));
    }
    google::protobuf::DynamicMessageFactory factory(&api_->pool());
    std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(output)->New());
    if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InternalError(absl::StrCat(route.output_type, ": unparsable response"));
    }
    payload = message->GetReflection()->GetMessage(*message, field).SerializeAsString();
    type_name = field->message_type()->full_name();
  } else {
    payload = std::string(bytes);
  }
  std::string json;
  auto status = google::protobuf::util::BinaryToJsonString(resolver_.get(), TypeUrl(type_name),
                                                           payload, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat(route.output_type, ": response not convertible to JSON: ",
                     std::string(status.message())));
  }
  return json;
}

}  // namespace regsuite::gateway
