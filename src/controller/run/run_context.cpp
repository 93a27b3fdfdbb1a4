#include "controller/run/run_context.h"

#include "common/log.h"

namespace faultline::controller {

RunContext::RunContext(std::string run_id) : run_id_(std::move(run_id)), journal_(run_id_) {}

pb::RunEvent RunContext::event(pb::EventType type) const {
  pb::RunEvent ev;
  ev.set_type(type);
  ev.set_state(state_);
  return ev;
}

void RunContext::note(const std::string& message) {
  pb::RunEvent ev = event(pb::EVENT_TYPE_NOTE);
  ev.set_message(message);
  journal_.append(ev);
}

bool RunContext::abort(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (journal_.finished() || abort_requested_) return false;
    abort_reason_ = reason;
    abort_at_ = MonoClock::now();
    abort_requested_ = true;
  }
  cv_.notify_all();
  spdlog::warn("run abort requested run={} reason=\"{}\"", run_id_, reason);
  return true;
}

std::string RunContext::abort_reason() const {
  std::lock_guard lock(mu_);
  return abort_reason_;
}

std::optional<MonoTime> RunContext::abort_at() const {
  std::lock_guard lock(mu_);
  return abort_at_;
}

bool RunContext::sleep_until(MonoTime until) {
  return !wait_until(until, [] { return false; });
}

void RunContext::wake() {
  // Taking the lock orders the waker's change before the waiter's next look at it: a waiter
  // between its check and its wait cannot miss the notify.
  { std::lock_guard lock(mu_); }
  cv_.notify_all();
}

void RunContext::sample(const std::string& name, pb::ProbePhase phase, const ProbeOutcome& o) {
  constexpr int kMaxPoints = 1000;
  std::lock_guard lock(series_mu_);
  pb::ProbeSeries& s = series_[{phase, name}];
  if (s.name().empty()) {
    s.set_name(name);
    s.set_phase(phase);
    s.set_unit(o.value ? o.unit : "ms");
  }
  if (o.threshold) {
    s.set_has_threshold(true);
    s.set_threshold(*o.threshold);
  }
  s.add_elapsed_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(MonoClock::now() - journal_.started())
          .count());
  s.add_values(o.value ? *o.value : to_millis(o.latency));
  s.add_ok(o.ok);
  if (s.values_size() < 2 * kMaxPoints) return;
  // Long runs: keep every other point, so memory stays bounded and the shape stays.
  pb::ProbeSeries thin = s;
  thin.clear_elapsed_ms();
  thin.clear_values();
  thin.clear_ok();
  for (int i = 0; i < s.values_size(); i += 2) {
    thin.add_elapsed_ms(s.elapsed_ms(i));
    thin.add_values(s.values(i));
    thin.add_ok(s.ok(i));
  }
  s = std::move(thin);
}

void RunContext::journal_probe(const std::string& name, pb::ProbePhase phase, const ProbeOutcome& o,
                               int64_t recovered_after_ms) {
  pb::RunEvent ev = event(pb::EVENT_TYPE_PROBE_RESULT);
  auto* r = ev.mutable_probe();
  r->set_name(name);
  r->set_phase(phase);
  r->set_ok(o.ok);
  r->set_observed(o.observed);
  r->set_latency_ms(to_millis(o.latency));
  r->set_recovered_after_ms(recovered_after_ms);
  journal_.append(ev);
}

std::vector<pb::ProbeSeries> RunContext::series() const {
  std::lock_guard lock(series_mu_);
  std::vector<pb::ProbeSeries> out;
  out.reserve(series_.size());
  for (const auto& [_, s] : series_) out.push_back(s);
  return out;
}

}  // namespace faultline::controller
