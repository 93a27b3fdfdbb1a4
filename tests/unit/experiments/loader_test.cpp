// The experiment loader: a valid document with every field, and a table of mistakes, each
// with the exact line a user would see.
#include "experiments/loader.h"

#include "experiments/kinds/process_kill.h"
#include "experiments/kinds/process_pause.h"

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace faultline::experiments {
namespace {

using namespace std::chrono_literals;

constexpr const char* kFull = R"(apiVersion: faultline/v1
kind: Experiment
metadata:
  name: full-example
  description: every field
  owner: sre-team
  labels: {team: payments}
max_duration: 10m
targets:
  web:
    nodes:
      selector: {role: web}
      mode: all
    process:
      name: nginx
  db:
    process:
      pidfile: /run/db.pid
steady_state:
  - name: web-ok
    http:
      url: http://127.0.0.1:8080/health
      method: HEAD
      expect_status: [200, 204]
      timeout: 750ms
faults:
  - name: kill-web
    kind: process_kill
    target: web
    params:
      signal: sigterm
      mode: all
  - name: pause-db
    kind: process_pause
    target: db
    duration: 1m30s
recovery:
  deadline: 45s
  interval: 250ms
  checks:
    - name: web-back
      http:
        url: https://127.0.0.1:8443/
)";

TEST(Loader, FullDocumentWithDefaults) {
  auto r = parse_experiment(kFull, "full.yaml");
  ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].format());
  const Experiment& e = *r.experiment;
  EXPECT_EQ(e.metadata.name, "full-example");
  EXPECT_EQ(e.metadata.owner, "sre-team");
  EXPECT_EQ(e.metadata.labels.at("team"), "payments");
  EXPECT_EQ(e.max_duration, 10min);
  ASSERT_EQ(e.targets.size(), 2u);
  const TargetSpec* web = e.find_target("web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->nodes.select.mode, Selection::Mode::kAll);
  EXPECT_EQ(web->nodes.selector.at("role"), "web");
  EXPECT_EQ(web->process->name, "nginx");
  EXPECT_EQ(e.find_target("db")->nodes.select.mode, Selection::Mode::kOne);
  EXPECT_EQ(e.find_target("db")->process->pidfile, "/run/db.pid");

  ASSERT_EQ(e.steady_state.size(), 1u);
  const auto& http = std::get<HttpProbeSpec>(e.steady_state[0].kind);
  EXPECT_EQ(http.method, "HEAD");
  EXPECT_EQ(http.expect_status, (std::vector<int>{200, 204}));
  EXPECT_EQ(http.timeout, 750ms);
  EXPECT_EQ(e.steady_state[0].where.line, 20);

  ASSERT_EQ(e.faults.size(), 2u);
  const auto* kill = params_as<ProcessKillParams>(e.faults[0].params);
  ASSERT_NE(kill, nullptr);
  EXPECT_EQ(kill->signal, SIGTERM);
  EXPECT_EQ(kill->select.mode, Selection::Mode::kAll);
  EXPECT_EQ(e.faults[0].duration, 0s);
  EXPECT_EQ(e.faults[1].duration, 90s);
  ASSERT_NE(params_as<ProcessPauseParams>(e.faults[1].params), nullptr);
  EXPECT_EQ(params_as<ProcessPauseParams>(e.faults[1].params)->select.mode, Selection::Mode::kOne);

  ASSERT_TRUE(e.recovery);
  EXPECT_EQ(e.recovery->deadline, 45s);
  EXPECT_EQ(e.recovery->interval, 250ms);
  const auto& back = std::get<HttpProbeSpec>(e.recovery->checks[0].kind);
  EXPECT_EQ(back.expect_status, std::vector<int>{200});
  EXPECT_EQ(back.timeout, 2s);
}

constexpr const char* kHead = R"(apiVersion: faultline/v1
kind: Experiment
metadata:
  name: t
targets:
  demo:
    process:
      pidfile: /tmp/d.pid
)";

struct BadCase {
  const char* name;
  std::string yaml;
  std::vector<std::string> want;
};

