#include "injector/network/network_install.h"

#include "common/log.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/netns.h"
#include "injector/network/qdisc_tree.h"

namespace faultline::injector {

Status remove_installed(const ::faultline::v1::NetworkInstall& in) {
  if (in.netns_inode() != 0 && netns_inode(in.netns()) != in.netns_inode()) {
    spdlog::info("revert: namespace {} is gone or replaced; nothing of ours is left in it",
                 in.netns());
    return Ok{};
  }
  Status result = remove_recorded_chains(in);
  if (in.qdisc_handle() != 0 && in.ifindex() != 0)
    if (Status s = remove_qdisc(in.netns(), in.ifindex()); !s) result = s;
  return result;
}

}  // namespace faultline::injector
