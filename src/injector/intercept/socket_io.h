// Small blocking-socket pieces both interceptors (HTTP and DNS) use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace faultline::injector::intercept {

// Sends all of `data` (no SIGPIPE); false when the peer is gone.
bool write_all(int fd, std::string_view data);

// Appends what one read gives; false at the end of the stream or on an error.
bool read_some(int fd, std::string& buf);

// `delay_us` ± up to `jitter_us`, uniformly, never below zero.
uint64_t jittered_us(uint64_t delay_us, uint64_t jitter_us);

}  // namespace faultline::injector::intercept
