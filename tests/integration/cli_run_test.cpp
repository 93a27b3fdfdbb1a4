// End to end: the real `faultline` CLI, embedded and through real faultline-controller and
// faultline-injector processes, against the real demo service on loopback.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "support/child_process.h"
#include "support/faultline_cli.h"
#include "support/mini_zipkin.h"
#include "support/two_hosts.h"

namespace faultline::testing {
namespace {

const std::string kBin = FAULTLINE_BIN_DIR;

std::string experiment_yaml(int port, const std::string& pidfile, const std::string& kind,
                            const std::string& duration, const std::string& deadline) {
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  return "apiVersion: faultline/v1\n"
         "kind: Experiment\n"
         "metadata:\n"
         "  name: hit-and-recover\n"
         "targets:\n"
         "  demo:\n"
         "    process:\n"
         "      pidfile: " +
         pidfile +
         "\n"
         "steady_state:\n"
         "  - name: demo-healthy\n"
         "    http:\n"
         "      url: " +
         url +
         "\n"
         "      timeout: 1s\n"
         "faults:\n"
         "  - name: hit-demo\n"
         "    kind: " +
         kind +
         "\n"
         "    target: demo\n"
         "    duration: " +
         duration +
         "\n"
         "recovery:\n"
         "  deadline: " +
         deadline +
         "\n"
         "  checks:\n"
         "    - name: demo-back\n"
         "      http:\n"
         "        url: " +
         url +
         "\n"
         "        timeout: 500ms\n";
}

class CliRun : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    pidfile_ = dir_.file("demo.pid");
    // Every faultline process of this test keeps its fault ledger here, not on the machine.
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
    // These tests are about runs, not transport security (tests/integration/trust_test.cpp
    // is): the daemons run with --insecure and the CLI reaches them in plaintext.
    setenv("FAULTLINE_INSECURE", "1", 1);
  }

  // The demo service under its restarting supervisor (or alone, with supervised=false).
  void start_demo(bool supervised) {
    std::vector<std::string> argv{kBin + "/faultline-demo",
                                  supervised ? "supervise" : "serve",
                                  "--port",
                                  std::to_string(port_),
                                  "--pidfile",
                                  pidfile_};
    demo_ = std::make_unique<ChildProcess>(argv, "", dir_.file("demo.err"));
    ASSERT_TRUE(wait_until([&] { return http_ok(port_); }, 5000ms))
        << read_file(dir_.file("demo.err"));
  }

  pid_t demo_pid() {
    std::string s = read_file(pidfile_);
    return s.empty() ? 0 : std::stoi(s);
  }

  std::string write_experiment(const std::string& kind, const std::string& duration,
                               const std::string& deadline) {
    std::string path = dir_.file("exp.yaml");
    write_file(path, experiment_yaml(port_, pidfile_, kind, duration, deadline));
    return path;
  }

  std::unique_ptr<ChildProcess> faultline(std::vector<std::string> args) {
    return cli_.start(std::move(args));
  }

  // Runs `faultline ARGS` to completion; returns its exit code.
  int run_cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 60000ms) {
    int code = cli_.run(std::move(args), timeout);
    out_ = cli_.out(), err_ = cli_.err();
    return code;
  }

  // A controller on loopback and one injector registered with it.
  void start_controller_and_injector() {
    controller_addr_ = "127.0.0.1:" + std::to_string(free_port());
    controller_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kBin + "/faultline-controller", "--listen", controller_addr_,
                                 "--insecure"},
        "", dir_.file("controller.log"));
    injector_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kBin + "/faultline-injector", "--insecure", "--controller",
                                 controller_addr_, "--node", "node-a", "--label", "role=demo"},
        "", dir_.file("injector.log"));
    ASSERT_TRUE(cli_.wait_connected(controller_addr_, "node-a"))
        << read_file(dir_.file("controller.log")) << read_file(dir_.file("injector.log"));
  }

  // Starts `faultline run` (embedded, or on the controller) of a 60 s pause of the demo and
  // returns once the demo is paused.
  std::unique_ptr<ChildProcess> start_paused_run(pid_t target, bool on_controller) {
    std::string exp = write_experiment("process_pause", "60s", "10s");
    std::vector<std::string> args{"run", exp};
    if (on_controller) args.insert(args.end(), {"--controller", controller_addr_});
    auto cli = faultline(args);
    EXPECT_TRUE(wait_until([&] { return process_state(target) == 'T'; }, 10000ms))
        << read_file(dir_.file("out.txt")) << read_file(dir_.file("err.txt"));
    return cli;
  }

  TempDir dir_;
  FaultlineCli cli_{kBin, dir_};
  int port_ = 0;
  std::string pidfile_;
  std::unique_ptr<ChildProcess> demo_, controller_, injector_;
  std::string controller_addr_;
  std::string out_, err_;
};

TEST_F(CliRun, EmbeddedKillAndRecoverPasses) {
  start_demo(true);
  pid_t before = demo_pid();
  std::string exp = write_experiment("process_kill", "0s", "10s");
  ASSERT_EQ(run_cli({"run", exp}), 0) << out_ << err_;
  EXPECT_NE(out_.find("Verdict              PASSED   (exit code 0)"), std::string::npos) << out_;
  EXPECT_NE(out_.find("fault hit-demo applied"), std::string::npos) << out_;
  EXPECT_NE(out_.find("SIGKILL sent to pid " + std::to_string(before)), std::string::npos) << out_;
  EXPECT_TRUE(std::regex_search(out_, std::regex("Time to recover +[0-9]+ ms"))) << out_;
  EXPECT_EQ(out_.find("\x1b["), std::string::npos) << "plain lines when stdout is not a terminal";
  pid_t after = demo_pid();
  EXPECT_NE(after, before);
  EXPECT_TRUE(http_ok(port_));
}

TEST_F(CliRun, SameExperimentPassesThroughControllerAndInjectorDaemons) {
  start_demo(true);
  start_controller_and_injector();
  pid_t before = demo_pid();
  std::string exp = write_experiment("process_kill", "0s", "10s");
  ASSERT_EQ(run_cli({"run", exp, "--controller", controller_addr_}), 0)
      << out_ << err_ << read_file(dir_.file("controller.log"));
  EXPECT_NE(out_.find("PASSED"), std::string::npos);
  EXPECT_NE(out_.find("applied on node-a"), std::string::npos) << out_;
  EXPECT_NE(demo_pid(), before);
}

TEST_F(CliRun, ServiceThatDoesNotComeBackFailsWithExitOne) {
  start_demo(false);
  std::string exp = write_experiment("process_kill", "0s", "1s");
  ASSERT_EQ(run_cli({"run", exp}), 1) << out_ << err_;
  EXPECT_NE(out_.find("did not recover within 1s"), std::string::npos) << out_;
  EXPECT_NE(out_.find("FAILED"), std::string::npos);
}

TEST_F(CliRun, UnsteadySystemIsNotInjected) {
  // Nothing listens on the port: the steady state check fails before any fault.
  write_file(pidfile_, "999999\n");
  std::string exp = write_experiment("process_kill", "0s", "1s");
  ASSERT_EQ(run_cli({"run", exp}), 1) << out_ << err_;
  EXPECT_NE(out_.find("system was not steady before injection"), std::string::npos) << out_;
  EXPECT_EQ(out_.find("fault hit-demo applied"), std::string::npos) << out_;
}

