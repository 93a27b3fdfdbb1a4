// Fleet scale, against the real faultline-controller binary (a child of this process) with
// lightweight protocol clients standing in for injectors (bench/protocol_fleet.h), each on its
// own TCP connection:
//   connect N[,N...] [IDLE_SECONDS]   controller memory per connected injector, and the CPU
//                                     the controller spends on their heartbeats while idle
//                                     (a fresh controller for each N);
//   fanout  N[,N...] [ROUNDS[,...]]   one process_pause fault on every connected node
//                                     (target `nodes: {selector: ..., mode: all}`) submitted
//                                     through the controller API, ROUNDS runs per N: the time
//                                     from the first ApplyFault to the last ack, as the
//                                     clients saw it, and the run's own journal times.
//   halt    N[,N...] [ROUNDS[,...]]   the halt switch with one run holding a fault on every
//                                     node: how long the Halt call takes, and from the call to
//                                     the last revert ack the clients wrote.
// Usage: fleet_bench connect 100,1000,10000 30 | fleet_bench fanout 10,100,1000 30,30,10 |
//        fleet_bench halt 100 30
// Results as Markdown on stdout, progress on stderr. FAULTLINE_CONTROLLER=PATH runs another
// controller binary (an older build, for a side-by-side figure).
// Every client holds one socket in this process and one in the controller: both raise their
// open-file soft limit to the hard limit, and a size that does not fit under it is refused.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "faultline/v1/controller_api.grpc.pb.h"
#include "protocol_fleet.h"
#include "support/child_process.h"

using namespace faultline;
using namespace faultline::testing;
using namespace std::chrono_literals;
namespace pb = ::faultline::v1;

namespace {

const std::string kBin = FAULTLINE_BIN_DIR;

std::string controller_binary() {
  const char* other = std::getenv("FAULTLINE_CONTROLLER");
  return other && *other ? other : kBin + "/faultline-controller";
}

// The running controller, for the signal handler: an interrupted bench must not leave it behind.
volatile sig_atomic_t g_controller_pid = 0;

void on_signal(int sig) {
  if (g_controller_pid > 0) kill(g_controller_pid, SIGKILL);
  _exit(128 + sig);
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::vector<int> int_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

// What /proc says about one process.
struct ProcSample {
  long rss_kib = 0, hwm_kib = 0, threads = 0;
  double cpu_s = 0;  // utime + stime
};

ProcSample sample(pid_t pid) {
  ProcSample s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") status >> s.rss_kib;
    if (key == "VmHWM:") status >> s.hwm_kib;
    if (key == "Threads:") status >> s.threads;
  }
  s.cpu_s = cpu_seconds(pid);
  return s;
}

// Established TCP connections to `port`, counted by ss: proof that each client has its own.
// The bench's own API channel is one more.
int connections_to(int port) {
  std::string out =
      capture("ss -Htn state established '( dport = :" + std::to_string(port) + " )' | wc -l");
  return std::atoi(out.c_str());
}

// Raises this process's open-file soft limit to the hard one (no capability needed) and
// returns it.
long raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<long>(rl.rlim_cur);
}

// Sizes that need more sockets than the open-file limit allows (with room for the rest of
// the process) cannot be measured here: said, and left out.
std::vector<int> fitting(const std::vector<int>& sizes) {
  long limit = raise_fd_limit();
  std::vector<int> out;
  for (int n : sizes) {
    if (n + 256 > limit)
      std::fprintf(stderr,
                   "n=%d left out: needs about %d open files, the limit is %ld (ulimit -Hn)\n", n,
                   n + 256, limit);
    else
      out.push_back(n);
  }
  return out;
}

