#include "injector/fault_engine.h"

#include "common/log.h"
#include "injector/process/process_kill_backend.h"
#include "injector/process/process_pause_backend.h"

namespace faultline::injector {

std::string fault_kind_name(const pb::FaultSpec& spec) {
  switch (spec.kind_case()) {
    case pb::FaultSpec::kProcessKill:
      return "process_kill";
    case pb::FaultSpec::kProcessPause:
      return "process_pause";
    case pb::FaultSpec::KIND_NOT_SET:
      break;
  }
  return "";
}

std::vector<std::unique_ptr<FaultBackend>> default_backends() {
  std::vector<std::unique_ptr<FaultBackend>> b;
  b.push_back(std::make_unique<ProcessKillBackend>(SelectorGuard::for_this_process()));
  b.push_back(std::make_unique<ProcessPauseBackend>(SelectorGuard::for_this_process()));
  return b;
}

FaultEngine::FaultEngine(std::vector<std::unique_ptr<FaultBackend>> backends)
    : backends_(std::move(backends)) {
  reaper_ = std::thread([this] { reap_expired_leases(); });
}

FaultEngine::~FaultEngine() {
  revert_all("injector shutting down");
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  reaper_.join();
}

std::vector<std::string> FaultEngine::capabilities() const {
  std::vector<std::string> caps;
  for (const auto& b : backends_)
    if (b->available()) caps.push_back(b->kind());
  return caps;
}

FaultBackend* FaultEngine::backend_for(const pb::FaultSpec& spec) const {
  std::string kind = fault_kind_name(spec);
  for (const auto& b : backends_)
    if (b->kind() == kind && b->available()) return b.get();
  return nullptr;
}

Result<pb::AppliedState> FaultEngine::apply(const std::string& fault_id, const pb::FaultSpec& spec,
                                            Duration lease) {
  FaultBackend* backend = backend_for(spec);
  if (backend == nullptr) {
    std::string kind = fault_kind_name(spec);
    return make_error(ErrorCode::kFailedPrecondition, kind.empty()
                                                          ? "fault spec names no kind"
                                                          : "this injector cannot apply " + kind);
  }
  if (lease <= Duration::zero()) lease = kDefaultLease;
  {
    std::lock_guard lock(mu_);
    if (held_.count(fault_id))
      return make_error(ErrorCode::kFailedPrecondition,
                        "fault " + fault_id + " is already applied");
  }
  // Applied outside the lock: a slow backend must not stall reverts of other faults.
  auto applied = backend->apply(spec);
  if (!applied) {
    spdlog::warn("fault apply failed fault_id={} kind={} error=\"{}\"", fault_id, backend->kind(),
                 applied.error().message);
    return applied.error();
  }
  pb::AppliedState state = applied->state;
  {
    std::lock_guard lock(mu_);
    held_[fault_id] = Held{std::move(*applied), backend, MonoClock::now() + lease};
  }
  cv_.notify_all();
  spdlog::info("fault applied fault_id={} kind={} lease={} summary=\"{}\"", fault_id,
               backend->kind(), format_duration(lease), state.summary());
  return state;
}

Status FaultEngine::revert_held(const std::string& fault_id, Held held, const std::string& why) {
  Status s = held.backend->revert(held.fault);
  if (s) {
    spdlog::info("fault reverted fault_id={} kind={} why=\"{}\"", fault_id, held.backend->kind(),
                 why);
  } else {
    spdlog::error("fault revert FAILED fault_id={} kind={} error=\"{}\"", fault_id,
                  held.backend->kind(), s.error().message);
  }
  return s;
}

Status FaultEngine::revert(const std::string& fault_id) {
  std::optional<Held> held;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(fault_id);
    if (it == held_.end()) return Ok{};
    held = std::move(it->second);
    held_.erase(it);
  }
  Status s = revert_held(fault_id, *held, "requested");
  if (!s) {
    // Keep it so a retry (or the lease reaper) can try again.
    std::lock_guard lock(mu_);
    held_.emplace(fault_id, std::move(*held));
  }
  return s;
}

Status FaultEngine::renew(const std::string& fault_id, Duration lease) {
  std::lock_guard lock(mu_);
  auto it = held_.find(fault_id);
  if (it == held_.end())
    return make_error(ErrorCode::kNotFound, "fault " + fault_id + " is not held (lease expired?)");
  it->second.lease_deadline = MonoClock::now() + (lease > Duration::zero() ? lease : kDefaultLease);
  return Ok{};
}

size_t FaultEngine::revert_all(const std::string& why) {
  std::map<std::string, Held> all;
  {
    std::lock_guard lock(mu_);
    all.swap(held_);
  }
  for (auto& [id, held] : all) (void)revert_held(id, held, why);
  return all.size();
}

std::vector<std::string> FaultEngine::active_fault_ids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, _] : held_) ids.push_back(id);
  return ids;
}

void FaultEngine::reap_expired_leases() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    MonoTime next = MonoClock::now() + std::chrono::seconds(1);
    for (const auto& [_, h] : held_) next = std::min(next, h.lease_deadline);
    cv_.wait_until(lock, next);
    if (stopping_) break;
    MonoTime now = MonoClock::now();
    std::vector<std::pair<std::string, Held>> expired;
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->second.lease_deadline <= now) {
        expired.emplace_back(it->first, std::move(it->second));
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    for (auto& [id, held] : expired) {
      spdlog::warn("fault lease expired fault_id={} kind={}", id, held.backend->kind());
      (void)revert_held(id, held, "lease expired");
    }
    lock.lock();
  }
}

}  // namespace faultline::injector
