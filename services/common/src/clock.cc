#include "regsuite/common/clock.h"

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

}  // namespace regsuite::common
