#include "controller/schedule/scheduler.h"

#include "controller/policy/submission_check.h"

#include <algorithm>
#include <cctype>

#include "common/log.h"
#include "common/time_util.h"
#include "experiments/loader.h"

namespace faultline::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// The longest the thread sleeps without looking again, so a wall clock set forward or back
// (NTP step, suspended VM) is noticed within a minute even without a wake-up.
constexpr int64_t kMaxSleepMs = 60000;
// Counting the fires missed while down stops here (an every-second schedule down for a day).
constexpr int64_t kMaxMissedCount = 10000;

Status check_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (ok) return Ok{};
  return make_error(ErrorCode::kInvalidArgument,
                    "schedule name \"" + name + "\": use 1 to 64 letters, digits, '.', '_' or '-'");
}

bool is_scope_conflict(const Error& e) {
  // Controller::submit refuses a run whose targets another run holds with exactly this
  // wording (see scope_claims); other preconditions (no injector can place a fault, no OTLP
  // receiver) are errors of the schedule, not overlaps.
  return e.code == ErrorCode::kFailedPrecondition &&
         e.message.find(" conflicts with run ") != std::string::npos;
}

// "...conflicts with run r-1 (...) holds ...; wait for it to end, ..." without the advice
// meant for a person at a terminal.
std::string conflict_text(const std::string& message) {
  return message.substr(0, message.find("; wait for it to end"));
}

}  // namespace

int64_t Scheduler::next_fire(const Entry& e, int64_t after_ms) {
  if (!e.cron) return 0;
  auto next = e.cron->next_after(floor_div(after_ms, 1000), e.zone);
  return next ? *next * 1000 : 0;
}

ScheduleView Scheduler::view(const Entry& e) const {
  ScheduleView v;
  v.record = e.record;
  if (e.record.next_fire_unix_ms)
    v.next_fire_local = e.zone.format(floor_div(e.record.next_fire_unix_ms, 1000));
  if (e.record.last_fire_unix_ms)
    v.last_fire_local = e.zone.format(floor_div(e.record.last_fire_unix_ms, 1000));
  return v;
}

void Scheduler::persist(const ScheduleRecord& record) {
  if (Status s = store_->update_schedule(record); !s)
    spdlog::error("schedule not stored schedule={} error=\"{}\"", record.name, s.error().message);
}

Result<size_t> Scheduler::start() {
  std::unique_lock lock(mu_);
  if (thread_.joinable()) return entries_.size();
  int64_t now = unix_millis_now();
  for (auto& rec : store_->schedules()) {
    Entry e;
    e.record = rec;
    auto zone = TimeZone::load(rec.time_zone);
    auto cron = CronExpression::parse(rec.cron);
    if (!zone || !cron) {
      // Kept (and listed with the reason) rather than dropped: it was someone's schedule.
      std::string why = !zone ? zone.error().message : cron.error().message;
      e.record.next_fire_unix_ms = 0;
      e.record.last_outcome = "error: " + why;
      spdlog::error("schedule cannot be loaded schedule={} error=\"{}\"", rec.name, why);
      persist(e.record);
      entries_[rec.name] = std::move(e);
      continue;
    }
    e.zone = std::move(*zone);
    e.cron = std::move(*cron);
    if (!rec.paused && rec.next_fire_unix_ms > 0 && rec.next_fire_unix_ms <= now) {
      // The controller was down at these instants. They are not run now: a burst of stale
      // experiments on start-up is worse than a gap, and the gap is reported.
      int64_t count = 1, last = rec.next_fire_unix_ms;
      for (int64_t t = next_fire(e, last); t && t <= now && count < kMaxMissedCount;
           t = next_fire(e, t)) {
        ++count;
        last = t;
      }
      e.record.missed_fires = count;
      e.record.missed_first_unix_ms = rec.next_fire_unix_ms;
      e.record.missed_last_unix_ms = last;
      spdlog::warn(
          "schedule missed fires while the controller was down schedule={} missed={} "
          "first={} last={}",
          rec.name, count, format_utc_millis(rec.next_fire_unix_ms), format_utc_millis(last));
      if (audit_)
        (void)audit_->append({"schedule:" + rec.name, "", "schedule.missed", rec.name, "controller",
                              "skipped: controller was down",
                              std::to_string(count) + " fire(s) from " +
                                  format_utc_millis(rec.next_fire_unix_ms) + " to " +
                                  format_utc_millis(last) + " not run"});
    }
    e.record.next_fire_unix_ms = rec.paused ? 0 : next_fire(e, now);
    persist(e.record);
    entries_[rec.name] = std::move(e);
  }
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
  return entries_.size();
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    int64_t now = unix_millis_now();
    std::string due;
    int64_t wake_at = now + kMaxSleepMs;
    for (const auto& [name, e] : entries_) {
      if (e.record.paused || e.record.next_fire_unix_ms == 0) continue;
      if (e.record.next_fire_unix_ms <= now) {
        due = name;
        break;
      }
      wake_at = std::min(wake_at, e.record.next_fire_unix_ms);
    }
    if (!due.empty()) {
      fire(lock, due, now);
      continue;
    }
    // The cron instant is wall-clock time, so the wait is too (CLOCK_REALTIME); add, pause,
    // resume, remove and stop all notify, so nothing waits on a stale deadline.
    wake_.wait_until(lock, system_clock::time_point(milliseconds(wake_at)));
  }
}

