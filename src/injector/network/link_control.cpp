#include "injector/network/link_control.h"

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include <memory>

#include "injector/network/netns.h"

namespace faultline::injector {
namespace {

struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
using Sock = std::unique_ptr<nl_sock, SockDeleter>;
using Link = std::unique_ptr<rtnl_link, LinkDeleter>;

Error nl_error(const std::string& what, int err) {
  return make_error(ErrorCode::kFailedPrecondition, what + ": " + nl_geterror(err));
}

// A route socket opened inside the namespace: it stays bound to that namespace afterwards.
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

}  // namespace

Result<bool> link_is_up(const std::string& netns, const std::string& ifname) {
  auto sock = route_socket(netns);
  if (!sock) return sock.error();
  auto link = get_link(sock->get(), ifname, netns);
  if (!link) return link.error();
  return (rtnl_link_get_flags(link->get()) & IFF_UP) != 0;
}

Status set_link_up(const std::string& netns, const std::string& ifname, bool up) {
  auto sock = route_socket(netns);
  if (!sock) return sock.error();
  auto link = get_link(sock->get(), ifname, netns);
  if (!link) return link.error();
  Link change(rtnl_link_alloc());
  if (up)
    rtnl_link_set_flags(change.get(), IFF_UP);
  else
    rtnl_link_unset_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sock->get(), link->get(), change.get(), 0); err < 0)
    return nl_error(std::string("cannot set ") + ifname + (up ? " up" : " down"), err);
  return Ok{};
}

}  // namespace faultline::injector
