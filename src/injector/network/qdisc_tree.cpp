#include "injector/network/qdisc_tree.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "common/log.h"
#include "fmt/format.h"
#include "injector/network/rtnl.h"

namespace faultline::injector {

namespace {

constexpr uint32_t kPassClass = kFaultlineRootHandle | 2;    // fa17:2, the untouched default
constexpr uint32_t kShapedClass = kFaultlineRootHandle | 1;  // fa17:1
constexpr uint32_t kLeafHandle = 0xFA180000;                 // fa18:, under the shaped class
constexpr uint64_t kPassRate = 10'000'000'000ull / 8;        // 10 Gbit/s: never the bottleneck
constexpr int kNetemLimit = 10000;                           // packets, as the nfqueue engine

std::string handle_text(uint32_t h) {
  return fmt::format("{:x}:", h >> 16);
}

// netem's delay table: 4096 draws of the distribution, scaled by NETEM_DIST_SCALE (8192), the
// same shapes the nfqueue engine uses (see impairment.h).
std::vector<int16_t> distribution_table(const std::string& name) {
  constexpr int kSize = 4096;
  std::vector<double> z(kSize);
  std::mt19937_64 rng(42);
  for (int i = 0; i < kSize; ++i) {
    double u = (i + 0.5) / kSize;
    z[i] =
        name == "paretonormal"
            ? 0.25 * distribution_value("normal", u) +
                  0.75 * distribution_value("pareto", std::uniform_real_distribution<>(0, 1)(rng))
            : distribution_value(name, u);
  }
  std::vector<int16_t> t(kSize);
  for (int i = 0; i < kSize; ++i)
    t[i] = static_cast<int16_t>(std::clamp(std::lround(z[i] * 8192), -32767L, 32767L));
  return t;
}

int prob(double fraction) {
  return static_cast<int>(static_cast<uint32_t>(std::clamp(fraction, 0.0, 1.0) * 4294967295.0));
}

Status set_netem(rtnl_qdisc* q, const ImpairmentSpec& s) {
  rtnl_tc_set_kind(TC_CAST(q), "netem");
  rtnl_netem_set_limit(q, kNetemLimit);
  rtnl_netem_set_delay(q, static_cast<int>(s.delay.count() / 1000));
  rtnl_netem_set_jitter(q, static_cast<int>(s.jitter.count() / 1000));
  rtnl_netem_set_delay_correlation(q, prob(s.delay_correlation));
  if (s.jitter.count() > 0 && s.distribution != "uniform") {
    auto table = distribution_table(s.distribution);
    if (int err = rtnl_netem_set_delay_distribution_data(q, table.data(), table.size()); err < 0)
      return rtnl::nl_error("netem distribution", err);
  }
  // Gilbert-Elliott goes in as a loss model (add_qdisc); the random loss is then zero.
  rtnl_netem_set_loss(q, s.gilbert_elliott ? 0 : prob(s.loss));
  rtnl_netem_set_loss_correlation(q, prob(s.loss_correlation));
  rtnl_netem_set_duplicate(q, prob(s.duplicate));
  rtnl_netem_set_duplicate_correlation(q, prob(s.duplicate_correlation));
  rtnl_netem_set_corruption_probability(q, prob(s.corrupt));
  rtnl_netem_set_corruption_correlation(q, prob(s.corrupt_correlation));
  // Always sent, also as 0: on a change the kernel keeps any attribute that is left out.
  rtnl_netem_set_reorder_probability(q, prob(s.reorder));
  rtnl_netem_set_reorder_correlation(q, prob(s.reorder_correlation));
  // netem needs a gap for reordering; 1 = any packet may be sent ahead.
  rtnl_netem_set_gap(q, s.reorder > 0 ? static_cast<int>(std::max<uint32_t>(1, s.reorder_gap)) : 0);
  return Ok{};
}

// rtnl_qdisc_add, plus what libnl cannot express for netem: the Gilbert-Elliott loss model
// (a TCA_NETEM_LOSS nest) and the rate limit (TCA_NETEM_RATE/RATE64), appended to the
// request. netem reads its attributes from inside TCA_OPTIONS, which must therefore stretch
// to the end of the message.
int add_qdisc(nl_sock* sock, rtnl_qdisc* q, int flags, const ImpairmentSpec* netem) {
  if (!netem || (!netem->gilbert_elliott && netem->rate_bps == 0))
    return rtnl_qdisc_add(sock, q, flags);
  nl_msg* msg = nullptr;
  if (int err = rtnl_qdisc_build_add_request(q, flags, &msg); err < 0) return err;
  bool ok = true;
  if (netem->gilbert_elliott) {
    nlattr* loss = nla_nest_start(msg, TCA_NETEM_LOSS);
    tc_netem_gemodel ge{};
    ge.p = static_cast<uint32_t>(prob(netem->ge_p));
    ge.r = static_cast<uint32_t>(prob(netem->ge_r));
    ge.h = static_cast<uint32_t>(prob(1.0 - netem->ge_loss_bad));  // kernel: 1-h lost when bad
    ge.k1 = static_cast<uint32_t>(prob(netem->ge_loss_good));      // k1 lost when good
    ok = loss && nla_put(msg, NETEM_LOSS_GE, sizeof ge, &ge) >= 0;
    if (ok) nla_nest_end(msg, loss);
  }
  if (ok && netem->rate_bps > 0) {
    uint64_t bytes = netem->rate_bps / 8;
    tc_netem_rate rate{};
    rate.rate = static_cast<uint32_t>(std::min<uint64_t>(bytes, UINT32_MAX));
    ok = nla_put(msg, TCA_NETEM_RATE, sizeof rate, &rate) >= 0;
    if (ok && bytes >= UINT32_MAX) ok = nla_put_u64(msg, TCA_NETEM_RATE64, bytes) >= 0;
  }
  if (!ok) {
    nlmsg_free(msg);
    return -NLE_NOMEM;
  }
  nlmsghdr* hdr = nlmsg_hdr(msg);
  nlattr* opts = nlmsg_find_attr(hdr, sizeof(tcmsg), TCA_OPTIONS);
  if (!opts) {
    nlmsg_free(msg);
    return -NLE_MISSING_ATTR;
  }
  opts->nla_len = static_cast<uint16_t>(reinterpret_cast<char*>(nlmsg_tail(hdr)) -
                                        reinterpret_cast<char*>(opts));
  return nl_send_sync(sock, msg);  // frees msg, waits for the kernel's answer
}

Status set_leaf(rtnl_qdisc* q, const QdiscLeaf& leaf) {
  if (leaf.kind == "netem") return set_netem(q, leaf.netem);
  if (leaf.kind == "tbf") {
    rtnl_tc_set_kind(TC_CAST(q), "tbf");
    rtnl_qdisc_tbf_set_rate(q, static_cast<int>(std::min<uint64_t>(leaf.rate_bps / 8, INT32_MAX)),
                            static_cast<int>(leaf.burst_bytes), 0);
    rtnl_qdisc_tbf_set_limit(q, static_cast<int>(leaf.limit_bytes));
    return Ok{};
  }
  return make_error(ErrorCode::kInvalidArgument, "unknown qdisc kind " + leaf.kind);
}

bool scoped(const pb::NetworkScope& s) {
  return s.destinations_size() > 0 || s.ports_size() > 0 ||
         (!s.protocol().empty() && s.protocol() != "all");
}

struct U32Match {
  uint32_t dst = 0, mask = 0;  // host order
  int proto = -1, dport = -1;
};

Result<std::vector<U32Match>> u32_matches(const pb::NetworkScope& s) {
  std::vector<std::pair<uint32_t, uint32_t>> dsts;
  for (const auto& cidr : s.destinations()) {
    auto slash = cidr.find('/');
    in_addr a{};
    if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1)
      return make_error(ErrorCode::kInvalidArgument,
                        "the netem and tbf backends scope by IPv4 destinations only (\"" + cidr +
                            "\"); use backend: nfqueue");
    int len = slash == std::string::npos ? 32 : std::stoi(cidr.substr(slash + 1));
    uint32_t mask = len == 0 ? 0 : ~0u << (32 - len);
    dsts.emplace_back(ntohl(a.s_addr) & mask, mask);
  }
  if (dsts.empty()) dsts.emplace_back(0, 0);
  std::vector<int> protos;
  std::string p = s.protocol().empty() ? "all" : s.protocol();
  if (p == "tcp")
    protos = {IPPROTO_TCP};
  else if (p == "udp")
    protos = {IPPROTO_UDP};
  else if (p == "icmp")
    protos = {IPPROTO_ICMP};
  else
    protos = s.ports_size() > 0 ? std::vector<int>{IPPROTO_TCP, IPPROTO_UDP} : std::vector<int>{-1};
  std::vector<int> ports(s.ports().begin(), s.ports().end());
  if (ports.empty()) ports = {-1};
  std::vector<U32Match> out;
  for (auto [dst, mask] : dsts)
    for (int proto : protos)
      for (int port : ports) out.push_back({dst, mask, proto, port});
  return out;
}

Status add_class(nl_sock* sock, rtnl_link* link, uint32_t id, uint64_t rate) {
  rtnl::Class c(rtnl_class_alloc());
  rtnl_tc_set_link(TC_CAST(c.get()), link);
  rtnl_tc_set_parent(TC_CAST(c.get()), kFaultlineRootHandle);
  rtnl_tc_set_handle(TC_CAST(c.get()), id);
  rtnl_tc_set_kind(TC_CAST(c.get()), "htb");
  rtnl_htb_set_rate64(c.get(), rate);
  rtnl_htb_set_ceil64(c.get(), rate);
  if (int err = rtnl_class_add(sock, c.get(), NLM_F_CREATE); err < 0)
    return rtnl::nl_error("cannot add htb class " + fmt::format("{:x}", id), err);
  return Ok{};
}

// IPv4 header fields at fixed offsets (no IP options, as tc's own `match ip` shorthand).
Status add_filter(nl_sock* sock, rtnl_link* link, const U32Match& m) {
  rtnl::Cls f(rtnl_cls_alloc());
  rtnl_tc_set_link(TC_CAST(f.get()), link);
  rtnl_tc_set_parent(TC_CAST(f.get()), kFaultlineRootHandle);
  rtnl_tc_set_kind(TC_CAST(f.get()), "u32");
  rtnl_cls_set_prio(f.get(), 1);
  rtnl_cls_set_protocol(f.get(), ETH_P_IP);
  if (m.mask != 0) rtnl_u32_add_key_uint32(f.get(), m.dst, m.mask, 16, 0);
  if (m.proto >= 0) rtnl_u32_add_key_uint8(f.get(), static_cast<uint8_t>(m.proto), 0xff, 9, 0);
  if (m.dport >= 0) rtnl_u32_add_key_uint16(f.get(), static_cast<uint16_t>(m.dport), 0xffff, 22, 0);
  if (m.mask == 0 && m.proto < 0 && m.dport < 0) rtnl_u32_add_key_uint32(f.get(), 0, 0, 0, 0);
  rtnl_u32_set_classid(f.get(), kShapedClass);
  rtnl_u32_set_cls_terminal(f.get());
  if (int err = rtnl_cls_add(sock, f.get(), NLM_F_CREATE); err < 0)
    return rtnl::nl_error("cannot add u32 filter", err);
  return Ok{};
}

Result<RootQdisc> root_of(nl_sock* sock, int ifindex) {
  nl_cache* cache = nullptr;
  if (int err = rtnl_qdisc_alloc_cache(sock, &cache); err < 0)
    return rtnl::nl_error("cannot list qdiscs", err);
  RootQdisc root{"", 0};
  if (rtnl_qdisc* q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT)) {
    root = {rtnl_tc_get_kind(TC_CAST(q)), rtnl_tc_get_handle(TC_CAST(q))};
    rtnl_qdisc_put(q);
  }
  nl_cache_free(cache);
  return root;
}

}  // namespace

