#pragma once

#include <cstdio>
#include <cstdlib>
#include <sstream>

// Impossible states crash loudly (Debian's Abseil predates absl/log's CHECK).
namespace regsuite::common::internal {
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition) {
    stream_ << file << ":" << line << ": check failed: " << condition << " ";
  }
  [[noreturn]] ~CheckFailure() {
    std::fprintf(stderr, "%s\n", stream_.str().c_str());
    std::fflush(stderr);
    std::abort();
  }
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};
}  // namespace regsuite::common::internal

#define RS_CHECK(condition)                                                  \
  if (condition) {                                                           \
  } else /* NOLINT */                                                        \
    ::regsuite::common::internal::CheckFailure(__FILE__, __LINE__, #condition).stream()
