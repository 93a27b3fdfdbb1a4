#include "injector/network/iptables_chain.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <future>
#include <sstream>

#include "common/command_runner.h"
#include "common/log.h"
#include "fmt/format.h"
#include "injector/network/netns.h"

namespace faultline::injector {

namespace {

constexpr auto kTimeout = std::chrono::seconds(20);

struct Outcome {
  bool ok = false;
  std::string output;
};

// Runs iptables/ip6tables inside the namespace. nsenter (util-linux) rather than setns in
// this process: iptables is a separate program either way, and nsenter keeps our threads out.
Result<Outcome> iptables(const std::string& netns, int family, std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (!netns.empty()) argv = {"nsenter", "--net=" + netns_path(netns), "--"};
  argv.push_back(family == 6 ? "ip6tables" : "iptables");
  argv.push_back("-w");
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, kTimeout);
  if (!r) return r.error();
  return Outcome{r->exit_code == 0, r->output};
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
  return s;
}

Status fail(const std::string& what, const Outcome& o) {
  std::string out = o.output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return make_error(ErrorCode::kFailedPrecondition, what + ": " + out);
}

// Applies an iptables-restore script (without flushing anything else) in the namespace.
Status restore(const std::string& netns, int family, const std::string& text, bool quiet = false) {
  char path[] = "/tmp/faultline-iptables-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return make_error(ErrorCode::kInternal, "cannot write an iptables-restore script");
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  std::vector<std::string> argv;
  if (!netns.empty()) argv = {"nsenter", "--net=" + netns_path(netns), "--"};
  argv.insert(argv.end(),
              {family == 6 ? "ip6tables-restore" : "iptables-restore", "-w", "--noflush", path});
  auto r = written ? run_command(argv, kTimeout)
                   : Result<CommandOutcome>(make_error(ErrorCode::kInternal, "short write"));
  ::unlink(path);
  if (!r) return r.error();
  if (r->exit_code != 0)
    return quiet ? Status(make_error(ErrorCode::kFailedPrecondition, r->output))
                 : fail("iptables-restore of\n" + text, Outcome{false, r->output});
  return Ok{};
}

bool netns_gone(const std::string& netns) {
  struct stat st;
  return !netns.empty() && ::stat(netns_path(netns).c_str(), &st) != 0;
}

}  // namespace

std::string chain_name(const std::string& fault_id, const std::string& suffix) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and machines
  for (unsigned char c : fault_id) h = (h ^ c) * 16777619u;
  return fmt::format("fl-{:08x}-{}", h, suffix);
}

Status install_chain(const ChainSpec& spec) {
  // One iptables-restore transaction: the chain, its rules and the jump appear together (no
  // packet sees half a chain), and it costs one process instead of one per rule.
  std::string text = "*" + spec.table + "\n:" + spec.chain + " - [0:0]\n";
  for (const auto& rule : spec.rules) text += "-A " + spec.chain + " " + joined(rule) + "\n";
  std::vector<std::string> jump{"-I", spec.hook, "1"};
  jump.insert(jump.end(), spec.hook_match.begin(), spec.hook_match.end());
  jump.insert(jump.end(), {"-j", spec.chain});
  text += joined(jump) + "\nCOMMIT\n";
  return restore(spec.netns, spec.family, text);
}

Status install_chains(const std::vector<ChainSpec>& specs, pb::NetworkInstall& install) {
  for (const auto& c : specs) {
    auto* rec = install.add_chains();
    rec->set_family(c.family);
    rec->set_table(c.table);
    rec->set_chain(c.chain);
    rec->set_hook(c.hook);
    for (const auto& m : c.hook_match) rec->add_hook_match(m);
  }
  std::vector<std::future<Status>> running;
  for (const auto& c : specs)
    running.push_back(std::async(std::launch::async, [&c] { return install_chain(c); }));
  Status result = Ok{};
  for (auto& r : running)
    if (Status s = r.get(); !s) result = s;
  if (!result) (void)remove_recorded_chains(install);
  return result;
}

Status remove_chain(const std::string& netns, int family, const std::string& table,
                    const std::string& chain, const std::string& hook,
                    const std::vector<std::string>& hook_match) {
  if (netns_gone(netns)) return Ok{};  // its rules went with it
  if (!hook.empty()) {
    std::vector<std::string> jump{"-D", hook};
    jump.insert(jump.end(), hook_match.begin(), hook_match.end());
    jump.insert(jump.end(), {"-j", chain});
    std::string text =
        "*" + table + "\n" + joined(jump) + "\n-F " + chain + "\n-X " + chain + "\nCOMMIT\n";
    if (restore(netns, family, text, /*quiet=*/true)) return Ok{};
  }
  auto listed = iptables(netns, family, {"-t", table, "-S"});
  if (!listed) return listed.error();
  if (!listed->ok) return fail("iptables -t " + table + " -S", *listed);
  // Every jump to the chain, wherever it is, so a half-done earlier removal is finished too.
  std::istringstream lines(listed->output);
  std::string line, text = "*" + table + "\n";
  bool exists = false;
  while (std::getline(lines, line)) {
    if (line == "-N " + chain) exists = true;
    const std::string jump = " -j " + chain;
    bool jumps_here = line.size() > jump.size() &&
                      line.compare(line.size() - jump.size(), jump.size(), jump) == 0;
    if (line.rfind("-A ", 0) != 0 || !jumps_here || line.rfind("-A " + chain + " ", 0) == 0)
      continue;
    text += "-D " + line.substr(3) + "\n";
  }
  if (!exists) return Ok{};
  text += "-F " + chain + "\n-X " + chain + "\nCOMMIT\n";
  return restore(netns, family, text);
}

Status remove_recorded_chains(const pb::NetworkInstall& in) {
  if (in.netns_inode() != 0 && netns_inode(in.netns()) != in.netns_inode()) {
    spdlog::info("revert: namespace {} is gone or replaced; nothing of ours is left in it",
                 in.netns());
    return Ok{};
  }
  std::vector<std::future<Status>> running;
  for (const auto& c : in.chains())
    running.push_back(std::async(std::launch::async, [&in, &c] {
      return remove_chain(in.netns(), static_cast<int>(c.family()), c.table(), c.chain(), c.hook(),
                          {c.hook_match().begin(), c.hook_match().end()});
    }));
  Status result = Ok{};
  for (auto& r : running)
    if (Status s = r.get(); !s) result = s;
  return result;
}

bool chain_exists(const std::string& netns, int family, const std::string& table,
                  const std::string& chain) {
  if (netns_gone(netns)) return false;
  auto o = iptables(netns, family, {"-t", table, "-S", chain});
  return o && o->ok;
}

}  // namespace faultline::injector
