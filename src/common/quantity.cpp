#include "common/quantity.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace faultline {
namespace {

struct Unit {
  std::string_view suffix;
  double factor;
};

// Splits "12.5MiB" into 12.5 and "MiB"; false if there is no leading number.
bool split_number(std::string_view text, double& number, std::string_view& unit) {
  size_t i = 0;
  bool dot = false;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || (text[i] == '.' && !dot))) {
    dot = dot || text[i] == '.';
    ++i;
  }
  if (i == 0 || (i == 1 && dot)) return false;
  number = std::strtod(std::string(text.substr(0, i)).c_str(), nullptr);
  unit = text.substr(i);
  return true;
}

template <size_t N>
Result<uint64_t> parse_with_units(std::string_view text, const Unit (&units)[N], const char* what,
                                  const char* examples) {
  double number = 0;
  std::string_view unit;
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, "invalid " + std::string(what) + " \"" +
                                                       std::string(text) + "\": " + why +
                                                       " (expected e.g. " + examples + ")");
  };
  if (!split_number(text, number, unit)) return bad("expected a number");
  for (const Unit& u : units) {
    if (unit == u.suffix) {
      double v = number * u.factor;
      if (!std::isfinite(v) || v > 1.8e19) return bad("too large");
      return static_cast<uint64_t>(std::llround(v));
    }
  }
  return bad("unknown unit \"" + std::string(unit) + "\"");
}

}  // namespace

Result<double> parse_percent(std::string_view text) {
  double number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit) || unit != "%")
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid percentage \"" + std::string(text) + "\" (expected e.g. 12.5%)");
  return number / 100.0;
}

Result<uint64_t> parse_size(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1024.0},
      {"MiB", 1048576.0},
      {"GiB", 1073741824.0},
      {"TiB", 1099511627776.0},
      {"kB", 1e3},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"TB", 1e12},
  };
  return parse_with_units(text, kUnits, "size", "512MiB, 2GiB, 100MB");
}

Result<uint64_t> parse_rate(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9},
      {"bps", 8}, {"kbps", 8e3}, {"mbps", 8e6}, {"gbps", 8e9},
  };
  return parse_with_units(text, kUnits, "rate", "100kbit, 10mbit, 1gbit");
}

std::string format_percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", fraction * 100.0);
  return buf;
}

std::string format_size(uint64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int i = 0;
  while (v >= 1024.0 && i < 4 && std::fmod(v, 1024.0) == 0) {
    v /= 1024.0;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%s", v, kNames[i]);
  return buf;
}

}  // namespace faultline
