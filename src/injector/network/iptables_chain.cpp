#include "injector/network/iptables_chain.h"

#include <sys/stat.h>

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
  auto run = [&](std::vector<std::string> args) -> Status {
    auto o = iptables(spec.netns, spec.family, args);
    if (!o) return o.error();
    if (!o->ok) return fail("iptables " + joined(args), *o);
    return Ok{};
  };
  if (Status s = run({"-t", spec.table, "-N", spec.chain}); !s) return s;
  std::vector<std::string> jump{"-t", spec.table, "-I", spec.hook, "1"};
  jump.insert(jump.end(), spec.hook_match.begin(), spec.hook_match.end());
  jump.insert(jump.end(), {"-j", spec.chain});
  Status s = Ok{};
  for (const auto& rule : spec.rules) {
    std::vector<std::string> args{"-t", spec.table, "-A", spec.chain};
    args.insert(args.end(), rule.begin(), rule.end());
    if (s = run(args); !s) break;
  }
  if (s) s = run(jump);
  if (!s) (void)remove_chain(spec.netns, spec.family, spec.table, spec.chain);
  return s;
}

Status remove_chain(const std::string& netns, int family, const std::string& table,
                    const std::string& chain) {
  if (netns_gone(netns)) return Ok{};  // its rules went with it
  auto listed = iptables(netns, family, {"-t", table, "-S"});
  if (!listed) return listed.error();
  if (!listed->ok) return fail("iptables -t " + table + " -S", *listed);
  // Every jump to the chain, wherever it is, so a half-done earlier removal is finished too.
  std::istringstream lines(listed->output);
  std::string line;
  bool exists = false;
  while (std::getline(lines, line)) {
    if (line == "-N " + chain) exists = true;
    const std::string jump = " -j " + chain;
    bool jumps_here = line.size() > jump.size() &&
                      line.compare(line.size() - jump.size(), jump.size(), jump) == 0;
    if (line.rfind("-A ", 0) != 0 || !jumps_here || line.rfind("-A " + chain + " ", 0) == 0)
      continue;
    std::vector<std::string> args{"-t", table, "-D"};
    std::istringstream words(line.substr(3));
    for (std::string w; words >> w;) args.push_back(w);
    auto o = iptables(netns, family, args);
    if (!o) return o.error();
    if (!o->ok) return fail("iptables " + joined(args), *o);
  }
  if (!exists) return Ok{};
  for (const char* op : {"-F", "-X"}) {
    auto o = iptables(netns, family, {"-t", table, op, chain});
    if (!o) return o.error();
    if (!o->ok) return fail(fmt::format("iptables -t {} {} {}", table, op, chain), *o);
  }
  return Ok{};
}

Status remove_recorded_chains(const pb::NetworkInstall& in) {
  if (in.netns_inode() != 0 && netns_inode(in.netns()) != in.netns_inode()) {
    spdlog::info("revert: namespace {} is gone or replaced; nothing of ours is left in it",
                 in.netns());
    return Ok{};
  }
  Status result = Ok{};
  for (const auto& c : in.chains())
    if (Status s = remove_chain(in.netns(), static_cast<int>(c.family()), c.table(), c.chain()); !s)
      result = s;
  return result;
}

bool chain_exists(const std::string& netns, int family, const std::string& table,
                  const std::string& chain) {
  if (netns_gone(netns)) return false;
  auto o = iptables(netns, family, {"-t", table, "-S", chain});
  return o && o->ok;
}

}  // namespace faultline::injector
