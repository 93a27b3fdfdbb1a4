// The injector policy: loading (with exact file:line:col messages) and every rule, judged
// against real processes, real paths and a real network namespace.
#include "injector/policy/injector_policy.h"

#include "injector/fault_kind_name.h"

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

InjectorPolicy policy(const std::string& yaml) {
  auto p = InjectorPolicy::parse(yaml, "p.yaml");
  EXPECT_TRUE(p.ok()) << p.error().message;
  return std::move(p).value();
}

// The message of a refusal, or "" when the fault is allowed.
std::string refusal(const InjectorPolicy& p, const pb::FaultSpec& spec,
                    const std::vector<pb::TouchedContainer>& containers = {}) {
  Status s = p.check(spec, containers);
  if (s) return "";
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  return s.error().message;
}

std::string parse_error(const std::string& yaml) {
  auto p = InjectorPolicy::parse(yaml, "p.yaml");
  return p ? "" : p.error().message;
}

std::string first_line(const std::string& cmd) {
  std::string out = capture(cmd);
  return out.substr(0, out.find('\n'));
}

// --- loading --------------------------------------------------------------------------------

TEST(InjectorPolicyParse, AGoodFileLoads) {
  TempDir dir;
  write_file(dir.file("policy.yaml"),
             "# what this node may ever do\n"
             "allow:\n"
             "  kinds: [process_kill, network_delay, cpu_stress]\n"
             "  interfaces: [eth0, \"veth*\"]\n"
             "  network_namespaces: [self, \"/run/netns/lab-*\"]\n"
             "  processes:\n"
             "    - name: \"demo-*\"\n"
             "    - cmdline: \"^/usr/bin/python3 app.py\"\n"
             "      cgroup: \"/system.slice/app.service*\"\n"
             "  paths: [\"/var/tmp/chaos/*\", /data/]\n"
             "  max_duration: 10m\n"
             "  commands: [/usr/local/bin/check-db]\n");
  auto p = InjectorPolicy::load_file(dir.file("policy.yaml"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->source(), dir.file("policy.yaml"));
  EXPECT_EQ(p->kinds(), (std::vector<std::string>{"process_kill", "network_delay", "cpu_stress"}));
  EXPECT_EQ(p->max_duration(), std::chrono::minutes(10));
  EXPECT_EQ(p->summary(),
            "kinds=process_kill,network_delay,cpu_stress interfaces=eth0,veth* "
            "network_namespaces=self,/run/netns/lab-* processes=\"name=demo-*; "
            "cmdline=^/usr/bin/python3 app.py cgroup=/system.slice/app.service*\" "
            "paths=/var/tmp/chaos/*,/data containers=\"-\" max_duration=10m "
            "commands=/usr/local/bin/check-db");
}

TEST(InjectorPolicyCommands, OnlyListedPathsRunAndTheRefusalNamesThePolicy) {
  auto p = policy("allow:\n  kinds: []\n  commands: [/usr/local/bin/check-db]\n");
  EXPECT_TRUE(p.check_command({"/usr/local/bin/check-db", "--replicas"}).ok());
  Status s = p.check_command({"/bin/sh", "-c", "id"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.error().message,
            "refused by injector policy (p.yaml): \"/bin/sh\" is not in allow.commands "
            "(/usr/local/bin/check-db)");
  // No section, no commands.
  EXPECT_FALSE(policy("allow:\n  kinds: []\n").check_command({"/usr/local/bin/check-db"}).ok());
}

TEST(InjectorPolicyParse, TheShippedExampleLoads) {
  auto p = InjectorPolicy::load_file(std::string(FAULTLINE_SOURCE_DIR) +
                                     "/deploy/policy/example-policy.yaml");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->kinds().empty());
  EXPECT_TRUE(p->max_duration().has_value());
}

TEST(InjectorPolicyParse, TheExampleInTheDocsLoads) {
  std::string doc = read_file(std::string(FAULTLINE_SOURCE_DIR) + "/docs/policy.md");
  size_t start = doc.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  start += 8;
  auto p = InjectorPolicy::parse(doc.substr(start, doc.find("```", start) - start), "policy.md");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->max_duration(), std::chrono::minutes(10));
}

