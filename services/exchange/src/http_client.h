#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace regsuite::exchange {

/// An HTTP answer; `status` 0 means none arrived (`error` says why: refused, timed out...).
struct HttpResponse {
  int status = 0;
  std::string body;
  std::string error;
};

/// One blocking HTTP/1.1 request with libcurl (http and https), bounded by `timeout`.
/// Call it from a background thread, never from gRPC callback threads.
HttpResponse SendHttpRequest(absl::string_view method, const std::string& url,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::string& body, absl::Duration timeout);

}  // namespace regsuite::exchange
