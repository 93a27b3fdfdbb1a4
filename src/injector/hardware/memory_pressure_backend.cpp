#include "injector/hardware/memory_pressure_backend.h"

#include "injector/backend_registry.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/interruptible_thread.h"
#include "common/log.h"
#include "common/quantity.h"
#include "injector/hardware/cgroup_worker.h"

namespace faultline::injector {
namespace {

constexpr uint64_t kChunk = 16ull << 20;  // allocated and touched 16 MiB at a time

}  // namespace

Result<MemInfo> read_meminfo() {
  std::ifstream in("/proc/meminfo");
  if (!in) return make_error(ErrorCode::kInternal, "cannot read /proc/meminfo");
  MemInfo m;
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "MemTotal:") m.total = kb * 1024;
    if (key == "MemAvailable:") m.available = kb * 1024;
  }
  if (m.total == 0) return make_error(ErrorCode::kInternal, "no MemTotal in /proc/meminfo");
  return m;
}

struct MemoryPressureBackend::Hold {
  std::vector<std::pair<void*, size_t>> regions;
  std::atomic<uint64_t> bytes{0};
  std::unique_ptr<InterruptibleThread> ramp;
  // On a container target: worker processes in the containers' cgroups hold the memory.
  std::vector<std::unique_ptr<CgroupWorker>> charged;
  std::mutex ended_mu;
  std::string worker_ended;  // why a worker stopped holding (its container's OOM killer)

  ~Hold() {
    ramp.reset();  // stops and joins before the regions it grows are unmapped
    for (auto& [p, n] : regions) munmap(p, n);
  }

  // Allocates one chunk unless that would cross the floor; false when it stops.
  bool grow(uint64_t chunk, uint64_t floor_bytes, std::string& why) {
    auto mem = read_meminfo();
    if (!mem) {
      why = mem.error().message;
      return false;
    }
    if (mem->available < floor_bytes + chunk) {
      why = "stopped at the floor: " + format_size(mem->available) + " available, floor " +
            format_size(floor_bytes);
      return false;
    }
    if (!charged.empty()) return grow_in_containers(chunk, why);
    void* p = mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      why = std::string("mmap: ") + std::strerror(errno);
      return false;
    }
    // Touch every page so the memory is really resident, not just reserved.
    long page = sysconf(_SC_PAGESIZE);
    for (uint64_t off = 0; off < chunk; off += static_cast<uint64_t>(page))
      static_cast<volatile char*>(p)[off] = 1;
    regions.emplace_back(p, chunk);
    bytes += chunk;
    return true;
  }

  bool oom_killed() {
    std::lock_guard lock(ended_mu);
    return !charged.empty() && worker_ended.find("OOM") != std::string::npos;
  }

  // Each container's worker grows by one chunk; `bytes` counts what one container holds.
  bool grow_in_containers(uint64_t chunk, std::string& why) {
    for (auto& w : charged) {
      auto held = w->grow(chunk);
      if (!held) {
        why = held.error().message;
        std::lock_guard lock(ended_mu);
        worker_ended = why;
        return false;
      }
    }
    bytes += chunk;
    return true;
  }
};

MemoryPressureBackend::MemoryPressureBackend() = default;
MemoryPressureBackend::~MemoryPressureBackend() = default;

uint64_t MemoryPressureBackend::held_bytes(const std::string& fault_id) {
  std::lock_guard lock(mu_);
  auto it = holds_.find(fault_id);
  return it == holds_.end() ? 0 : it->second->bytes.load();
}