Result<RootQdisc> root_qdisc(const std::string& netns, const std::string& ifname) {
  auto sock = rtnl::route_socket(netns);
  if (!sock) return sock.error();
  auto link = rtnl::get_link(sock->get(), ifname, netns);
  if (!link) return link.error();
  return root_of(sock->get(), rtnl_link_get_ifindex(link->get()));
}

Result<InstalledQdisc> install_qdisc(const std::string& netns, const std::string& ifname,
                                     const QdiscLeaf& leaf, const pb::NetworkScope& scope) {
  auto sock = rtnl::route_socket(netns);
  if (!sock) return sock.error();
  auto link = rtnl::get_link(sock->get(), ifname, netns);
  if (!link) return link.error();
  int ifindex = rtnl_link_get_ifindex(link->get());
  auto root = root_of(sock->get(), ifindex);
  if (!root) return root.error();
  if (root->handle == kFaultlineRootHandle)
    return make_error(ErrorCode::kFailedPrecondition,
                      ifname + " is already shaped by another faultline fault (" + root->kind +
                          " " + handle_text(root->handle) + " root)");
  if (root->handle >> 16 != 0)
    return make_error(ErrorCode::kFailedPrecondition,
                      ifname + " has a " + root->kind + " root qdisc (handle " +
                          handle_text(root->handle) +
                          ") that faultline did not install; refusing to replace it");
  std::vector<U32Match> matches;
  bool is_scoped = scoped(scope);
  if (is_scoped) {
    auto m = u32_matches(scope);
    if (!m) return m.error();
    matches = *m;
  }
  nl_sock* s = sock->get();
  rtnl::Qdisc root_q(rtnl_qdisc_alloc());
  rtnl_tc_set_link(TC_CAST(root_q.get()), link->get());
  rtnl_tc_set_parent(TC_CAST(root_q.get()), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(root_q.get()), kFaultlineRootHandle);
  bool htb_leaf = leaf.kind == "htb";
  if (is_scoped || htb_leaf) {
    rtnl_tc_set_kind(TC_CAST(root_q.get()), "htb");
    rtnl_htb_set_defcls(root_q.get(), is_scoped ? kPassClass : kShapedClass);
  } else if (Status st = set_leaf(root_q.get(), leaf); !st) {
    return st.error();
  }
  const ImpairmentSpec* netem = leaf.kind == "netem" ? &leaf.netem : nullptr;
  if (int err = add_qdisc(s, root_q.get(), NLM_F_CREATE | NLM_F_REPLACE,
                          is_scoped || htb_leaf ? nullptr : netem);
      err < 0) {
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_OPNOTSUPP)
      return make_error(ErrorCode::kFailedPrecondition,
                        "this kernel has no " +
                            (is_scoped || htb_leaf ? std::string("htb") : leaf.kind) + " qdisc (" +
                            nl_geterror(err) + ")");
    return rtnl::nl_error("cannot add root qdisc on " + ifname, err);
  }
  auto undo = [&](const Error& e) -> Result<InstalledQdisc> {
    (void)remove_qdisc(netns, ifindex);
    return e;
  };
  if (is_scoped || htb_leaf) {
    uint64_t shaped_rate = htb_leaf ? leaf.rate_bps / 8 : kPassRate;
    if (Status st = add_class(s, link->get(), kShapedClass, shaped_rate); !st)
      return undo(st.error());
    if (is_scoped) {
      if (Status st = add_class(s, link->get(), kPassClass, kPassRate); !st)
        return undo(st.error());
      if (!htb_leaf) {
        rtnl::Qdisc q(rtnl_qdisc_alloc());
        rtnl_tc_set_link(TC_CAST(q.get()), link->get());
        rtnl_tc_set_parent(TC_CAST(q.get()), kShapedClass);
        rtnl_tc_set_handle(TC_CAST(q.get()), kLeafHandle);
        if (Status st = set_leaf(q.get(), leaf); !st) return undo(st.error());
        if (int err = add_qdisc(s, q.get(), NLM_F_CREATE, netem); err < 0)
          return undo(rtnl::nl_error("cannot add " + leaf.kind + " leaf qdisc", err));
      }
      for (const auto& m : matches)
        if (Status st = add_filter(s, link->get(), m); !st) return undo(st.error());
    }
  }
  return InstalledQdisc{ifindex, kFaultlineRootHandle, is_scoped};
}

