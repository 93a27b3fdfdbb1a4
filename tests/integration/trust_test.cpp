// The trust guarantees, tested on the real daemons: mutual TLS and who may connect, tokens and
// roles, the audit trail, scope conflicts, and faults that never outlive the controller's
// attention (killed controller, frozen controller, killed injectors in a soak loop).
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "faultline/v1/controller_api.grpc.pb.h"
#include "support/child_process.h"
#include "support/faultline_cli.h"

namespace faultline::testing {
namespace {

const std::string kBin = FAULTLINE_BIN_DIR;
const std::string kSrc = FAULTLINE_SOURCE_DIR;
const std::string kOperator = "op-0123456789abcdef0123456789abcdef";
const std::string kViewer = "view-0123456789abcdef0123456789abcdef";
const std::string kAdmin = "admin-0123456789abcdef0123456789abcdef";

std::string pause_yaml(const std::string& name, const std::string& pidfile, int port,
                       const std::string& duration) {
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata:\n  name: " + name +
         "\ntargets:\n  demo:\n    process:\n      pidfile: " + pidfile +
         "\nsteady_state:\n  - name: up\n    http:\n      url: http://127.0.0.1:" +
         std::to_string(port) +
         "/health\n      timeout: 1s\nfaults:\n  - name: freeze\n    kind: process_pause\n"
         "    target: demo\n    duration: " +
         duration + "\n";
}

class Trust : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
    unsetenv("FAULTLINE_INSECURE");
    port_ = free_port();
    pidfile_ = dir_.file("demo.pid");
    demo_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        kBin + "/faultline-demo", "serve", "--port", std::to_string(port_), "--pidfile", pidfile_});
    ASSERT_TRUE(wait_until([&] { return http_ok(port_); }, 5000ms));
    write_secret_file(dir_.file("tokens.csv"), kOperator + ",olga,operator\n" + kViewer +
                                                   ",victor,viewer\n" + kAdmin + ",ada,admin\n");
    write_secret_file(dir_.file("op.tok"), kOperator + "\n");
    write_secret_file(dir_.file("view.tok"), kViewer + "\n");
    write_secret_file(dir_.file("admin.tok"), kAdmin + "\n");
    write_secret_file(dir_.file("bad.tok"), "not-a-token-of-this-controller\n");
    addr_ = "127.0.0.1:" + std::to_string(free_port());
  }

  pid_t demo_pid() { return std::stoi(read_file(pidfile_)); }

  void make_certs() {
    ASSERT_EQ(
        std::system(
            (kSrc + "/scripts/gen-certs.sh " + certs() + " node-a node-b >/dev/null").c_str()),
        0);
    ASSERT_EQ(
        std::system((kSrc + "/scripts/gen-certs.sh " + dir_.file("other") + " >/dev/null").c_str()),
        0);
  }
  std::string certs() { return dir_.file("certs"); }

  void start_controller(std::vector<std::string> extra, const std::string& log = "ctl.log") {
    std::vector<std::string> argv{kBin + "/faultline-controller", "--listen", addr_,
                                  "--otlp-listen", "off"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    controller_ = std::make_unique<ChildProcess>(argv, "", dir_.file(log));
  }
  void start_injector(std::vector<std::string> extra, const std::string& log = "inj.log") {
    std::vector<std::string> argv{kBin + "/faultline-injector", "--controller", addr_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    injector_ = std::make_unique<ChildProcess>(argv, "", dir_.file(log));
  }

  int cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 60000ms) {
    int code = cli_.run(std::move(args), timeout);
    out_ = cli_.out(), err_ = cli_.err();
    return code;
  }

  bool node_listed(const std::vector<std::string>& auth, const std::string& node) {
    std::vector<std::string> args{"injectors", "--controller", addr_};
    args.insert(args.end(), auth.begin(), auth.end());
    return cli(args, 5000ms) == 0 && out_.find(node + "\tstate=connected\t") != std::string::npos;
  }

  std::string audit() { return read_file(dir_.file("audit.log")); }

  TempDir dir_;
  FaultlineCli cli_{kBin, dir_};
  int port_ = 0;
  std::string pidfile_, addr_, out_, err_;
  std::unique_ptr<ChildProcess> demo_, controller_, injector_;
};

