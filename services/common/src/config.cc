#include "regsuite/common/config.h"

#include <fstream>
#include <sstream>

#include "regsuite/common/check.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace regsuite::common {
namespace {

absl::string_view TypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kString: return "string";
    case ConfigType::kInt: return "int";
    case ConfigType::kBool: return "bool";
    case ConfigType::kDuration: return "duration";
  }
  return "?";
}

absl::Status CheckType(const ConfigKey& key, absl::string_view text) {
  switch (key.type) {
    case ConfigType::kString:
      return absl::OkStatus();
    case ConfigType::kInt: {
      int64_t v;
      if (absl::SimpleAtoi(text, &v)) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat(key.name, ": must be an integer, got \"", text, "\""));
    }
    case ConfigType::kBool:
      if (text == "true" || text == "false") return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat(key.name, ": must be true or false, got \"", text, "\""));
    case ConfigType::kDuration: {
      absl::Duration d;
      if (absl::ParseDuration(text, &d) && d >= absl::ZeroDuration()) return absl::OkStatus();
      return absl::InvalidArgumentError(absl::StrCat(
          key.name, ": must be a duration such as 500ms, 5s or 2m, got \"", text, "\""));
    }
  }
  return absl::OkStatus();
}

absl::string_view SectionOf(absl::string_view key) {
  return key.substr(0, key.find('.'));
}

}  // namespace

ConfigSchema& ConfigSchema::Add(std::string name, ConfigType type, std::string default_value,
                                std::string description) {
  RS_CHECK(Find(name) == nullptr) << "duplicate config key " << name;
  RS_CHECK(name.find('.') != std::string::npos) << "config key needs a section: " << name;
  keys_.push_back({std::move(name), type, std::move(default_value), std::move(description)});
  return *this;
}

ConfigSchema& ConfigSchema::AddSecret(std::string name, std::string description) {
  Add(std::move(name), ConfigType::kString, "", std::move(description));
  keys_.back().secret = true;
  return *this;
}

