#include "injector/mount_table.h"

#include <fstream>
#include <sstream>

namespace faultline::injector {

std::vector<MountEntry> read_mounts() {
  std::vector<MountEntry> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "<id> <parent> <dev> <root> <point> <opts> [optional...] - <fstype> <source> <superopts>"
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, dev, root, source;
    MountEntry e;
    pre >> id >> parent >> dev >> root >> e.point;
    post >> e.fstype >> source >> e.options;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace faultline::injector