// CPU seconds this process (the clients) has used.
double own_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The real controller binary on a free loopback port, with its own store and audit log.
class Controller {
 public:
  Controller() {
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
    port_ = free_port();
    addr_ = "127.0.0.1:" + std::to_string(port_);
    child_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{controller_binary(), "--listen", addr_, "--otlp-listen", "off",
                                 "--insecure", "--store", dir_.file("store.db"), "--audit-log",
                                 dir_.file("audit.log")},
        "", dir_.file("controller.log"));
    g_controller_pid = child_->pid();
    channel_ = grpc::CreateChannel(addr_, grpc::InsecureChannelCredentials());
    api_ = pb::ControllerApi::NewStub(channel_);
    if (!channel_->WaitForConnected(std::chrono::system_clock::now() + 10s)) die("did not start");
  }
  ~Controller() { g_controller_pid = 0; }
  pid_t pid() const { return child_->pid(); }
  int port() const { return port_; }
  const std::string& address() const { return addr_; }
  pb::ControllerApi::Stub& api() { return *api_; }

  int injectors() {
    grpc::ClientContext ctx;
    pb::ListInjectorsRequest req;
    pb::ListInjectorsResponse resp;
    if (!api_->ListInjectors(&ctx, req, &resp).ok()) return -1;
    return resp.injectors_size();
  }

  [[noreturn]] void die(const std::string& why) {
    std::string log = read_file(dir_.file("controller.log"));
    if (log.size() > 3000) log = log.substr(log.size() - 3000);
    std::fprintf(stderr, "controller %s; its log ends:\n%s\n", why.c_str(), log.c_str());
    // exit() runs no destructor of ours: the controller would outlive the bench (and keep
    // whatever it inherited, such as a lock the bench ran under).
    if (g_controller_pid > 0) kill(g_controller_pid, SIGKILL);
    std::exit(1);
  }
  void check_alive() {
    if (!child_->running()) die("exited");
  }

 private:
  TempDir dir_;
  int port_ = 0;
  std::string addr_;
  std::unique_ptr<ChildProcess> child_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::ControllerApi::Stub> api_;
};

// CPU seconds the process used over `seconds` of wall time.
double cpu_over(pid_t pid, int seconds) {
  double before = sample(pid).cpu_s;
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  return sample(pid).cpu_s - before;
}

void connect_mode(const std::vector<int>& sizes, int idle_s) {
  std::printf(
      "| injectors | connect all | controller RSS before | after | per injector | "
      "controller threads | TCP connections (+1 API) | heartbeats/s | controller CPU, idle "
      "(baseline with 0) | CPU per heartbeat | bench CPU (the clients) |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int n : sizes) {
    Controller ctl;  // inherits our raised limit, and raises its own at start
    std::this_thread::sleep_for(2s);
    ProcSample before = sample(ctl.pid());
    std::fprintf(stderr, "n=%d: baseline CPU over %d s with no injectors\n", n, idle_s);
    double base_cpu = cpu_over(ctl.pid(), idle_s);

    bench::ProtocolFleet fleet(ctl.address(), "bench", {{"fleet", "bench"}});
    MonoTime t0 = MonoClock::now();
    bool ok = fleet.grow_to(n, 60s);
    double connect_s = std::chrono::duration<double>(MonoClock::now() - t0).count();
    ctl.check_alive();
    if (!ok)
      ctl.die("did not take " + std::to_string(n) + " injectors (registered " +
              std::to_string(fleet.counters().registered) + ")");
    std::fprintf(stderr, "n=%d: connected in %.1f s; settling\n", n, connect_s);
    std::this_thread::sleep_for(10s);
    int listed = ctl.injectors();
    int conns = connections_to(ctl.port());
    ProcSample after = sample(ctl.pid());
    std::fprintf(stderr, "n=%d: listed=%d tcp=%d; CPU over %d s\n", n, listed, conns, idle_s);
    uint64_t hb0 = fleet.counters().heartbeats_sent;
    double own0 = own_cpu_seconds();
    double cpu = cpu_over(ctl.pid(), idle_s);
    double hb = static_cast<double>(fleet.counters().heartbeats_sent - hb0);
    double own = own_cpu_seconds() - own0;
    ctl.check_alive();
    if (listed != n)
      ctl.die("lists " + std::to_string(listed) + " injectors, not " + std::to_string(n));
    double per_kib = static_cast<double>(after.rss_kib - before.rss_kib) / n;
    std::printf(
        "| %d | %.1f s | %.1f MiB | %.1f MiB | %.0f KiB | %ld -> %ld | %d | %.0f | "
        "%.2f%% (%.2f%%) | %.1f µs | %.0f%% |\n",
        n, connect_s, before.rss_kib / 1024.0, after.rss_kib / 1024.0, per_kib, before.threads,
        after.threads, conns - 1, hb / idle_s, 100.0 * cpu / idle_s, 100.0 * base_cpu / idle_s,
        hb > 0 ? (cpu - base_cpu) / hb * 1e6 : 0.0, 100.0 * own / idle_s);
    std::fflush(stdout);
  }
}