TEST(InjectorPolicyParse, AMissingFileSaysSo) {
  auto p = InjectorPolicy::load_file("/nonexistent/policy.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            "/nonexistent/policy.yaml: cannot read the policy file: No such file or directory");
}

TEST(InjectorPolicyParse, EachBadFileNamesLineColumnFieldAndWhatWasExpected) {
  std::string kinds;
  for (const auto& k : all_fault_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  const std::string allow_keys =
      "one of kinds, interfaces, network_namespaces, processes, paths, containers, "
      "max_duration, commands";
  struct Case {
    const char* what;
    std::string yaml;
    std::string message;
  };
  std::vector<Case> cases = {
      {"empty file", "",
       "p.yaml:1:1: allow: missing (expected a map of what this injector may do)"},
      {"top level is a list", "- allow\n",
       "p.yaml:1:1: (top level): is a list (expected a map with the key allow)"},
      {"misspelt allow", "alow:\n  kinds: []\n",
       "p.yaml:1:1: alow: unknown key, did you mean \"allow\"? (expected allow)"},
      {"allow is a list", "allow:\n  - kinds\n",
       "p.yaml:2:3: allow: is a list (expected a map with kinds, interfaces, network_namespaces, "
       "processes, paths, containers, max_duration, commands)"},
      {"relative command", "allow:\n  kinds: []\n  commands: [check-db]\n",
       "p.yaml:3:14: allow.commands[0]: \"check-db\" is not an absolute path (expected the exact "
       "path of a program, e.g. /usr/local/bin/check-db)"},
      {"misspelt allow key", "allow:\n  kinds: []\n  interface: [eth0]\n",
       "p.yaml:3:3: allow.interface: unknown key, did you mean \"interfaces\"? (expected " +
           allow_keys + ")"},
      {"unknown allow key", "allow:\n  kinds: []\n  everything: yes\n",
       "p.yaml:3:3: allow.everything: unknown key (expected " + allow_keys + ")"},
      {"repeated key", "allow:\n  kinds: []\n  kinds: [cpu_stress]\n",
       "p.yaml:3:3: allow.kinds: repeated key (expected each key once)"},
      {"no kinds", "allow:\n  interfaces: [eth0]\n",
       "p.yaml:2:3: allow.kinds: missing (expected the list of fault kinds this injector may "
       "apply, e.g. [process_pause])"},
      {"kinds is one value", "allow:\n  kinds: process_kill\n",
       "p.yaml:2:10: allow.kinds: is a single value (expected a list of fault kinds)"},
      {"misspelt kind", "allow:\n  kinds: [cpu_stress, proces_kill]\n",
       "p.yaml:2:23: allow.kinds[1]: unknown fault kind \"proces_kill\", did you mean "
       "\"process_kill\"? (expected one of " +
           kinds + ")"},
      {"empty interface", "allow:\n  kinds: []\n  interfaces: [eth0, \"\"]\n",
       "p.yaml:3:22: allow.interfaces[1]: is empty (expected a list of interface names or "
       "globs)"},
      {"relative netns path", "allow:\n  kinds: []\n  network_namespaces: [run/netns/x]\n",
       "p.yaml:3:24: allow.network_namespaces[0]: \"run/netns/x\" is a relative path (expected "
       "self, a name under /run/netns or an absolute path (globs allowed))"},
      {"relative path", "allow:\n  kinds: []\n  paths:\n    - /data\n    - tmp/chaos\n",
       "p.yaml:5:7: allow.paths[1]: \"tmp/chaos\" is not absolute (expected an absolute path or "
       "glob, e.g. /var/tmp/chaos)"},
      {"processes is a map", "allow:\n  kinds: []\n  processes:\n    name: x\n",
       "p.yaml:4:5: allow.processes: is a map (expected a list of rules with name, cmdline "
       "and/or cgroup)"},
      {"empty process rule", "allow:\n  kinds: []\n  processes:\n    - {}\n",
       "p.yaml:4:7: allow.processes[0]: names nothing (expected a map with at least one of name, "
       "cmdline, cgroup)"},
      {"unknown process rule key",
       "allow:\n  kinds: []\n  processes:\n    - name: x\n      pid: 4\n",
       "p.yaml:5:7: allow.processes[0].pid: unknown key (expected one of name, cmdline, cgroup)"},
      {"misspelt process rule key", "allow:\n  kinds: []\n  processes:\n    - cmdlin: x\n",
       "p.yaml:4:7: allow.processes[0].cmdlin: unknown key, did you mean \"cmdline\"? (expected "
       "one of name, cmdline, cgroup)"},
      {"empty process name", "allow:\n  kinds: []\n  processes:\n    - name: \"\"\n",
       "p.yaml:4:13: allow.processes[0].name: is empty (expected a name or glob)"},
      {"unitless max_duration", "allow:\n  kinds: []\n  max_duration: 600\n",
       "p.yaml:3:17: allow.max_duration: invalid duration \"600\": missing or unknown unit "
       "(expected e.g. 250ms, 1.5s, 1m30s) (expected a duration such as 10m or 1h)"},
      {"zero max_duration", "allow:\n  kinds: []\n  max_duration: 0s\n",
       "p.yaml:3:17: allow.max_duration: 0s is not positive (expected a duration such as 10m or "
       "1h)"},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_error(c.yaml), c.message) << c.what;
}

TEST(InjectorPolicyParse, BadRegexAndBadYamlArePlacedToo) {
  std::string re = parse_error("allow:\n  kinds: []\n  processes:\n    - cmdline: \"a(b\"\n");
  EXPECT_EQ(
      re.rfind("p.yaml:4:16: allow.processes[0].cmdline: bad regular expression \"a(b\": ", 0), 0u)
      << re;
  EXPECT_NE(re.find("(expected an ECMAScript regular expression)"), std::string::npos) << re;
  std::string syntax = parse_error("allow:\n  kinds: [cpu_stress\n");
  EXPECT_EQ(syntax.rfind("p.yaml:3:1: (syntax): ", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("(expected valid YAML)"), std::string::npos) << syntax;
}

// --- kinds and durations --------------------------------------------------------------------

TEST(InjectorPolicy, OnlyListedKindsPass) {
  auto p = policy("allow:\n  kinds: [cpu_stress, memory_pressure]\n");
  pb::FaultSpec cpu;
  cpu.mutable_cpu_stress()->set_workers(1);
  EXPECT_EQ(refusal(p, cpu), "");
  pb::FaultSpec kill;
  kill.mutable_process_kill()->mutable_selector()->set_pid(getpid());
  EXPECT_EQ(refusal(p, kill),
            "refused by injector policy (p.yaml): kind process_kill is not allowed (allowed: "
            "cpu_stress, memory_pressure)");
  EXPECT_EQ(refusal(policy("allow:\n  kinds: []\n"), cpu),
            "refused by injector policy (p.yaml): kind cpu_stress is not allowed (allowed: none)");
  EXPECT_EQ(refusal(p, pb::FaultSpec()),
            "refused by injector policy (p.yaml): the fault names no kind");
}

TEST(InjectorPolicy, MaxDurationCapsTheHardMaximum) {
  auto capped = policy("allow:\n  kinds: []\n  max_duration: 10m\n");
  EXPECT_EQ(capped.cap(std::chrono::hours(1)), std::chrono::minutes(10));
  EXPECT_EQ(capped.cap(std::chrono::minutes(1)), std::chrono::minutes(1));
  auto open = policy("allow:\n  kinds: []\n");
  EXPECT_EQ(open.cap(std::chrono::hours(5)), std::chrono::hours(5));
}

// --- processes ------------------------------------------------------------------------------

pb::FaultSpec pause_of(const std::string& cmdline_regex) {
  pb::FaultSpec spec;
  spec.mutable_process_pause()->mutable_selector()->set_cmdline_regex(cmdline_regex);
  return spec;
}

// A sleep whose command line no other process on the machine has, once it has exec'd:
// until then it is a copy of this test, which no selector here matches.
class UniqueSleep {
 public:
  explicit UniqueSleep(int n)
      : child_({"/bin/sleep", "300." + std::to_string(getpid()) + std::to_string(n)}) {
    EXPECT_TRUE(wait_until([&] { return read_file(proc("comm")) == "sleep\n"; }, 2000ms));
  }
  pid_t pid() const { return child_.pid(); }
  bool running() { return child_.running(); }

 private:
  std::string proc(const std::string& what) const {
    return "/proc/" + std::to_string(child_.pid()) + "/" + what;
  }
  ChildProcess child_;
};

std::string selector_for(int n) {
  return "^/bin/sleep 300\\." + std::to_string(getpid()) + std::to_string(n) + "$";
}

TEST(InjectorPolicy, ProcessFaultsNeedAProcessesRule) {
  UniqueSleep sleeper(1);
  auto none = policy("allow:\n  kinds: [process_pause]\n");
  EXPECT_EQ(refusal(none, pause_of(selector_for(1))),
            "refused by injector policy (p.yaml): process_pause touches processes, and the policy "
            "allows none (no allow.processes)");
}

TEST(InjectorPolicy, NameRuleIsAGlobOnTheProcessName) {
  UniqueSleep sleeper(1);
  EXPECT_EQ(
      refusal(policy("allow:\n  kinds: [process_pause]\n  processes:\n    - name: \"sl*p\"\n"),
              pause_of(selector_for(1))),
      "");
  std::string refused =
      refusal(policy("allow:\n  kinds: [process_pause]\n  processes:\n    - name: \"demo-*\"\n"),
              pause_of(selector_for(1)));
  EXPECT_EQ(refused, "refused by injector policy (p.yaml): process_pause would touch pid " +
                         std::to_string(sleeper.pid()) + " (sleep, cmdline \"/bin/sleep 300." +
                         std::to_string(getpid()) +
                         "1\"), which no processes rule allows (rules: name=demo-*)");
}

TEST(InjectorPolicy, CmdlineRuleIsARegexFromTheStart) {
  UniqueSleep sleeper(1);
  auto anchored =
      policy("allow:\n  kinds: [process_pause]\n  processes:\n    - cmdline: /bin/sle+p\n");
  EXPECT_EQ(refusal(anchored, pause_of(selector_for(1))), "");
  // "sleep" occurs in the command line, but not at its start: not allowed.
  auto inner = policy("allow:\n  kinds: [process_pause]\n  processes:\n    - cmdline: sleep\n");
  EXPECT_NE(refusal(inner, pause_of(selector_for(1))).find("which no processes rule allows"),
            std::string::npos);
}

TEST(InjectorPolicy, CgroupRuleIsAGlobOnTheCgroupPath) {
  UniqueSleep sleeper(1);
  // Its cgroup as /proc shows it ("0::/user.slice/..." -> "/user.slice/...").
  std::string line = first_line("cat /proc/" + std::to_string(sleeper.pid()) + "/cgroup");
  std::string cgroup = line.substr(line.find(':', line.find(':') + 1) + 1);
  ASSERT_FALSE(cgroup.empty()) << line;
  auto same =
      policy("allow:\n  kinds: [process_pause]\n  processes:\n    - cgroup: \"" + cgroup + "*\"\n");
  EXPECT_EQ(refusal(same, pause_of(selector_for(1))), "");
  auto other = policy(
      "allow:\n  kinds: [process_pause]\n  processes:\n    - cgroup: \"/no-such.slice/*\"\n");
  EXPECT_NE(refusal(other, pause_of(selector_for(1))).find("(rules: cgroup=/no-such.slice/*)"),
            std::string::npos);
}

TEST(InjectorPolicy, FieldsOfOneRuleMustAllMatch) {
  UniqueSleep sleeper(1);
  auto both = policy(
      "allow:\n  kinds: [process_pause]\n  processes:\n"
      "    - name: sleep\n      cmdline: /usr/bin/\n");
  EXPECT_NE(refusal(both, pause_of(selector_for(1))).find("(rules: name=sleep cmdline=/usr/bin/)"),
            std::string::npos);
  auto either = policy(
      "allow:\n  kinds: [process_pause]\n  processes:\n"
      "    - cmdline: /usr/bin/\n    - name: sleep\n");
  EXPECT_EQ(refusal(either, pause_of(selector_for(1))), "");
}

TEST(InjectorPolicy, EveryProcessTheSelectorMatchesMustBeAllowed) {
  UniqueSleep allowed(1);
  UniqueSleep forbidden(2);
  auto p = policy("allow:\n  kinds: [process_kill]\n  processes:\n    - cmdline: \"" +
                  std::string("/bin/sleep 300\\\\.") + std::to_string(getpid()) + "1$\"\n");
  pb::FaultSpec kill;
  auto* k = kill.mutable_process_kill();
  k->mutable_selector()->set_cmdline_regex("^/bin/sleep 300\\." + std::to_string(getpid()) +
                                           "[12]$");
  k->mutable_select()->set_mode(pb::PROCESS_MODE_ONE);  // a lucky draw must not matter
  k->set_signal(SIGKILL);
  EXPECT_NE(refusal(p, kill).find("would touch pid " + std::to_string(forbidden.pid())),
            std::string::npos)
      << refusal(p, kill);
  k->mutable_selector()->set_cmdline_regex(selector_for(1));
  EXPECT_EQ(refusal(p, kill), "");
  EXPECT_TRUE(allowed.running());  // only judged, never touched
  EXPECT_TRUE(forbidden.running());
}

TEST(InjectorPolicy, CrashLoopsAndTheFreezerMustSelectByAnAllowedNameOrCgroup) {
  auto p = policy(
      "allow:\n  kinds: [process_kill, process_pause]\n  processes:\n"
      "    - name: \"demo-*\"\n    - cgroup: \"/system.slice/app*\"\n");
  pb::FaultSpec loop;
  loop.mutable_process_kill()->set_interval_ms(100);
  loop.mutable_process_kill()->mutable_selector()->set_name("demo-web");
  EXPECT_EQ(refusal(p, loop), "");
  // A pidfile may name any process by the time the loop reads it again.
  loop.mutable_process_kill()->mutable_selector()->Clear();
  loop.mutable_process_kill()->mutable_selector()->set_pidfile("/run/demo.pid");
  EXPECT_EQ(refusal(p, loop),
            "refused by injector policy (p.yaml): process_kill selector pidfile=/run/demo.pid is "
            "not allowed: a crash loop (interval) picks its targets again later, so it must "
            "select by a name or cgroup that one processes rule allows by itself (rules: "
            "name=demo-*; cgroup=/system.slice/app*)");
  pb::FaultSpec freeze;
  freeze.mutable_process_pause()->set_method("freezer");
  freeze.mutable_process_pause()->mutable_selector()->set_cgroup("/system.slice/app.service");
  EXPECT_EQ(refusal(p, freeze), "");
  freeze.mutable_process_pause()->mutable_selector()->set_cgroup("/system.slice/db.service");
  EXPECT_NE(refusal(p, freeze).find("the freezer also stops processes that join the cgroup later"),
            std::string::npos);
}

TEST(InjectorPolicy, ClockSkewIsAProcessFaultToo) {
  UniqueSleep sleeper(1);
  pb::FaultSpec skew;
  skew.mutable_clock_skew()->mutable_selector()->set_cmdline_regex(selector_for(1));
  auto p = policy("allow:\n  kinds: [clock_skew]\n  processes:\n    - name: \"demo-*\"\n");
  EXPECT_NE(refusal(p, skew).find("clock_skew would touch pid " + std::to_string(sleeper.pid())),
            std::string::npos);
}

// --- network --------------------------------------------------------------------------------

pb::FaultSpec delay_on(const std::string& interface, const std::string& netns = "") {
  pb::FaultSpec spec;
  spec.mutable_network_delay()->mutable_scope()->set_interface(interface);
  spec.mutable_network_delay()->mutable_scope()->set_netns(netns);
  spec.mutable_network_delay()->set_delay_us(1000);
  return spec;
}

TEST(InjectorPolicy, InterfacesAreGlobs) {
  auto p = policy("allow:\n  kinds: [network_delay]\n  interfaces: [eth0, \"veth*\"]\n");
  EXPECT_EQ(refusal(p, delay_on("eth0")), "");
  EXPECT_EQ(refusal(p, delay_on("veth12ab")), "");
  EXPECT_EQ(refusal(p, delay_on("eth1")),
            "refused by injector policy (p.yaml): interface eth1 is not allowed (allowed: eth0, "
            "veth*)");
}

TEST(InjectorPolicy, WithoutInterfacesNoNetworkFaultPasses) {
  auto p = policy("allow:\n  kinds: [network_delay, network_partition]\n");
  pb::FaultSpec partition;
  partition.mutable_network_partition()->mutable_scope()->set_interface("eth0");
  EXPECT_EQ(refusal(p, partition),
            "refused by injector policy (p.yaml): interfaces are not allowed by the policy (no "
            "allow.interfaces), so network_partition cannot touch any");
}

TEST(InjectorPolicy, TheDefaultRouteInterfaceIsWhatIsChecked) {
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  // A veth pair (dummy interfaces need a module this kernel may not have).
  ASSERT_TRUE(ns.ip("link add fl-d0 type veth peer name fl-d1"));
  ASSERT_TRUE(ns.ip("link set fl-d0 up"));
  ASSERT_TRUE(ns.ip("link set fl-d1 up"));
  ASSERT_TRUE(ns.ip("addr add 10.88.0.1/24 dev fl-d0"));
  ASSERT_TRUE(ns.ip("route add default via 10.88.0.254"));
  auto p = policy(
      "allow:\n  kinds: [network_delay]\n  interfaces: [\"veth*\"]\n"
      "  network_namespaces: [\"/run/netns/fl-test-*\"]\n");
  EXPECT_EQ(refusal(p, delay_on("", ns.name())),
            "refused by injector policy (p.yaml): interface fl-d0 (the default route's) is not "
            "allowed (allowed: veth*)");
  auto dummies = policy(
      "allow:\n  kinds: [network_delay]\n  interfaces: [\"fl-d*\"]\n"
      "  network_namespaces: [\"fl-test-*\"]\n");
  EXPECT_EQ(refusal(dummies, delay_on("", ns.name())), "");
}

TEST(InjectorPolicy, NetworkNamespacesDefaultToTheInjectorsOwn) {
  auto own_only = policy("allow:\n  kinds: [network_delay]\n  interfaces: [\"*\"]\n");
  EXPECT_EQ(refusal(own_only, delay_on("eth0")), "");
  EXPECT_EQ(refusal(own_only, delay_on("eth0", "lab-a")),
            "refused by injector policy (p.yaml): network namespace lab-a is not allowed: the "
            "policy allows only the injector's own (no allow.network_namespaces)");
  auto labs = policy(
      "allow:\n  kinds: [network_delay]\n  interfaces: [\"*\"]\n"
      "  network_namespaces: [\"/run/netns/lab-*\"]\n");
  EXPECT_EQ(refusal(labs, delay_on("eth0", "lab-a")), "");
  EXPECT_EQ(refusal(labs, delay_on("eth0", "/var/run/netns/lab-b")), "");
  EXPECT_EQ(refusal(labs, delay_on("eth0", "prod")),
            "refused by injector policy (p.yaml): network namespace prod is not allowed "
            "(allowed: /run/netns/lab-*)");
  EXPECT_EQ(refusal(labs, delay_on("eth0")),
            "refused by injector policy (p.yaml): network namespace (the injector's own) is not "
            "allowed (allowed: /run/netns/lab-*; add self to allow it)");
  auto both = policy(
      "allow:\n  kinds: [network_delay]\n  interfaces: [\"*\"]\n"
      "  network_namespaces: [self, \"lab-*\"]\n");
  EXPECT_EQ(refusal(both, delay_on("eth0")), "");
  EXPECT_EQ(refusal(both, delay_on("eth0", "lab-c")), "");
}

// --- paths ----------------------------------------------------------------------------------

pb::FaultSpec fill(const std::string& path) {
  pb::FaultSpec spec;
  spec.mutable_disk_fill()->set_path(path);
  spec.mutable_disk_fill()->set_size_bytes(1);
  return spec;
}

TEST(InjectorPolicy, PathsAllowThemselvesAndWhatIsUnderThem) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("chaos-1/deep"));
  std::filesystem::create_directories(dir.file("plain"));
  auto p = policy("allow:\n  kinds: [disk_fill, io_fault]\n  paths: [\"" + dir.file("chaos-*") +
                  "\", \"" + dir.file("plain") + "/\"]\n");
  EXPECT_EQ(refusal(p, fill(dir.file("plain"))), "");
  EXPECT_EQ(refusal(p, fill(dir.file("plain/not/yet/made"))), "");
  EXPECT_EQ(refusal(p, fill(dir.file("chaos-1/deep"))), "");
  EXPECT_EQ(refusal(p, fill("/etc")),
            "refused by injector policy (p.yaml): path /etc is not allowed (allowed: " +
                dir.file("chaos-*") + ", " + dir.file("plain") + ")");
  // Neither ".." nor a symlink leads out of an allowed directory.
  std::string escape = dir.file("plain");
  for (char c : dir.file("plain"))
    if (c == '/') escape += "/..";
  EXPECT_NE(refusal(p, fill(escape + "/etc")).find("(/etc) is not allowed"), std::string::npos)
      << escape;
  std::filesystem::create_directory_symlink("/etc", dir.file("plain/link"));
  EXPECT_EQ(refusal(p, fill(dir.file("plain/link/x"))),
            "refused by injector policy (p.yaml): path " + dir.file("plain/link/x") +
                " (/etc/x) is not allowed (allowed: " + dir.file("chaos-*") + ", " +
                dir.file("plain") + ")");
  // Every path of an io_fault.
  pb::FaultSpec io;
  io.mutable_io_fault()->add_paths(dir.file("plain"));
  EXPECT_EQ(refusal(p, io), "");
  io.mutable_io_fault()->add_paths("/var");
  EXPECT_NE(refusal(p, io).find("path /var is not allowed"), std::string::npos);
}

TEST(InjectorPolicy, WithoutPathsNoFileFaultPasses) {
  auto p = policy("allow:\n  kinds: [disk_fill]\n");
  EXPECT_EQ(refusal(p, fill("/tmp")),
            "refused by injector policy (p.yaml): disk_fill touches files, and the policy allows "
            "no paths (no allow.paths)");
}

}  // namespace
}  // namespace faultline::injector