TEST_F(Trust, ControllerWithoutCertificatesOrInsecureRefusesToStart) {
  start_controller({});
  EXPECT_EQ(controller_->wait(10000ms), 3);
  EXPECT_NE(read_file(dir_.file("ctl.log")).find("no TLS certificates"), std::string::npos)
      << read_file(dir_.file("ctl.log"));
  start_controller({"--tls-dir", dir_.file("nowhere"), "--token-file", dir_.file("tokens.csv")},
                   "ctl2.log");
  EXPECT_EQ(controller_->wait(10000ms), 3);
  EXPECT_NE(read_file(dir_.file("ctl2.log")).find("cannot read CA certificate"), std::string::npos);
}

TEST_F(Trust, MutualTlsTokensAndRolesLetTheRightCallersInAndAuditEveryRefusal) {
  make_certs();
  start_controller({"--tls-dir", certs(), "--token-file", dir_.file("tokens.csv")});
  start_injector({"--tls-dir", certs(), "--node", "node-a"});
  std::vector<std::string> viewer{"--tls-dir", certs(), "--token-file", dir_.file("view.tok")};
  ASSERT_TRUE(wait_until([&] { return node_listed(viewer, "node-a"); }, 10000ms))
      << err_ << read_file(dir_.file("ctl.log")) << read_file(dir_.file("inj.log"));

  // An operator runs an experiment over mTLS, end to end.
  write_file(dir_.file("exp.yaml"), pause_yaml("tls-pause", pidfile_, port_, "300ms"));
  EXPECT_EQ(cli({"run", dir_.file("exp.yaml"), "--controller", addr_, "--tls-dir", certs(),
                 "--token-file", dir_.file("op.tok")}),
            0)
      << out_ << err_;

  // A viewer may not run it.
  EXPECT_EQ(cli({"run", dir_.file("exp.yaml"), "--controller", addr_, "--tls-dir", certs(),
                 "--token-file", dir_.file("view.tok")}),
            3);
  EXPECT_NE(err_.find("SubmitExperiment needs role operator; token victor has role viewer"),
            std::string::npos)
      << err_;
  // A wrong token, and no token.
  EXPECT_EQ(cli({"runs", "--controller", addr_, "--tls-dir", certs(), "--token-file",
                 dir_.file("bad.tok")}),
            3);
  EXPECT_NE(err_.find("unknown or revoked API token"), std::string::npos) << err_;
  EXPECT_EQ(cli({"runs", "--controller", addr_, "--tls-dir", certs()}), 3);
  EXPECT_NE(err_.find("no API token"), std::string::npos) << err_;
  // A client certificate from another CA (the controller's own certificate is still trusted).
  EXPECT_EQ(cli({"runs", "--controller", addr_, "--tls-ca", certs() + "/ca.crt", "--tls-cert",
                 dir_.file("other") + "/cli.crt", "--tls-key", dir_.file("other") + "/cli.key",
                 "--token-file", dir_.file("op.tok")}),
            3);
  EXPECT_NE(err_.find("is not accepted by this controller's CA"), std::string::npos) << err_;
  // No client certificate at all (a plain gRPC client with TLS but no key pair).
  {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = read_file(certs() + "/ca.crt");
    auto stub = v1::ControllerApi::NewStub(grpc::CreateChannel(addr_, grpc::SslCredentials(o)));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + kAdmin);
    v1::ListRunsResponse resp;
    grpc::Status s = stub->ListRuns(&ctx, {}, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(s.error_message().find("no client certificate"), std::string::npos)
        << s.error_message();
  }
  // Plaintext to a TLS controller does not get through.
  EXPECT_EQ(cli({"runs", "--controller", addr_, "--insecure", "--token-file", dir_.file("op.tok")},
                10000ms),
            3);

  // An injector may only register as the node its certificate names.
  auto first = std::move(injector_);
  start_injector({"--tls-ca", certs() + "/ca.crt", "--tls-cert", certs() + "/node-b.crt",
                  "--tls-key", certs() + "/node-b.key", "--node", "node-c"},
                 "inj-c.log");
  ASSERT_TRUE(
      wait_until([&] { return audit().find("injector.refused") != std::string::npos; }, 10000ms))
      << read_file(dir_.file("inj-c.log"));
  EXPECT_FALSE(node_listed(viewer, "node-c"));
  EXPECT_NE(audit().find("is not the one in this injector's certificate (node-b"),
            std::string::npos);
  // `--all` lists it anyway, refused and why, beside the node that is connected.
  std::vector<std::string> list_all{"injectors", "--controller", addr_, "--all"};
  list_all.insert(list_all.end(), viewer.begin(), viewer.end());
  ASSERT_EQ(cli(list_all), 0) << err_;
  EXPECT_NE(out_.find("node-a\tstate=connected\t"), std::string::npos) << out_;
  size_t refused = out_.find("node-c\tstate=refused\t");
  ASSERT_NE(refused, std::string::npos) << out_;
  EXPECT_NE(out_.find("reason=node name", refused), std::string::npos) << out_;

  // Admin: a token made through the API works until it is revoked.
  std::vector<std::string> admin{"--tls-dir", certs(), "--token-file", dir_.file("admin.tok")};
  std::vector<std::string> create{"token",  "--controller", addr_,   "create",
                                  "ci-bot", "--role",       "viewer"};
  create.insert(create.end(), admin.begin(), admin.end());
  ASSERT_EQ(cli(create), 0) << err_;
  write_secret_file(dir_.file("bot.tok"), out_);
  EXPECT_TRUE(node_listed({"--tls-dir", certs(), "--token-file", dir_.file("bot.tok")}, "node-a"));
  std::vector<std::string> revoke{"token", "--controller", addr_, "revoke", "ci-bot"};
  revoke.insert(revoke.end(), admin.begin(), admin.end());
  ASSERT_EQ(cli(revoke), 0) << err_;
  EXPECT_FALSE(node_listed({"--tls-dir", certs(), "--token-file", dir_.file("bot.tok")}, "node-a"));
  EXPECT_NE(err_.find("unknown or revoked"), std::string::npos);

  // Every refusal above is in the audit trail, with who and from where; the chain holds.
  std::string log = audit();
  EXPECT_NE(log.find("\"actor\":\"victor\""), std::string::npos);
  EXPECT_NE(log.find("denied: SubmitExperiment needs role operator"), std::string::npos);
  EXPECT_NE(log.find("denied: unknown or revoked API token"), std::string::npos);
  EXPECT_NE(log.find("is not accepted by this controller's CA"), std::string::npos);
  EXPECT_NE(log.find("denied: no client certificate"), std::string::npos);
  EXPECT_NE(log.find("\"action\":\"fault.applied\""), std::string::npos);
  EXPECT_NE(log.find("\"action\":\"fault.reverted\""), std::string::npos);
  EXPECT_NE(log.find("cert CN=faultline-cli"), std::string::npos);
  EXPECT_EQ(cli({"audit", "verify", dir_.file("audit.log")}), 0) << out_ << err_;
}