TEST_F(CliRun, UnreachableControllerIsExitThreeWithOneLine) {
  std::string exp = write_experiment("process_kill", "0s", "1s");
  std::string addr = "127.0.0.1:" + std::to_string(free_port());
  ASSERT_EQ(run_cli({"run", exp, "--controller", addr}), 3) << out_ << err_;
  EXPECT_EQ(err_, "faultline: cannot reach controller at " + addr + " (not answering within 3s)\n");
}

TEST_F(CliRun, BadInputIsOneClearLineAndExitThree) {
  ASSERT_EQ(run_cli({"run", dir_.file("missing.yaml")}), 3);
  EXPECT_EQ(err_, dir_.file("missing.yaml") + ": cannot read file: No such file or directory\n");

  std::string bad_syntax = dir_.file("syntax.yaml");
  write_file(bad_syntax, "apiVersion: faultline/v1\nkind: Experiment\nmetadata: [unclosed\n");
  ASSERT_EQ(run_cli({"run", bad_syntax}), 3);
  EXPECT_TRUE(std::regex_search(err_, std::regex("^" + bad_syntax + ":[0-9]+:[0-9]+: "))) << err_;

  std::string exp = write_experiment("proces_kill", "0s", "1s");
  ASSERT_EQ(run_cli({"run", exp}), 3);
  EXPECT_TRUE(std::regex_search(
      err_, std::regex(exp + ":16:11: faults\\[0\\]\\.kind: unknown value \"proces_kill\"")))
      << err_;
  EXPECT_NE(err_.find("did you mean \"process_kill\""), std::string::npos) << err_;
}

TEST_F(CliRun, CtrlCDuringAPauseRevertsAndExitsTwo) {
  start_demo(true);
  pid_t target = demo_pid();
  auto cli = start_paused_run(target, false);
  ASSERT_EQ(process_state(target), 'T');
  cli->signal(SIGINT);
  EXPECT_EQ(cli->wait(10000ms), 2) << read_file(dir_.file("out.txt"));
  EXPECT_NE(process_state(target), 'T');
  EXPECT_EQ(demo_pid(), target);
  std::string out = read_file(dir_.file("out.txt"));
  EXPECT_NE(out.find("fault hit-demo reverted"), std::string::npos) << out;
  EXPECT_NE(out.find("ABORTED"), std::string::npos) << out;
  EXPECT_TRUE(http_ok(port_));
}

TEST_F(CliRun, CtrlCOfRemoteRunAbortsOnTheController) {
  start_demo(true);
  start_controller_and_injector();
  pid_t target = demo_pid();
  auto cli = start_paused_run(target, true);
  ASSERT_EQ(process_state(target), 'T');
  cli->signal(SIGINT);
  EXPECT_EQ(cli->wait(10000ms), 2) << read_file(dir_.file("out.txt"));
  EXPECT_NE(process_state(target), 'T');
}

TEST_F(CliRun, InjectorShutdownRevertsItsFaults) {
  start_demo(true);
  start_controller_and_injector();
  pid_t target = demo_pid();
  std::string exp = write_experiment("process_pause", "60s", "10s");
  auto cli = faultline({"run", exp, "--controller", controller_addr_});
  ASSERT_TRUE(wait_until([&] { return process_state(target) == 'T'; }, 10000ms));
  injector_->signal(SIGTERM);
  EXPECT_EQ(injector_->wait(10000ms), 0) << read_file(dir_.file("injector.log"));
  EXPECT_NE(process_state(target), 'T');
  cli->signal(SIGINT);
  cli->wait(10000ms);
  // The node is gone from the list of injectors, and `--all` says it disconnected.
  EXPECT_TRUE(wait_until(
      [&] {
        return run_cli({"injectors", "--controller", controller_addr_}, 5000ms) == 0 &&
               out_.find("node-a") == std::string::npos;
      },
      10000ms))
      << out_;
  ASSERT_EQ(run_cli({"injectors", "--controller", controller_addr_, "--all"}, 5000ms), 0) << err_;
  EXPECT_NE(out_.find("node-a\tstate=disconnected\tlabels=role=demo\t"), std::string::npos) << out_;
}

TEST_F(CliRun, KilledSupervisorLeavesNoOrphanWorker) {
  start_demo(true);
  pid_t worker = demo_pid();
  demo_->signal(SIGKILL);
  demo_->wait(5000ms);
  EXPECT_TRUE(wait_until(
      [&] { return process_state(worker) == '?' || process_state(worker) == 'Z'; }, 5000ms));
}

// --- the experiment language end to end: guardrails, rollbacks, vars, plan --------------------

// Pauses the demo for a minute behind a guardrail that trips when /health stops answering.
std::string guarded_pause_yaml(int port, const std::string& pidfile, const std::string& dir) {
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: guarded-pause}\n"
         "targets:\n  demo: {process: {pidfile: " +
         pidfile +
         "}}\n"
         "steady_state:\n  - {name: up, http: {url: " +
         url +
         ", timeout: 1s}}\n"
         "faults:\n  - {name: freeze, kind: process_pause, target: demo, duration: 60s}\n"
         "abort_when:\n"
         "  - name: demo-answers\n"
         "    probe: {http: {url: " +
         url +
         ", timeout: 200ms}}\n"
         "    for: 500ms\n"
         "    interval: 100ms\n"
         "rollbacks:\n"
         "  - {name: mark-aborted, command: {run: [touch, " +
         dir +
         "/aborted]}, on: [aborted]}\n"
         "  - {name: mark-passed, command: {run: [touch, " +
         dir + "/passed]}, on: [passed]}\n";
}

TEST_F(CliRun, GuardrailBreachAbortsRevertsAndRunsTheRollbacks) {
  start_demo(true);
  pid_t target = demo_pid();
  std::string exp = dir_.file("guarded.yaml");
  write_file(exp, guarded_pause_yaml(port_, pidfile_, dir_.path()));
  auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(run_cli({"run", exp}), 2) << out_ << err_;
  // Far sooner than the 60s pause: the guardrail ended it.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  EXPECT_NE(out_.find("guardrail \"demo-answers\" breached"), std::string::npos) << out_;
  EXPECT_NE(out_.find("GUARDRAIL demo-answers BREACHED: "), std::string::npos) << out_;
  EXPECT_NE(out_.find("fault freeze reverted"), std::string::npos) << out_;
  EXPECT_TRUE(std::regex_search(out_, std::regex("every fault reverted [0-9]+ ms after the abort")))
      << out_;
  EXPECT_NE(process_state(target), 'T');
  EXPECT_TRUE(http_ok(port_));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("aborted"))) << out_;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("passed"))) << out_;
}

// --- reports: terminal, JUnit, HTML -----------------------------------------------------------

