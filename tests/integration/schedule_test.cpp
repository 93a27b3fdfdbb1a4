// Scheduled experiments on the real daemons: a faultline-controller and a faultline-injector
// (plaintext, loopback), driven by the real `faultline schedule` commands. The experiment
// pauses a `sleep` process this test started, for a second: harmless and passing.
#include <signal.h>

#include <ctime>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/child_process.h"
#include "support/faultline_cli.h"

namespace faultline::testing {
namespace {

const std::string kBin = FAULTLINE_BIN_DIR;

int64_t json_int(const nlohmann::json& j) {
  // The protobuf JSON mapping writes 64-bit integers as strings.
  return j.is_string() ? std::stoll(j.get<std::string>()) : j.get<int64_t>();
}

// "2026-11-23T16:35:50Z" -> unix milliseconds.
int64_t utc_ms(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return -1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// One schedule's block in `faultline schedule list`.
struct Listed {
  bool found = false;
  bool paused = false;
  std::string header, next;
  int64_t last_fire_ms = 0;
  std::string run, outcome;
};

class Schedule : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
    setenv("FAULTLINE_INSECURE", "1", 1);
    sleeper_ = std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sleep", "300"});
    pidfile_ = dir_.file("sleeper.pid");
    write_file(pidfile_, std::to_string(sleeper_->pid()) + "\n");
    addr_ = "127.0.0.1:" + std::to_string(free_port());
  }

  std::string experiment(const std::string& file, const std::string& duration) {
    std::string path = dir_.file(file);
    write_file(path,
               "apiVersion: faultline/v1\n"
               "kind: Experiment\n"
               "metadata:\n"
               "  name: pause-sleeper\n"
               "targets:\n"
               "  sleeper:\n"
               "    process:\n"
               "      pidfile: " +
                   pidfile_ +
                   "\n"
                   "faults:\n"
                   "  - name: pause-it\n"
                   "    kind: process_pause\n"
                   "    target: sleeper\n"
                   "    duration: " +
                   duration + "\n");
    return path;
  }

  void start_controller(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{
        kBin + "/faultline-controller", "--listen", addr_, "--insecure", "--otlp-listen", "off"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    log_ = dir_.file("controller" + std::to_string(++starts_) + ".log");
    controller_ = std::make_unique<ChildProcess>(argv, "", log_);
  }

  void start_injector() {
    injector_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kBin + "/faultline-injector", "--insecure", "--controller", addr_,
                                 "--node", "node-a"},
        "", dir_.file("injector.log"));
    ASSERT_TRUE(cli_.wait_connected(addr_, "node-a"))
        << read_file(log_) << read_file(dir_.file("injector.log"));
  }

  int cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 20000ms) {
    int code = cli_.run(std::move(args), timeout);
    out_ = cli_.out(), err_ = cli_.err();
    return code;
  }

  int schedule(std::vector<std::string> args) {
    args.insert(args.begin(), {"schedule", "--controller", addr_});
    return cli(args);
  }

  Listed listed(const std::string& name) {
    Listed l;
    EXPECT_EQ(schedule({"list"}), 0) << err_;
    std::smatch m;
    std::regex block("(^|\n)(" + name + "  \"[^\n]*)\n  next +([^\n]*)\n  last +([^\n]*)");
    if (!std::regex_search(out_, m, block)) return l;
    l.found = true;
    l.header = m[2];
    l.paused = l.header.find("PAUSED") != std::string::npos;
    l.next = m[3];
    std::string last = m[4];
    std::smatch lm;
    if (std::regex_search(last, lm, std::regex("=  (\\S+)  run (\\S+)  (.*)$"))) {
      l.last_fire_ms = utc_ms(lm[1]);
      l.run = lm[2];
      l.outcome = lm[3];
    }
    return l;
  }

  // The run as the controller's journal has it.
  nlohmann::json journal(const std::string& run_id) {
    if (cli({"journal", run_id, "--controller", addr_}) != 0) return {};
    return nlohmann::json::parse(out_, nullptr, false);
  }

  TempDir dir_;
  FaultlineCli cli_{kBin, dir_};
  std::unique_ptr<ChildProcess> sleeper_, controller_, injector_;
  std::string pidfile_, addr_, log_, out_, err_;
  int starts_ = 0;
};

