#include "controller/store/retention.h"

#include <cctype>

#include "common/duration.h"

namespace faultline::controller {

Result<int64_t> parse_retention_age(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, "\"" + text + "\": " + why);
  };
  // Durations elsewhere stop at hours; retention is counted in days, so "d" comes first.
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  int64_t ms = 0;
  std::string rest = text;
  if (digits > 0 && digits < text.size() && text[digits] == 'd') {
    if (digits > 6) return bad("too many days");
    ms = std::stoll(text.substr(0, digits)) * 86400000;
    rest = text.substr(digits + 1);
  }
  if (!rest.empty()) {
    auto d = parse_duration(rest);
    if (!d) return bad("expected a duration such as 30d, 12h or 1d12h");
    ms += std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
  }
  if (ms <= 0) return bad("must be longer than 0");
  return ms;
}

}  // namespace faultline::controller
