#include "platform_stub_process.h"

#include <google/protobuf/util/json_util.h>
#include <signal.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "http_client.h"

namespace regsuite::exchange::testing {
namespace {

std::string Python() {
  const char* python = std::getenv("REGSUITE_TEST_PYTHON");
  return python != nullptr && *python != '\0' ? python : "/usr/bin/python3";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

google::protobuf::Struct GetJson(const std::string& url) {
  HttpResponse r = SendHttpRequest("GET", url, {}, "", absl::Seconds(5));
  INFO(url << " " << r.error);
  REQUIRE(r.status == 200);
  google::protobuf::Struct out;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.body, &out).ok());
  return out;
}

}  // namespace

std::string TempDir(const std::string& prefix) {
  std::string pattern = absl::StrCat("/tmp/", prefix, "-XXXXXX");
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

PlatformStub::PlatformStub(const std::string& dir, const std::string& enterprises_file)
    : dir_(dir), enterprises_file_(enterprises_file), secret_file_(dir + "/platform.secret") {
  std::ofstream(secret_file_) << secret_ << "\n";
  port_ = regsuite::testing::FreePort();
  Start();
}

void PlatformStub::Start() {
  const std::string log = absl::StrCat(dir_, "/stub-", port_, ".log");
  std::ofstream(log, std::ios::trunc).close();
  std::vector<std::string> args = {REGSUITE_SOURCE_DIR "/tests/e2e/platform_stub/platform_stub.py",
                                   "--listen",
                                   absl::StrCat("127.0.0.1:", port_),
                                   "--app-key",
                                   app_key_,
                                   "--secret-file",
                                   secret_file_,
                                   "--record",
                                   dir_ + "/record.jsonl"};
  if (!enterprises_file_.empty()) {
    args.push_back("--enterprises");
    args.push_back(enterprises_file_);
  }
  process_ = std::make_unique<regsuite::testing::ChildProcess>(Python(), args,
                                                               std::vector<std::string>{}, log);
  REQUIRE(regsuite::testing::Eventually(
      [&] { return ReadAll(log).find("LISTENING") != std::string::npos; }, absl::Seconds(20)));
}

void PlatformStub::Restart() {
  process_->Kill(SIGKILL);
  process_->Wait(absl::Seconds(5));
  Start();
}

std::string PlatformStub::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }
std::string PlatformStub::feed_url() const { return base_url() + "/api/v1/feed/batches"; }

google::protobuf::Struct PlatformStub::Batches() const {
  return GetJson(base_url() + "/_stub/batches");
}

std::vector<std::string> PlatformStub::RecordedCursors() const {
  std::vector<std::string> cursors;
  auto changes = GetJson(base_url() + "/_stub/changes");
  for (const auto& c : changes.fields().at("changes").list_value().values())
    cursors.push_back(c.struct_value().fields().at("cursor").string_value());
  return cursors;
}

int PlatformStub::Duplicates() const {
  return static_cast<int>(Batches().fields().at("duplicates").number_value());
}

void PlatformStub::Fail(const std::string& json) const {
  HttpResponse r = SendHttpRequest("POST", base_url() + "/_stub/fail", {}, json, absl::Seconds(5));
  REQUIRE(r.status == 200);
}

}  // namespace regsuite::exchange::testing
