// The injector link service on gRPC's callback API, served in this process on loopback to real
// gRPC clients: registration and its refusals, heartbeats, commands and acks, disconnects
// noticed, a thread count that does not grow with the fleet, and an injector that stops
// reading dropped at the write-queue cap instead of growing the controller's memory.
#include <dirent.h>

#include <condition_variable>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/transport_security.h"
#include "controller/link/grpc_injector_link.h"
#include "controller/link/injector_link_service.h"
#include "controller/link/link_events.h"
#include "faultline/v1/injector_link.grpc.pb.h"
#include "protocol_fleet.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::wait_until;

const std::string kSrc = FAULTLINE_SOURCE_DIR;

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long v = 0;
  while (status >> key)
    if (key == "VmRSS:") status >> v;
  return v;
}

class LinkService : public ::testing::Test {
 protected:
  // Serves the link on a free loopback port; with `tls_dir`, mutual TLS from gen-certs.sh.
  void serve(OutboxLimits limits = {}, const std::string& tls_dir = "") {
    service_ = std::make_unique<InjectorLinkService>(registry_, heartbeat_, 5s, limits);
    if (idle_heartbeat_ > Duration::zero()) service_->set_idle_heartbeat_interval(idle_heartbeat_);
    service_->set_observer(
        [this](const std::string& node, const std::string&, const std::string& what) {
          std::lock_guard lock(mu_);
          events_.push_back(node + " " + what);
          cv_.notify_all();
        });
    std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
    if (!tls_dir.empty()) {
      TransportSecurity t;
      t.use_dir(tls_dir, "controller");
      auto c = server_credentials(t);
      auto v = client_verifier(t);
      ASSERT_TRUE(c && v);
      creds = *c;
      service_->set_verifier(*v);
    }
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", creds, &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ && port_ > 0);
    address_ = "127.0.0.1:" + std::to_string(port_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + 2s);
    server_.reset();
    service_.reset();
  }

  // Waits for the observer to have been told `event` ("node-a registered").
  bool told(const std::string& event, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      return std::find(events_.begin(), events_.end(), event) != events_.end();
    });
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

  std::shared_ptr<GrpcInjectorLink> link(const std::string& node) {
    return std::dynamic_pointer_cast<GrpcInjectorLink>(registry_.find(node));
  }

  Duration heartbeat_ = 1s;
  Duration idle_heartbeat_ = Duration::zero();  // zero: the service's default
  InjectorRegistry registry_;
  std::unique_ptr<InjectorLinkService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

