#include "injector/hardware/cpu_stress_backend.h"

#include "injector/backend_registry.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/log.h"
#include "injector/hardware/cgroup_worker.h"

namespace faultline::injector {
namespace {

constexpr auto kPeriod = std::chrono::milliseconds(100);

double thread_cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

struct CpuStressBackend::Stress {
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  std::vector<std::atomic<double>> cpu_seconds;  // per worker, updated every period
  // On a container target: worker processes in the containers' cgroups instead of threads.
  std::vector<std::unique_ptr<CgroupWorker>> charged;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  explicit Stress(size_t n) : cpu_seconds(n) {}
  size_t worker_count() const { return charged.empty() ? workers.size() : charged.size(); }
  double cpu_seconds_used() const {
    double cpu = 0;
    for (const auto& v : cpu_seconds) cpu += v;
    for (const auto& w : charged) cpu += w->cpu_seconds();
    return cpu;
  }
};

CpuStressBackend::CpuStressBackend() = default;

CpuStressBackend::~CpuStressBackend() {
  std::lock_guard lock(mu_);
  for (auto& [_, s] : running_) {
    s->stop = true;
    for (auto& t : s->workers) t.join();
  }
}

Result<AppliedFault> CpuStressBackend::apply(const std::string& fault_id,
                                             const pb::FaultSpec& spec) {
  const auto& c = spec.cpu_stress();
  unsigned workers = c.workers() == 0 ? 1 : c.workers();
  double load = c.load() <= 0 ? 1.0 : std::min(1.0, c.load());
  if (workers > 1024) return make_error(ErrorCode::kInvalidArgument, "at most 1024 workers");
  unsigned ncpu = std::thread::hardware_concurrency();
  for (uint32_t cpu : c.cpus())
    if (ncpu && cpu >= ncpu)
      return make_error(ErrorCode::kInvalidArgument, "cpu " + std::to_string(cpu) +
                                                         " does not exist (this node has " +
                                                         std::to_string(ncpu) + ")");
  if (c.has_in_container()) return apply_in_containers(fault_id, spec, workers, load);
  auto stress = std::make_unique<Stress>(workers);
  Stress* s = stress.get();
  auto busy = std::chrono::duration_cast<std::chrono::nanoseconds>(kPeriod * load);
  for (unsigned i = 0; i < workers; ++i) {
    int pin = c.cpus().empty() ? -1 : static_cast<int>(c.cpus(static_cast<int>(i) % c.cpus_size()));
    s->workers.emplace_back([s, i, busy, pin] {
      if (pin >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(pin, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      }
      clockid_t clock;
      pthread_getcpuclockid(pthread_self(), &clock);
      double base = thread_cpu_seconds(clock);
      auto period_start = std::chrono::steady_clock::now();
      while (!s->stop.load(std::memory_order_relaxed)) {
        // Spin for the busy part of the period, sleep through the rest.
        while (std::chrono::steady_clock::now() - period_start < busy &&
               !s->stop.load(std::memory_order_relaxed)) {
        }
        period_start += kPeriod;
        std::this_thread::sleep_until(period_start);
        auto now = std::chrono::steady_clock::now();
        if (now - period_start > kPeriod) period_start = now;  // fell behind: do not burst
        s->cpu_seconds[i] = thread_cpu_seconds(clock) - base;
      }
    });
  }
  AppliedFault applied{fault_id, spec, {}};
  std::string where = c.cpus().empty() ? "" : " pinned to cpus";
  for (uint32_t cpu : c.cpus()) where += " " + std::to_string(cpu);
  applied.state.set_summary(std::to_string(workers) + " worker(s) at " +
                            std::to_string(static_cast<int>(load * 100 + 0.5)) + "% load" + where);
  {
    std::lock_guard lock(mu_);
    running_[fault_id] = std::move(stress);
  }
  spdlog::info("cpu stress started fault_id={} workers={} load={}", fault_id, workers, load);
  return applied;
}

Result<AppliedFault> CpuStressBackend::apply_in_containers(const std::string& fault_id,
                                                           const pb::FaultSpec& spec,
                                                           unsigned workers, double load) {
  const auto& c = spec.cpu_stress();
  if (!c.cpus().empty())
    return make_error(ErrorCode::kInvalidArgument,
                      "cpus pins workers to the node's CPUs; a container's stress runs on the "
                      "container's own cpuset");
  const auto& cgroups = c.in_container().container_cgroups();
  if (cgroups.empty()) {
    AppliedFault applied{fault_id, spec, {}};
    applied.state.set_summary("no matching container on this node: nothing stressed");
    return applied;
  }
  auto stress = std::make_unique<Stress>(0);
  for (const auto& cg : cgroups) {
    auto where = placement_of(cg);
    if (!where) return where.error();
    for (unsigned i = 0; i < workers; ++i) {
      auto w = CgroupWorker::start(*where, CgroupWorker::Job::kSpin, load);
      if (!w) return w.error();  // the workers started so far stop with `stress`
      stress->charged.push_back(std::move(*w));
    }
  }
  AppliedFault applied{fault_id, spec, {}};
  applied.state.set_summary(std::to_string(workers) + " worker(s) at " +
                            std::to_string(static_cast<int>(load * 100 + 0.5)) + "% load in " +
                            std::to_string(cgroups.size()) + " container cgroup(s)");
  std::string pids;
  for (const auto& w : stress->charged)
    pids += (pids.empty() ? "" : ",") + std::to_string(w->pid());
  spdlog::info("cpu stress started in containers fault_id={} workers={} load={} pids={}", fault_id,
               stress->charged.size(), load, pids);
  std::lock_guard lock(mu_);
  running_[fault_id] = std::move(stress);
  return applied;
}

std::string CpuStressBackend::achieved(const AppliedFault& fault) {
  std::lock_guard lock(mu_);
  auto it = running_.find(fault.fault_id);
  if (it == running_.end()) return "";
  const Stress& s = *it->second;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
  double cpu = s.cpu_seconds_used();
  // Workers publish their CPU time once per 100 ms period; shorter runs are not measurable.
  if (wall < 0.2) return "";
  size_t n = s.worker_count();
  return fmt::format("CPU load {:.0f}% per worker ({} worker{}{}, measured over {:.1f}s)",
                     100.0 * cpu / wall / static_cast<double>(n), n, n == 1 ? "" : "s",
                     s.charged.empty() ? "" : ", charged to the containers' cgroups", wall);
}

Status CpuStressBackend::revert(const AppliedFault& fault) {
  std::unique_ptr<Stress> s;
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(fault.fault_id);
    if (it == running_.end()) return Ok{};  // already stopped, or died with a crashed injector
    s = std::move(it->second);
    running_.erase(it);
  }
  double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s->started).count();
  double cpu = s->cpu_seconds_used();
  size_t n = s->worker_count();
  s->stop = true;
  for (auto& t : s->workers) t.join();
  s->charged.clear();  // each worker sees its control pipe close, exits and is reaped
  spdlog::info("cpu stress stopped fault_id={} measured_load_per_worker={:.0f}%", fault.fault_id,
               wall > 0 && n ? 100.0 * cpu / wall / static_cast<double>(n) : 0.0);
  return Ok{};
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "cpu_stress",
          .make = [](BackendContext&) { return std::make_unique<CpuStressBackend>(); },
          .reach =
              [](const pb::FaultSpec& spec) {
                // In a container, the stress is a neighbour of the container's processes.
                if (spec.cpu_stress().has_in_container())
                  return FaultReach{.processes = {{spec.cpu_stress().in_container(), ""}}};
                return FaultReach{.node_wide = true};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