Status change_netem(const std::string& netns, const std::string& ifname, bool is_scoped,
                    const ImpairmentSpec& spec) {
  auto sock = rtnl::route_socket(netns);
  if (!sock) return sock.error();
  auto link = rtnl::get_link(sock->get(), ifname, netns);
  if (!link) return link.error();
  // Re-created, not changed: libnl leaves out every attribute that is zero, and the kernel
  // keeps the old value of an attribute left out, so a reorder or corruption could never be
  // switched off by a change. Packets the old netem held at this instant are dropped.
  const uint32_t parent = is_scoped ? kShapedClass : TC_H_ROOT;
  const uint32_t handle = is_scoped ? kLeafHandle : kFaultlineRootHandle;
  rtnl::Qdisc old(rtnl_qdisc_alloc());
  rtnl_tc_set_link(TC_CAST(old.get()), link->get());
  rtnl_tc_set_parent(TC_CAST(old.get()), parent);
  rtnl_tc_set_handle(TC_CAST(old.get()), handle);
  if (int err = rtnl_qdisc_delete(sock->get(), old.get()); err < 0)
    return rtnl::nl_error("cannot replace netem on " + ifname, err);
  rtnl::Qdisc q(rtnl_qdisc_alloc());
  rtnl_tc_set_link(TC_CAST(q.get()), link->get());
  rtnl_tc_set_parent(TC_CAST(q.get()), parent);
  rtnl_tc_set_handle(TC_CAST(q.get()), handle);
  if (Status st = set_netem(q.get(), spec); !st) return st;
  if (int err = add_qdisc(sock->get(), q.get(), NLM_F_CREATE, &spec); err < 0)
    return rtnl::nl_error("cannot re-create netem on " + ifname, err);
  return Ok{};
}

