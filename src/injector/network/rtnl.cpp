#include "injector/network/rtnl.h"

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>

#include "injector/network/netns.h"

namespace faultline::injector::rtnl {

void Free::operator()(nl_sock* s) const {
  nl_socket_free(s);
}
void Free::operator()(rtnl_link* l) const {
  rtnl_link_put(l);
}
void Free::operator()(rtnl_qdisc* q) const {
  rtnl_qdisc_put(q);
}
void Free::operator()(rtnl_class* c) const {
  rtnl_class_put(c);
}
void Free::operator()(rtnl_cls* c) const {
  rtnl_cls_put(c);
}

Error nl_error(const std::string& what, int err) {
  return make_error(ErrorCode::kFailedPrecondition, what + ": " + nl_geterror(err));
}

Result<Sock> route_socket(const std::string& netns) {
  ScopedNetns in(netns);
  if (!in.ok()) return make_error(ErrorCode::kNotFound, in.error());
  Sock sock(nl_socket_alloc());
  if (!sock) return make_error(ErrorCode::kInternal, "nl_socket_alloc failed");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0)
    return nl_error("netlink connect", err);
  return sock;
}

Result<Link> get_link(nl_sock* sock, const std::string& ifname, const std::string& netns) {
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sock, 0, ifname.c_str(), &raw); err < 0)
    return make_error(ErrorCode::kNotFound,
                      "no interface " + ifname +
                          (netns.empty() ? "" : " in network namespace " + netns) + " (" +
                          nl_geterror(err) + ")");
  return Link(raw);
}

Result<std::string> default_route_interface(const std::string& netns) {
  auto sock = route_socket(netns);
  if (!sock) return sock.error();
  nl_cache* routes = nullptr;
  if (int err = rtnl_route_alloc_cache(sock->get(), AF_INET, 0, &routes); err < 0)
    return nl_error("cannot read routes", err);
  int ifindex = 0;
  for (nl_object* o = nl_cache_get_first(routes); o && ifindex == 0; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_dst(r) == nullptr ||
        nl_addr_get_prefixlen(rtnl_route_get_dst(r)) != 0 || rtnl_route_get_nnexthops(r) < 1)
      continue;
    ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0));
  }
  nl_cache_free(routes);
  std::string where = netns.empty() ? "" : " in network namespace " + netns;
  if (ifindex == 0) {
    // No default route (a pod on a network that never leads out): the namespace's only
    // interface besides loopback is as unambiguous.
    nl_cache* links = nullptr;
    if (rtnl_link_alloc_cache(sock->get(), AF_UNSPEC, &links) >= 0) {
      std::string only;
      int count = 0;
      for (nl_object* o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
        auto* l = reinterpret_cast<rtnl_link*>(o);
        if (rtnl_link_get_flags(l) & IFF_LOOPBACK) continue;
        ++count;
        only = rtnl_link_get_name(l);
      }
      nl_cache_free(links);
      if (count == 1) return only;
    }
    return make_error(ErrorCode::kInvalidArgument,
                      "no interface given and no default route" + where +
                          " to take one from (nor a single interface besides loopback)");
  }
  rtnl_link* link = nullptr;
  if (rtnl_link_get_kernel(sock->get(), ifindex, nullptr, &link) < 0)
    return make_error(ErrorCode::kNotFound, "default route interface vanished" + where);
  std::string name = rtnl_link_get_name(link);
  rtnl_link_put(link);
  return name;
}

Result<std::string> interface_or_default(const std::string& netns, const std::string& ifname) {
  return ifname.empty() ? default_route_interface(netns) : Result<std::string>(ifname);
}

Result<int> ifindex_of(const std::string& netns, const std::string& ifname) {
  auto sock = route_socket(netns);
  if (!sock) return sock.error();
  auto link = get_link(sock->get(), ifname, netns);
  if (!link) return link.error();
  return rtnl_link_get_ifindex(link->get());
}

}  // namespace faultline::injector::rtnl