TEST_F(Trust, ASecondRunOnTheSameTargetIsRefusedNamingTheHolderOrQueued) {
  start_controller({"--insecure"});
  start_injector({"--insecure", "--node", "node-a"});
  setenv("FAULTLINE_INSECURE", "1", 1);
  ASSERT_TRUE(wait_until([&] { return node_listed({}, "node-a"); }, 10000ms));
  write_file(dir_.file("long.yaml"), pause_yaml("holder", pidfile_, port_, "3s"));
  write_file(dir_.file("short.yaml"), pause_yaml("second", pidfile_, port_, "200ms"));
  ChildProcess first({kBin + "/faultline", "run", dir_.file("long.yaml"), "--controller", addr_},
                     dir_.file("first.out"), dir_.file("first.err"));
  ASSERT_TRUE(wait_until([&] { return process_state(demo_pid()) == 'T'; }, 10000ms));
  std::smatch m;
  std::string first_out = read_file(dir_.file("first.out"));
  ASSERT_TRUE(std::regex_search(first_out, m, std::regex("run (r-[0-9a-f]+)"))) << first_out;
  std::string holder = m[1];
  EXPECT_EQ(cli({"run", dir_.file("short.yaml"), "--controller", addr_}), 3);
  EXPECT_NE(err_.find("conflicts with run " + holder +
                      " (experiment \"holder\") holds node-a "
                      "process pidfile="),
            std::string::npos)
      << err_;
  // Queued: starts when the holder has ended, and passes.
  EXPECT_EQ(cli({"run", dir_.file("short.yaml"), "--controller", addr_, "--queue"}), 0)
      << out_ << err_;
  EXPECT_NE(out_.find("queued behind run " + holder), std::string::npos) << out_;
  EXPECT_EQ(first.wait(10000ms), 0);
  unsetenv("FAULTLINE_INSECURE");
}