// One injector on gRPC's synchronous client API, driven step by step by the test.
class TestInjector {
 public:
  explicit TestInjector(std::shared_ptr<grpc::Channel> channel)
      : stub_(pb::InjectorLink::NewStub(channel)), stream_(stub_->Connect(&ctx_)) {}
  static std::unique_ptr<TestInjector> plain(const std::string& address) {
    return std::make_unique<TestInjector>(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }

  bool send_register(const std::string& node) {
    pb::InjectorMessage m;
    m.mutable_register_()->set_node_name(node);
    m.mutable_register_()->add_capabilities("process_pause");
    m.mutable_register_()->set_version("test");
    return stream_->Write(m);
  }
  // Registers and reads the controller's welcome.
  bool register_as(const std::string& node) {
    pb::ControllerMessage welcome;
    return send_register(node) && stream_->Read(&welcome) && welcome.has_registered();
  }
  grpc::Status finish() {
    stream_->WritesDone();
    pb::ControllerMessage m;
    while (stream_->Read(&m)) {
    }
    return stream_->Finish();
  }
  grpc::ClientReaderWriter<pb::InjectorMessage, pb::ControllerMessage>& stream() {
    return *stream_;
  }
  void cancel() { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<pb::InjectorLink::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::InjectorMessage, pb::ControllerMessage>> stream_;
};

TEST_F(LinkService, RegistersHeartbeatsAndNoticesTheDisconnect) {
  serve();
  auto inj = TestInjector::plain(address_);
  ASSERT_TRUE(inj->register_as("node-a"));
  ASSERT_TRUE(told("node-a registered"));
  auto l = link("node-a");
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->connected());
  EXPECT_EQ(l->info().capabilities, std::vector<std::string>{"process_pause"});

  // A heartbeat that names no fault is not answered (the echo is the dead-man's switch of an
  // injector holding faults); one that names faults is, and they are what the link says the
  // injector holds.
  pb::InjectorMessage idle;
  idle.mutable_heartbeat()->set_seq(1);
  ASSERT_TRUE(inj->stream().Write(idle));
  for (uint64_t seq = 2; seq <= 4; ++seq) {
    pb::InjectorMessage hb;
    hb.mutable_heartbeat()->set_seq(seq);
    hb.mutable_heartbeat()->add_active_fault_ids("f-" + std::to_string(seq));
    ASSERT_TRUE(inj->stream().Write(hb));
    pb::ControllerMessage echo;
    ASSERT_TRUE(inj->stream().Read(&echo));
    ASSERT_TRUE(echo.has_heartbeat_ack());
    EXPECT_EQ(echo.heartbeat_ack().seq(), seq);
  }
  EXPECT_EQ(l->active_faults(), std::vector<std::string>{"f-4"});

  EXPECT_TRUE(inj->finish().ok());
  ASSERT_TRUE(told("node-a disconnected"));
  EXPECT_EQ(registry_.find("node-a"), nullptr);
  EXPECT_FALSE(l->connected());
  // A command to a link that is gone is answered at once, not after the timeout.
  auto reply = l->start_renew("f-1", 10s);
  EXPECT_TRUE(reply.ready());
  EXPECT_EQ(reply.get().error().code, ErrorCode::kUnavailable);
}

// The welcome carries both intervals, and silence is judged by the one the injector's last
// heartbeat put it under: holding faults it must beat every interval, idle every idle interval.
TEST_F(LinkService, AnIdleInjectorIsJudgedByTheIdleIntervalOneHoldingFaultsByTheShortOne) {
  heartbeat_ = 100ms;
  idle_heartbeat_ = 400ms;
  serve();
  auto inj = TestInjector::plain(address_);
  ASSERT_TRUE(inj->send_register("node-a"));
  pb::ControllerMessage welcome;
  ASSERT_TRUE(inj->stream().Read(&welcome));
  ASSERT_TRUE(welcome.has_registered());
  EXPECT_EQ(welcome.registered().heartbeat_interval_ms(), 100u);
  EXPECT_EQ(welcome.registered().idle_heartbeat_interval_ms(), 400u);
  ASSERT_TRUE(wait_until([&] { return link("node-a") != nullptr; }, 5000ms));
  auto l = link("node-a");

  pb::InjectorMessage idle;
  idle.mutable_heartbeat()->set_seq(1);
  ASSERT_TRUE(inj->stream().Write(idle));
  ASSERT_TRUE(wait_until([&] { return l->since_last_seen() < 50ms; }, 2000ms));
  std::this_thread::sleep_for(500ms);  // past 3 intervals, within 3 idle intervals
  EXPECT_TRUE(l->connected()) << "silent for " << l->since_last_seen().count() << " ns";

  pb::InjectorMessage holding;
  holding.mutable_heartbeat()->set_seq(2);
  holding.mutable_heartbeat()->add_active_fault_ids("f-1");
  ASSERT_TRUE(inj->stream().Write(holding));
  pb::ControllerMessage echo;
  ASSERT_TRUE(inj->stream().Read(&echo));
  EXPECT_TRUE(l->connected());
  std::this_thread::sleep_for(500ms);  // past 3 intervals: a node holding faults is lost
  EXPECT_FALSE(l->connected());

  idle.mutable_heartbeat()->set_seq(3);
  ASSERT_TRUE(inj->stream().Write(idle));
  ASSERT_TRUE(wait_until([&] { return l->connected(); }, 2000ms));
  EXPECT_TRUE(inj->finish().ok());
}

TEST_F(LinkService, CommandsReachTheInjectorAndTheirAcksTheCaller) {
  serve();
  auto inj = TestInjector::plain(address_);
  ASSERT_TRUE(inj->register_as("node-a"));
  ASSERT_TRUE(wait_until([&] { return link("node-a") != nullptr; }, 5000ms));
  std::thread answering([&] {
    pb::ControllerMessage m;
    while (inj->stream().Read(&m)) {
      if (!m.has_apply() && !m.has_revert()) continue;
      pb::InjectorMessage ack;
      ack.mutable_ack()->set_command_id(m.has_apply() ? m.apply().command_id()
                                                      : m.revert().command_id());
      ack.mutable_ack()->set_ok(true);
      ack.mutable_ack()->mutable_state()->set_summary(m.has_apply() ? "paused" : "resumed");
      if (!inj->stream().Write(ack)) break;
    }
  });
  pb::FaultSpec spec;
  spec.mutable_process_pause();
  auto applied = link("node-a")->apply("f-1", "r-1", spec, 10s, 60s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->summary(), "paused");
  auto reverted = link("node-a")->revert("f-1");
  ASSERT_TRUE(reverted) << reverted.error().message;
  EXPECT_EQ(*reverted, "resumed");
  inj->cancel();
  answering.join();
  EXPECT_TRUE(told("node-a disconnected"));
}

TEST_F(LinkService, AnAdminDisconnectEndsTheStreamAndFailsWhatWaits) {
  serve();
  auto inj = TestInjector::plain(address_);
  ASSERT_TRUE(inj->register_as("node-a"));
  ASSERT_TRUE(wait_until([&] { return link("node-a") != nullptr; }, 5000ms));
  auto l = link("node-a");
  // The injector never answers: the pending command fails when the stream goes, not at its
  // 5 s timeout.
  auto pending = l->start_renew("f-1", 10s);
  MonoTime t0 = MonoClock::now();
  l->disconnect();
  auto r = pending.get();
  EXPECT_LT(MonoClock::now() - t0, 3s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(inj->finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(told("node-a disconnected"));
}

TEST_F(LinkService, ASecondInjectorWithTheSameNameReplacesTheFirst) {
  serve();
  auto first = TestInjector::plain(address_);
  ASSERT_TRUE(first->register_as("node-a"));
  ASSERT_TRUE(wait_until([&] { return link("node-a") != nullptr; }, 5000ms));
  auto old_link = link("node-a");
  auto second = TestInjector::plain(address_);
  ASSERT_TRUE(second->register_as("node-a"));
  ASSERT_TRUE(wait_until([&] { return link("node-a") != old_link; }, 5000ms));
  auto new_link = link("node-a");
  // The old stream ending does not take the new one out of the registry.
  EXPECT_TRUE(first->finish().ok());
  ASSERT_TRUE(wait_until([&] { return !old_link->connected(); }, 5000ms));
  service_->drain_events();
  EXPECT_EQ(link("node-a"), new_link);
  EXPECT_EQ(registry_.all().size(), 1u);
  EXPECT_TRUE(second->finish().ok());
}

TEST_F(LinkService, AStreamThatDoesNotStartWithRegisterIsRefused) {
  serve();
  auto inj = TestInjector::plain(address_);
  pb::InjectorMessage hb;
  hb.mutable_heartbeat()->set_seq(1);
  ASSERT_TRUE(inj->stream().Write(hb));
  grpc::Status s = inj->finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "the first message must be Register");

  auto nameless = TestInjector::plain(address_);
  ASSERT_TRUE(nameless->send_register(""));
  s = nameless->finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "Register.node_name is empty");
  EXPECT_TRUE(registry_.all().empty());
}

TEST_F(LinkService, UnderMutualTlsAnInjectorMayOnlyRegisterAsItsCertificatesNode) {
  TempDir dir;
  std::string certs = dir.file("certs");
  ASSERT_EQ(std::system((kSrc + "/scripts/gen-certs.sh " + certs + " node-a >/dev/null").c_str()),
            0);
  serve({}, certs);
  auto channel_as = [&](const std::string& node) {
    TransportSecurity t;
    t.use_dir(certs, node);
    t.server_name = "localhost";
    auto ch = secure_client_channel(address_, t);
    EXPECT_TRUE(ch) << ch.error().message;
    return *ch;
  };
  TestInjector impostor(channel_as("node-a"));
  ASSERT_TRUE(impostor.send_register("node-b"));
  grpc::Status s = impostor.finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("node name \"node-b\" is not the one in this injector's "
                                   "certificate (node-a"),
            std::string::npos)
      << s.error_message();
  ASSERT_TRUE(told("node-b refused: " + s.error_message()));
  EXPECT_EQ(registry_.find("node-b"), nullptr);

