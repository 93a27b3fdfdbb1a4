#include "injector/network/conntrack_flows.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <netinet/in.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "injector/network/rtnl.h"

namespace faultline::injector {

namespace {

struct Address {
  int family = 0;
  unsigned char bytes[16] = {};
};

bool parse(const std::string& text, Address& out) {
  if (::inet_pton(AF_INET, text.c_str(), out.bytes) == 1) {
    out.family = AF_INET;
    return true;
  }
  if (::inet_pton(AF_INET6, text.c_str(), out.bytes) == 1) {
    out.family = AF_INET6;
    return true;
  }
  return false;
}

bool same(const nl_addr* a, const Address& b) {
  if (!a || nl_addr_get_family(a) != b.family) return false;
  const size_t len = b.family == AF_INET ? 4 : 16;
  return nl_addr_get_len(a) == len && std::memcmp(nl_addr_get_binary_addr(a), b.bytes, len) == 0;
}

struct CtPut {
  void operator()(nfnl_ct* ct) const { nfnl_ct_put(ct); }
};
using Ct = std::unique_ptr<nfnl_ct, CtPut>;

struct Dump {
  const UdpFlowFilter* filter;
  std::vector<Address> servers;
  std::vector<Ct> hits;
};

bool matches(const Dump& d, const nfnl_ct* ct) {
  const auto& f = *d.filter;
  constexpr int kOrig = 0, kReply = 1;
  if (nfnl_ct_get_proto(ct) != IPPROTO_UDP || nfnl_ct_get_dst_port(ct, kOrig) != f.port)
    return false;
  if (!d.servers.empty() && std::none_of(d.servers.begin(), d.servers.end(), [&](const Address& s) {
        return same(nfnl_ct_get_dst(ct, kOrig), s);
      }))
    return false;
  const bool nated = nfnl_ct_get_status(ct) & IPS_DST_NAT;
  if (f.which == UdpFlowFilter::kDirect) return !nated;
  if (!nated) return false;
  // Where the flow really goes: the reply comes from there.
  const uint16_t to = nfnl_ct_get_src_port(ct, kReply);
  if (f.redirected_to.empty()) return to != f.port;
  return std::find(f.redirected_to.begin(), f.redirected_to.end(), to) != f.redirected_to.end();
}

int on_entry(nl_msg* msg, void* arg) {
  auto& d = *static_cast<Dump*>(arg);
  nfnl_ct* raw = nullptr;
  if (nfnlmsg_ct_parse(nlmsg_hdr(msg), &raw) < 0) return NL_SKIP;
  Ct ct(raw);
  if (d.hits.size() < kMaxForgotten && matches(d, ct.get())) d.hits.push_back(std::move(ct));
  return NL_OK;
}

}  // namespace

Result<size_t> forget_udp_flows(const UdpFlowFilter& filter) {
  Dump d{&filter, {}, {}};
  for (const auto& s : filter.servers) {
    Address a;
    if (!parse(s, a))
      return make_error(ErrorCode::kInvalidArgument, "not an address literal: " + s);
    d.servers.push_back(a);
  }
  rtnl::Sock sock(nl_socket_alloc());
  if (!sock) return make_error(ErrorCode::kInternal, "nl_socket_alloc failed");
  if (int err = nfnl_connect(sock.get()); err < 0) return rtnl::nl_error("conntrack socket", err);
  nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, on_entry, &d);
  if (int err = nfnl_ct_dump_request(sock.get()); err < 0)
    return rtnl::nl_error("conntrack dump", err);
  if (int err = nl_recvmsgs_default(sock.get()); err < 0)
    return rtnl::nl_error("conntrack dump", err);
  size_t forgotten = 0;
  for (const auto& ct : d.hits) {
    int err = nfnl_ct_del(sock.get(), ct.get(), 0);
    if (err == 0) {
      ++forgotten;
    } else if (err != -NLE_OBJ_NOTFOUND) {  // gone by itself meanwhile: what was wanted
      return rtnl::nl_error("conntrack delete", err);
    }
  }
  return forgotten;
}

Result<size_t> forget_dns_flows(UdpFlowFilter::Which which, std::vector<std::string> servers,
                                std::vector<uint16_t> redirected_to) {
  UdpFlowFilter f;
  f.which = which;
  f.servers = std::move(servers);
  f.redirected_to = std::move(redirected_to);
  return forget_udp_flows(f);
}

}  // namespace faultline::injector
