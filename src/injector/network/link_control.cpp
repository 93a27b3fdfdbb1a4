#include "injector/network/link_control.h"

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "injector/network/rtnl.h"

namespace faultline::injector {
using rtnl::get_link;
using rtnl::Link;
using rtnl::nl_error;
using rtnl::route_socket;

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
