#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

#include <string>

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

/// TEST ONLY (end-to-end and fault tests move several processes through time together): the
/// real time plus an offset in whole seconds read from a file, re-read at most every 100 ms.
/// A missing or empty file means no offset. Enabled only by the configuration keys
/// clock.test_offset_file + clock.allow_test_offset (see server.cc); never in production.
class OffsetFileClock final : public Clock {
 public:
  explicit OffsetFileClock(std::string path);

  absl::Time Now() const override;

 private:
  const std::string path_;
  mutable absl::Mutex mutex_;
  mutable absl::Time next_read_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  mutable absl::Duration offset_ ABSL_GUARDED_BY(mutex_) = absl::ZeroDuration();
};

}  // namespace regsuite::common
