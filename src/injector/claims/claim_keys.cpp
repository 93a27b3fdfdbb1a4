#include "injector/claims/claim_keys.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

namespace faultline::injector {
namespace {

std::string netns_key(const std::string& netns) {
  std::string path = netns.empty()                          ? "/proc/self/ns/net"
                     : netns.find('/') == std::string::npos ? "/var/run/netns/" + netns
                                                            : netns;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return "network namespace net:[" + std::to_string(st.st_ino) + "]" +
           (netns.empty() ? " (this node's)" : "");
  return "network namespace " + (netns.empty() ? std::string("of this node") : netns);
}

}  // namespace

std::vector<std::string> claim_keys(const std::string& kind, const FaultReach& reach) {
  std::vector<std::string> out;
  for (const auto& p : reach.processes) out.push_back("process " + p.selector.ShortDebugString());
  for (const auto& n : reach.networks) out.push_back(netns_key(n.netns()));
  for (const auto& p : reach.paths)
    out.push_back("path " + std::filesystem::path(p).lexically_normal().string());
  for (const auto& p : reach.proxies) out.push_back("proxy " + p);
  if (reach.node_wide) out.push_back("node-wide " + kind);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace faultline::injector