  TestInjector honest(channel_as("node-a"));
  ASSERT_TRUE(honest.register_as("node-a"));
  EXPECT_TRUE(told("node-a registered"));
  EXPECT_TRUE(honest.finish().ok());
  EXPECT_TRUE(told("node-a disconnected"));
}

// The callback API serves every stream from a few shared threads: 500 injectors (which would
// have been 500 threads on the synchronous API) add a bounded handful, clients included, and
// every one of them still answers a command.
TEST_F(LinkService, FiveHundredInjectorsShareAFewThreadsAndAllAnswer) {
  serve();
  int before = thread_count();
  {
    bench::ProtocolFleet fleet(address_, "t", {{"fleet", "test"}});
    ASSERT_TRUE(fleet.grow_to(500, 30s));
    ASSERT_TRUE(wait_until([&] { return registry_.all().size() == 500; }, 10000ms));
    int during = thread_count();
    EXPECT_LT(during - before, 40) << before << " threads before, " << during << " with 500";
    // Heartbeats flow (idle: every 5 s) and keep every link fresh.
    uint64_t sent = fleet.counters().heartbeats_sent;
    ASSERT_TRUE(
        wait_until([&] { return fleet.counters().heartbeats_sent >= sent + 600; }, 15000ms));
    for (const auto& l : registry_.all()) {
      EXPECT_LT(l->since_last_seen(), 6s);
      EXPECT_TRUE(l->connected());
    }
    // One command to every node at once, then every ack read: the fan-out's own pattern.
    pb::FaultSpec spec;
    spec.mutable_process_pause();
    std::vector<Reply<pb::AppliedState>> replies;
    auto links = registry_.all();
    for (auto& l : links) replies.push_back(l->start_apply("f-1", "r-1", spec, 10s, 60s));
    for (auto& r : replies) EXPECT_TRUE(r.get());
    EXPECT_EQ(fleet.counters().applies.acks, 500);
  }
  ASSERT_TRUE(wait_until([&] { return registry_.all().empty(); }, 10000ms));
  service_->drain_events();
  auto ev = events();
  EXPECT_EQ(std::count_if(ev.begin(), ev.end(),
                          [](const auto& e) { return e.ends_with(" disconnected"); }),
            500);
}