TEST_F(CliRun, PassingFailingAndAbortedRunsMakeOneJUnitAndOneHtmlReport) {
  start_demo(true);
  std::string pass = write_experiment("process_kill", "0s", "10s");
  // Nothing answers on this port: not steady, so FAILED and nothing injected.
  std::string fail = dir_.file("unsteady.yaml");
  write_file(fail, experiment_yaml(free_port(), pidfile_, "process_kill", "0s", "1s"));
  std::string abort = dir_.file("guarded.yaml");
  write_file(abort, guarded_pause_yaml(port_, pidfile_, dir_.path()));
  std::string junit = dir_.file("suite.xml"), html = dir_.file("suite.html");
  // The most serious outcome decides the exit code: aborted.
  ASSERT_EQ(run_cli({"run", pass, fail, abort, "--junit", junit, "--html", html}), 2)
      << out_ << err_;
  EXPECT_NE(out_.find("JUnit report: " + junit), std::string::npos) << out_;
  EXPECT_NE(out_.find("HTML report: " + html), std::string::npos) << out_;

  // JUnit, as a parser nobody here wrote reads it.
  std::string summary =
      capture("node " FAULTLINE_SOURCE_DIR "/tests/support/junit_check/summarize.mjs " + junit +
              " 2>&1; echo rc=$?");
  EXPECT_NE(summary.find("rc=0"), std::string::npos) << summary;
  EXPECT_NE(summary.find("SUITE hit-and-recover tests=5 failures=0 skipped=0"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("CASE hit-and-recover.recovery | demo-back | passed"), std::string::npos)
      << summary;
  EXPECT_TRUE(std::regex_search(
      summary,
      std::regex("CASE hit-and-recover.steady_state_before \\| demo-healthy \\| failed \\| "
                 "[^\n]*(refused|no response)")))
      << summary;
  EXPECT_NE(summary.find("CASE hit-and-recover.recovery | demo-back | skipped | the run ended "
                         "before recovery"),
            std::string::npos)
      << summary;
  EXPECT_TRUE(std::regex_search(
      summary, std::regex("CASE guarded-pause.guardrail \\| demo-answers \\| failed \\| breached: "
                          "[^\n]*\\(held [0-9]+ ms\\)")))
      << summary;
  EXPECT_NE(summary.find("CASE guarded-pause.verdict | run r-"), std::string::npos) << summary;
  EXPECT_TRUE(
      std::regex_search(summary, std::regex("guarded-pause.verdict [^\n]*\\| failed \\| "
                                            "ABORTED: guardrail \"demo-answers\" breached")))
      << summary;

  // HTML: one file, nothing fetched, and Chromium renders it.
  std::string page = read_file(html);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg")) << "only the SVG xmlns";
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
      "--user-data-dir=" +
      dir_.file("chromium") + " ";
  std::string dom = capture(chromium + "--dump-dom file://" + html + " 2>/dev/null");
  EXPECT_NE(dom.find("1 of 3 runs passed"), std::string::npos) << dom.substr(0, 2000);
  for (const char* verdict : {">PASSED<", ">FAILED<", ">ABORTED<"})
    EXPECT_NE(dom.find(verdict), std::string::npos) << verdict;
  EXPECT_NE(dom.find("breach: demo-answers"), std::string::npos);
  // Probe numbers as lines: the guardrail's latency, polled every 100 ms, has many points.
  EXPECT_NE(dom.find("guardrail demo-answers</text>"), std::string::npos);
  EXPECT_NE(dom.find("class=\"series\""), std::string::npos);
  EXPECT_NE(dom.find("recovered in "), std::string::npos);
  std::string shot = dir_.file("suite.png");
  capture(chromium + "--window-size=1100,2400 --screenshot=" + shot + " file://" + html +
          " 2>/dev/null");
  // A blank page compresses to a few kB; the three sections with their charts do not.
  EXPECT_GT(std::filesystem::exists(shot) ? std::filesystem::file_size(shot) : 0, 60'000u);
  if (const char* keep = std::getenv("FAULTLINE_KEEP_SCREENSHOT"))
    std::filesystem::copy_file(shot, keep, std::filesystem::copy_options::overwrite_existing);

  // The same reports later, from the stored journals.
  auto ids = [&] {
    std::vector<std::string> out;
    std::string text = out_;
    std::smatch m;
    while (std::regex_search(text, m, std::regex("run (r-[0-9a-f]+) of"))) {
      out.push_back(m[1]);
      text = m.suffix();
    }
    return out;
  }();
  ASSERT_EQ(ids.size(), 3u) << out_;
  ASSERT_EQ(run_cli({"runs"}), 0) << err_;
  for (const auto& id : ids) EXPECT_NE(out_.find(id), std::string::npos) << out_;
  EXPECT_TRUE(std::regex_search(out_, std::regex(ids[2] + " +guarded-pause .* ABORTED"))) << out_;
  ASSERT_EQ(run_cli({"journal", ids[2]}), 0) << err_;
  EXPECT_NE(out_.find("\"type\": \"EVENT_TYPE_GUARDRAIL_BREACHED\""), std::string::npos) << out_;
  EXPECT_NE(out_.find("\"abort_to_reverted_ms\""), std::string::npos) << out_;
  ASSERT_EQ(run_cli({"report", ids[0], "--junit", dir_.file("one.xml")}), 0) << err_;
  EXPECT_NE(read_file(dir_.file("one.xml")).find("testsuite name=\"hit-and-recover\""),
            std::string::npos);
  EXPECT_EQ(run_cli({"journal", "r-0000000000"}), 3);
  EXPECT_NE(err_.find("no stored run r-0000000000"), std::string::npos) << err_;
}

TEST_F(CliRun, OnATerminalAStatusLineShowsPhaseActiveFaultsAndTheLastProbe) {
  start_demo(true);
  std::string exp = write_experiment("process_pause", "1500ms", "10s");
  // script(1) gives the CLI a pseudo-terminal, as an operator's shell would.
  std::string out =
      capture("script -qfec '" + kBin + "/faultline run " + exp + "' /dev/null 2>&1; echo rc=$?");
  EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\x1b[K"), std::string::npos) << "the status line is redrawn in place";
  EXPECT_TRUE(std::regex_search(out, std::regex("▸ INJECTING [0-9.]+s of ~2s planned · active: "
                                                "hit-demo@[^ ]+ · demo-healthy ok: HTTP 200")))
      << out;
  EXPECT_NE(out.find("Verdict              PASSED"), std::string::npos) << out;
}

// --- game days -------------------------------------------------------------------------------

TEST_F(CliRun, GameDayRehearsalRunsEveryStepAndWritesOneReport) {
  start_demo(true);
  write_experiment("process_kill", "0s", "10s");  // exp.yaml
  write_file(dir_.file("guarded.yaml"), guarded_pause_yaml(port_, pidfile_, dir_.path()));
  std::string day = dir_.file("day.yaml");
  write_file(day,
             "apiVersion: faultline/v1\nkind: GameDay\nmetadata: {name: rehearsal}\n"
             "participants: [Ana, Ben]\nnotes: dashboards open\n"
             "experiments:\n"
             "  - {file: exp.yaml, gate: \"Ready?\", note: kill it}\n"
             "  - {file: guarded.yaml, gate: \"Freeze it?\"}\n");
  std::string junit = dir_.file("day.xml"), html = dir_.file("day.html");
  // The second step's guardrail aborts it: the day's code is the most serious one.
  ASSERT_EQ(run_cli({"gameday", day, "--yes", "--junit", junit, "--html", html}), 2)
      << out_ << err_;
  EXPECT_NE(out_.find("Game day: rehearsal (2 experiments)"), std::string::npos) << out_;
  EXPECT_NE(out_.find("Participants: Ana, Ben"), std::string::npos) << out_;
  EXPECT_NE(out_.find("=== step 2 of 2: " + dir_.file("guarded.yaml")), std::string::npos) << out_;
  EXPECT_EQ(out_.find("GATE:"), std::string::npos) << "--yes passes the gates";
  EXPECT_TRUE(std::regex_search(out_, std::regex("PASSED +hit-and-recover"))) << out_;
  EXPECT_TRUE(std::regex_search(out_, std::regex("ABORTED +guarded-pause"))) << out_;
  std::string summary = capture(
      "node " FAULTLINE_SOURCE_DIR "/tests/support/junit_check/summarize.mjs " + junit + " 2>&1");
  EXPECT_NE(summary.find("SUITE hit-and-recover"), std::string::npos) << summary;
  EXPECT_NE(summary.find("SUITE guarded-pause"), std::string::npos) << summary;
  std::string page = read_file(html);
  EXPECT_NE(page.find("faultline game day: rehearsal"), std::string::npos);
  EXPECT_NE(page.find("The day"), std::string::npos);
  EXPECT_NE(page.find("Ana, Ben"), std::string::npos);
}

TEST_F(CliRun, CtrlCDuringAGameDayRevertsTheFaultAndEndsTheDay) {
  start_demo(true);
  pid_t target = demo_pid();
  write_experiment("process_pause", "60s", "10s");
  std::string day = dir_.file("day.yaml");
  write_file(day,
             "apiVersion: faultline/v1\nkind: GameDay\nmetadata: {name: stopped}\n"
             "experiments:\n  - {file: exp.yaml}\n  - {file: exp.yaml}\n");
  auto cli = faultline({"gameday", day, "--html", dir_.file("day.html")});
  ASSERT_TRUE(wait_until([&] { return process_state(target) == 'T'; }, 10000ms))
      << read_file(dir_.file("out.txt"));
  cli->signal(SIGINT);
  EXPECT_EQ(cli->wait(15000ms), 2) << read_file(dir_.file("out.txt"));
  EXPECT_NE(process_state(target), 'T');
  std::string out = read_file(dir_.file("out.txt"));
  EXPECT_NE(out.find("1 of 2 experiments ran"), std::string::npos) << out;
  EXPECT_NE(out.find("the day was stopped with Ctrl-C during step 1"), std::string::npos) << out;
  // The report of the part of the day that happened is still written.
  EXPECT_NE(read_file(dir_.file("day.html")).find("ABORTED"), std::string::npos);
}

TEST_F(CliRun, TheShippedGameDayRunsAgainstTheDemoService) {
  start_demo(true);
  setenv("DEMO_PORT", std::to_string(port_).c_str(), 1);
  setenv("DEMO_PIDFILE", pidfile_.c_str(), 1);
  int code = run_cli({"gameday", FAULTLINE_SOURCE_DIR "/experiments/gameday-demo.yaml", "--yes",
                      "--html", dir_.file("day.html")});
  unsetenv("DEMO_PORT");
  unsetenv("DEMO_PIDFILE");
  ASSERT_EQ(code, 0) << out_ << err_;
  EXPECT_NE(out_.find("2 of 2 experiments ran"), std::string::npos) << out_;
  EXPECT_TRUE(std::regex_search(out_, std::regex("PASSED +ci-kill-and-recover"))) << out_;
  EXPECT_TRUE(std::regex_search(out_, std::regex("PASSED +ci-pause-within-slo"))) << out_;
}

TEST_F(CliRun, GameDayWaitsAtItsGateAndStopsWhenTheRoomSaysSo) {
  start_demo(true);
  write_experiment("process_kill", "0s", "10s");
  std::string day = dir_.file("day.yaml");
  write_file(day,
             "apiVersion: faultline/v1\nkind: GameDay\nmetadata: {name: gated}\n"
             "experiments:\n"
             "  - {file: exp.yaml, gate: \"Start the kill?\"}\n"
             "  - {file: exp.yaml, gate: \"Once more?\"}\n");
  // Enter at the first gate, "stop" at the second.
  std::string out =
      capture("printf '\\nstop\\n' | " + kBin + "/faultline gameday " + day + " 2>&1; echo rc=$?");
  EXPECT_NE(out.find("GATE: Start the kill?"), std::string::npos) << out;
  EXPECT_NE(out.find("GATE: Once more?"), std::string::npos) << out;
  EXPECT_EQ(std::regex_search(out, std::regex("run r-[0-9a-f]+ of")) ? 1 : 0, 1) << out;
  EXPECT_NE(out.find("1 of 2 experiments ran"), std::string::npos) << out;
  EXPECT_NE(
      out.find("NOT RUN  " + dir_.file("exp.yaml") + ": the day was stopped at the gate of step 2"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("rc=1"), std::string::npos) << out;

  // A broken game-day file says where.
  write_file(day,
             "apiVersion: faultline/v1\nkind: GameDay\nmetadata: {name: x}\n"
             "experiments:\n  - {fil: exp.yaml}\n");
  EXPECT_EQ(run_cli({"gameday", day}), 3);
  EXPECT_NE(err_.find(day + ":5:6: experiments[0].fil: unknown key (did you mean \"file\"?)"),
            std::string::npos)
      << err_;
}

TEST_F(CliRun, VarsComeFromTheFileTheCommandLineAndTheEnvironment) {
  start_demo(true);
  std::string exp = dir_.file("vars.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: vars}\n"
             "vars: {port: \"1\", pidfile: \"${env:FL_TEST_PIDFILE:-/nonexistent}\"}\n"
             "targets:\n  demo: {process: {pidfile: \"${pidfile}\"}}\n"
             "steady_state:\n  - {name: up, http: {url: \"http://127.0.0.1:${port}/health\"}}\n"
             "faults:\n  - {name: kill, kind: process_kill, target: demo}\n"
             "recovery:\n  deadline: 10s\n  checks:\n"
             "    - {name: back, http: {url: \"http://127.0.0.1:${port}/health\"}}\n");
  setenv("FL_TEST_PIDFILE", pidfile_.c_str(), 1);
  pid_t before = demo_pid();
  ASSERT_EQ(run_cli({"run", exp, "--var", "port=" + std::to_string(port_)}), 0) << out_ << err_;
  EXPECT_NE(demo_pid(), before);
  unsetenv("FL_TEST_PIDFILE");
  // Without the override the file's port 1 is used: nothing listens, the run never injects.
  ASSERT_EQ(run_cli({"run", exp}), 1) << out_ << err_;
  EXPECT_NE(out_.find("not steady before injection"), std::string::npos) << out_;
  ASSERT_EQ(run_cli({"validate", exp, "--var", "nonsense"}), 3);
  EXPECT_EQ(err_, "faultline: --var nonsense: expected name=value\n");
}

TEST_F(CliRun, PlanShowsTheTimelineAndTouchesNothing) {
  start_demo(true);
  pid_t target = demo_pid();
  std::string exp = write_experiment("process_pause", "45s", "10s");
  ASSERT_EQ(run_cli({"plan", exp, "--seed", "7"}), 0) << out_ << err_;
  EXPECT_NE(out_.find("seed 7"), std::string::npos) << out_;
  EXPECT_TRUE(std::regex_search(out_, std::regex("0s \\.\\. 45s +hit-demo \\(process_pause\\)")))
      << out_;
  EXPECT_NE(out_.find("hits process from " + pidfile_), std::string::npos) << out_;
  EXPECT_NE(process_state(target), 'T');
  EXPECT_EQ(demo_pid(), target);
}

TEST_F(CliRun, AFaultNoNodeCanDoIsRefusedBeforeAnythingRuns) {
  std::string exp = dir_.file("net.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: net}\n"
             "targets:\n  lo: {network: {interface: lo}}\n"
             "faults:\n  - {name: slow, kind: network_delay, target: lo, duration: 1s,"
             " params: {delay: 10ms, backend: netem}}\n");
  // This machine's kernel has no sch_netem, so no node can apply netem.
  ASSERT_EQ(run_cli({"run", exp}), 3) << out_ << err_;
  EXPECT_TRUE(std::regex_search(
      err_, std::regex(exp + ": fault \"slow\": node .+ cannot do network_delay with backend "
                             "netem \\(it offers: nfqueue\\)")))
      << err_;
}

TEST_F(CliRun, PlanThroughTheControllerUsesItsInjectors) {
  start_controller_and_injector();
  std::string exp = write_experiment("process_kill", "0s", "1s");
  ASSERT_EQ(run_cli({"plan", exp, "--controller", controller_addr_}), 0) << out_ << err_;
  EXPECT_NE(out_.find("demo             -> node-a"), std::string::npos) << out_;
  // A selector nobody matches is refused with what is connected.
  std::string text = read_file(exp);
  text.replace(text.find("  demo:\n"), 8, "  demo:\n    nodes: {selector: {role: db}}\n");
  write_file(exp, text);
  ASSERT_EQ(run_cli({"plan", exp, "--controller", controller_addr_}), 3) << out_ << err_;
  EXPECT_NE(err_.find("target \"demo\": no connected injector matches selector role=db"),
            std::string::npos)
      << err_;
}

TEST_F(CliRun, KilledInjectorTakesItsFaultsBackOnTheNextStart) {
  TmpfsMount fs("32m");
  ASSERT_TRUE(fs.ok());
  start_demo(true);
  start_controller_and_injector();
  pid_t target = demo_pid();
  std::string exp = dir_.file("crash.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: crash}\n"
             "targets:\n  demo: {process: {pidfile: " +
                 pidfile_ +
                 "}}\n"
                 "  disk: {paths: [" +
                 fs.path() +
                 "]}\n"
                 "faults:\n  - parallel:\n"
                 "    - {name: freeze, kind: process_pause, target: demo, duration: 60s}\n"
                 "    - {name: fill, kind: disk_fill, target: disk, duration: 60s,"
                 " params: {percent: 50%, reserve: 1MiB}}\n");
  auto cli = faultline({"run", exp, "--controller", controller_addr_});
  // Wait for both acks, not just the effects: a kill in the middle of the fill's fallocate
  // makes tmpfs undo it, and that is a different (also handled) crash.
  ASSERT_TRUE(wait_until(
      [&] {
        std::string out = read_file(dir_.file("out.txt"));
        return out.find("fault freeze applied") != std::string::npos &&
               out.find("fault fill applied") != std::string::npos;
      },
      10000ms))
      << read_file(dir_.file("out.txt")) << read_file(dir_.file("err.txt"));
  ASSERT_EQ(process_state(target), 'T');
  ASSERT_GT(fs.used_fraction(), 0.4);
  // A crash: no chance to revert. The faults stay until the injector comes back.
  injector_->signal(SIGKILL);
  injector_->wait(5000ms);
  EXPECT_EQ(process_state(target), 'T');
  EXPECT_GT(fs.used_fraction(), 0.4);
  injector_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{kBin + "/faultline-injector", "--insecure", "--controller",
                               controller_addr_, "--node", "node-a"},
      "", dir_.file("injector2.log"));
  // Recovery takes the faults back one after the other; wait for both.
  EXPECT_TRUE(wait_until([&] { return process_state(target) != 'T' && fs.used_fraction() < 0.05; },
                         10000ms))
      << read_file(dir_.file("injector2.log"));
  EXPECT_NE(read_file(dir_.file("injector2.log")).find("crash recovery"), std::string::npos);
  EXPECT_TRUE(http_ok(port_));
  cli->signal(SIGINT);
  cli->wait(10000ms);
}

TEST_F(CliRun, KilledEmbeddedRunIsCleanedUpByTheNextOne) {
  start_demo(true);
  pid_t target = demo_pid();
  std::string exp = write_experiment("process_pause", "60s", "10s");
  auto cli = faultline({"run", exp});
  ASSERT_TRUE(wait_until([&] { return process_state(target) == 'T'; }, 10000ms));
  cli->signal(SIGKILL);
  cli->wait(5000ms);
  EXPECT_EQ(process_state(target), 'T');
  // Any next faultline run on this machine takes it back first (plan is enough).
  ASSERT_EQ(run_cli({"plan", exp}), 0) << out_ << err_;
  EXPECT_TRUE(wait_until([&] { return process_state(target) != 'T'; }, 5000ms)) << err_;
}

TEST_F(CliRun, ClockSkewShiftsTheWallClockOfAnExecTargetAndPutsItBack) {
  std::string ticks = dir_.file("ticks");
  std::string marker = "clock-target-" + std::to_string(getpid());
  // The target prints the wall clock it sees, five times a second.
  auto target = std::make_unique<ChildProcess>(
      std::vector<std::string>{kBin + "/faultline", "exec", "--", "/bin/sh", "-c",
                               "while true; do date +%s > " + ticks + ".new; mv " + ticks +
                                   ".new " + ticks + "; sleep 0.2; done # " + marker});
  auto seen = [&] {
    std::string t = read_file(ticks);
    return t.empty() ? 0L : std::stol(t);
  };
  auto skew = [&] { return seen() - static_cast<long>(::time(nullptr)); };
  ASSERT_TRUE(wait_until([&] { return seen() != 0; }, 5000ms));
  EXPECT_LE(std::labs(skew()), 2);

  std::string exp = dir_.file("skew.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: skew}\n"
             "targets:\n  app: {process: {cmdline: \"" +
                 marker +
                 "\"}}\n"
                 "faults:\n  - {name: ahead, kind: clock_skew, target: app, duration: 4s,"
                 " params: {offset: +1h}}\n");
  auto cli = faultline({"run", exp});
  EXPECT_TRUE(wait_until([&] { return std::labs(skew() - 3600) <= 2; }, 4000ms))
      << "skew seen: " << skew() << "\n"
      << read_file(dir_.file("out.txt"));
  EXPECT_EQ(cli->wait(20000ms), 0) << read_file(dir_.file("out.txt"));
  EXPECT_TRUE(wait_until([&] { return std::labs(skew()) <= 2; }, 4000ms)) << skew();
  EXPECT_NE(
      read_file(dir_.file("out.txt")).find("shifted the wall clock of 1 process(es) by +3600.000s"),
      std::string::npos)
      << read_file(dir_.file("out.txt"));
  // Killing the wrapper (even with SIGKILL) takes its target with it.
  target.reset();
  auto target_alive = [&] {
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      std::string cmd = read_file(e.path().string() + "/cmdline");
      if (cmd.find(marker) != std::string::npos && e.path().filename() != std::to_string(getpid()))
        return true;
    }
    return false;
  };
  EXPECT_TRUE(wait_until([&] { return !target_alive(); }, 3000ms))
      << "faultline exec left its target";
}

TEST_F(CliRun, ClockSkewOfTheMonotonicClockNeedsAllClocksAndShiftsIt) {
  std::string seen_file = dir_.file("mono");
  std::string marker = "mono-target-" + std::to_string(getpid());
  auto run_target = [&](bool all_clocks) {
    std::vector<std::string> argv{kBin + "/faultline", "exec"};
    if (all_clocks) argv.push_back("--all-clocks");
    argv.insert(argv.end(), {"--", FAULTLINE_CLOCK_PROBE, seen_file, marker});
    return std::make_unique<ChildProcess>(argv);
  };
  // Seconds the target's monotonic clock is ahead of ours (the same clock, unskewed).
  auto skew = [&] {
    std::string t = read_file(seen_file);
    if (t.empty()) return -999999L;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return std::stol(t) - static_cast<long>(now.tv_sec);
  };
  std::string exp = dir_.file("mono.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: mono}\n"
             "targets:\n  app: {process: {cmdline: \"" +
                 marker +
                 "\"}}\n"
                 "faults:\n  - {name: ahead, kind: clock_skew, target: app, duration: 4s,"
                 " params: {offset: +1h, clocks: monotonic}}\n");

  // Started for the wall clock only: the monotonic skew is refused, naming the fix.
  auto target = run_target(false);
  ASSERT_TRUE(wait_until([&] { return skew() != -999999L; }, 5000ms));
  EXPECT_NE(run_cli({"run", exp}), 0);
  EXPECT_NE((out_ + err_).find("start it with `faultline exec --all-clocks`"), std::string::npos)
      << out_ << err_;
  EXPECT_LE(std::labs(skew()), 1);
  target.reset();
  std::filesystem::remove(seen_file);

  target = run_target(true);
  ASSERT_TRUE(wait_until([&] { return skew() != -999999L; }, 5000ms));
  // libfaketime reports a faked monotonic clock on the wall clock's scale; what matters is
  // that it moves with the fault and comes back.
  long base = skew();
  auto cli = faultline({"run", exp});
  EXPECT_TRUE(wait_until([&] { return std::labs(skew() - base - 3600) <= 2; }, 4000ms))
      << "skew seen: " << skew() - base << "\n"
      << read_file(dir_.file("out.txt"));
  EXPECT_EQ(cli->wait(20000ms), 0) << read_file(dir_.file("out.txt"));
  EXPECT_TRUE(wait_until([&] { return std::labs(skew() - base) <= 2; }, 4000ms)) << skew() - base;
  EXPECT_NE(read_file(dir_.file("out.txt"))
                .find("shifted the monotonic clock (with every clock they fake) of 1 process(es)"),
            std::string::npos)
      << read_file(dir_.file("out.txt"));
}

std::string restarted_yaml(const std::string& pidfile, const std::string& deadline) {
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: restarted}\n"
         "targets:\n  demo: {process: {pidfile: " +
         pidfile +
         "}}\n"
         "faults:\n  - {name: kill, kind: process_kill, target: demo}\n"
         "recovery:\n  deadline: " +
         deadline +
         "\n  checks:\n"
         "    - name: demo-replaced\n      process_restarted: {target: demo}\n";
}

TEST_F(CliRun, ProcessRestartedPassesWhenTheSupervisorBringsANewProcess) {
  start_demo(true);
  pid_t before = demo_pid();
  std::string exp = dir_.file("restarted.yaml");
  write_file(exp, restarted_yaml(pidfile_, "10s"));
  ASSERT_EQ(run_cli({"run", exp}), 0) << out_ << err_;
  EXPECT_TRUE(
      std::regex_search(out_, std::regex("demo-replaced \\(recovery\\) ok: .*new pid [0-9]+")))
      << out_;
  EXPECT_NE(demo_pid(), before);
}

TEST_F(CliRun, EachRecoveryCheckReportsItsOwnTimeToRecover) {
  start_demo(true);
  std::string exp = dir_.file("two-checks.yaml");
  // The HTTP check may only start 300 ms after the faults: its time is at least that.
  write_file(exp, restarted_yaml(pidfile_, "10s") +
                      "    - name: demo-answers\n      http: {url: \"http://127.0.0.1:" +
                      std::to_string(port_) + "/health\"}\n      initial_delay: 300ms\n");
  ASSERT_EQ(run_cli({"run", exp}), 0) << out_ << err_;
  std::smatch replaced, answers, total;
  ASSERT_TRUE(
      std::regex_search(out_, replaced,
                        std::regex("demo-replaced \\(recovery\\) ok: .*; recovered ([0-9]+) ms "
                                   "after the faults")))
      << out_;
  ASSERT_TRUE(std::regex_search(
      out_, answers,
      std::regex("demo-answers \\(recovery\\) ok: .*; recovered ([0-9]+) ms after the faults")))
      << out_;
  ASSERT_TRUE(std::regex_search(out_, total, std::regex("Time to recover +([0-9]+) ms"))) << out_;
  EXPECT_GE(std::stoi(answers[1]), 300);
  // The run has recovered when the last check passes.
  int last = std::max(std::stoi(replaced[1]), std::stoi(answers[1]));
  EXPECT_GE(std::stoi(total[1]), last) << out_;
  EXPECT_LE(std::stoi(total[1]), last + 50) << out_;
  EXPECT_TRUE(std::regex_search(out_, std::regex("\n +demo-replaced [0-9]+ ms\n +demo-answers "
                                                 "[0-9]+ ms\n")))
      << out_;
}

TEST_F(CliRun, ProcessRestartedFailsThroughTheDaemonsWhenNothingComesBack) {
  start_demo(false);
  start_controller_and_injector();
  std::string exp = dir_.file("restarted.yaml");
  write_file(exp, restarted_yaml(pidfile_, "1s"));
  ASSERT_EQ(run_cli({"run", exp, "--controller", controller_addr_}), 1) << out_ << err_;
  EXPECT_NE(out_.find("demo-replaced (recovery) FAILED: node-a: no process matches"),
            std::string::npos)
      << out_;
}

// A network fault from experiment YAML, through the real CLI, on a two-namespace network.
// --- trace SLI guardrails, fed by the OpenTelemetry JS SDK -----------------------------------

// Pauses the demo behind a trace SLI guardrail on service "shop".
std::string traced_pause_yaml(const std::string& pidfile, const std::string& duration) {
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: traced-pause}\n"
         "targets:\n  demo: {process: {pidfile: " +
         pidfile +
         "}}\n"
         "faults:\n  - {name: freeze, kind: process_pause, target: demo, duration: " +
         duration +
         "}\n"
         "abort_when:\n"
         "  - name: shop-errors\n"
         "    sli: {service: shop, error_rate_above: 10%, window: 10s, min_spans: 20}\n"
         "    interval: 100ms\n";
}