void Scheduler::fire(std::unique_lock<std::mutex>& lock, const std::string& name, int64_t now_ms) {
  Entry& e = entries_.at(name);
  int64_t instant = e.record.next_fire_unix_ms;
  ScheduleRecord snapshot = e.record;
  std::string previous = e.last_submitted.empty() ? e.record.last_run_id : e.last_submitted;
  // The next instant first: a fire is taken once, however long its submission takes.
  e.record.next_fire_unix_ms = next_fire(e, std::max(now_ms, instant));
  lock.unlock();
  Outcome out = submit(snapshot, previous);
  lock.lock();
  auto it = entries_.find(name);
  // Removed (or removed and added again) while it fired: the run stands, the record is gone.
  if (it == entries_.end() || it->second.record.created_unix_ms != snapshot.created_unix_ms) return;
  ScheduleRecord& rec = it->second.record;
  rec.last_fire_unix_ms = instant;
  rec.last_run_id = out.run_id;
  if (!out.run_id.empty()) it->second.last_submitted = out.run_id;
  rec.last_outcome = out.text;
  persist(rec);
  int64_t late_ms = unix_millis_now() - instant;
  spdlog::info("schedule fired schedule={} instant={} late_ms={} run={} outcome=\"{}\"", name,
               format_utc_millis(instant), late_ms, out.run_id.empty() ? "-" : out.run_id,
               out.text);
  if (audit_) {
    std::string outcome =
        out.text == "submitted" || out.text.rfind("queued", 0) == 0 ? "ok" : out.text;
    (void)audit_->append({"schedule:" + name, "", "schedule.fired",
                          out.run_id.empty() ? name : out.run_id, "controller", outcome,
                          "cron \"" + snapshot.cron + "\" in " + snapshot.time_zone + " at " +
                              format_utc_millis(instant) +
                              (out.text == "submitted" ? "" : " (" + out.text + ")")});
  }
}

Scheduler::Outcome Scheduler::submit(const ScheduleRecord& rec, const std::string& previous_run) {
  // A halted fleet refuses the fire (Controller::submit would too; said plainly here).
  if (HaltRecord halt = controller_.halt_state(); halt.halted)
    return {"", "refused: the fleet is " + describe_halt(halt)};
  experiments::LoadOptions options;
  options.vars = rec.vars;
  options.environment = rec.environment;
  options.limits = policy_->limits;
  auto loaded = experiments::parse_experiment(rec.yaml, rec.source_name, options);
  if (!loaded.ok()) return {"", "error: " + experiments::format_diagnostics(loaded.diagnostics)};
  // Again at each fire: the controller may have restarted with a stricter policy.
  if (auto refused = check_submission(*loaded.experiment, *policy_); !refused.empty())
    return {"", "error: refused by the controller policy: " + refused.front().format()};
  bool queue = rec.overlap == "queue";
  if (queue && !previous_run.empty())
    if (auto prev = controller_.find(previous_run); prev && prev->state() == pb::RUN_STATE_PENDING)
      // One waiting run per schedule: a slow target must not pile up a queue of them.
      return {"", "skipped: run " + previous_run + " of the previous fire is still queued"};
  SubmitOptions submit;
  submit.submitted_by = "schedule:" + rec.name;
  submit.destinations = std::make_shared<DestinationGuard>(policy_->destinations());
  submit.max_events = policy_->max_events_per_run;
  submit.command_nodes = policy_->command_nodes();
  auto run = controller_.submit(*loaded.experiment, submit);
  if (run) return {(*run)->id(), "submitted"};
  if (!is_scope_conflict(run.error())) return {"", "error: " + run.error().message};
  std::string conflict = conflict_text(run.error().message);
  if (!queue) return {"", "skipped: " + conflict};
  submit.queue = true;
  auto queued = controller_.submit(std::move(*loaded.experiment), submit);
  if (!queued) return {"", "error: " + queued.error().message};
  return {(*queued)->id(), "queued: " + conflict};
}