// An injector that stops reading (frozen, or hostile) blocks the controller's writes to it.
// The commands behind them wait in the link's queue up to its cap; at the cap the stream is
// ended and every later command fails at once, so the controller's memory does not grow with
// what it keeps sending.
TEST_F(LinkService, AnInjectorThatStopsReadingIsDroppedAtTheWriteQueueCap) {
  serve({.max_messages = 16, .max_bytes = 4 << 20});
  auto inj = TestInjector::plain(address_);
  ASSERT_TRUE(inj->register_as("node-a"));  // and never reads again
  ASSERT_TRUE(wait_until([&] { return link("node-a") != nullptr; }, 5000ms));
  auto l = link("node-a");
  const std::vector<std::string> argv{"echo", std::string(256 << 10, 'x')};
  long rss_before = rss_kib();
  int accepted = 0, refused = 0;
  std::vector<Reply<pb::CommandOutcome>> waiting;
  // 1024 commands of 256 KiB: 256 MiB if they were all kept.
  for (int i = 0; i < 1024; ++i) {
    auto r = l->start_run_command(argv, 1s);
    if (r.ready()) {
      auto outcome = r.get();
      ASSERT_FALSE(outcome);
      EXPECT_EQ(outcome.error().code, ErrorCode::kUnavailable);
      ++refused;
    } else {
      ++accepted;
      waiting.push_back(std::move(r));
    }
  }
  long grown_mib = (rss_kib() - rss_before) / 1024;
  // What loopback, HTTP/2 flow control and the cap let through before the stream was ended.
  EXPECT_LT(accepted, 200);
  EXPECT_GT(refused, 800);
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in its quarantine (256 MiB by default): RSS says nothing there.
  (void)grown_mib;
#else
  EXPECT_LT(grown_mib, 96) << "the controller kept what it could not send";
#endif
  ASSERT_TRUE(told("node-a disconnected"));
  EXPECT_EQ(registry_.find("node-a"), nullptr);
  for (auto& r : waiting) EXPECT_FALSE(r.get());
  inj->cancel();
}

// The observer runs on the events' own thread, in the order the events were posted; drain()
// returns once it has seen them all, and a queue past its cap drops (and logs) the rest
// instead of growing while the observer is stuck.
TEST(LinkEventsTest, TellsInOrderOffTheCallersThreadAndDropsPastTheCap) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::string> told;
  std::thread::id caller = std::this_thread::get_id(), observer_thread;
  {
    LinkEvents events(
        [&](const std::string& node, const std::string&, const std::string& what) {
          std::unique_lock lock(mu);
          observer_thread = std::this_thread::get_id();
          cv.notify_all();
          cv.wait(lock, [&] { return release; });  // a disk that stalls
          told.push_back(node + " " + what);
        },
        4);
    events.post("node-0", "peer", "registered");
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return observer_thread != std::thread::id(); });
    }
    for (int i = 1; i < 10; ++i) events.post("node-" + std::to_string(i), "peer", "registered");
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    events.drain();
    std::lock_guard lock(mu);
    // The first was being told when the rest came: four waited, five were dropped.
    ASSERT_EQ(told.size(), 5u);
    for (size_t i = 0; i < told.size(); ++i)
      EXPECT_EQ(told[i], "node-" + std::to_string(i) + " registered");
    EXPECT_NE(observer_thread, caller);
    events.post("node-x", "peer", "disconnected");
  }
  // The destructor tells what is still queued before it stops.
  EXPECT_EQ(told.back(), "node-x disconnected");
}

}  // namespace
}  // namespace faultline::controller