TEST_F(Schedule, FiresOnTimePausesResumesSkipsQueuesAndIsRemoved) {
  start_controller();
  start_injector();
  std::string exp = experiment("pulse.yaml", "1s");
  ASSERT_EQ(schedule({"add", "pulse", exp, "--cron", "*/5 * * * * *"}), 0) << out_ << err_;
  EXPECT_NE(out_.find("schedule pulse added"), std::string::npos) << out_;

  // Fires at the next multiple of 5 s, within a second of it.
  Listed first;
  ASSERT_TRUE(wait_until([&] { return !(first = listed("pulse")).run.empty(); }, 8000ms))
      << out_ << read_file(log_);
  EXPECT_EQ(first.outcome, "submitted");
  EXPECT_EQ(first.last_fire_ms % 5000, 0) << first.last_fire_ms;
  auto run = journal(first.run);
  ASSERT_TRUE(run.is_object()) << err_;
  int64_t started =
      json_int(run["summary"].contains("started_unix_ms") ? run["summary"]["started_unix_ms"]
                                                          : run["events"][0]["unix_ms"]);
  EXPECT_GE(started, first.last_fire_ms);
  EXPECT_LE(started - first.last_fire_ms, 1000) << "fired late";
  // It really ran, and passed.
  ASSERT_TRUE(wait_until(
      [&] { return journal(first.run).value("state", "") == "RUN_STATE_PASSED"; }, 8000ms))
      << out_;

  // Paused, it does not fire.
  ASSERT_EQ(schedule({"pause", "pulse"}), 0) << err_;
  EXPECT_NE(out_.find("PAUSED"), std::string::npos) << out_;
  Listed paused = listed("pulse");
  EXPECT_TRUE(paused.paused);
  EXPECT_EQ(paused.next, "- (paused)");
  std::this_thread::sleep_for(6s);
  EXPECT_EQ(listed("pulse").last_fire_ms, paused.last_fire_ms) << out_;

  // A long run holds the sleeper; resumed, the schedule fires again and skips (its overlap).
  auto long_run = std::make_unique<ChildProcess>(
      std::vector<std::string>{kBin + "/faultline", "run", experiment("long.yaml", "40s"),
                               "--controller", addr_},
      dir_.file("long.out"), dir_.file("long.err"));
  ASSERT_TRUE(wait_until([&] { return process_state(sleeper_->pid()) == 'T'; }, 10000ms))
      << read_file(dir_.file("long.err"));
  ASSERT_EQ(schedule({"resume", "pulse"}), 0) << err_;
  Listed skipped;
  ASSERT_TRUE(wait_until(
      [&] { return (skipped = listed("pulse")).last_fire_ms > paused.last_fire_ms; }, 8000ms))
      << out_;
  EXPECT_EQ(skipped.run, "-");
  EXPECT_NE(skipped.outcome.find("skipped: experiment \"pause-sleeper\" conflicts with run r-"),
            std::string::npos)
      << skipped.outcome;

  // With overlap=queue the fire queues behind the holder, and runs once it has ended.
  ASSERT_EQ(schedule({"add", "pulse-q", exp, "--cron", "*/5 * * * * *", "--overlap", "queue"}), 0)
      << err_;
  Listed queued;
  ASSERT_TRUE(wait_until([&] { return !(queued = listed("pulse-q")).run.empty(); }, 8000ms))
      << out_;
  EXPECT_NE(queued.run, "-");
  EXPECT_EQ(queued.outcome.rfind("queued: ", 0), 0u) << queued.outcome;
  EXPECT_EQ(journal(queued.run).value("state", ""), "RUN_STATE_PENDING");
  ASSERT_EQ(schedule({"pause", "pulse-q"}), 0);  // one queued run is enough

  // Removed, it is gone; removing again is an error naming it.
  ASSERT_EQ(schedule({"rm", "pulse"}), 0) << err_;
  EXPECT_FALSE(listed("pulse").found);
  EXPECT_TRUE(listed("pulse-q").found);
  EXPECT_EQ(schedule({"rm", "pulse"}), 3);
  EXPECT_EQ(err_, "faultline: no schedule named \"pulse\"\n");

  // Ctrl-C ends the long run (aborted on the controller); the queued run then takes over.
  long_run->signal(SIGINT);
  EXPECT_EQ(long_run->wait(15000ms), 2) << read_file(dir_.file("long.out"));
  ASSERT_TRUE(wait_until(
      [&] { return journal(queued.run).value("state", "") == "RUN_STATE_PASSED"; }, 10000ms))
      << out_ << read_file(log_);
  ASSERT_EQ(schedule({"rm", "pulse-q"}), 0) << err_;
  EXPECT_EQ(schedule({"list"}), 0);
  EXPECT_EQ(out_, "no schedules\n");
  // Every fire was the schedule's own doing, in the journal of who submitted what.
  std::string log = read_file(log_);
  EXPECT_NE(log.find("by=schedule:pulse "), std::string::npos);
  EXPECT_NE(log.find("by=schedule:pulse-q "), std::string::npos);

  // Retention: restarted with --retain-runs 1, only the newest finished run is kept.
  ASSERT_EQ(cli({"runs", "--controller", addr_}), 0) << err_;
  std::regex run_id("r-[0-9a-f]{10}");
  auto count_runs = [&] {
    return std::distance(std::sregex_iterator(out_.begin(), out_.end(), run_id),
                         std::sregex_iterator());
  };
  EXPECT_GE(count_runs(), 3) << out_;
  controller_->signal(SIGTERM);
  ASSERT_EQ(controller_->wait(10000ms), 0);
  ChildProcess bad(
      {kBin + "/faultline-controller", "--listen", addr_, "--insecure", "--retain-for", "3x"}, "",
      dir_.file("bad.err"));
  EXPECT_EQ(bad.wait(10000ms), 3);
  EXPECT_NE(read_file(dir_.file("bad.err")).find("--retain-for \"3x\""), std::string::npos)
      << read_file(dir_.file("bad.err"));
  start_controller({"--retain-runs", "1"});
  ASSERT_TRUE(wait_until(
      [&] {
        return cli({"runs", "--controller", addr_}, 2000ms) == 0;
      },
      10000ms))
      << err_ << read_file(log_);
  EXPECT_EQ(count_runs(), 1) << out_;
  EXPECT_NE(out_.find(queued.run), std::string::npos) << "the newest run stays: " << out_;
}