std::string fanout_yaml(int n, const std::string& duration = "500ms") {
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata:\n  name: fleet-fanout-" +
         std::to_string(n) +
         "\ntargets:\n  fleet:\n    nodes: {selector: {fleet: bench}, mode: all}\n"
         "    process: {pidfile: /run/fleet-bench/none.pid}\n"
         "faults:\n  - {name: pause-all, kind: process_pause, target: fleet, duration: " +
         duration + "}\n";
}

bool finished(pb::RunState s) {
  return s == pb::RUN_STATE_PASSED || s == pb::RUN_STATE_FAILED || s == pb::RUN_STATE_ABORTED ||
         s == pb::RUN_STATE_ERROR;
}

// One run through the controller; fills the controller's journal times (ms since the run
// began). Returns "" or what went wrong.
struct RunTimes {
  double injecting_ms = 0, first_applied_ms = -1, last_applied_ms = 0, last_reverted_ms = 0;
  int applied = 0, reverted = 0;
};

std::string run_once(Controller& ctl, int n, RunTimes& t) {
  pb::SubmitExperimentRequest req;
  req.set_yaml(fanout_yaml(n));
  req.set_source_name("fleet-fanout.yaml");
  pb::SubmitExperimentResponse resp;
  {
    grpc::ClientContext ctx;
    grpc::Status s = ctl.api().SubmitExperiment(&ctx, req, &resp);
    if (!s.ok()) return "submit: " + s.error_message();
  }
  pb::Run run;
  MonoTime deadline = MonoClock::now() + 120s;
  for (;;) {
    std::this_thread::sleep_for(50ms);
    grpc::ClientContext ctx;
    pb::GetRunRequest get;
    get.set_run_id(resp.run_id());
    if (!ctl.api().GetRun(&ctx, get, &run).ok()) return "GetRun failed";
    if (finished(run.state())) break;
    if (MonoClock::now() > deadline) return "run did not finish in 120 s";
  }
  if (run.state() != pb::RUN_STATE_PASSED)
    return "run ended " + pb::RunState_Name(run.state()) + ": " + run.summary().DebugString();
  // The journal comes in pages (at most 5000 events each); a run on 1000 nodes has more than
  // one page of the default 1000.
  std::vector<pb::RunEvent> events(run.events().begin(), run.events().end());
  while (run.more_events() && !events.empty()) {
    grpc::ClientContext ctx;
    pb::GetRunRequest next;
    next.set_run_id(resp.run_id());
    next.set_after_seq(events.back().seq());
    next.set_max_events(5000);
    if (!ctl.api().GetRun(&ctx, next, &run).ok()) return "GetRun (next page) failed";
    events.insert(events.end(), run.events().begin(), run.events().end());
  }
  for (const auto& ev : events) {
    if (ev.type() == pb::EVENT_TYPE_STATE_CHANGED && ev.state() == pb::RUN_STATE_INJECTING)
      t.injecting_ms = static_cast<double>(ev.elapsed_ms());
    if (ev.type() == pb::EVENT_TYPE_FAULT_APPLIED) {
      t.applied++;
      if (t.first_applied_ms < 0) t.first_applied_ms = static_cast<double>(ev.elapsed_ms());
      t.last_applied_ms = static_cast<double>(ev.elapsed_ms());
    }
    if (ev.type() == pb::EVENT_TYPE_FAULT_REVERTED) {
      t.reverted++;
      t.last_reverted_ms = static_cast<double>(ev.elapsed_ms());
    }
  }
  if (t.applied != n || t.reverted != n)
    return "applied " + std::to_string(t.applied) + " and reverted " + std::to_string(t.reverted) +
           " of " + std::to_string(n);
  return "";
}