std::vector<BadCase> bad_cases() {
  std::string head = kHead;
  std::string fault = "faults:\n  - name: f\n    kind: process_kill\n    target: demo\n";
  return {
      {"unknown fault kind",
       head + "faults:\n  - name: f\n    kind: proces_kill\n    target: demo\n",
       {"t.yaml:11:11: faults[0].kind: unknown value \"proces_kill\" (did you mean "
        "\"process_kill\"? expected one of: process_kill, process_pause, network_delay, "
        "network_loss, network_duplicate, network_corrupt, network_reorder, network_partition, "
        "network_bandwidth, interface_down, link_flap, cpu_stress, memory_pressure, disk_fill, "
        "io_fault, clock_skew, container_kill, pod_kill, http_fault, dns_fault, proxy_toxic)"}},
      {"unknown top-level key",
       head + fault + "metdata: {}\n",
       {"t.yaml:13:1: metdata: unknown key (did you mean \"metadata\"?)"}},
      {"bad duration",
       head + fault + "    duration: 5x\n",
       {"t.yaml:13:15: faults[0].duration: invalid duration \"5x\": missing or unknown unit "
        "(expected e.g. 250ms, 1.5s, 1m30s)"}},
      {"dangling target",
       head + "faults:\n  - name: f\n    kind: process_kill\n    target: dmo\n",
       {"t.yaml:12:13: faults[0].target: target \"dmo\" is not defined (did you mean \"demo\"? "
        "defined: demo)"}},
      {"missing faults", head, {"t.yaml:1:1: faults: missing required field"}},
      {"wrong apiVersion",
       "apiVersion: faultline/v2\nkind: Experiment\nmetadata: {name: t}\n" + fault.substr(0) +
           "targets: {demo: {process: {pid: 42}}}\n",
       {"t.yaml:1:13: apiVersion: unsupported \"faultline/v2\" (expected faultline/v1)"}},
      {"pid 1 refused at validation",
       "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: t}\n"
       "targets: {demo: {process: {pid: 1}}}\n" +
           fault,
       {"t.yaml:4:33: targets.demo.process.pid: must be >= 2 (PID 1 is never touched)"}},
      {"pause without duration",
       head + "faults:\n  - name: f\n    kind: process_pause\n    target: demo\n",
       {"t.yaml:10:5: faults[0].duration: process_pause needs a duration > 0 (how long the "
        "process stays paused)"}},
      {"over max_duration",
       head + "max_duration: 1m\nfaults:\n  - name: f\n    kind: process_pause\n    target: demo\n"
              "    duration: 2m\n",
       {"t.yaml:11:5: faults[0]: ends at 2m into the run, after max_duration 1m"}},
      {"bad signal and mode",
       head + fault + "    params: {signal: SIGNOPE, mode: most}\n",
       {"t.yaml:13:22: faults[0].params.signal: unknown signal \"SIGNOPE\" (a name such as "
        "SIGKILL or SIGTERM, or 1..64)",
        "t.yaml:13:37: faults[0].params.mode: unknown value \"most\" (expected one of: one, all, "
        "count, percent)"}},
      {"probe problems all at once",
       head + fault +
           "steady_state:\n  - name: p\n    http:\n      url: ftp://x\n      expect_status: 700\n"
           "      timout: 1s\n",
       {"t.yaml:16:12: steady_state[0].http.url: \"ftp://x\" must start with http:// or https://",
        "t.yaml:17:22: steady_state[0].http.expect_status: must be <= 599",
        "t.yaml:18:7: steady_state[0].http.timout: unknown key (did you mean \"timeout\"?)"}},
      {"selector needs exactly one key",
       "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: t}\n"
       "targets: {demo: {process: {pid: 42, name: x}}}\n" +
           fault,
       {"t.yaml:4:33: targets.demo.process.pid: only one of name, cmdline, pidfile, cgroup, pid "
        "may be set (found name, pid)"}},
      {"bad name",
       "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: Not_Valid}\n"
       "targets: {demo: {process: {pid: 42}}}\n" +
           fault,
       {"t.yaml:3:18: metadata.name: \"Not_Valid\" is not a valid name (lowercase letters, "
        "digits and '-', starting with a letter or digit, at most 63 characters)"}},
      {"syntax error",
       "apiVersion: faultline/v1\nkind: Experiment\nmetadata: [unclosed\n",
       {"t.yaml:4:1: YAML syntax error: end of sequence flow not found"}},
      {"empty file", "", {"t.yaml: the file is empty (expected an Experiment)"}},
  };
}

TEST(Loader, EveryMistakeIsReportedWithItsLocation) {
  for (const auto& c : bad_cases()) {
    auto r = parse_experiment(c.yaml, "t.yaml");
    EXPECT_FALSE(r.ok()) << c.name;
    EXPECT_FALSE(r.experiment.has_value()) << c.name;
    std::vector<std::string> got;
    for (const auto& d : r.diagnostics) got.push_back(d.format());
    EXPECT_EQ(got, c.want) << c.name;
  }
}

TEST(Loader, MissingFileNamesTheFile) {
  auto r = load_experiment_file("/nonexistent/nope.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].format(),
            "/nonexistent/nope.yaml: cannot read file: No such file or directory");
}

TEST(Loader, ShippedExamplesAreValid) {
  for (const char* f : {"quickstart.yaml"}) {
    auto r = load_experiment_file(std::string(FAULTLINE_SOURCE_DIR) + "/experiments/" + f);
    EXPECT_TRUE(r.ok()) << f << ": " << (r.diagnostics.empty() ? "" : r.diagnostics[0].format());
  }
}

}  // namespace
}  // namespace faultline::experiments