Result<AppliedFault> MemoryPressureBackend::apply(const std::string& fault_id,
                                                  const pb::FaultSpec& spec) {
  const auto& m = spec.memory_pressure();
  auto mem = read_meminfo();
  if (!mem) return mem.error();
  double floor = m.floor() > 0 ? m.floor() : 0.10;
  uint64_t floor_bytes = static_cast<uint64_t>(floor * static_cast<double>(mem->total));
  uint64_t target = m.size_bytes()
                        ? m.size_bytes()
                        : static_cast<uint64_t>(m.fraction() * static_cast<double>(mem->total));
  if (target == 0) return make_error(ErrorCode::kInvalidArgument, "size or percent is required");
  if (mem->available < floor_bytes || target > mem->available - floor_bytes)
    return make_error(ErrorCode::kFailedPrecondition,
                      "holding " + format_size(target) + " would leave less than the floor of " +
                          format_size(floor_bytes) + " (" + format_percent(floor) +
                          " of memory) available; " + format_size(mem->available) +
                          " is available now");
  auto hold = std::make_unique<Hold>();
  Hold* h = hold.get();
  if (m.has_in_container()) {
    const auto& cgroups = m.in_container().container_cgroups();
    if (cgroups.empty()) {
      AppliedFault applied{fault_id, spec, {}};
      applied.state.set_summary("no matching container on this node: nothing held");
      return applied;
    }
    // Node floor: every container's share counts against the node's memory.
    if (target > (mem->available - floor_bytes) / cgroups.size())
      return make_error(ErrorCode::kFailedPrecondition,
                        "holding " + format_size(target) + " in each of " +
                            std::to_string(cgroups.size()) +
                            " containers would leave less than the node's floor of " +
                            format_size(floor_bytes) + " available");
    for (const auto& cg : cgroups) {
      auto where = placement_of(cg);
      if (!where) return where.error();
      auto w = CgroupWorker::start(*where, CgroupWorker::Job::kHold);
      if (!w) return w.error();
      h->charged.push_back(std::move(*w));
    }
  }
  uint64_t chunks = (target + kChunk - 1) / kChunk;
  auto ramp = std::chrono::milliseconds(m.ramp_ms());
  std::string why;
  if (ramp.count() == 0) {
    for (uint64_t i = 0; i < chunks; ++i) {
      uint64_t n = std::min(kChunk, target - i * kChunk);
      if (!h->grow(n, floor_bytes, why)) {
        // In a container, its OOM killer ending the worker is the fault's effect, not a failure.
        if (h->oom_killed()) break;
        return make_error(ErrorCode::kFailedPrecondition,
                          "memory pressure not applied (" + why + ")");
      }
    }
  } else {
    // Spread the chunks evenly over the ramp; the first one now.
    auto step = ramp / static_cast<long>(chunks);
    h->ramp = std::make_unique<InterruptibleThread>(
        [h, chunks, target, step, floor_bytes, fault_id](InterruptibleThread& self) {
          std::string stopped;
          for (uint64_t i = 0; i < chunks; ++i) {
            uint64_t n = std::min(kChunk, target - i * kChunk);
            if (!h->grow(n, floor_bytes, stopped)) {
              spdlog::warn("memory pressure ramp stopped fault_id={} held={} why=\"{}\"", fault_id,
                           format_size(h->bytes), stopped);
              return;
            }
            if (!self.sleep_for(step)) return;
          }
        });
  }
  AppliedFault applied{fault_id, spec, {}};
  applied.state.set_achieved_bytes(h->bytes);
  std::string where = h->charged.empty() ? ""
                                         : " in each of " + std::to_string(h->charged.size()) +
                                               " container cgroup(s)";
  std::string what = ramp.count() ? "ramping to " + format_size(target) + " over " +
                                        std::to_string(ramp.count()) + "ms"
                                  : "holding " + format_size(h->bytes.load());
  // Read under the lock: a ramp thread may be writing it.
  if (h->oom_killed()) {
    std::lock_guard lock(h->ended_mu);
    what = "held " + format_size(h->bytes.load()) + " until " + h->worker_ended;
  }
  applied.state.set_summary(what + where);
  {
    std::lock_guard lock(mu_);
    holds_[fault_id] = std::move(hold);
  }
  spdlog::info("memory pressure applied fault_id={} target={} floor={}", fault_id,
               format_size(target), format_size(floor_bytes));
  return applied;
}

std::string MemoryPressureBackend::achieved(const AppliedFault& fault) {
  std::lock_guard lock(mu_);
  auto it = holds_.find(fault.fault_id);
  if (it == holds_.end()) return "";
  Hold& h = *it->second;
  std::string out =
      fmt::format("held {:.1f} MiB", static_cast<double>(h.bytes.load()) / (1024.0 * 1024.0));
  if (!h.charged.empty()) out += " per container";
  std::lock_guard ended_lock(h.ended_mu);
  if (!h.worker_ended.empty()) out += "; stopped: " + h.worker_ended;
  return out;
}

Status MemoryPressureBackend::revert(const AppliedFault& fault) {
  std::unique_ptr<Hold> h;
  {
    std::lock_guard lock(mu_);
    auto it = holds_.find(fault.fault_id);
    if (it == holds_.end()) return Ok{};
    h = std::move(it->second);
    holds_.erase(it);
  }
  uint64_t held = h->bytes;
  h.reset();  // joins the ramp and unmaps
  spdlog::info("memory pressure released fault_id={} held={}", fault.fault_id, format_size(held));
  return Ok{};
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "memory_pressure",
          .make = [](BackendContext&) { return std::make_unique<MemoryPressureBackend>(); },
          .reach =
              [](const pb::FaultSpec& spec) {
                if (spec.memory_pressure().has_in_container())
                  return FaultReach{.processes = {{spec.memory_pressure().in_container(), ""}}};
                return FaultReach{.node_wide = true};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