// kill -9 of the controller mid-run: the injector reverts within lease + grace by itself,
// and the restarted controller marks the run ABORTED (controller restart).
TEST_F(Trust, KilledControllerMidRunFaultRevertsByItselfAndRunEndsAborted) {
  start_controller({"--insecure", "--lease", "2s", "--renew-interval", "500ms"});
  start_injector({"--insecure", "--node", "node-a", "--contact-grace", "1s"});
  setenv("FAULTLINE_INSECURE", "1", 1);
  ASSERT_TRUE(wait_until([&] { return node_listed({}, "node-a"); }, 10000ms));
  write_file(dir_.file("long.yaml"), pause_yaml("doomed", pidfile_, port_, "60s"));
  ChildProcess run({kBin + "/faultline", "run", dir_.file("long.yaml"), "--controller", addr_},
                   dir_.file("run.out"), dir_.file("run.err"));
  pid_t target = demo_pid();
  ASSERT_TRUE(wait_until([&] { return process_state(target) == 'T'; }, 10000ms));
  std::smatch m;
  std::string out = read_file(dir_.file("run.out"));
  ASSERT_TRUE(std::regex_search(out, m, std::regex("run (r-[0-9a-f]+)"))) << out;
  std::string id = m[1];
  // Killed once the controller has journaled the fault (a fault whose ack it never recorded
  // is the injector's alone to end, by the same grace, and cannot be confirmed later).
  ASSERT_TRUE(wait_until(
      [&] {
        return read_file(dir_.file("run.out")).find("applied on node-a") != std::string::npos;
      },
      5000ms));
  auto killed = std::chrono::steady_clock::now();
  controller_->signal(SIGKILL);
  controller_->wait(5000ms);
  // Heartbeat echoes stop at once: the contact grace (1 s) ends it, well within the lease.
  ASSERT_TRUE(wait_until([&] { return process_state(target) != 'T'; }, 5000ms));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed);
  std::printf("controller killed -> fault reverted by the injector in %lld ms\n",
              static_cast<long long>(took.count()));
  EXPECT_LT(took.count(), 3000 + 1000);  // within lease + grace
  start_controller({"--insecure"}, "ctl2.log");
  ASSERT_TRUE(wait_until(
      [&] {
        return cli({"journal", id, "--controller", addr_}, 5000ms) == 0;
      },
      10000ms))
      << err_;
  EXPECT_NE(out_.find("controller restart"), std::string::npos);
  ASSERT_EQ(cli({"runs", "--controller", addr_}), 0);
  EXPECT_TRUE(std::regex_search(out_, std::regex(id + " +doomed .* ABORTED"))) << out_;
  // The injector comes back and the controller confirms the fault is gone.
  ASSERT_TRUE(wait_until(
      [&] { return audit().find("fault.confirmed_reverted") != std::string::npos; }, 10000ms))
      << read_file(dir_.file("ctl2.log")) << read_file(dir_.file("inj.log"));
  unsetenv("FAULTLINE_INSECURE");
}