// Sends spans to the run's OTLP receiver once it listens; the sender's exit code.
std::thread send_spans_when_listening(int otlp_port, const std::string& args, std::string log,
                                      std::atomic<int>& rc) {
  return std::thread([=, &rc] {
    wait_until(
        [&] { return capture("ss -Htln 'sport = :" + std::to_string(otlp_port) + "'") != ""; },
        20000ms);
    std::string cmd = "node " FAULTLINE_SOURCE_DIR
                      "/tests/support/otel_js/send_spans.js --endpoint 127.0.0.1:" +
                      std::to_string(otlp_port) + " " + args + " >" + log + " 2>&1";
    rc = std::system(cmd.c_str());
  });
}

TEST_F(CliRun, TraceSliGuardrailAbortsOnRealErrorSpans) {
  start_demo(false);
  pid_t target = demo_pid();
  std::string exp = dir_.file("traced.yaml");
  write_file(exp, traced_pause_yaml(pidfile_, "60s"));
  int otlp = free_port();
  std::atomic<int> sent{-1};
  auto sender = send_spans_when_listening(
      otlp, "--service shop --count 100 --error-every 2 --latency-ms 5 --rate 200",
      dir_.file("sender.log"), sent);
  auto started = std::chrono::steady_clock::now();
  int code = run_cli({"run", exp, "--otlp-listen", "127.0.0.1:" + std::to_string(otlp)});
  sender.join();
  // The run ends, and its receiver with it, while the sender still has spans to send.
  std::string log = read_file(dir_.file("sender.log"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("sent=([0-9]+)"))) << log;
  EXPECT_GE(std::stoi(m[1]), 20) << "the SLI needs min_spans before it may trip: " << log;
  ASSERT_EQ(code, 2) << out_ << err_;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s) << "the SLI ended it, not the 60s";
  EXPECT_NE(out_.find("GUARDRAIL shop-errors BREACHED: shop: error ratio"), std::string::npos)
      << out_;
  EXPECT_NE(out_.find("every fault reverted"), std::string::npos) << out_;
  EXPECT_NE(process_state(target), 'T');
}

