#include "injector/network/partition_backend.h"

#include "injector/backend_registry.h"

#include "common/log.h"
#include "common/process_launch.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/netns.h"
#include "injector/network/network_install.h"
#include "injector/network/traffic_scope.h"

namespace faultline::injector {

namespace {

std::string partition_direction(const pb::NetworkPartition& p) {
  if (!p.direction().empty()) return p.direction();
  return p.scope().direction().empty() ? "both" : p.scope().direction();
}

}  // namespace

bool PartitionBackend::available() const {
  return !find_executable("iptables").empty();
}

Result<AppliedFault> PartitionBackend::apply(const std::string& fault_id,
                                             const pb::FaultSpec& spec) {
  const auto& p = spec.network_partition();
  const auto& scope = p.scope();
  std::string dir = partition_direction(p);
  uint64_t inode = netns_inode(scope.netns());
  if (inode == 0) return make_error(ErrorCode::kNotFound, "no network namespace " + scope.netns());
  AppliedFault applied{fault_id, spec, {}};
  auto* in = applied.state.mutable_network();
  in->set_netns(netns_path(scope.netns()));
  in->set_netns_inode(inode);
  in->set_interface(scope.interface());
  in->set_backend("iptables");
  std::vector<ChainSpec> chains;
  for (Direction d : directions(dir)) {
    auto rules = scope_rules(scope, d);
    if (!rules) return rules.error();
    const bool out = d == Direction::kEgress;
    for (int family : {4, 6}) {
      ChainSpec c;
      c.netns = scope.netns();
      c.family = family;
      c.table = "filter";
      c.hook = out ? "OUTPUT" : "INPUT";
      // No interface named: every interface but loopback, so local control traffic
      // (this injector's own link to the controller, in particular) keeps working.
      if (scope.interface().empty())
        c.hook_match = {"!", out ? "-o" : "-i", "lo"};
      else
        c.hook_match = {out ? "-o" : "-i", scope.interface()};
      c.chain = chain_name(fault_id, 'p', family, d);
      for (const auto& r : *rules) {
        if (r.family != family) continue;
        auto rule = r.match;
        rule.insert(rule.end(), {"-j", "DROP"});
        c.rules.push_back(std::move(rule));
      }
      if (!c.rules.empty()) chains.push_back(std::move(c));
    }
  }
  if (Status s = install_chains(chains, *in); !s) return s.error();
  applied.state.set_summary("dropping " + describe_scope(scope, dir));
  spdlog::info("network_partition applied fault_id={} scope=\"{}\"", fault_id,
               describe_scope(scope, dir));
  return applied;
}

std::string PartitionBackend::achieved(const AppliedFault& fault) {
  const auto& in = fault.state.network();
  return netns_gone_note(in.netns(), in.netns_inode());
}

Status PartitionBackend::revert(const AppliedFault& fault) {
  return remove_installed(fault.state.network());
}

Status PartitionBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  pb::NetworkInstall in;
  in.set_netns(netns_path(spec.network_partition().scope().netns()));
  add_possible_chains(in, fault_id, "filter", 'p');
  return remove_installed(in);
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "network_partition",
          .make = [](BackendContext&) { return std::make_unique<PartitionBackend>(); },
          .reach =
              [](const pb::FaultSpec& spec) {
                return FaultReach{.networks = {spec.network_partition().scope()}};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
