// Where runs are kept, so journals and reports outlive the process that ran them, and a
// controller that crashed mid-run finds out on restart. An interface: SQLite serves one
// machine (the default); a server database can follow for HA.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "controller/store/run_cursor.h"
#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

// How long finished runs are kept (--retain-runs, --retain-for); 0 = no limit.
struct RetentionPolicy {
  size_t keep_runs = 0;     // the newest N finished runs
  int64_t keep_for_ms = 0;  // runs that ended less than this long ago
  bool active() const { return keep_runs > 0 || keep_for_ms > 0; }
};

class RunStore {
 public:
  virtual ~RunStore() = default;
  // A run has started (id, experiment name); from now on it is "unfinished" until save().
  virtual Status begin(const v1::Run& run, const std::string& submitted_by) = 0;
  // Journal events as they happen; several at once (a fault's events from every node) in
  // one transaction.
  virtual Status append_events(const std::vector<v1::RunEvent>& events) = 0;
  Status append_event(const v1::RunEvent& event) { return append_events({event}); }
  // The run has ended: its summary and every event.
  virtual Status save(const v1::Run& run) = 0;
  virtual std::optional<v1::Run> load(const std::string& run_id) const = 0;
  // The run with one page of its journal: at most `max_events` events with seq > after_seq;
  // more_events set when the journal goes on.
  virtual std::optional<v1::Run> load_page(const std::string& run_id, uint64_t after_seq,
                                           size_t max_events) const = 0;
  // Newest first, at most `limit`, without events; after `after` when given.
  virtual std::vector<v1::Run> list(size_t limit, const RunCursor* after = nullptr) const = 0;
  // Runs begun and never saved (their controller died), with their events.
  virtual std::vector<v1::Run> unfinished() const = 0;
  // Deletes finished runs (and their events) that the policy no longer keeps; a run that has
  // not finished is never deleted. Returns how many were deleted.
  virtual Result<size_t> prune(const RetentionPolicy& policy, int64_t now_unix_ms) = 0;
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

// A scheduled experiment as stored: what to run, when, and what its last fire did.
struct ScheduleRecord {
  std::string name;
  std::string cron;
  std::string time_zone;  // IANA name; "UTC" by default
  std::string overlap;    // skip | queue
  std::string yaml;       // the experiment file's text, loaded again at every fire
  std::string source_name;
  std::map<std::string, std::string> vars;
  // The ${env:NAME} values the CLI sent when the schedule was added (the controller never
  // reads its own environment for an experiment).
  std::map<std::string, std::string> environment;
  std::string experiment_name;
  bool paused = false;
  std::string created_by;
  int64_t created_unix_ms = 0;
  int64_t next_fire_unix_ms = 0;  // 0: none (paused, or the expression never fires)
  int64_t last_fire_unix_ms = 0;  // the cron instant of the last fire
  std::string last_run_id;
  std::string last_outcome;
  // Fires that fell while the controller was down (not run), from the last start that had any.
  int64_t missed_fires = 0;
  int64_t missed_first_unix_ms = 0;
  int64_t missed_last_unix_ms = 0;
};

class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;
  // kFailedPrecondition when a schedule of that name exists.
  virtual Status add_schedule(const ScheduleRecord& schedule) = 0;
  // Replaces the stored schedule of that name; kNotFound when there is none.
  virtual Status update_schedule(const ScheduleRecord& schedule) = 0;
  // kNotFound when there is none.
  virtual Status remove_schedule(const std::string& name) = 0;
  // By name.
  virtual std::vector<ScheduleRecord> schedules() const = 0;
};

// The fleet's halt switch as stored: a controller restart stays halted. Who lifted it last is
// kept with it, for the record.
struct HaltRecord {
  bool halted = false;
  std::string halted_by;
  int64_t halted_unix_ms = 0;
  std::string reason;
  std::string lifted_by;
  int64_t lifted_unix_ms = 0;
};

class HaltStore {
 public:
  virtual ~HaltStore() = default;
  virtual Status save_halt(const HaltRecord& halt) = 0;
  // nullopt when the fleet was never halted.
  virtual std::optional<HaltRecord> load_halt() const = 0;
};

}  // namespace faultline::controller
