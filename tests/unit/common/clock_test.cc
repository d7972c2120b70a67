// The test-only offset clock (clock.test_offset_file): end-to-end tests move the services'
// time across statutory deadlines with it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "regsuite/common/clock.h"

using regsuite::common::OffsetFileClock;

namespace {

std::string TempPath() {
  char name[] = "/tmp/regsuite-clock-XXXXXX";
  const int fd = mkstemp(name);
  REQUIRE(fd >= 0);
  close(fd);
  return name;
}

void WriteOffset(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("OffsetFileClock adds the offset in the file to the real time", "[clock]") {
  const std::string path = TempPath();
  WriteOffset(path, "172800\n");
  OffsetFileClock clock(path);
  const absl::Duration ahead = clock.Now() - absl::Now();
  CHECK(ahead > absl::Hours(47));
  CHECK(ahead < absl::Hours(49));
  std::remove(path.c_str());
}

TEST_CASE("OffsetFileClock follows a changed file and treats a missing one as no offset",
          "[clock]") {
  const std::string path = TempPath();
  WriteOffset(path, "0");
  OffsetFileClock clock(path);
  CHECK(absl::AbsDuration(clock.Now() - absl::Now()) < absl::Minutes(1));
  WriteOffset(path, "-86400");
  // The file is re-read at most every 100 ms.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(absl::AbsDuration(clock.Now() - (absl::Now() - absl::Hours(24))) < absl::Minutes(1));
  std::remove(path.c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(absl::AbsDuration(clock.Now() - absl::Now()) < absl::Minutes(1));
}
