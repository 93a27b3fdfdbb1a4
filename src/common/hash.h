// A hash that is the same on every build and machine (std::hash is not), for names and
// choices that must be reproducible: seeded placement, chain names, queue numbers.
#pragma once

#include <cstdint>
#include <string_view>

namespace faultline {

// 32-bit FNV-1a.
inline uint32_t fnv1a(std::string_view text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace faultline
