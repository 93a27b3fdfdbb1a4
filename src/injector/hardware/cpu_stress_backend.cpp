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
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  explicit Stress(size_t n) : cpu_seconds(n) {}
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

std::string CpuStressBackend::achieved(const AppliedFault& fault) {
  std::lock_guard lock(mu_);
  auto it = running_.find(fault.fault_id);
  if (it == running_.end()) return "";
  const Stress& s = *it->second;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
  double cpu = 0;
  for (const auto& v : s.cpu_seconds) cpu += v;
  // Workers publish their CPU time once per 100 ms period; shorter runs are not measurable.
  if (wall < 0.2) return "";
  return fmt::format("CPU load {:.0f}% per worker ({} worker{}, measured over {:.1f}s)",
                     100.0 * cpu / wall / static_cast<double>(s.workers.size()), s.workers.size(),
                     s.workers.size() == 1 ? "" : "s", wall);
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
  s->stop = true;
  for (auto& t : s->workers) t.join();
  double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s->started).count();
  double cpu = 0;
  for (const auto& v : s->cpu_seconds) cpu += v;
  spdlog::info("cpu stress stopped fault_id={} measured_load_per_worker={:.0f}%", fault.fault_id,
               wall > 0 ? 100.0 * cpu / wall / static_cast<double>(s->workers.size()) : 0.0);
  return Ok{};
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "cpu_stress",
          .make = [](BackendContext&) { return std::make_unique<CpuStressBackend>(); },
          .reach = [](const pb::FaultSpec&) { return FaultReach{.node_wide = true}; }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
