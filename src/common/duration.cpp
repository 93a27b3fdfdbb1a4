#include "common/duration.h"

#include <cmath>
#include <cstdio>

namespace faultline {
namespace {

struct Unit {
  std::string_view suffix;
  double nanos;
};

// Longest suffixes first so "ms" is not read as "m" followed by "s".
constexpr Unit kUnits[] = {
    {"ns", 1.0}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
    {"s", 1e9},  {"m", 60e9}, {"h", 3600e9},
};

Error bad(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "invalid duration \"" + std::string(text) +
                                                     "\": " + std::string(why) +
                                                     " (expected e.g. 250ms, 1.5s, 1m30s)");
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return bad(text, "empty");
  if (text == "0") return Duration::zero();
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    bool seen_dot = false;
    while (i < text.size() &&
           ((text[i] >= '0' && text[i] <= '9') || (text[i] == '.' && !seen_dot))) {
      if (text[i] == '.') seen_dot = true;
      ++i;
    }
    if (i == start) return bad(text, "expected a number");
    double number = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(i, u.suffix.size()) == u.suffix) {
        // "m" must not swallow the "m" of "ms".
        if (u.suffix == "m" && text.substr(i, 2) == "ms") continue;
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return bad(text, "missing or unknown unit");
    i += unit->suffix.size();
    total += number * unit->nanos;
  }
  if (!std::isfinite(total) || total > 9.2e18) return bad(text, "too large");
  return Duration(static_cast<int64_t>(std::llround(total)));
}

std::string format_duration(Duration d) {
  using namespace std::chrono;
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  if (ns < 0) ns = -ns;
  char buf[64];
  if (ns < 1'000) {
    std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  } else if (ns < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%gus", ns / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%gms", std::round(ns / 1e4) / 1e2);
  } else if (ns < 60'000'000'000LL) {
    std::snprintf(buf, sizeof buf, "%gs", std::round(ns / 1e7) / 1e2);
  } else {
    int64_t secs = ns / 1'000'000'000;
    int64_t h = secs / 3600, m = (secs % 3600) / 60, s = secs % 60;
    std::string out;
    if (h) out += std::to_string(h) + "h";
    if (m) out += std::to_string(m) + "m";
    if (s) out += std::to_string(s) + "s";
    return sign + out;
  }
  return sign + buf;
}

Result<Duration> parse_signed_duration(std::string_view text) {
  bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  auto d = parse_duration(text);
  if (!d) return d.error();
  return negative ? -*d : *d;
}

}  // namespace faultline
