#include "injector/network/network_shaping.h"

#include "common/hash.h"
#include "common/log.h"
#include "fmt/format.h"
#include "injector/backend_registry.h"
#include "injector/fault_kind_name.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/netns.h"
#include "injector/network/network_install.h"
#include "injector/network/qdisc_tree.h"
#include "injector/network/rtnl.h"
#include "injector/network/traffic_scope.h"

namespace faultline::injector {

namespace {

using std::chrono::microseconds;

struct Request {
  const pb::NetworkScope* scope = nullptr;
  std::string backend;
  ImpairmentSpec part;
};

Result<Request> request_of(const pb::FaultSpec& spec) {
  Request r;
  switch (spec.kind_case()) {
    case pb::FaultSpec::kNetworkDelay: {
      const auto& p = spec.network_delay();
      r = {&p.scope(), p.backend(), {}};
      r.part.delay = microseconds(p.delay_us());
      r.part.jitter = microseconds(p.jitter_us());
      r.part.delay_correlation = p.correlation();
      // Unset on the wire keeps ImpairmentSpec's default, the one place the injector states it.
      if (!p.distribution().empty()) r.part.distribution = p.distribution();
      break;
    }
    case pb::FaultSpec::kNetworkLoss: {
      const auto& p = spec.network_loss();
      r = {&p.scope(), p.backend(), {}};
      if (p.model() == "gilbert-elliott") {
        r.part.gilbert_elliott = true;
        r.part.ge_p = p.p();
        r.part.ge_r = p.r();
        r.part.ge_loss_bad = p.loss_bad();
        r.part.ge_loss_good = p.loss_good();
      } else {
        r.part.loss = p.fraction();
        r.part.loss_correlation = p.correlation();
      }
      break;
    }
    case pb::FaultSpec::kNetworkDuplicate:
      r = {&spec.network_duplicate().scope(), spec.network_duplicate().backend(), {}};
      r.part.duplicate = spec.network_duplicate().fraction();
      r.part.duplicate_correlation = spec.network_duplicate().correlation();
      break;
    case pb::FaultSpec::kNetworkCorrupt:
      r = {&spec.network_corrupt().scope(), spec.network_corrupt().backend(), {}};
      r.part.corrupt = spec.network_corrupt().fraction();
      r.part.corrupt_correlation = spec.network_corrupt().correlation();
      break;
    case pb::FaultSpec::kNetworkReorder: {
      const auto& p = spec.network_reorder();
      r = {&p.scope(), p.backend(), {}};
      r.part.reorder = p.fraction();
      r.part.reorder_correlation = p.correlation();
      r.part.reorder_gap = p.gap();
      r.part.delay = microseconds(p.delay_us());
      break;
    }
    default:
      return make_error(ErrorCode::kInvalidArgument, "not a network shaping fault");
  }
  if (r.backend.empty()) r.backend = "auto";
  return r;
}

// The fields each kind owns in the merged impairment.
void merge_into(ImpairmentSpec& into, const std::string& kind, const ImpairmentSpec& p) {
  if (kind == "network_delay") {
    into.delay = p.delay;
    into.jitter = p.jitter;
    into.delay_correlation = p.delay_correlation;
    into.distribution = p.distribution;
  } else if (kind == "network_loss") {
    into.gilbert_elliott = p.gilbert_elliott;
    into.loss = p.loss;
    into.loss_correlation = p.loss_correlation;
    into.ge_p = p.ge_p;
    into.ge_r = p.ge_r;
    into.ge_loss_bad = p.ge_loss_bad;
    into.ge_loss_good = p.ge_loss_good;
  } else if (kind == "network_duplicate") {
    into.duplicate = p.duplicate;
    into.duplicate_correlation = p.duplicate_correlation;
  } else if (kind == "network_corrupt") {
    into.corrupt = p.corrupt;
    into.corrupt_correlation = p.corrupt_correlation;
  } else if (kind == "network_reorder") {
    into.reorder = p.reorder;
    into.reorder_correlation = p.reorder_correlation;
    into.reorder_gap = p.reorder_gap;
    if (into.delay.count() == 0) into.delay = p.delay;
  }
}

bool ipv4_only(const pb::NetworkScope& s) {
  for (const auto& d : s.destinations())
    if (d.find(':') != std::string::npos) return false;
  return true;
}

uint16_t first_queue_number(const std::string& fault_id) {
  return static_cast<uint16_t>(30000 + fnv1a(fault_id) % 2000);
}

std::string hook_for(Direction d) {
  return d == Direction::kEgress ? "POSTROUTING" : "PREROUTING";
}

}  // namespace

ShapingRegistry::ShapingRegistry() : netem_(injector::netem_available()) {
  spdlog::info("network shaping backends netem={} nfqueue=yes", netem_ ? "yes" : "no");
}

std::vector<std::string> ShapingBackend::backends() const {
  std::vector<std::string> b;
  if (registry_->netem_available()) b.push_back("netem");
  b.push_back("nfqueue");
  return b;
}

Result<ImpairmentSpec> ShapingRegistry::merged(const Group& g) const {
  ImpairmentSpec out;
  for (const auto& [id, part] : g.parts) merge_into(out, part.kind, part.spec);
  // Reordering means some packets overtake delayed ones; with no delay left (the delay fault
  // it leaned on has ended) there is nothing to overtake, and netem refuses the combination.
  if (out.delay.count() == 0) out.reorder = 0;
  return out;
}

Status ShapingRegistry::install(Group& g, const ImpairmentSpec& spec, const std::string& fault_id) {
  auto& in = g.install;
  const std::string& netns = g.scope.netns();
  const std::string dir = g.scope.direction().empty() ? "egress" : g.scope.direction();
  if (g.backend == "netem") {
    if (dir != "egress")
      return make_error(ErrorCode::kInvalidArgument,
                        "netem shapes egress only; use backend: nfqueue for " + dir + " traffic");
    QdiscLeaf leaf{"netem", spec, 0, 0, 0};
    auto q = install_qdisc(netns, g.ifname, leaf, g.scope);
    if (!q) return q.error();
    in.set_ifindex(q->ifindex);
    in.set_qdisc_handle(q->handle);
    g.qdisc_scoped = q->scoped;
    return Ok{};
  }
  if (spec.duplicate > 0 && dir != "egress")
    return make_error(ErrorCode::kInvalidArgument,
                      "the nfqueue backend duplicates egress packets only (a copy is re-sent "
                      "from this host); scope the fault to egress");
  // Rules first into chains, the engine bound before the jump goes in: no packet is ever
  // queued to a queue nobody reads (and --queue-bypass covers a crash of this process).
  // Several queues, one thread each: the rule spreads flows over them by hash, so each flow
  // keeps its order and a fast flow does not wait behind another.
  const unsigned count = default_queue_count();
  uint16_t num = first_queue_number(fault_id);
  Result<std::unique_ptr<NfqueueEngine>> engine = make_error(ErrorCode::kInternal, "");
  for (int attempt = 0; attempt < 32; ++attempt, num = static_cast<uint16_t>(num + count)) {
    engine = NfqueueEngine::start(netns, num, spec, NfqueueEngine::kDefaultLimit, count);
    if (engine || engine.error().code == ErrorCode::kNotFound) break;
  }
  if (!engine) return engine.error();
  in.set_queue_num(num);
  std::vector<ChainSpec> chains;
  for (Direction d : directions(dir)) {
    auto rules = scope_rules(g.scope, d);
    if (!rules) return rules.error();
    for (int family : {4, 6}) {
      ChainSpec c;
      c.netns = netns;
      c.family = family;
      c.table = "mangle";
      c.hook = hook_for(d);
      c.hook_match = {d == Direction::kEgress ? "-o" : "-i", g.ifname};
      c.chain = chain_name(g.owner, 'q', family, d);
      for (const auto& r : *rules) {
        if (r.family != family) continue;
        auto rule = r.match;
        rule.insert(rule.end(),
                    {"-m", "mark", "!", "--mark", std::to_string(kOwnPacketMark), "-j", "NFQUEUE"});
        if (count > 1)
          rule.insert(rule.end(), {"--queue-balance", fmt::format("{}:{}", num, num + count - 1)});
        else
          rule.insert(rule.end(), {"--queue-num", std::to_string(num)});
        rule.push_back("--queue-bypass");
        c.rules.push_back(std::move(rule));
      }
      if (!c.rules.empty()) chains.push_back(std::move(c));
    }
  }
  if (Status s = install_chains(chains, in); !s) return s;
  g.engine = std::move(*engine);
  return Ok{};
}

Status ShapingRegistry::update(Group& g) {
  auto spec = merged(g);
  if (!spec) return spec.error();
  if (g.backend == "netem") return change_netem(g.scope.netns(), g.ifname, g.qdisc_scoped, *spec);
  if (g.engine) g.engine->set_spec(*spec);
  return Ok{};
}

Result<AppliedFault> ShapingRegistry::apply(const std::string& fault_id,
                                            const pb::FaultSpec& spec) {
  auto req = request_of(spec);
  if (!req) return req.error();
  const std::string kind = fault_kind_name(spec);
  pb::NetworkScope scope = *req->scope;
  auto iface = rtnl::interface_or_default(scope.netns(), scope.interface());
  if (!iface) return iface.error();
  const std::string ifname = *iface;
  uint64_t inode = netns_inode(scope.netns());
  if (inode == 0) return make_error(ErrorCode::kNotFound, "no network namespace " + scope.netns());
  const std::string key = fmt::format("{}/{}", inode, ifname);
  std::string dir = scope.direction().empty() ? "egress" : scope.direction();

  std::lock_guard lock(mu_);
  auto it = groups_.find(key);
  if (it != groups_.end()) {
    Group& g = it->second;
    if (!same_traffic(g.scope, scope))
      return make_error(ErrorCode::kFailedPrecondition,
                        ifname + " is already shaped by fault " + g.owner + " for " +
                            describe_scope(g.scope, g.scope.direction()) +
                            "; a second fault on it must target the same traffic");
    for (const auto& [id, part] : g.parts)
      if (part.kind == kind)
        return make_error(ErrorCode::kFailedPrecondition,
                          "fault " + id + " already applies " + kind + " to " +
                              describe_scope(scope, dir) +
                              "; two of a kind would override each other");
    if (req->backend != "auto" && req->backend != g.backend)
      return make_error(ErrorCode::kFailedPrecondition,
                        "the traffic is already shaped through " + g.backend + " by fault " +
                            g.owner + "; cannot add a " + req->backend + " fault to it");
    g.parts[fault_id] = {kind, req->part};
    if (Status s = update(g); !s) {
      g.parts.erase(fault_id);
      (void)update(g);
      return s.error();
    }
  } else {
    std::string backend = req->backend;
    if (backend == "auto")
      backend = netem_ && dir == "egress" && ipv4_only(scope) ? "netem" : "nfqueue";
    if (backend == "netem" && !netem_)
      return make_error(ErrorCode::kFailedPrecondition,
                        "this kernel has no sch_netem; use backend: nfqueue (or auto)");
    Group g;
    g.owner = fault_id;
    g.backend = backend;
    g.scope = scope;
    g.ifname = ifname;
    g.install.set_netns(netns_path(scope.netns()));
    g.install.set_netns_inode(inode);
    g.install.set_interface(ifname);
    g.install.set_backend(backend);
    g.parts[fault_id] = {kind, req->part};
    auto merged_spec = merged(g);
    if (!merged_spec) return merged_spec.error();
    if (Status s = install(g, *merged_spec, fault_id); !s) return s.error();
    it = groups_.emplace(key, std::move(g)).first;
  }
  Group& g = it->second;
  auto now = merged(g);
  AppliedFault applied{fault_id, spec, {}};
  *applied.state.mutable_network() = g.install;
  applied.state.set_summary(
      fmt::format("{} on {} [{}{}]", req->part.describe(), describe_scope(scope, dir), g.backend,
                  g.parts.size() > 1 ? ", composed: " + now->describe() : ""));
  return applied;
}

Status ShapingRegistry::revert(const AppliedFault& fault) {
  std::unique_ptr<NfqueueEngine> stopped;
  pb::NetworkInstall to_remove;
  bool remove = true;
  {
    std::lock_guard lock(mu_);
    for (auto it = groups_.begin(); it != groups_.end(); ++it) {
      Group& g = it->second;
      if (!g.parts.count(fault.fault_id)) continue;
      g.parts.erase(fault.fault_id);
      if (!g.parts.empty()) {
        remove = false;
        if (Status s = update(g); !s) return s;
        break;
      }
      to_remove = g.install;
      stopped = std::move(g.engine);
      groups_.erase(it);
      break;
    }
    if (remove && to_remove.backend().empty()) to_remove = fault.state.network();  // recovery
  }
  if (!remove) return Ok{};
  // Rules out first, then the engine releases what it holds: no packet is lost or stuck
  // (removing rules, in x_tables or nf_tables, leaves packets already queued valid).
  Status s = remove_installed(to_remove);
  if (stopped) {
    auto st = stopped->stats();
    stopped->stop();
    spdlog::info(
        "nfqueue engine stopped fault_id={} received={} dropped={} duplicated={} "
        "corrupted={} released={} overflow={} bypassed={}",
        fault.fault_id, st.received, st.dropped, st.duplicated, st.corrupted, st.released,
        st.overflow, st.bypassed);
  }
  return s;
}

std::string ShapingRegistry::achieved(const AppliedFault& fault) {
  const auto& in = fault.state.network();
  if (std::string gone = netns_gone_note(in.netns(), in.netns_inode()); !gone.empty()) return gone;
  std::lock_guard lock(mu_);
  for (const auto& [key, g] : groups_) {
    if (!g.parts.count(fault.fault_id) || !g.engine) continue;
    auto st = g.engine->stats();
    return fmt::format(
        "{} packets seen, {} dropped, {} duplicated, {} corrupted, {} overflowed, {} passed "
        "unqueued (all faults on this traffic)",
        st.received, st.dropped, st.duplicated, st.corrupted, st.overflow, st.bypassed);
  }
  return "";
}

Status ShapingRegistry::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  auto req = request_of(spec);
  if (!req) return req.error();
  pb::NetworkInstall in;
  const std::string& netns = req->scope->netns();
  in.set_netns(netns_path(netns));
  add_possible_chains(in, fault_id, "mangle", 'q');
  // A faultline root qdisc whose owner died is garbage whoever created it.
  if (auto iface = rtnl::interface_or_default(netns, req->scope->interface())) {
    if (auto ifindex = rtnl::ifindex_of(netns, *iface)) {
      in.set_ifindex(*ifindex);
      in.set_qdisc_handle(kFaultlineRootHandle);
    }
  }
  return remove_installed(in);
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

// Every shaping kind is one ShapingBackend over the registry all of them share.
template <pb::FaultSpec::KindCase kCase>
BackendRegistration describe() {
  std::string kind = pb::FaultSpec::descriptor()->FindFieldByNumber(kCase)->name();
  return {.kind = kind,
          .make =
              [kind](BackendContext& context) {
                return std::make_unique<ShapingBackend>(kind, context.shared<ShapingRegistry>());
              },
          .reach =
              [](const pb::FaultSpec& spec) {
                auto request = request_of(spec);
                if (!request) return FaultReach{};  // not its kind: reaches nothing, so refused
                return FaultReach{.networks = {*request->scope}};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe<pb::FaultSpec::kNetworkDelay>);
FAULTLINE_REGISTER_BACKEND(describe<pb::FaultSpec::kNetworkLoss>);
FAULTLINE_REGISTER_BACKEND(describe<pb::FaultSpec::kNetworkDuplicate>);
FAULTLINE_REGISTER_BACKEND(describe<pb::FaultSpec::kNetworkCorrupt>);
FAULTLINE_REGISTER_BACKEND(describe<pb::FaultSpec::kNetworkReorder>);
}  // namespace faultline::injector
