#include "injector/network/bandwidth_backend.h"

#include "injector/backend_registry.h"
#include "injector/network/network_shaping.h"

#include "common/log.h"
#include "fmt/format.h"
#include "injector/network/netns.h"
#include "injector/network/network_install.h"
#include "injector/network/qdisc_tree.h"
#include "injector/network/rtnl.h"
#include "injector/network/traffic_scope.h"

namespace faultline::injector {

namespace {

std::string rate_text(uint64_t bps) {
  if (bps >= 1'000'000'000 && bps % 1'000'000 == 0) return fmt::format("{:g}gbit", bps / 1e9);
  if (bps >= 1'000'000) return fmt::format("{:g}mbit", bps / 1e6);
  if (bps >= 1'000) return fmt::format("{:g}kbit", bps / 1e3);
  return fmt::format("{}bit", bps);
}

}  // namespace

Result<AppliedFault> BandwidthBackend::apply(const std::string& fault_id,
                                             const pb::FaultSpec& spec) {
  const auto& p = spec.network_bandwidth();
  const auto& scope = p.scope();
  if (p.rate_bps() == 0)
    return make_error(ErrorCode::kInvalidArgument, "network_bandwidth needs a rate above 0");
  if (!scope.direction().empty() && scope.direction() != "egress")
    return make_error(ErrorCode::kInvalidArgument,
                      "network_bandwidth limits egress only; apply it on the sending side");
  auto iface = rtnl::interface_or_default(scope.netns(), scope.interface());
  if (!iface) return iface.error();
  const std::string ifname = *iface;
  std::string kind = p.backend().empty() ? "tbf" : p.backend();
  if (kind == "netem" && !netem_)
    return make_error(ErrorCode::kFailedPrecondition,
                      "this kernel has no sch_netem; use backend: tbf or htb");
  // A burst below one MTU-sized packet would stall the link entirely.
  QdiscLeaf leaf{kind,
                 {},
                 p.rate_bps(),
                 std::max<uint64_t>(p.burst_bytes(), 1600),
                 std::max<uint64_t>(p.limit_bytes(), 1600)};
  leaf.netem.rate_bps = p.rate_bps();  // for backend netem
  auto q = install_qdisc(scope.netns(), ifname, leaf, scope);
  if (!q) return q.error();
  AppliedFault applied{fault_id, spec, {}};
  auto* in = applied.state.mutable_network();
  in->set_netns(netns_path(scope.netns()));
  in->set_netns_inode(netns_inode(scope.netns()));
  in->set_interface(ifname);
  in->set_ifindex(q->ifindex);
  in->set_qdisc_handle(q->handle);
  in->set_backend(kind);
  applied.state.set_summary(fmt::format("{} limit on {} [{}]", rate_text(p.rate_bps()),
                                        describe_scope(scope, "egress"), kind));
  spdlog::info("network_bandwidth applied fault_id={} rate_bps={} interface={} backend={}",
               fault_id, p.rate_bps(), ifname, kind);
  return applied;
}

std::string BandwidthBackend::achieved(const AppliedFault& fault) {
  const auto& in = fault.state.network();
  return netns_gone_note(in.netns(), in.netns_inode());
}

Status BandwidthBackend::revert(const AppliedFault& fault) {
  return remove_installed(fault.state.network());
}

Status BandwidthBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  const auto& scope = spec.network_bandwidth().scope();
  // No interface (or namespace) to find: nothing could have been installed on it.
  auto iface = rtnl::interface_or_default(scope.netns(), scope.interface());
  if (!iface) return Ok{};
  auto ifindex = rtnl::ifindex_of(scope.netns(), *iface);
  if (!ifindex) return Ok{};
  return remove_qdisc(scope.netns(), *ifindex);
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "network_bandwidth",
          .make =
              [](BackendContext& context) {
                return std::make_unique<BandwidthBackend>(
                    context.shared<ShapingRegistry>()->netem_available());
              },
          .reach =
              [](const pb::FaultSpec& spec) {
                return FaultReach{.networks = {spec.network_bandwidth().scope()}};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
