#pragma once

#include "absl/strings/string_view.h"
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace regsuite::common {

enum class ConfigType { kString, kInt, kBool, kDuration };

/// One configuration key: `section.name`, its type, default and meaning.
struct ConfigKey {
  std::string name;
  ConfigType type = ConfigType::kString;
  std::string default_value;
  std::string description;
  // Secrets never come from the config file: only from REGSUITE_<KEY> or the file
  // named by REGSUITE_<KEY>_FILE.
  bool secret = false;
};

/// The set of keys a binary accepts; anything else is rejected.
class ConfigSchema {
 public:
  ConfigSchema& Add(std::string name, ConfigType type, std::string default_value,
                    std::string description);
  ConfigSchema& AddSecret(std::string name, std::string description);

  const std::vector<ConfigKey>& keys() const { return keys_; }
  const ConfigKey* Find(absl::string_view name) const;

  /// `--help` text: usage line, then every key with type, default, env variable and meaning.
  std::string HelpText(absl::string_view program, absl::string_view summary) const;
  /// A Markdown table of every key, for the operations guide.
  std::string MarkdownReference() const;

  /// REGSUITE_POSTGRES_HOST for postgres.host.
  static std::string EnvName(absl::string_view key);

 private:
  std::vector<ConfigKey> keys_;
};

using Environment = std::map<std::string, std::string, std::less<>>;

/// Reads the process environment (for Config::Load).
Environment ProcessEnvironment();

/// Validated configuration: defaults, then the file, then environment overrides.
class Config {
 public:
  /// `file_path` may be empty (no file). The file is INI-like: `[section]` headers and
  /// `key = value` lines; `#` starts a comment. Unknown keys (in the file or as
  /// REGSUITE_<SECTION>_* variables of a known section) and ill-typed values are errors
  /// naming the key.
  static absl::StatusOr<Config> Load(const ConfigSchema& schema, absl::string_view file_path,
                                     const Environment& env);
  static absl::StatusOr<Config> Parse(const ConfigSchema& schema, absl::string_view file_text,
                                      const Environment& env);

  const std::string& GetString(absl::string_view key) const;
  int64_t GetInt(absl::string_view key) const;
  bool GetBool(absl::string_view key) const;
  absl::Duration GetDuration(absl::string_view key) const;
  /// Where each value came from ("default", "file", "env"), for start-up logs; secrets elided.
  std::string Describe() const;

 private:
  struct Value {
    std::string text;
    std::string origin;
    bool secret = false;
  };
  const Value& Get(absl::string_view key) const;
  std::map<std::string, Value, std::less<>> values_;
};

}  // namespace regsuite::common
