#pragma once

#include <span>
#include <string_view>

namespace regsuite::common {

/// A file compiled into the binary (cmake/RegsuiteEmbed.cmake): its base name and bytes.
struct EmbeddedFile {
  std::string_view name;
  std::string_view content;
};

/// The calendar files of services/common/data/calendar/ (defined by generated code).
std::span<const EmbeddedFile> BuiltinCalendarFiles();

}  // namespace regsuite::common
