#include "injector/network/iptables_chain.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <future>
#include <map>
#include <sstream>

#include "common/command_runner.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/process_launch.h"
#include "common/unique_fd.h"
#include "fmt/format.h"
#include "injector/network/netns.h"
#include "injector/network/nft_ruleset.h"
#include "injector/network/xt_ruleset.h"

namespace faultline::injector {

namespace {

constexpr auto kTimeout = std::chrono::seconds(20);

struct Outcome {
  bool ok = false;
  std::string output;
};

// "iptables-legacy-restore", "ip6tables-nft", ...; the plain name where the flavoured one is
// not installed (distributions that ship only one iptables).
std::string tool(const std::string& flavour, int family, bool restore) {
  std::string base = family == 6 ? "ip6tables" : "iptables";
  std::string suffix = restore ? "-restore" : "";
  std::string name = base + "-" + flavour + suffix;
  return find_executable(name).empty() ? base + suffix : name;
}

// Legacy x_tables takes one lock file for every network namespace on the machine: poll it
// every 10 ms instead of the default 1 s, so faults applied on several namespaces at once do
// not queue by whole seconds. nft has no such lock (and warns about the option).
std::vector<std::string> lock_wait(const std::string& flavour) {
  if (flavour == "legacy") return {"-w", "-W", "10000"};
  return {"-w"};
}

// Runs a program inside the namespace: the child enters it between fork and exec (not this
// process's threads, and without an nsenter process in between, which cost a whole exec).
Result<CommandOutcome> run_in_netns(const std::string& netns, std::vector<std::string> argv) {
  if (netns.empty()) return run_command(argv, kTimeout);
  std::string path = netns_path(netns);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    return make_error(ErrorCode::kNotFound,
                      "network namespace " + path + ": " + std::strerror(errno));
  return run_command(argv, kTimeout, fd.get());
}

Result<Outcome> iptables(const std::string& flavour, const std::string& netns, int family,
                         std::vector<std::string> args) {
  std::vector<std::string> head{tool(flavour, family, false)};
  for (auto& a : lock_wait(flavour)) head.push_back(a);
  args.insert(args.begin(), head.begin(), head.end());
  auto r = run_in_netns(netns, std::move(args));
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
Status restore(const std::string& flavour, const std::string& netns, int family,
               const std::string& text, bool quiet = false) {
  char path[] = "/tmp/faultline-iptables-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return make_error(ErrorCode::kInternal, "cannot write an iptables-restore script");
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  std::vector<std::string> argv{tool(flavour, family, true)};
  for (auto& a : lock_wait(flavour)) argv.push_back(a);
  argv.push_back("--noflush");
  argv.push_back(path);
  auto r = written ? run_in_netns(netns, std::move(argv))
                   : Result<CommandOutcome>(make_error(ErrorCode::kInternal, "short write"));
  ::unlink(path);
  if (!r) return r.error();
  if (r->exit_code != 0)
    return quiet ? Status(make_error(ErrorCode::kFailedPrecondition, r->output))
                 : fail("iptables-restore of\n" + text, Outcome{false, r->output});
  return Ok{};
}

// A named namespace that no longer exists took its rules with it.
bool netns_gone(const std::string& netns) {
  return !netns.empty() && netns_inode(netns) == 0;
}

}  // namespace

const std::string& iptables_flavour() {
  static const std::string flavour = [] {
    const char* forced = std::getenv("FAULTLINE_IPTABLES");
    if (forced && (std::string(forced) == "legacy" || std::string(forced) == "nft" ||
                   std::string(forced) == kInProcess))
      return std::string(forced);
    std::string chosen;
    if (xt_available())
      chosen = "legacy";
    else
      chosen = nft_netlink_available() ? kInProcess : "nft";
    spdlog::info("iptables flavour={}", chosen);
    return chosen;
  }();
  return flavour;
}

std::string chain_name(const std::string& fault_id, char purpose, int family, Direction dir) {
  return fmt::format("fl-{:08x}-{}{}{}", fnv1a(fault_id), purpose, family,
                     dir == Direction::kEgress ? 'o' : 'i');
}

void add_possible_chains(pb::NetworkInstall& install, const std::string& fault_id,
                         const std::string& table, char purpose) {
  for (Direction d : {Direction::kEgress, Direction::kIngress})
    for (int family : {4, 6}) {
      auto* c = install.add_chains();
      c->set_family(family);
      c->set_table(table);
      c->set_chain(chain_name(fault_id, purpose, family, d));
    }
}

// The restore lines that create the chain, fill it and hook it in.
std::string chain_lines(const ChainSpec& spec) {
  std::string text = ":" + spec.chain + " - [0:0]\n";
  for (const auto& rule : spec.rules) text += "-A " + spec.chain + " " + joined(rule) + "\n";
  std::vector<std::string> jump{"-I", spec.hook, "1"};
  jump.insert(jump.end(), spec.hook_match.begin(), spec.hook_match.end());
  jump.insert(jump.end(), {"-j", spec.chain});
  return text + joined(jump) + "\n";
}

// Chains that one iptables-restore can handle together: same program, namespace and table.
template <typename T, typename KeyFn>
std::map<std::string, std::vector<const T*>> grouped(const std::vector<T>& items, KeyFn key) {
  std::map<std::string, std::vector<const T*>> groups;
  for (const auto& i : items) groups[key(i)].push_back(&i);
  return groups;
}

Status install_chain(const ChainSpec& spec) {
  if (spec.flavour == kInProcess) return nft_install({spec});
  if (spec.flavour == "legacy") return xt_install({spec});
  // One iptables-restore transaction: the chain, its rules and the jump appear together (no
  // packet sees half a chain), and it costs one process instead of one per rule.
  return restore(spec.flavour, spec.netns, spec.family,
                 "*" + spec.table + "\n" + chain_lines(spec) + "COMMIT\n");
}

Status replace_chain_rules(const std::vector<ChainSpec>& specs) {
  std::vector<ChainSpec> nft, legacy;
  for (const auto& c : specs) {
    if (c.flavour == kInProcess)
      nft.push_back(c);
    else if (c.flavour == "legacy")
      legacy.push_back(c);
  }
  if (!nft.empty())
    if (Status s = nft_install(nft); !s) return s;
  if (!legacy.empty())
    if (Status s = xt_install(legacy); !s) return s;
  return Ok{};
}

void record_chains(const std::vector<ChainSpec>& specs, pb::NetworkInstall& install) {
  for (const auto& c : specs) {
    auto* rec = install.add_chains();
    rec->set_family(c.family);
    rec->set_table(c.table);
    rec->set_chain(c.chain);
    rec->set_hook(c.hook);
    rec->set_flavour(c.flavour);
    for (const auto& m : c.hook_match) rec->add_hook_match(m);
  }
}

Status install_chains(const std::vector<ChainSpec>& specs, pb::NetworkInstall& install) {
  record_chains(specs, install);
  // In-process nf_tables: every chain of the fault in one transaction, no process at all.
  std::vector<ChainSpec> in_process;
  for (const auto& c : specs)
    if (c.flavour == kInProcess) in_process.push_back(c);
  if (!in_process.empty()) {
    if (Status s = nft_install(in_process); !s) {
      (void)remove_recorded_chains(install);
      return s;
    }
  }
  // x_tables through libiptc, in-process: one commit per family and table.
  std::vector<ChainSpec> legacy;
  for (const auto& c : specs)
    if (c.flavour == "legacy") legacy.push_back(c);
  if (!legacy.empty()) {
    if (Status s = xt_install(legacy); !s) {
      (void)remove_recorded_chains(install);
      return s;
    }
  }
  // iptables-nft programs: one transaction per program and table (the in and out chains of a
  // family together), the families concurrently: each costs a process start, not CPU.
  std::vector<ChainSpec> by_program;
  for (const auto& c : specs)
    if (c.flavour != kInProcess && c.flavour != "legacy") by_program.push_back(c);
  std::vector<std::future<Status>> running;
  for (const auto& [key, group] : grouped(by_program, [](const ChainSpec& c) {
         return c.flavour + "/" + std::to_string(c.family) + "/" + c.table;
       })) {
    std::string text = "*" + group[0]->table + "\n";
    for (const auto* c : group) text += chain_lines(*c);
    text += "COMMIT\n";
    const ChainSpec* first = group[0];
    running.push_back(std::async(std::launch::async, [first, text] {
      return restore(first->flavour, first->netns, first->family, text);
    }));
  }
  Status result = Ok{};
  for (auto& r : running)
    if (Status s = r.get(); !s) result = s;
  if (!result) (void)remove_recorded_chains(install);
  return result;
}

Status remove_chain(const std::string& flavour, const std::string& netns, int family,
                    const std::string& table, const std::string& chain, const std::string& hook,
                    const std::vector<std::string>& hook_match) {
  if (netns_gone(netns)) return Ok{};  // its rules went with it
  if (flavour == kInProcess) return nft_remove(netns, {{family, chain}});
  if (flavour == "legacy") {
    // Without libiptc's access (no x_tables here), nothing can have been installed there.
    if (!xt_available()) return Ok{};
    return xt_remove(netns, {{family, table, chain}});
  }
  if (flavour.empty()) {
    Status own = nft_netlink_available() ? nft_remove(netns, {{family, chain}}) : Status(Ok{});
    Status legacy = remove_chain("legacy", netns, family, table, chain, hook, hook_match);
    Status nft = remove_chain("nft", netns, family, table, chain, hook, hook_match);
    return !own ? own : (legacy ? nft : legacy);
  }
  if (!hook.empty()) {
    std::vector<std::string> jump{"-D", hook};
    jump.insert(jump.end(), hook_match.begin(), hook_match.end());
    jump.insert(jump.end(), {"-j", chain});
    std::string text =
        "*" + table + "\n" + joined(jump) + "\n-F " + chain + "\n-X " + chain + "\nCOMMIT\n";
    if (restore(flavour, netns, family, text, /*quiet=*/true)) return Ok{};
  }
  auto listed = iptables(flavour, netns, family, {"-t", table, "-S"});
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
  return restore(flavour, netns, family, text);
}

Status remove_recorded_chains(const pb::NetworkInstall& in) {
  // Fast path: chains whose jump is recorded go in one transaction per program and table;
  // if that fails (part already gone), each is removed on its own with a listing.
  // In-process nf_tables first, all in one transaction. Chains recorded without a flavour
  // (crash recovery) go through remove_chain(""), which looks in all three.
  std::vector<NftTable> tables;
  std::vector<XtChain> legacy;
  std::vector<pb::IptablesChain> chains;
  for (const auto& c : in.chains()) {
    if (c.flavour() == kInProcess)
      tables.push_back({static_cast<int>(c.family()), c.chain()});
    else if (c.flavour() == "legacy")
      legacy.push_back({static_cast<int>(c.family()), c.table(), c.chain()});
    else
      chains.push_back(c);
  }
  Status own = nft_remove(in.netns(), tables);
  if (!legacy.empty() && xt_available())  // xt_remove: a namespace that is gone is success
    if (Status s = xt_remove(in.netns(), legacy); !s) own = s;
  std::vector<std::future<Status>> running;
  for (const auto& [key, group] : grouped(chains, [](const pb::IptablesChain& c) {
         return c.flavour() + "/" + std::to_string(c.family()) + "/" + c.table() +
                (c.hook().empty() || c.flavour().empty() ? "/" + c.chain() : "");
       })) {
    running.push_back(std::async(std::launch::async, [&in, group = group] {
      const auto& first = *group[0];
      if (!first.hook().empty() && !first.flavour().empty()) {
        std::string text = "*" + first.table() + "\n";
        for (const auto* c : group) {
          std::vector<std::string> jump{"-D", c->hook()};
          jump.insert(jump.end(), c->hook_match().begin(), c->hook_match().end());
          jump.insert(jump.end(), {"-j", c->chain()});
          text += joined(jump) + "\n-F " + c->chain() + "\n-X " + c->chain() + "\n";
        }
        if (restore(first.flavour(), in.netns(), static_cast<int>(first.family()),
                    text + "COMMIT\n", /*quiet=*/true))
          return Status(Ok{});
      }
      Status result = Ok{};
      for (const auto* c : group)
        if (Status s = remove_chain(c->flavour(), in.netns(), static_cast<int>(c->family()),
                                    c->table(), c->chain());
            !s)
          result = s;
      return result;
    }));
  }
  Status result = own;
  for (auto& r : running)
    if (Status s = r.get(); !s) result = s;
  return result;
}

bool chain_exists(const std::string& netns, int family, const std::string& table,
                  const std::string& chain) {
  if (netns_gone(netns)) return false;
  if (nft_netlink_available() && nft_rules_exist(netns, family, chain)) return true;
  for (const char* flavour : {"legacy", "nft"}) {
    auto o = iptables(flavour, netns, family, {"-t", table, "-S", chain});
    if (o && o->ok) return true;
  }
  return false;
}

}  // namespace faultline::injector