namespace faultline::injector {
namespace {

// A delay into a pod's namespace, as the fault engine judges it: the selector pinned, with
// what it resolved to on the node.
pb::FaultSpec delay_in_pod() {
  pb::FaultSpec spec;
  auto* scope = spec.mutable_network_delay()->mutable_scope();
  scope->mutable_container()->set_pod(true);
  scope->set_netns("/var/run/netns/cni-1234");
  spec.mutable_network_delay()->set_delay_us(1000);
  return spec;
}

pb::TouchedContainer touched_pod(const std::string& ns, const std::string& name,
                                 std::map<std::string, std::string> labels,
                                 std::vector<std::string> containers) {
  pb::TouchedContainer t;
  t.set_runtime("cri");
  t.set_pod_namespace(ns);
  t.set_pod_name(name);
  t.mutable_labels()->insert(labels.begin(), labels.end());
  for (const auto& c : containers) t.add_members()->set_name(c);
  return t;
}

TEST(InjectorPolicyContainers, WithoutAContainersSectionNoPodIsTouched) {
  auto p = policy(
      "allow:\n  kinds: [network_delay]\n  interfaces: [\"*\"]\n"
      "  network_namespaces: [\"/run/netns/*\"]\n");
  EXPECT_NE(refusal(p, delay_in_pod(), {touched_pod("shop", "web-1", {}, {"web"})})
                .find("touches containers or pods, and the policy allows none (no "
                      "allow.containers)"),
            std::string::npos);
}

TEST(InjectorPolicyContainers, EveryTouchedPodMustMatchARule) {
  auto p = policy(
      "allow:\n  kinds: [network_delay]\n  containers:\n"
      "    - {namespace: \"shop*\", labels: {chaos: allowed}}\n"
      "    - {runtime: docker, name: \"redis-*\"}\n");
  auto ok = touched_pod("shop-eu", "web-1", {{"chaos", "allowed"}, {"app", "web"}}, {"web"});
  auto other_ns = touched_pod("payments", "pay-1", {{"chaos", "allowed"}}, {"pay"});
  auto no_label = touched_pod("shop", "web-2", {{"app", "web"}}, {"web"});
  // The pod's namespace and interfaces are the pod's: the containers rule is the whole rule.
  EXPECT_EQ(refusal(p, delay_in_pod(), {ok}), "");
  EXPECT_NE(refusal(p, delay_in_pod(), {ok, other_ns}).find("would touch pod payments/pay-1"),
            std::string::npos)
      << refusal(p, delay_in_pod(), {ok, other_ns});
  EXPECT_NE(refusal(p, delay_in_pod(), {no_label})
                .find("no containers rule allows (rules: "
                      "namespace=shop* label chaos=allowed; "
                      "runtime=docker name=redis-*)"),
            std::string::npos)
      << refusal(p, delay_in_pod(), {no_label});
  pb::TouchedContainer redis;
  redis.set_runtime("docker");
  redis.set_name("redis-cache");
  redis.add_members()->set_name("redis-cache");
  EXPECT_EQ(refusal(p, delay_in_pod(), {redis}), "");
  redis.set_runtime("cri");
  EXPECT_NE(refusal(p, delay_in_pod(), {redis}), "") << "runtime is part of the rule";
}

TEST(InjectorPolicyContainers, ANameRuleCoversEveryContainerTheFaultReaches) {
  auto p = policy("allow:\n  kinds: [network_delay]\n  containers:\n    - name: web\n");
  EXPECT_EQ(refusal(p, delay_in_pod(), {touched_pod("shop", "w", {}, {"web"})}), "");
  EXPECT_NE(refusal(p, delay_in_pod(), {touched_pod("shop", "w", {}, {"web", "sidecar"})}), "");
}

TEST(InjectorPolicyContainers, BadRulesNameTheirLine) {
  EXPECT_EQ(
      parse_error("allow:\n  kinds: [network_delay]\n  containers:\n    - runtime: podman\n"),
      "p.yaml:4:16: allow.containers[0].runtime: \"podman\" is not a runtime (expected cri or "
      "docker)");
  EXPECT_EQ(parse_error("allow:\n  kinds: [network_delay]\n  containers:\n    - labels: [a]\n"),
            "p.yaml:4:15: allow.containers[0].labels: is a list (expected a map of label names to "
            "values)");
  EXPECT_EQ(parse_error("allow:\n  kinds: [network_delay]\n  containers:\n    - nmespace: x\n"),
            "p.yaml:4:7: allow.containers[0].nmespace: unknown key, did you mean \"namespace\"? "
            "(expected one of runtime, namespace, pod, name, image, labels)");
  EXPECT_EQ(parse_error("allow:\n  kinds: [network_delay]\n  containers: {}\n"),
            "p.yaml:3:15: allow.containers: is a map (expected a list of rules with runtime, "
            "namespace, pod, name, image and/or labels)");
}

}  // namespace
}  // namespace faultline::injector