TEST_F(CliRun, TooFewErrorSpansDoNotAbort) {
  start_demo(false);
  std::string exp = dir_.file("traced.yaml");
  write_file(exp, traced_pause_yaml(pidfile_, "3s"));
  int otlp = free_port();
  std::atomic<int> sent{-1};
  // Every span fails, but five are not evidence.
  auto sender = send_spans_when_listening(otlp, "--service shop --count 5 --error-every 1",
                                          dir_.file("sender.log"), sent);
  int code = run_cli({"run", exp, "--otlp-listen", "127.0.0.1:" + std::to_string(otlp)});
  sender.join();
  EXPECT_EQ(sent, 0) << read_file(dir_.file("sender.log"));
  EXPECT_EQ(code, 0) << out_ << err_;
  EXPECT_NE(out_.find("probe shop-errors (guardrail) ok: shop: 0 spans in the last 10s"),
            std::string::npos)
      << out_;
  EXPECT_EQ(out_.find("BREACHED"), std::string::npos) << out_;
}

TEST_F(CliRun, ZipkinSliGuardrailAbortsOnRealErrorSpans) {
  MiniZipkin zipkin;
  start_demo(false);
  pid_t target = demo_pid();
  // Half of the spans the OpenTelemetry SDK's Zipkin exporter stores fail.
  std::string cmd = "node " FAULTLINE_SOURCE_DIR "/tests/support/otel_js/send_spans.js --zipkin " +
                    zipkin.url() + "/api/v2/spans --service shop --count 100 --error-every 2 >" +
                    dir_.file("sender.log") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir_.file("sender.log"));
  std::string exp = dir_.file("zipkin.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: zipkin-pause}\n"
             "targets:\n  demo: {process: {pidfile: " +
                 pidfile_ +
                 "}}\n"
                 "faults:\n  - {name: freeze, kind: process_pause, target: demo, duration: 60s}\n"
                 "abort_when:\n"
                 "  - name: shop-errors\n"
                 "    sli:\n"
                 "      source: {zipkin: \"" +
                 zipkin.url() +
                 "\", poll_interval: 200ms}\n"
                 "      service: shop\n"
                 "      error_rate_above: 10%\n"
                 "      window: 30s\n"
                 "    interval: 100ms\n");
  auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(run_cli({"run", exp}), 2) << out_ << err_;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s) << "the SLI ended it, not the 60s";
  EXPECT_NE(out_.find("GUARDRAIL shop-errors BREACHED: shop: error ratio"), std::string::npos)
      << out_;
  EXPECT_NE(process_state(target), 'T');
  EXPECT_GT(zipkin.queries(), 0u);
}

