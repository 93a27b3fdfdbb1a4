#include "common/ids.h"

#include <unistd.h>

#include <random>

namespace faultline {

std::string new_id(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t bits = rng();
  std::string out = prefix + "-";
  for (int i = 0; i < 10; ++i) {
    out += kHex[bits & 0xf];
    bits >>= 4;
  }
  return out;
}

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace faultline