const ConfigKey* ConfigSchema::Find(absl::string_view name) const {
  for (const auto& key : keys_) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::string ConfigSchema::EnvName(absl::string_view key) {
  std::string env = absl::StrCat("REGSUITE_", key);
  for (char& c : env) c = c == '.' ? '_' : absl::ascii_toupper(c);
  return env;
}

std::string ConfigSchema::HelpText(absl::string_view program, absl::string_view summary) const {
  std::string out = absl::StrCat("usage: ", program, " [--config FILE] [--help]\n\n", summary,
                                 "\n\nConfiguration keys (file `[section]` + `key = value`; "
                                 "environment REGSUITE_<SECTION>_<KEY> overrides the file):\n");
  for (const auto& key : keys_) {
    absl::StrAppend(&out, "  ", key.name, " (", TypeName(key.type), ")");
    if (key.secret) {
      absl::StrAppend(&out, "  secret: env ", EnvName(key.name), " or ", EnvName(key.name),
                      "_FILE only\n");
    } else {
      absl::StrAppend(&out, "  default \"", key.default_value, "\"  env ", EnvName(key.name),
                      "\n");
    }
    absl::StrAppend(&out, "      ", key.description, "\n");
  }
  return out;
}

std::string ConfigSchema::MarkdownReference() const {
  std::string out = "| key | type | default | environment | meaning |\n|---|---|---|---|---|\n";
  for (const auto& key : keys_) {
    absl::StrAppend(&out, "| `", key.name, "` | ", TypeName(key.type), " | ",
                    key.secret ? "(secret)" : absl::StrCat("`", key.default_value, "`"), " | `",
                    EnvName(key.name), "`", key.secret ? absl::StrCat(" or `", EnvName(key.name), "_FILE`") : "",
                    " | ", key.description, " |\n");
  }
  return out;
}

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

absl::StatusOr<Config> Config::Load(const ConfigSchema& schema, absl::string_view file_path,
                                    const Environment& env) {
  std::string text;
  if (!file_path.empty()) {
    std::ifstream in{std::string(file_path)};
    if (!in) return absl::NotFoundError(absl::StrCat("config: cannot read file ", file_path));
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  return Parse(schema, text, env);
}

absl::StatusOr<Config> Config::Parse(const ConfigSchema& schema, absl::string_view file_text,
                                     const Environment& env) {
  Config config;
  for (const auto& key : schema.keys()) {
    config.values_[key.name] = {key.default_value, "default", key.secret};
  }

  std::string section;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(file_text, '\n')) {
    ++line_no;
    absl::string_view line = absl::StripAsciiWhitespace(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return absl::InvalidArgumentError(
            absl::StrCat("config line ", line_no, ": unterminated section header"));
      }
      section = std::string(absl::StripAsciiWhitespace(line.substr(1, line.size() - 2)));
      continue;
    }
    auto eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("config line ", line_no, ": expected `key = value`"));
    }
    std::string name = absl::StrCat(section, section.empty() ? "" : ".",
                                     absl::StripAsciiWhitespace(line.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    const ConfigKey* key = schema.Find(name);
    if (key == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("config line ", line_no, ": unknown key ", name));
    }
    if (key->secret) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config line ", line_no, ": ", name, " is a secret; set ",
          ConfigSchema::EnvName(name), " or ", ConfigSchema::EnvName(name),
          "_FILE instead of writing it in a file"));
    }
    if (auto status = CheckType(*key, value); !status.ok()) return status;
    config.values_[name] = {value, "file", false};
  }

  // Environment overrides; a REGSUITE_<SECTION>_* variable that matches no key is a typo.
  std::map<std::string, const ConfigKey*, std::less<>> by_env;
  std::map<std::string, bool, std::less<>> section_prefixes;
  for (const auto& key : schema.keys()) {
    by_env[ConfigSchema::EnvName(key.name)] = &key;
    if (key.secret) by_env[ConfigSchema::EnvName(key.name) + "_FILE"] = &key;
    section_prefixes[ConfigSchema::EnvName(SectionOf(key.name)) + "_"] = true;
  }
  for (const auto& [name, value] : env) {
    auto it = by_env.find(name);
    if (it == by_env.end()) {
      for (const auto& [prefix, unused] : section_prefixes) {
        if (absl::StartsWith(name, prefix)) {
          return absl::InvalidArgumentError(
              absl::StrCat("environment: unknown configuration variable ", name));
        }
      }
      continue;
    }
    const ConfigKey& key = *it->second;
    std::string text = value;
    if (key.secret && absl::EndsWith(name, "_FILE")) {
      std::ifstream in(value);
      if (!in) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": cannot read secret file ", value));
      }
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = std::string(absl::StripTrailingAsciiWhitespace(buffer.str()));
    }
    if (auto status = CheckType(key, text); !status.ok()) return status;
    config.values_[key.name] = {text, "env", key.secret};
  }
  return config;
}

const Config::Value& Config::Get(absl::string_view key) const {
  auto it = values_.find(key);
  RS_CHECK(it != values_.end()) << "config key not in schema: " << key;
  return it->second;
}

const std::string& Config::GetString(absl::string_view key) const { return Get(key).text; }

int64_t Config::GetInt(absl::string_view key) const {
  int64_t v = 0;
  RS_CHECK(absl::SimpleAtoi(Get(key).text, &v)) << key;
  return v;
}

bool Config::GetBool(absl::string_view key) const { return Get(key).text == "true"; }

absl::Duration Config::GetDuration(absl::string_view key) const {
  absl::Duration d;
  RS_CHECK(absl::ParseDuration(Get(key).text, &d)) << key;
  return d;
}

std::string Config::Describe() const {
  std::string out;
  for (const auto& [name, value] : values_) {
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=",
                    value.secret ? (value.text.empty() ? "<unset>" : "<set>") : value.text,
                    "(", value.origin, ")");
  }
  return out;
}

}  // namespace regsuite::common
