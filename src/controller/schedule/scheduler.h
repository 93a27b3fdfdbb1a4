// Scheduled experiments: one thread in the controller that submits each schedule's experiment
// at the instants its cron expression names, in its time zone. Schedules live in the store, so
// they outlive the controller process; fires that fell while it was down are counted and
// reported, never run as a backlog.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/audit_log.h"
#include "controller/controller.h"
#include "controller/policy/controller_policy.h"
#include "controller/schedule/cron_expression.h"
#include "controller/schedule/time_zone.h"
#include "controller/store/run_store.h"

namespace faultline::controller {

// What `faultline schedule add` asks for.
struct ScheduleSpec {
  std::string name;
  std::string cron;
  std::string time_zone;  // "" = UTC
  std::string overlap;    // "" = skip
  std::string yaml;
  std::string source_name;
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> environment;  // ${env:NAME} values sent by the CLI
};

// A schedule with its instants as people in its zone read them.
struct ScheduleView {
  ScheduleRecord record;
  std::string next_fire_local;  // "" when there is no next fire
  std::string last_fire_local;
};

class Scheduler {
 public:
  Scheduler(Controller& controller, std::shared_ptr<ScheduleStore> store, AuditLog* audit = nullptr)
      : controller_(controller), store_(std::move(store)), audit_(audit) {}
  ~Scheduler() { stop(); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Loads the stored schedules, records the fires missed while the controller was down, and
  // starts the thread. Returns how many schedules were loaded.
  Result<size_t> start();
  // Wakes and joins the thread; no fire starts after this returns.
  void stop();

  // Checks the name, cron expression, zone, overlap and experiment (with the same loader as a
  // submission); nothing is stored when any is wrong (kInvalidArgument naming it, or
  // kFailedPrecondition when the name is taken).
  Result<ScheduleView> add(const ScheduleSpec& spec, const std::string& created_by);
  // What its experiments may make the controller do, checked when a schedule is added and at
  // every fire (safe defaults until set; set before start()).
  void set_policy(std::shared_ptr<const ControllerPolicy> policy) { policy_ = std::move(policy); }
  Result<ScheduleView> pause(const std::string& name);
  Result<ScheduleView> resume(const std::string& name);
  Status remove(const std::string& name);
  std::vector<ScheduleView> list() const;

 private:
  struct Entry {
    ScheduleRecord record;
    std::optional<CronExpression> cron;  // unset when the stored expression no longer loads
    TimeZone zone = TimeZone::utc();
    // The last run a fire of this schedule submitted (skipped fires leave it): the overlap
    // guard asks whether that one is still queued. Starts from the stored last run.
    std::string last_submitted;
  };
  struct Outcome {
    std::string run_id;
    std::string text;  // submitted | queued: ... | skipped: ... | error: ...
  };

  void loop();
  // Fires `name` (due at its next_fire), with mu_ held on entry and exit but not meanwhile.
  void fire(std::unique_lock<std::mutex>& lock, const std::string& name, int64_t now_ms);
  Outcome submit(const ScheduleRecord& record, const std::string& previous_run);
  // The first instant after `after_ms` (0: none).
  static int64_t next_fire(const Entry& e, int64_t after_ms);
  ScheduleView view(const Entry& e) const;
  void persist(const ScheduleRecord& record);

  Controller& controller_;
  std::shared_ptr<ScheduleStore> store_;
  std::shared_ptr<const ControllerPolicy> policy_ = std::make_shared<ControllerPolicy>();
  AuditLog* audit_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, Entry> entries_;
  std::thread thread_;
};

}  // namespace faultline::controller
