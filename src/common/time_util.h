// Deadlines and measurements use the monotonic clock; wall-clock time is only for people.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace faultline {

using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;

inline int64_t unix_millis_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t unix_nanos_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-11-22T10:15:30.123Z"
std::string format_utc_millis(int64_t unix_ms);

}  // namespace faultline