void fanout_mode(const std::vector<int>& sizes, std::vector<int> rounds) {
  while (rounds.size() < sizes.size()) rounds.push_back(rounds.back());
  Controller ctl;
  bench::ProtocolFleet fleet(ctl.address(), "bench", {{"fleet", "bench"}});
  auto& c = fleet.counters();
  std::printf(
      "| injectors | rounds | apply: first ApplyFault to last ack, p50 / p99 | revert, "
      "p50 / p99 | journal: INJECTING to first FAULT_APPLIED, p50 / p99 | to last, p50 / p99 "
      "|\n|---|---|---|---|---|---|\n");
  for (size_t k = 0; k < sizes.size(); ++k) {
    int n = sizes[k];
    if (!fleet.grow_to(n, 60s)) ctl.die("did not take " + std::to_string(n) + " injectors");
    std::this_thread::sleep_for(3s);
    std::vector<double> apply_ms, revert_ms, first_ms, journal_ms;
    for (int r = 0; r < rounds[k]; ++r) {
      c.applies.reset();
      c.reverts.reset();
      RunTimes t;
      std::string err = run_once(ctl, n, t);
      ctl.check_alive();
      if (!err.empty()) ctl.die("run failed with " + std::to_string(n) + " injectors: " + err);
      if (c.applies.acks != n || c.reverts.acks != n)
        ctl.die("clients acked " + std::to_string(c.applies.acks) + " applies and " +
                std::to_string(c.reverts.acks) + " reverts of " + std::to_string(n));
      apply_ms.push_back(c.applies.ms());
      revert_ms.push_back(c.reverts.ms());
      first_ms.push_back(t.first_applied_ms - t.injecting_ms);
      journal_ms.push_back(t.last_applied_ms - t.injecting_ms);
      std::fprintf(stderr, "n=%d round %d: apply %.2f ms, revert %.2f ms, journal %.0f..%.0f ms\n",
                   n, r + 1, apply_ms.back(), revert_ms.back(), first_ms.back(), journal_ms.back());
    }
    std::printf("| %d | %d | %.1f / %.1f ms | %.1f / %.1f ms | %.0f / %.0f ms | %.0f / %.0f ms |\n",
                n, rounds[k], pct(apply_ms, 0.5), pct(apply_ms, 0.99), pct(revert_ms, 0.5),
                pct(revert_ms, 0.99), pct(first_ms, 0.5), pct(first_ms, 0.99), pct(journal_ms, 0.5),
                pct(journal_ms, 0.99));
    std::fflush(stdout);
  }
}