// --- faultline abort --------------------------------------------------------------------------

std::string run_id_in(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("run (r-[0-9a-f]+)")) ? m[1].str() : "";
}

TEST_F(CliRun, AbortCommandStopsAnEmbeddedRunOnThisMachine) {
  start_demo(true);
  pid_t target = demo_pid();
  auto cli = start_paused_run(target, false);
  ASSERT_EQ(process_state(target), 'T');
  std::string id = run_id_in(read_file(dir_.file("out.txt")));
  ASSERT_NE(id, "");
  ChildProcess abort({kBin + "/faultline", "abort", id, "--reason", "stopped by the game master"},
                     dir_.file("abort.out"), dir_.file("abort.err"));
  EXPECT_EQ(abort.wait(30000ms), 0) << read_file(dir_.file("abort.err"));
  EXPECT_EQ(cli->wait(10000ms), 2);
  std::string out = read_file(dir_.file("out.txt"));
  EXPECT_NE(out.find("ABORTED (stopped by the game master"), std::string::npos) << out;
  EXPECT_NE(out.find("every fault reverted"), std::string::npos) << out;
  EXPECT_NE(process_state(target), 'T');
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/runs/" + id)) << "run file left behind";
  // Nothing runs under that id any more.
  EXPECT_EQ(run_cli({"abort", id}), 3);
  EXPECT_NE(err_.find("no run " + id + " on this machine"), std::string::npos) << err_;
}

