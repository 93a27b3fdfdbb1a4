// Where runs are kept, so journals and reports outlive the process that ran them, and a
// controller that crashed mid-run finds out on restart. An interface: SQLite serves one
// machine (the default); a server database can follow for HA.
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
  // A run has started (id, experiment name); from now on it is "unfinished" until save().
  virtual Status begin(const v1::Run& run, const std::string& submitted_by) = 0;
  // One journal event, as it happens.
  virtual Status append_event(const v1::RunEvent& event) = 0;
  // The run has ended: its summary and every event.
  virtual Status save(const v1::Run& run) = 0;
  virtual std::optional<v1::Run> load(const std::string& run_id) const = 0;
  // Newest first, at most `limit`, without events.
  virtual std::vector<v1::Run> list(size_t limit) const = 0;
  // Runs begun and never saved (their controller died), with their events.
  virtual std::vector<v1::Run> unfinished() const = 0;
};

// An injector's registration, kept so people can see which nodes were ever connected, when,
// and from where.
struct InjectorRecord {
  std::string node;
  std::string labels;        // k=v,k=v
  std::string capabilities;  // a,b,c
  std::string version;
  std::string peer;
  std::string state;  // registered | disconnected | refused: why
  int64_t unix_ms = 0;
};

class InjectorStore {
 public:
  virtual ~InjectorStore() = default;
  virtual Status record_injector(const InjectorRecord& record) = 0;
  virtual std::vector<InjectorRecord> injectors() const = 0;
};

}  // namespace faultline::controller
