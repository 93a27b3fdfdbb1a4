// Where finished runs are kept, so journals and reports outlive the process that ran them.
// An interface: a directory of JSON files serves one machine; a server database can follow.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

// Listing order everywhere: the run that started last first.
inline bool started_later(const v1::Run& a, const v1::Run& b) {
  return a.summary().started_unix_ms() > b.summary().started_unix_ms();
}

class RunStore {
 public:
  virtual ~RunStore() = default;
  virtual Status save(const v1::Run& run) = 0;
  virtual std::optional<v1::Run> load(const std::string& run_id) const = 0;
  // Newest first, at most `limit`, without events.
  virtual std::vector<v1::Run> list(size_t limit) const = 0;
};

}  // namespace faultline::controller
