#include "experiments/timeline.h"

#include <algorithm>
#include <map>

namespace faultline::experiments {
namespace {

class Scheduler {
 public:
  explicit Scheduler(const Experiment& e) : e_(e) {}

  // Schedules `step` starting no earlier than `at`; returns when it ends.
  Result<Duration> schedule(const Step& step, Duration at) {
    switch (step.kind) {
      case Step::Kind::kPause:
        return at + step.pause;
      case Step::Kind::kSequential: {
        Duration t = at;
        for (const auto& c : step.children) {
          auto end = schedule(c, t);
          if (!end) return end;
          t = *end;
        }
        return t;
      }
      case Step::Kind::kParallel: {
        Duration last = at;
        for (const auto& c : step.children) {
          auto end = schedule(c, at);
          if (!end) return end;
          last = std::max(last, *end);
        }
        return last;
      }
      case Step::Kind::kFault:
        break;
    }
    const FaultSpec& f = e_.faults[step.fault_index];
    Duration base = at;
    if (!f.after.empty()) {
      auto it = ends_.find(f.after);
      if (it == ends_.end())
        return make_error(
            ErrorCode::kInvalidArgument,
            "after: \"" + f.after + "\" must name a fault scheduled before \"" + f.name + "\"");
      base = it->second;
    }
    Duration start = base + f.start;
    Duration end = start;
    for (int i = 0; i < f.repeat_count; ++i) {
      if (i > 0) start = end + f.repeat_interval;
      end = start + f.duration;
      windows_.push_back({step.fault_index, i, start, end});
    }
    ends_[f.name] = end;
    return end;
  }

  std::vector<FaultWindow> windows_;

 private:
  const Experiment& e_;
  std::map<std::string, Duration> ends_;
};

}  // namespace

Result<Timeline> compute_timeline(const Experiment& experiment) {
  Scheduler s(experiment);
  auto end = s.schedule(experiment.method, Duration::zero());
  if (!end) return end.error();
  Timeline t;
  t.windows = std::move(s.windows_);
  std::stable_sort(t.windows.begin(), t.windows.end(),
                   [](const auto& a, const auto& b) { return a.start < b.start; });
  t.total = *end;
  for (const auto& w : t.windows) t.total = std::max(t.total, w.end);
  return t;
}

}  // namespace faultline::experiments