TEST_F(Schedule, SurvivesAControllerRestartAndOnlyOperatorsChangeIt) {
  write_secret_file(dir_.file("tokens.csv"),
                    "viewer-secret-0123456789abcdef,vera,viewer\n"
                    "operator-secret-0123456789abcdef,otto,operator\n");
  write_secret_file(dir_.file("viewer.tok"), "viewer-secret-0123456789abcdef\n");
  write_secret_file(dir_.file("operator.tok"), "operator-secret-0123456789abcdef\n");
  std::vector<std::string> args{"--token-file", dir_.file("tokens.csv")};
  start_controller(args);
  std::string viewer = "--token-file=" + dir_.file("viewer.tok");
  std::string op = "--token-file=" + dir_.file("operator.tok");
  std::string exp = experiment("nightly.yaml", "1s");
  ASSERT_TRUE(wait_until(
      [&] {
        return cli({viewer, "schedule", "list", "--controller", addr_}, 2000ms) == 0;
      },
      10000ms))
      << err_ << read_file(log_);
  EXPECT_EQ(out_, "no schedules\n");

  // A viewer may look, not add; bad input is refused with the reason and nothing is kept.
  EXPECT_EQ(cli({viewer, "schedule", "add", "nightly", exp, "--cron", "30 2 * * *", "--controller",
                 addr_}),
            3);
  EXPECT_NE(err_.find("AddSchedule needs role operator; token vera has role viewer"),
            std::string::npos)
      << err_;
  EXPECT_EQ(cli({op, "schedule", "add", "nightly", exp, "--cron", "30 2 * * * *", "--tz",
                 "Europe/Berlin", "--controller", addr_}),
            0)
      << "6 fields are valid: " << err_;
  ASSERT_EQ(cli({op, "schedule", "rm", "nightly", "--controller", addr_}), 0) << err_;
  EXPECT_EQ(cli({op, "schedule", "add", "nightly", exp, "--cron", "30 2 * * MOON", "--controller",
                 addr_}),
            3);
  EXPECT_NE(err_.find("day-of-week field \"MOON\""), std::string::npos) << err_;
  EXPECT_EQ(cli({op, "schedule", "add", "nightly", exp, "--cron", "30 2 * * *", "--tz",
                 "Europe/Atlantis", "--controller", addr_}),
            3);
  EXPECT_NE(err_.find("time zone \"Europe/Atlantis\": unknown"), std::string::npos) << err_;
  write_file(dir_.file("broken.yaml"), "apiVersion: faultline/v1\nkind: Experiment\n");
  EXPECT_EQ(cli({op, "schedule", "add", "nightly", dir_.file("broken.yaml"), "--cron", "30 2 * * *",
                 "--controller", addr_}),
            3);
  EXPECT_NE(err_.find(dir_.file("broken.yaml") + ":"), std::string::npos) << err_;
  EXPECT_EQ(cli({viewer, "schedule", "list", "--controller", addr_}), 0);
  EXPECT_EQ(out_, "no schedules\n");

  ASSERT_EQ(cli({op, "schedule", "add", "nightly", exp, "--cron", "30 2 * * *", "--tz",
                 "Europe/Berlin", "--controller", addr_}),
            0)
      << err_;
  EXPECT_TRUE(
      std::regex_search(out_, std::regex("next    [0-9-]+ 02:30:00 CES?T \\(\\+0[12]:00\\)  "
                                         "=  [0-9-]+T0[01]:30:00Z")))
      << out_;
  EXPECT_EQ(cli({viewer, "schedule", "pause", "nightly", "--controller", addr_}), 3);
  ASSERT_EQ(cli({op, "schedule", "pause", "nightly", "--controller", addr_}), 0) << err_;

  // The schedule is in the store: a new controller process has it, still paused.
  controller_->signal(SIGTERM);
  ASSERT_EQ(controller_->wait(10000ms), 0);
  start_controller(args);
  ASSERT_TRUE(wait_until(
      [&] {
        return cli({viewer, "schedule", "list", "--controller", addr_}, 2000ms) == 0;
      },
      10000ms))
      << err_ << read_file(log_);
  EXPECT_NE(out_.find("nightly  \"30 2 * * *\"  Europe/Berlin  overlap=skip  PAUSED  "
                      "experiment=pause-sleeper"),
            std::string::npos)
      << out_;
  ASSERT_EQ(cli({op, "schedule", "resume", "nightly", "--controller", addr_}), 0) << err_;
  EXPECT_NE(out_.find("active"), std::string::npos) << out_;
  EXPECT_NE(out_.find(" 02:30:00 CE"), std::string::npos) << out_;

  // Every call, refusals included, is in the audit trail.
  std::string audit = read_file(dir_.file("audit.log"));
  EXPECT_NE(audit.find("AddSchedule"), std::string::npos);
  EXPECT_NE(audit.find("needs role operator"), std::string::npos);
  EXPECT_NE(audit.find("PauseSchedule"), std::string::npos);
  EXPECT_NE(audit.find("ResumeSchedule"), std::string::npos);
  EXPECT_NE(audit.find("ListSchedules"), std::string::npos);
}

}  // namespace
}  // namespace faultline::testing
