// RAII handles for libnl-route objects, and a route socket bound to a network namespace.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

struct nl_sock;
struct rtnl_link;
struct rtnl_qdisc;
struct rtnl_class;
struct rtnl_cls;

namespace faultline::injector::rtnl {

struct Free {
  void operator()(nl_sock* s) const;
  void operator()(rtnl_link* l) const;
  void operator()(rtnl_qdisc* q) const;
  void operator()(rtnl_class* c) const;
  void operator()(rtnl_cls* c) const;
};
using Sock = std::unique_ptr<nl_sock, Free>;
using Link = std::unique_ptr<rtnl_link, Free>;
using Qdisc = std::unique_ptr<rtnl_qdisc, Free>;
using Class = std::unique_ptr<rtnl_class, Free>;
using Cls = std::unique_ptr<rtnl_cls, Free>;

Error nl_error(const std::string& what, int err);

// A route socket opened inside `netns` ("" = ours): it stays bound to that namespace.
Result<Sock> route_socket(const std::string& netns);
Result<Link> get_link(nl_sock* sock, const std::string& ifname, const std::string& netns);

// The interface of the namespace's IPv4 default route, for scopes that name none; without a
// default route, its only interface besides loopback (a pod on a network that never leads out).
Result<std::string> default_route_interface(const std::string& netns);

// `ifname`, or the default route's interface when it is "".
Result<std::string> interface_or_default(const std::string& netns, const std::string& ifname);

// The index of `ifname` in the namespace.
Result<int> ifindex_of(const std::string& netns, const std::string& ifname);

}  // namespace faultline::injector::rtnl