// The halt switch: a run holds a fault on every node; Halt is called and returns once every
// run has ended and every fault is reverted. Measured: the Halt call as its caller sees it,
// and from the call to the last revert ack any client wrote.
void halt_mode(const std::vector<int>& sizes, std::vector<int> rounds) {
  while (rounds.size() < sizes.size()) rounds.push_back(rounds.back());
  Controller ctl;
  bench::ProtocolFleet fleet(ctl.address(), "bench", {{"fleet", "bench"}});
  auto& c = fleet.counters();
  std::printf(
      "| injectors | rounds | Halt call returns, p50 / p99 | Halt to last revert ack, p50 / p99 "
      "| AbortRun of the run to last revert ack, p50 / p99 |\n|---|---|---|---|---|\n");
  for (size_t k = 0; k < sizes.size(); ++k) {
    int n = sizes[k];
    if (!fleet.grow_to(n, 60s)) ctl.die("did not take " + std::to_string(n) + " injectors");
    std::this_thread::sleep_for(3s);
    std::vector<double> call_ms, revert_ms, abort_ms;
    // A run holding a fault on every node; its id.
    auto held_run = [&] {
      c.applies.reset();
      c.reverts.reset();
      pb::SubmitExperimentRequest req;
      req.set_yaml(fanout_yaml(n, "10m"));
      req.set_source_name("fleet-halt.yaml");
      pb::SubmitExperimentResponse resp;
      {
        grpc::ClientContext ctx;
        grpc::Status s = ctl.api().SubmitExperiment(&ctx, req, &resp);
        if (!s.ok()) ctl.die("submit: " + s.error_message());
      }
      MonoTime deadline = MonoClock::now() + 60s;
      while (c.applies.acks < n) {
        if (MonoClock::now() > deadline) ctl.die("the faults were not all applied in 60 s");
        std::this_thread::sleep_for(10ms);
      }
      std::this_thread::sleep_for(200ms);  // the run's INJECTING bookkeeping settles
      return resp.run_id();
    };
    auto mono_ns = [] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 MonoClock::now().time_since_epoch())
          .count();
    };
    for (int r = 0; r < rounds[k]; ++r) {
      // What a user would do without the switch: abort the run (faultline abort), in the
      // same round, for comparison.
      std::string id = held_run();
      const int64_t a0 = mono_ns();
      {
        grpc::ClientContext ctx;
        pb::AbortRunRequest a;
        a.set_run_id(id);
        pb::AbortRunResponse ar;
        if (!ctl.api().AbortRun(&ctx, a, &ar).ok()) ctl.die("abort failed");
      }
      MonoTime deadline = MonoClock::now() + 60s;
      while (c.reverts.acks < n) {
        if (MonoClock::now() > deadline) ctl.die("the abort did not revert every fault in 60 s");
        std::this_thread::sleep_for(1ms);
      }
      abort_ms.push_back(static_cast<double>(c.reverts.last_ack_ns - a0) / 1e6);
      for (pb::Run run;; std::this_thread::sleep_for(20ms)) {  // ended before the next run
        grpc::ClientContext ctx;
        pb::GetRunRequest get;
        get.set_run_id(id);
        get.set_max_events(1);
        if (ctl.api().GetRun(&ctx, get, &run).ok() && finished(run.state())) break;
      }

      held_run();
      const int64_t t0 = mono_ns();
      pb::HaltResponse halted;
      {
        grpc::ClientContext ctx;
        pb::HaltRequest h;
        h.set_reason("fleet bench");
        grpc::Status s = ctl.api().Halt(&ctx, h, &halted);
        if (!s.ok()) ctl.die("halt: " + s.error_message());
      }
      const int64_t t1 = mono_ns();
      // Each fault is reverted by its aborted run; the halt's sweep of what the heartbeats
      // listed skips those (it would add acks if it did not).
      if (c.reverts.acks != n || halted.runs_aborted() != 1)
        ctl.die("halt: clients acked " + std::to_string(c.reverts.acks) + " reverts of " +
                std::to_string(n) + ", runs aborted " + std::to_string(halted.runs_aborted()));
      call_ms.push_back(static_cast<double>(t1 - t0) / 1e6);
      revert_ms.push_back(static_cast<double>(c.reverts.last_ack_ns - t0) / 1e6);
      std::fprintf(stderr,
                   "n=%d round %d: halt returned %.2f ms, last revert ack %.2f ms; abort %.2f ms\n",
                   n, r + 1, call_ms.back(), revert_ms.back(), abort_ms.back());
      grpc::ClientContext ctx;
      pb::HaltState lifted;
      if (!ctl.api().Unhalt(&ctx, pb::UnhaltRequest(), &lifted).ok()) ctl.die("unhalt failed");
      ctl.check_alive();
    }
    std::printf("| %d | %d | %.1f / %.1f ms | %.1f / %.1f ms | %.1f / %.1f ms |\n", n, rounds[k],
                pct(call_ms, 0.5), pct(call_ms, 0.99), pct(revert_ms, 0.5), pct(revert_ms, 0.99),
                pct(abort_ms, 0.5), pct(abort_ms, 0.99));
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if ((mode != "connect" && mode != "fanout" && mode != "halt") || argc < 3) {
    std::fprintf(stderr,
                 "usage: %s connect N[,N...] [IDLE_SECONDS]\n"
                 "       %s fanout N[,N...] [ROUNDS[,ROUNDS...]]\n"
                 "       %s halt N[,N...] [ROUNDS[,ROUNDS...]]\n",
                 argv[0], argv[0], argv[0]);
    return 2;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  auto sizes = fitting(int_list(argv[2]));
  if (mode == "connect")
    connect_mode(sizes, argc > 3 ? std::atoi(argv[3]) : 30);
  else if (mode == "fanout")
    fanout_mode(sizes, int_list(argc > 3 ? argv[3] : "30"));
  else
    halt_mode(sizes, int_list(argc > 3 ? argv[3] : "30"));
  return 0;
}