TEST_F(CliRun, AbortCommandStopsARunOnTheControllerAndSaysHowFastItReverted) {
  start_demo(true);
  start_controller_and_injector();
  pid_t target = demo_pid();
  auto cli = start_paused_run(target, true);
  ASSERT_EQ(process_state(target), 'T');
  std::string id = run_id_in(read_file(dir_.file("out.txt")));
  ASSERT_NE(id, "");
  ChildProcess abort({kBin + "/faultline", "abort", id, "--controller", controller_addr_},
                     dir_.file("abort.out"), dir_.file("abort.err"));
  EXPECT_EQ(abort.wait(30000ms), 0) << read_file(dir_.file("abort.err"));
  std::string said = read_file(dir_.file("abort.out"));
  EXPECT_NE(said.find("run " + id + " ABORTED: aborted with faultline abort"), std::string::npos)
      << said;
  EXPECT_TRUE(std::regex_search(said, std::regex("every fault reverted [0-9]+ ms after the abort")))
      << said;
  EXPECT_EQ(cli->wait(10000ms), 2);
  EXPECT_NE(process_state(target), 'T');
  // A second abort finds the run over; an unknown id is an error.
  EXPECT_EQ(run_cli({"abort", id, "--controller", controller_addr_}), 1) << out_ << err_;
  EXPECT_NE(err_.find("had already ended"), std::string::npos) << err_;
  EXPECT_EQ(run_cli({"abort", "r-0000000000", "--controller", controller_addr_}), 3);
  // The controller keeps the run after it ended, also across its own restart.
  ASSERT_EQ(run_cli({"runs", "--controller", controller_addr_}), 0) << err_;
  EXPECT_TRUE(std::regex_search(out_, std::regex(id + " +hit-and-recover .* ABORTED"))) << out_;
  controller_->signal(SIGTERM);
  controller_->wait(10000ms);
  controller_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{kBin + "/faultline-controller", "--listen", controller_addr_,
                               "--otlp-listen", "off", "--insecure"},
      "", dir_.file("controller2.log"));
  ASSERT_TRUE(wait_until(
      [&] {
        return run_cli({"journal", id, "--controller", controller_addr_}, 5000ms) == 0;
      },
      10000ms))
      << err_ << read_file(dir_.file("controller2.log"));
  EXPECT_NE(out_.find("\"type\": \"EVENT_TYPE_ALL_REVERTED\""), std::string::npos) << out_;
}

