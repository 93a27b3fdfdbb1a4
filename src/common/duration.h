// Durations as people write them in experiments and flags: "250ms", "1m30s", "2h".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace faultline {

using Duration = std::chrono::nanoseconds;

// Accepts a sequence of <number><unit> with units ns, us (or µs), ms, s, m, h, e.g. "1m30s",
// "1.5s", "0". A bare number other than 0 is rejected: a unit-less "500" is ambiguous.
Result<Duration> parse_duration(std::string_view text);

// A signed duration: "+5m", "-90s", "30s". Errors as parse_duration's.
Result<Duration> parse_signed_duration(std::string_view text);

// Shortest readable form: "0s", "250ms", "1.5s", "1m30s", "2h".
std::string format_duration(Duration d);

inline double to_seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}
inline double to_millis(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace faultline
