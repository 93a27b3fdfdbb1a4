// A 625-byte YAML alias bomb: nine levels of nine aliases each stand for 9^9 (387 million)
// nodes. Shared by the loader's unit test and the attack on the real controller.
#pragma once

#include <string>

namespace faultline::testing {

// An experiment file starting with `head` (apiVersion, kind, metadata) whose vars are the bomb.
inline std::string alias_bomb(const std::string& head) {
  std::string y = head + "vars:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"," +
                  "\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'i'; ++c, ++prev) {
    y += std::string("  ") + c + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) y += std::string(i ? "," : "") + "*" + prev;
    y += "]\n";
  }
  return y + "faults: []\n";
}

}  // namespace faultline::testing