TEST(CliNetwork, DelayFromAnExperimentIsMeasuredAndLeavesNothingBehind) {
  TwoHosts net;
  ASSERT_TRUE(net.ok());
  TempDir dir;
  setenv("FAULTLINE_STATE_DIR", dir.path().c_str(), 1);
  std::string exp = dir.file("delay.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\n"
             "kind: Experiment\n"
             "metadata: {name: slow-link}\n"
             "targets:\n"
             "  link:\n"
             "    network: {namespace: " +
                 net.a() +
                 ", interface: a0, destinations: "
                 "[10.77.0.2/32]}\n"
                 "faults:\n"
                 "  - {name: slow, kind: network_delay, target: link, duration: 4s, params: "
                 "{delay: 80ms}}\n");
  std::string plan = capture(kBin + "/faultline plan " + exp + " 2>&1");
  EXPECT_NE(plan.find("slow (network_delay via nfqueue)"), std::string::npos) << plan;

  // Naming a backend this kernel lacks fails at plan time, saying what the node offers.
  std::string netem = dir.file("netem.yaml");
  std::string text = read_file(exp);
  write_file(netem, text.replace(text.find("delay: 80ms"), 11, "delay: 80ms, backend: netem"));
  std::string refused = capture(kBin + "/faultline plan " + netem + " 2>&1");
  EXPECT_NE(refused.find("cannot do network_delay with backend netem (it offers: nfqueue)"),
            std::string::npos)
      << refused;

  ChildProcess run({kBin + "/faultline", "run", exp}, dir.file("out.txt"), dir.file("err.txt"));
  ASSERT_TRUE(wait_until([&] { return net.ping_from_a("10.77.0.2", 1).min_ms >= 80; }, 5000ms))
      << read_file(dir.file("err.txt"));
  PingStats during = net.ping_from_a("10.77.0.2", 10);
  EXPECT_GE(during.min_ms, 80.0);
  EXPECT_LT(during.median_ms, 82.0);
  EXPECT_LT(net.ping_from_a("10.77.0.3", 5).median_ms, 5.0) << "outside the target's scope";
  ASSERT_EQ(run.wait(30000ms), 0) << read_file(dir.file("out.txt"))
                                  << read_file(dir.file("err.txt"));
  // The journal tells what the engine did to the packets.
  EXPECT_TRUE(std::regex_search(read_file(dir.file("out.txt")),
                                std::regex("fault slow reverted on .+; achieved: [1-9][0-9]* "
                                           "packets seen, 0 dropped")))
      << read_file(dir.file("out.txt"));
  EXPECT_LT(net.ping_from_a("10.77.0.2", 10).median_ms, 5.0);
  EXPECT_EQ(faultline_chains(net.a()), "");
  unsetenv("FAULTLINE_STATE_DIR");
}

// Fail closed: a fault the ledger cannot record could not be taken back after a crash, so
// without a ledger nothing is applied — by an embedded run or by the injector daemon.
TEST_F(CliRun, WithoutALedgerNothingIsAppliedAndTheInjectorDoesNotStart) {
  start_demo(false);
  pid_t target = demo_pid();
  std::string ledger = dir_.file("ledger");
  write_file(ledger, "a file where the ledger directory should be\n");
  std::string exp = write_experiment("process_pause", "5s", "10s");
  EXPECT_EQ(run_cli({"run", exp}), 3) << out_ << err_;
  EXPECT_NE(err_.find("cannot open the fault ledger at " + ledger), std::string::npos) << err_;
  EXPECT_EQ(out_.find("applied"), std::string::npos) << out_;
  EXPECT_NE(process_state(target), 'T') << "the target was paused without a ledger";

  // A plan applies nothing: it goes ahead, and says what it could not do.
  EXPECT_EQ(run_cli({"plan", exp}), 0) << out_ << err_;
  EXPECT_NE(err_.find("warning: cannot open the fault ledger"), std::string::npos) << err_;

  ChildProcess injector(
      {kBin + "/faultline-injector", "--insecure", "--controller",
       "127.0.0.1:" + std::to_string(free_port()), "--node", "no-ledger", "--ledger", ledger},
      "", dir_.file("injector.err"));
  EXPECT_EQ(injector.wait(10000ms), 3) << read_file(dir_.file("injector.err"));
  EXPECT_NE(read_file(dir_.file("injector.err")).find("cannot open the fault ledger"),
            std::string::npos)
      << read_file(dir_.file("injector.err"));
}

// Ctrl-C while the experiment is still loading (a file that is slow to read: a FIFO nobody
// has written yet): no run starts, nothing is applied, and the exit code is 2 — not a full
// run that ignored the signal.
TEST_F(CliRun, CtrlCBeforeTheRunStartsAppliesNothingAndExitsTwo) {
  start_demo(false);
  pid_t target = demo_pid();
  std::string text =
      "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: big}\n"
      "targets:\n  demo:\n    process: {pidfile: " +
      pidfile_ +
      "}\n"
      "faults:\n  - {name: hit-demo, kind: process_pause, target: demo, duration: 20s}\n";
  std::string exp = dir_.file("slow.yaml");
  ASSERT_EQ(::mkfifo(exp.c_str(), 0600), 0);
  auto cli = faultline({"run", exp});
  std::this_thread::sleep_for(300ms);  // started, and still reading the file
  cli->signal(SIGINT);
  // The load completes after the signal. Non-blocking: a CLI that died of the signal is no
  // reader, and the test must fail, not hang.
  int fifo = ::open(exp.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fifo, 0) << "the CLI is not reading the file any more: " << std::strerror(errno);
  ASSERT_EQ(::write(fifo, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fifo);
  EXPECT_EQ(cli->wait(30000ms), 2) << read_file(dir_.file("err.txt"));
  EXPECT_NE(read_file(dir_.file("err.txt"))
                .find("interrupted by INT before the run started; nothing was applied"),
            std::string::npos)
      << read_file(dir_.file("err.txt")) << read_file(dir_.file("out.txt"));
  EXPECT_NE(process_state(target), 'T') << "the fault was applied after Ctrl-C";
  EXPECT_EQ(read_file(dir_.file("out.txt")).find("applied"), std::string::npos)
      << read_file(dir_.file("out.txt"));
}

}  // namespace
}  // namespace faultline::testing