Result<ScheduleView> Scheduler::add(const ScheduleSpec& spec, const std::string& created_by) {
  if (Status s = check_name(spec.name); !s) return s.error();
  std::string overlap = spec.overlap.empty() ? "skip" : spec.overlap;
  if (overlap != "skip" && overlap != "queue")
    return make_error(ErrorCode::kInvalidArgument,
                      "overlap \"" + spec.overlap + "\": expected skip or queue");
  Entry e;
  auto cron = CronExpression::parse(spec.cron);
  if (!cron) return cron.error();
  e.cron = std::move(*cron);
  std::string zone_name = spec.time_zone.empty() ? "UTC" : spec.time_zone;
  auto zone = TimeZone::load(zone_name);
  if (!zone) return make_error(ErrorCode::kInvalidArgument, zone.error().message);
  e.zone = std::move(*zone);
  std::string source = spec.source_name.empty() ? "<schedule " + spec.name + ">" : spec.source_name;
  experiments::LoadOptions options;
  options.vars = spec.vars;
  options.environment = spec.environment;
  options.limits = policy_->limits;
  auto loaded = experiments::parse_experiment(spec.yaml, source, options);
  if (!loaded.ok())
    return make_error(ErrorCode::kInvalidArgument,
                      experiments::format_diagnostics(loaded.diagnostics));
  if (auto refused = check_submission(*loaded.experiment, *policy_); !refused.empty())
    return make_error(ErrorCode::kPermissionDenied, experiments::format_diagnostics(refused));

  ScheduleRecord& r = e.record;
  r.name = spec.name;
  r.cron = spec.cron;
  r.time_zone = zone_name;
  r.overlap = overlap;
  r.yaml = spec.yaml;
  r.source_name = source;
  r.vars = spec.vars;
  r.environment = spec.environment;
  r.experiment_name = loaded.experiment->metadata.name;
  r.created_by = created_by;
  r.created_unix_ms = unix_millis_now();
  r.next_fire_unix_ms = next_fire(e, r.created_unix_ms);
  if (r.next_fire_unix_ms == 0)
    return make_error(ErrorCode::kInvalidArgument,
                      "cron \"" + spec.cron + "\" names no instant in the next ten years");

  std::lock_guard lock(mu_);
  if (entries_.count(spec.name))
    return make_error(ErrorCode::kFailedPrecondition,
                      "a schedule named \"" + spec.name + "\" exists already");
  if (Status s = store_->add_schedule(r); !s) return s.error();
  auto& stored = entries_[spec.name] = std::move(e);
  spdlog::info("schedule added schedule={} cron=\"{}\" tz={} overlap={} next={} by={}", spec.name,
               spec.cron, zone_name, overlap, format_utc_millis(stored.record.next_fire_unix_ms),
               created_by);
  wake_.notify_all();
  return view(stored);
}

Result<ScheduleView> Scheduler::pause(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end())
    return make_error(ErrorCode::kNotFound, "no schedule named \"" + name + "\"");
  ScheduleRecord& r = it->second.record;
  if (!r.paused) {
    r.paused = true;
    r.next_fire_unix_ms = 0;
    persist(r);
    wake_.notify_all();
  }
  return view(it->second);
}

Result<ScheduleView> Scheduler::resume(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end())
    return make_error(ErrorCode::kNotFound, "no schedule named \"" + name + "\"");
  Entry& e = it->second;
  if (!e.cron)
    return make_error(ErrorCode::kFailedPrecondition,
                      "schedule \"" + name + "\" cannot run: " + e.record.last_outcome);
  if (e.record.paused) {
    // Fires that fell while paused are not owed: it starts again from now.
    e.record.paused = false;
    e.record.next_fire_unix_ms = next_fire(e, unix_millis_now());
    persist(e.record);
    wake_.notify_all();
  }
  return view(e);
}

Status Scheduler::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end())
    return make_error(ErrorCode::kNotFound, "no schedule named \"" + name + "\"");
  if (Status s = store_->remove_schedule(name); !s && s.error().code != ErrorCode::kNotFound)
    return s;
  entries_.erase(it);
  wake_.notify_all();
  return Ok{};
}

std::vector<ScheduleView> Scheduler::list() const {
  std::lock_guard lock(mu_);
  std::vector<ScheduleView> out;
  for (const auto& [_, e] : entries_) out.push_back(view(e));
  return out;
}

}  // namespace faultline::controller
