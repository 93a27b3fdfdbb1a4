// Units people write in experiments besides durations: "12.5%", "512MiB", "10mbit".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace faultline {

// "12.5%" -> 0.125. The '%' is required so that 0.5 and 50% cannot be confused.
Result<double> parse_percent(std::string_view text);

// Bytes: "4096", "512KiB", "1.5GiB", "100MB" (SI: kB, MB, GB, TB; IEC: KiB, MiB, GiB, TiB).
Result<uint64_t> parse_size(std::string_view text);

// Bits per second, as tc writes rates: "100kbit", "10mbit", "1gbit", "800bit"; byte rates
// "bps", "kbps", "mbps", "gbps" are bytes per second, as in tc.
Result<uint64_t> parse_rate(std::string_view text);

std::string format_percent(double fraction);  // 0.125 -> "12.5%"
std::string format_size(uint64_t bytes);      // 536870912 -> "512MiB"

}  // namespace faultline
