#include "regsuite/common/clock.h"

#include <fstream>
#include <utility>

namespace regsuite::common {

absl::TimeZone BureauTimeZone() {
  static const absl::TimeZone zone = [] {
    absl::TimeZone loaded;
    if (absl::LoadTimeZone("Asia/Shanghai", &loaded)) return loaded;
    return absl::FixedTimeZone(8 * 3600);
  }();
  return zone;
}

absl::CivilDay Clock::Today() const { return absl::ToCivilDay(Now(), BureauTimeZone()); }

SystemClock& SystemClock::Get() {
  static SystemClock clock;
  return clock;
}

absl::Time SystemClock::Now() const { return absl::Now(); }

FakeClock::FakeClock(absl::Time now) : now_(now) {}

FakeClock::FakeClock(absl::CivilSecond local) : now_(absl::FromCivil(local, BureauTimeZone())) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mutex_);
  return now_;
}

void FakeClock::SetNow(absl::Time now) {
  absl::MutexLock lock(&mutex_);
  now_ = now;
}

void FakeClock::Advance(absl::Duration delta) {
  absl::MutexLock lock(&mutex_);
  now_ += delta;
}

OffsetFileClock::OffsetFileClock(std::string path) : path_(std::move(path)) {}

absl::Time OffsetFileClock::Now() const {
  const absl::Time real = absl::Now();
  absl::MutexLock lock(&mutex_);
  if (real >= next_read_) {
    std::ifstream in(path_);
    long long seconds = 0;
    if (in >> seconds) {
      offset_ = absl::Seconds(seconds);
    } else {
      offset_ = absl::ZeroDuration();
    }
    next_read_ = real + absl::Milliseconds(100);
  }
  return real + offset_;
}

}  // namespace regsuite::common
