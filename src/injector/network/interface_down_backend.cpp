#include "injector/network/interface_down_backend.h"

#include "injector/backend_registry.h"

#include "common/log.h"
#include "injector/network/link_control.h"

namespace faultline::injector {

InterfaceDownBackend::InterfaceDownBackend(bool flap) : flap_(flap) {}

InterfaceDownBackend::~InterfaceDownBackend() = default;

const pb::InterfaceDown& InterfaceDownBackend::params(const pb::FaultSpec& spec) const {
  return flap_ ? spec.link_flap() : spec.interface_down();
}

Result<AppliedFault> InterfaceDownBackend::apply(const std::string& fault_id,
                                                 const pb::FaultSpec& spec) {
  const auto& p = params(spec);
  const std::string& netns = p.scope().netns();
  const std::string& ifname = p.scope().interface();
  if (ifname.empty())
    return make_error(ErrorCode::kInvalidArgument, kind() + " needs an interface");
  if (flap_ && (p.flap_down_ms() == 0 || p.flap_up_ms() == 0))
    return make_error(ErrorCode::kInvalidArgument, "link_flap needs down and up > 0");
  auto up = link_is_up(netns, ifname);
  if (!up) return up.error();
  if (!*up)
    return make_error(ErrorCode::kFailedPrecondition,
                      "interface " + ifname + " is already down; nothing to take down");
  if (Status s = set_link_up(netns, ifname, false); !s) return s.error();
  std::string where = ifname + (netns.empty() ? "" : " in netns " + netns);
  AppliedFault applied{fault_id, spec, {}};
  if (flap_) {
    auto down = std::chrono::milliseconds(p.flap_down_ms());
    auto upd = std::chrono::milliseconds(p.flap_up_ms());
    auto f = std::make_unique<InterruptibleThread>(
        [netns, ifname, down, upd, fault_id](InterruptibleThread& self) {
          bool is_up = false;
          while (self.sleep_for(is_up ? upd : down)) {
            is_up = !is_up;
            if (Status s = set_link_up(netns, ifname, is_up); !s)
              spdlog::warn("link flap step failed fault_id={} error=\"{}\"", fault_id,
                           s.error().message);
          }
        });
    std::lock_guard lock(mu_);
    flappers_[fault_id] = std::move(f);
    applied.state.set_summary("flapping " + where + " (down " + std::to_string(p.flap_down_ms()) +
                              "ms, up " + std::to_string(p.flap_up_ms()) + "ms)");
  } else {
    applied.state.set_summary("took " + where + " down");
  }
  spdlog::info("{} applied fault_id={} interface={} netns={}", kind(), fault_id, ifname, netns);
  return applied;
}

void InterfaceDownBackend::stop_flapper(const std::string& fault_id) {
  std::unique_ptr<InterruptibleThread> f;
  {
    std::lock_guard lock(mu_);
    auto it = flappers_.find(fault_id);
    if (it == flappers_.end()) return;
    f = std::move(it->second);
    flappers_.erase(it);
  }
  f->stop();
}

Status InterfaceDownBackend::revert(const AppliedFault& fault) {
  stop_flapper(fault.fault_id);
  const auto& p = params(fault.spec);
  Status s = set_link_up(p.scope().netns(), p.scope().interface(), true);
  // A namespace or interface that is gone has nothing left to restore.
  if (!s && s.error().code == ErrorCode::kNotFound) {
    spdlog::info("{} revert: {} fault_id={}", kind(), s.error().message, fault.fault_id);
    return Ok{};
  }
  if (s)
    spdlog::info("{} reverted fault_id={} interface={} is up", kind(), fault.fault_id,
                 p.scope().interface());
  return s;
}

Status InterfaceDownBackend::recover_intent(const std::string& fault_id,
                                            const pb::FaultSpec& spec) {
  return revert({fault_id, spec, {}});
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

template <bool kFlap>
BackendRegistration describe() {
  return {.kind = kFlap ? "link_flap" : "interface_down",
          .make = [](BackendContext&) { return std::make_unique<InterfaceDownBackend>(kFlap); },
          .reach =
              [](const pb::FaultSpec& spec) {
                return FaultReach{
                    .networks = {kFlap ? spec.link_flap().scope() : spec.interface_down().scope()}};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe<false>);
FAULTLINE_REGISTER_BACKEND(describe<true>);
}  // namespace faultline::injector
