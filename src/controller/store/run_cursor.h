// Where a page of a run listing ended, and the one order every listing uses: the run that
// started last first, the larger id first between runs started in the same millisecond.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

struct RunCursor {
  int64_t started_unix_ms = 0;
  std::string run_id;

  static RunCursor of(const v1::Run& run) {
    return {run.summary().started_unix_ms(), run.run_id()};
  }
  // Whether `run` comes after this point in listing order (it belongs to the next page).
  bool precedes(const v1::Run& run) const {
    const int64_t started = run.summary().started_unix_ms();
    return std::tie(started_unix_ms, run_id) > std::tie(started, run.run_id());
  }
  // As a page token: "<started_unix_ms>.<run id>"; parse() is nullopt for anything else.
  std::string token() const { return std::to_string(started_unix_ms) + "." + run_id; }
  static std::optional<RunCursor> parse(const std::string& token);
};

// Listing order everywhere.
inline bool started_later(const v1::Run& a, const v1::Run& b) {
  return RunCursor::of(a).precedes(b);
}

}  // namespace faultline::controller