Status remove_qdisc(const std::string& netns, int ifindex) {
  auto sock = rtnl::route_socket(netns);
  if (!sock) return sock.error().code == ErrorCode::kNotFound ? Status(Ok{}) : Status(sock.error());
  auto root = root_of(sock->get(), ifindex);
  if (!root) return root.error();
  if (root->handle != kFaultlineRootHandle) return Ok{};  // not ours (any more)
  rtnl::Qdisc q(rtnl_qdisc_alloc());
  rtnl_tc_set_ifindex(TC_CAST(q.get()), ifindex);
  rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(q.get()), kFaultlineRootHandle);
  if (int err = rtnl_qdisc_delete(sock->get(), q.get());
      err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV)
    return rtnl::nl_error("cannot delete faultline's root qdisc", err);
  return Ok{};
}

bool netem_available() {
  bool ok = false;
  // unshare() moves only this thread into the scratch namespace, which dies with it.
  std::thread probe([&ok] {
    if (::unshare(CLONE_NEWNET) != 0) return;
    QdiscLeaf leaf{"netem", {}, 0, 0, 0};
    leaf.netem.delay = std::chrono::milliseconds(1);
    ok = install_qdisc("", "lo", leaf, {}).ok();
  });
  probe.join();
  return ok;
}

}  // namespace faultline::injector
