#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace regsuite::common {

/// The bureau's time zone, Asia/Shanghai; a fixed UTC+8 zone when tzdata is missing
/// (China has no daylight saving time, so the two agree).
absl::TimeZone BureauTimeZone();

/// Source of the current time; inject it so tests never depend on the wall clock.
class Clock {
 public:
  virtual ~Clock() = default;

  virtual absl::Time Now() const = 0;

  /// Today's date in the bureau time zone.
  absl::CivilDay Today() const;
};

/// The real clock (absl::Now()).
class SystemClock final : public Clock {
 public:
  /// The process-wide instance.
  static SystemClock& Get();

  absl::Time Now() const override;
};

/// A clock for tests: it stays where it is set. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time now = absl::UnixEpoch());
  /// Starts at `local` wall-clock time in the bureau time zone.
  explicit FakeClock(absl::CivilSecond local);

  FakeClock(const FakeClock&) = delete;
  FakeClock& operator=(const FakeClock&) = delete;

  absl::Time Now() const override;

  void SetNow(absl::Time now);
  /// Moves the clock by `delta` (may be negative).
  void Advance(absl::Duration delta);

 private:
  mutable absl::Mutex mutex_;
  absl::Time now_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace regsuite::common
