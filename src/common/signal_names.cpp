#include "common/signal_names.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

namespace faultline {

std::optional<int> parse_signal(std::string_view text) {
  std::string upper(text);
  char* end = nullptr;
  long n = std::strtol(upper.c_str(), &end, 10);
  if (!upper.empty() && *end == '\0')
    return (n >= 1 && n <= 64) ? std::optional<int>(static_cast<int>(n)) : std::nullopt;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("SIG", 0) == 0) upper = upper.substr(3);
  for (int s = 1; s < 32; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev && upper == abbrev) return s;
  }
  return std::nullopt;
}

}  // namespace faultline