// A frozen controller (SIGSTOP: its TCP connections stay up, nothing answers) is lost contact
// all the same: heartbeats go unanswered, and the injector reverts after its grace period.
TEST_F(Trust, FrozenControllerIsLostContactAndTheFaultRevertsAfterTheGrace) {
  start_controller({"--insecure", "--lease", "20s", "--renew-interval", "5s"});
  start_injector({"--insecure", "--node", "node-a", "--contact-grace", "1500ms"});
  setenv("FAULTLINE_INSECURE", "1", 1);
  ASSERT_TRUE(wait_until([&] { return node_listed({}, "node-a"); }, 10000ms));
  write_file(dir_.file("long.yaml"), pause_yaml("frozen", pidfile_, port_, "60s"));
  ChildProcess run({kBin + "/faultline", "run", dir_.file("long.yaml"), "--controller", addr_},
                   dir_.file("run.out"), dir_.file("run.err"));
  pid_t target = demo_pid();
  ASSERT_TRUE(wait_until([&] { return process_state(target) == 'T'; }, 10000ms));
  auto frozen = std::chrono::steady_clock::now();
  controller_->signal(SIGSTOP);
  bool reverted = wait_until([&] { return process_state(target) != 'T'; }, 8000ms);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - frozen);
  controller_->signal(SIGCONT);
  ASSERT_TRUE(reverted) << read_file(dir_.file("inj.log"));
  std::printf("controller frozen -> fault reverted by the injector in %lld ms\n",
              static_cast<long long>(took.count()));
  EXPECT_GE(took.count(), 1000);         // not before the grace...
  EXPECT_LT(took.count(), 1500 + 2000);  // ...and long before the 20 s lease
  EXPECT_TRUE(wait_until(
      [&] {
        return read_file(dir_.file("inj.log")).find("lost contact with controller") !=
               std::string::npos;
      },
      2000ms));
  unsetenv("FAULTLINE_INSECURE");
}

// kill -9 of the injector while it holds a pause: its next start reverts the fault from the
// ledger before serving, and tells the controller, which audits which faults it took back.
TEST_F(Trust, KilledInjectorsNextStartRevertsAndReportsItToTheController) {
  start_controller({"--insecure"});
  start_injector({"--insecure", "--node", "node-a"});
  setenv("FAULTLINE_INSECURE", "1", 1);
  ASSERT_TRUE(wait_until([&] { return node_listed({}, "node-a"); }, 10000ms));
  write_file(dir_.file("long.yaml"), pause_yaml("crash", pidfile_, port_, "60s"));
  ChildProcess run({kBin + "/faultline", "run", dir_.file("long.yaml"), "--controller", addr_},
                   dir_.file("run.out"), dir_.file("run.err"));
  pid_t target = demo_pid();
  ASSERT_TRUE(wait_until(
      [&] {
        return read_file(dir_.file("run.out")).find("applied on node-a") != std::string::npos;
      },
      10000ms));
  std::smatch m;
  std::string out = read_file(dir_.file("run.out"));
  ASSERT_TRUE(std::regex_search(out, m, std::regex("fault freeze applied on node-a")));
  injector_->signal(SIGKILL);
  injector_->wait(5000ms);
  ASSERT_EQ(process_state(target), 'T');  // nobody reverted it: the injector died
  start_injector({"--insecure", "--node", "node-a"}, "inj2.log");
  EXPECT_TRUE(wait_until([&] { return process_state(target) != 'T'; }, 5000ms));
  EXPECT_TRUE(wait_until(
      [&] { return audit().find("\"action\":\"injector.recovered\"") != std::string::npos; },
      10000ms))
      << read_file(dir_.file("ctl.log"));
  EXPECT_NE(audit().find("reverted from its ledger at start: f-"), std::string::npos);
  unsetenv("FAULTLINE_INSECURE");
}

