#pragma once
// The test-only platform stand-in (tests/e2e/platform_stub/platform_stub.py) as a child process
// of an integration test, with helpers to read what it recorded and to make it fail.

#include <google/protobuf/struct.pb.h>

#include <memory>
#include <string>
#include <vector>

#include "test_env.h"

namespace regsuite::exchange::testing {

class PlatformStub {
 public:
  /// Starts the stub on a free port with a fresh secret and record file in `dir`.
  explicit PlatformStub(const std::string& dir, const std::string& enterprises_file = "");
  /// Stops it (SIGKILL) and starts it again on the same port and record file.
  void Restart();

  std::string feed_url() const;
  std::string base_url() const;
  const std::string& app_key() const { return app_key_; }
  const std::string& secret() const { return secret_; }
  const std::string& secret_file() const { return secret_file_; }

  /// GET /_stub/batches.
  google::protobuf::Struct Batches() const;
  /// Cursors of every recorded change, in arrival order.
  std::vector<std::string> RecordedCursors() const;
  int Duplicates() const;
  /// POST /_stub/fail with `json`.
  void Fail(const std::string& json) const;

 private:
  void Start();

  std::string dir_;
  std::string enterprises_file_;
  std::string app_key_ = "bureau-test";
  std::string secret_ = "platform-test-secret-0123456789";
  std::string secret_file_;
  int port_ = 0;
  std::unique_ptr<regsuite::testing::ChildProcess> process_;
};

/// A fresh temporary directory (removed by the test's end is not required: /tmp).
std::string TempDir(const std::string& prefix);

}  // namespace regsuite::exchange::testing
