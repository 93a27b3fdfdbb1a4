// Signal names as people write them in experiments and flags.
#pragma once

#include <optional>
#include <string_view>

namespace faultline {

// "SIGKILL", "KILL", "sigterm", or a number 1..64; nullopt for anything else.
std::optional<int> parse_signal(std::string_view text);

}  // namespace faultline