// Faults applied and reverted in a loop while the injector is killed -9 and restarted at
// random. At the end nothing is applied (the target runs, the ledger is empty) and every fault
// the journals say was applied is accounted for: reverted, or its revert reported failed
// (then the injector's lease or its next start took it back, which the first checks prove).
TEST(Soak, ApplyAndRevertWhileTheInjectorIsKilledAtRandom) {
  const char* env = std::getenv("FAULTLINE_SOAK_SECONDS");
  const int seconds = env ? std::atoi(env) : 120;
  TempDir dir;
  setenv("FAULTLINE_STATE_DIR", dir.path().c_str(), 1);
  setenv("FAULTLINE_INSECURE", "1", 1);
  int port = free_port();
  std::string pidfile = dir.file("demo.pid");
  ChildProcess demo(
      {kBin + "/faultline-demo", "serve", "--port", std::to_string(port), "--pidfile", pidfile});
  ASSERT_TRUE(wait_until([&] { return http_ok(port); }, 5000ms));
  pid_t target = std::stoi(read_file(pidfile));
  std::string addr = "127.0.0.1:" + std::to_string(free_port());
  ChildProcess controller({kBin + "/faultline-controller", "--listen", addr, "--otlp-listen", "off",
                           "--insecure", "--lease", "2s", "--renew-interval", "500ms"},
                          "", dir.file("ctl.log"));
  auto injector = [&](int n) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{kBin + "/faultline-injector", "--insecure", "--controller", addr,
                                 "--node", "node-a", "--contact-grace", "1s"},
        "", dir.file("inj" + std::to_string(n) + ".log"));
  };
  std::mutex inj_mu;
  auto inj = injector(0);
  write_file(dir.file("pause.yaml"), pause_yaml("soak", pidfile, port, "700ms"));

  std::atomic<bool> done{false};
  int kills = 0;
  std::thread killer([&] {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> gap(500, 3000);
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(gap(rng)));
      if (done) break;
      std::lock_guard lock(inj_mu);
      inj->signal(SIGKILL);
      inj->wait(5000ms);
      inj = injector(++kills);  // recovers what its predecessor's ledger holds, then serves
    }
  });
  int runs = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    ChildProcess run({kBin + "/faultline", "run", dir.file("pause.yaml"), "--controller", addr},
                     dir.file("run.out"), dir.file("run.err"));
    run.wait(30000ms);
    ++runs;
  }
  done = true;
  killer.join();
  std::printf("soak: %d runs, %d injector kills in %d s\n", runs, kills, seconds);

  // Nothing left applied: the target runs, and once the last injector has settled its
  // ledger holds no entry.
  EXPECT_TRUE(wait_until([&] { return process_state(target) != 'T'; }, 5000ms));
  EXPECT_TRUE(wait_until(
      [&] {
        for (auto& e : std::filesystem::recursive_directory_iterator(dir.path() + "/ledger"))
          if (e.path().extension() == ".entry") return false;
        return true;
      },
      5000ms));
  // Every run ended, and every applied fault is accounted for in its journal.
  ChildProcess list({kBin + "/faultline", "runs", "--limit", "100000", "--controller", addr},
                    dir.file("runs.out"), dir.file("runs.err"));
  ASSERT_EQ(list.wait(10000ms), 0) << read_file(dir.file("runs.err"));
  std::string listing = read_file(dir.file("runs.out"));
  EXPECT_EQ(listing.find("running"), std::string::npos) << listing;
  std::regex id_re("(r-[0-9a-f]+)");
  int applied = 0, accounted = 0, journals = 0;
  for (std::sregex_iterator it(listing.begin(), listing.end(), id_re), end; it != end; ++it) {
    ChildProcess j({kBin + "/faultline", "journal", (*it)[1], "--controller", addr},
                   dir.file("j.out"), dir.file("j.err"));
    ASSERT_EQ(j.wait(10000ms), 0) << read_file(dir.file("j.err"));
    ++journals;
    auto run = nlohmann::json::parse(read_file(dir.file("j.out")));
    std::set<std::string> open;
    for (const auto& ev : run["events"]) {
      std::string type = ev.value("type", "");
      if (!ev.contains("fault")) continue;
      std::string id = ev["fault"].value("fault_id", "");
      if (type == "EVENT_TYPE_FAULT_APPLIED") {
        open.insert(id);
        ++applied;
      } else if ((type == "EVENT_TYPE_FAULT_REVERTED" || type == "EVENT_TYPE_FAULT_FAILED") &&
                 open.erase(id)) {
        ++accounted;
      }
    }
    EXPECT_TRUE(open.empty()) << "run " << (*it)[1]
                              << " applied faults with no end: " << *open.begin();
  }
  std::printf("soak: %d journals, %d faults applied, %d accounted for\n", journals, applied,
              accounted);
  EXPECT_GT(applied, 10);
  EXPECT_EQ(applied, accounted);
  EXPECT_EQ(controller.wait(0ms), -1) << "the controller survived the soak";
}

}  // namespace
}  // namespace faultline::testing
