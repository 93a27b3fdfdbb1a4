// The proxy_toxic backend against a spec as a remote submission could send it, past whatever
// the controller checked: it must not send anything off the node or into another URL path.
// (The end-to-end behaviour, with a real proxy and a real server, is in
// tests/integration/proxy_toxic_cli_test.cpp.)
#include "injector/proxy/proxy_toxic_backend.h"

#include <gtest/gtest.h>

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/proxy_collection.h"
#include "proxy/toxiproxy_api.h"
#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace std::chrono_literals;

pb::FaultSpec toxic(const std::string& api, const std::string& proxy) {
  pb::FaultSpec spec;
  auto* t = spec.mutable_proxy_toxic();
  t->set_api(api);
  t->set_proxy(proxy);
  t->set_type("latency");
  t->set_stream("downstream");
  t->set_toxicity(1);
  (*t->mutable_attributes())["latency"] = "100";
  return spec;
}

TEST(ProxyToxicBackend, RefusesAnApiOffThisNodeAndANameThatLeavesItsPath) {
  ProxyToxicBackend backend;
  auto far = backend.apply("f-1", toxic("169.254.169.254:80", "redis"));
  ASSERT_FALSE(far);
  EXPECT_EQ(far.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(far.error().message.find("is not a loopback address"), std::string::npos)
      << far.error().message;
  auto named = backend.apply("f-2", toxic("localhost:8474", "redis"));
  ASSERT_FALSE(named);
  EXPECT_NE(named.error().message.find("not a name"), std::string::npos);
  auto escape = backend.apply("f-3", toxic("127.0.0.1:8474", "../../reset"));
  ASSERT_FALSE(escape);
  EXPECT_NE(escape.error().message.find("starts with '.'"), std::string::npos);
}

TEST(ProxyToxicBackend, NoProxyListeningIsAClearErrorAndRecoveryHasNothingToDo) {
  ProxyToxicBackend backend;
  // Port 1 on loopback: nothing listens there on a test machine.
  auto none = backend.apply("f-4", toxic("127.0.0.1:1", "redis"));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("proxy API 127.0.0.1:1"), std::string::npos)
      << none.error().message;
  EXPECT_TRUE(backend.recover_intent("f-4", toxic("127.0.0.1:1", "redis")));
}

pb::FaultSpec down(int api_port, const std::string& proxy) {
  pb::FaultSpec spec = toxic("127.0.0.1:" + std::to_string(api_port), proxy);
  spec.mutable_proxy_toxic()->set_type("down");
  spec.mutable_proxy_toxic()->clear_attributes();
  return spec;
}

// `down` on a real `faultline proxy` (in process): the proxy's enabled:false carries the
// backend's lease, and the revert brings the proxy up with the lease ended.
TEST(ProxyToxicBackend, DownIsLeasedOnTheProxyAndRevertEndsTheLease) {
  proxy::ProxyCollection proxies;
  proxy::ToxiproxyApi api(proxies);
  ASSERT_TRUE(api.start("127.0.0.1", 0));
  ASSERT_TRUE(proxies.create({{"name", "db"}, {"upstream", "127.0.0.1:1"}}));
  ProxyToxicBackend backend;
  for (int i = 0; i < 3; ++i) {
    auto applied = backend.apply("f-down", down(api.port(), "db"));
    ASSERT_TRUE(applied) << applied.error().message;
    auto shown = proxies.show("db");
    ASSERT_TRUE(shown);
    EXPECT_EQ((*shown)["enabled"], false);
    EXPECT_EQ((*shown)["lease_ms"], ProxyToxicBackend::kLeaseMs);
    std::this_thread::sleep_for(std::chrono::milliseconds(i * 20));
    ASSERT_TRUE(backend.revert(*applied));
    std::this_thread::sleep_for(100ms);
    shown = proxies.show("db");
    EXPECT_EQ((*shown)["enabled"], true) << "round " << i << ": " << shown->dump();
    EXPECT_FALSE(shown->contains("lease_ms")) << shown->dump();
  }
}

// A proxy API that is slow to take a proxy down (150 ms), so that a renewal of the down is
// still in flight when the revert comes. The revert must wait for it, not have its enable
// overtaken by it (which would leave the proxy down, on a lease nobody renews, for 10 s after
// the fault ended).
class SlowDownApi {
 public:
  SlowDownApi() {
    server_.Get("/proxies/db", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      res.set_content(nlohmann::json{{"name", "db"}, {"enabled", enabled_}}.dump(),
                      "application/json");
    });
    server_.Post("/proxies/db", [this](const httplib::Request& req, httplib::Response& res) {
      auto body = nlohmann::json::parse(req.body);
      if (body["enabled"] == false) {
        {
          std::lock_guard lock(mu_);
          ++downs_started_;
        }
        cv_.notify_all();
        std::this_thread::sleep_for(150ms);
      }
      std::lock_guard lock(mu_);
      posted_.push_back(body);
      enabled_ = body["enabled"].get<bool>();
      res.set_content(nlohmann::json{{"name", "db"}, {"enabled", enabled_}}.dump(),
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~SlowDownApi() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  // Waits until `n` calls taking the proxy down have come in (answered or not).
  bool wait_for_downs(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return downs_started_ >= n; });
  }
  bool enabled() {
    std::lock_guard lock(mu_);
    return enabled_;
  }
  std::vector<nlohmann::json> posted() {
    std::lock_guard lock(mu_);
    return posted_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool enabled_ = true;
  int downs_started_ = 0;
  std::vector<nlohmann::json> posted_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(ProxyToxicBackend, ARevertIsNotUndoneByARenewalInFlight) {
  SlowDownApi api;
  ASSERT_GT(api.port(), 0);
  ProxyToxicBackend backend;
  auto applied = backend.apply("f-down", down(api.port(), "db"));
  ASSERT_TRUE(applied) << applied.error().message;
  // The first renewal, every kRenewEveryMs: revert while the API is still taking it.
  ASSERT_TRUE(
      api.wait_for_downs(2, std::chrono::milliseconds(ProxyToxicBackend::kRenewEveryMs) + 3s));
  ASSERT_TRUE(backend.revert(*applied));
  std::this_thread::sleep_for(300ms);  // a renewal overtaken by the revert would land by now
  EXPECT_TRUE(api.enabled()) << "the revert was undone by a renewal";
  auto posted = api.posted();
  const nlohmann::json leased_down = {{"enabled", false},
                                      {"lease_ms", ProxyToxicBackend::kLeaseMs}};
  ASSERT_EQ(posted.size(), 3u) << "the down, its renewal, the revert's enable";
  EXPECT_EQ(posted[0], leased_down);
  EXPECT_EQ(posted[1], leased_down) << "a renewal of a down only ever takes it down";
  EXPECT_EQ(posted[2], (nlohmann::json{{"enabled", true}}));
}

TEST(ProxyToxicBackend, ToxicNamesComeFromTheFaultIdAndStayInTheirPath) {
  EXPECT_EQ(ProxyToxicBackend::toxic_name("f-81883cd867"), "faultline-f-81883cd867");
  EXPECT_EQ(ProxyToxicBackend::toxic_name("r/1?x"), "faultline-r_1_x");
}

}  // namespace
}  // namespace faultline::injector

namespace faultline::injector {
namespace {

// Whatever else listens on the port the experiment names gets the injector's time and memory
// only up to the bounds: an answer line that never ends, and one that drips a byte at a time.
TEST(ProxyToxicBackend, AHostileListenerCostsTheTimeoutAndTheCapNotMore) {
  int port = 0;
  int listener = faultline::testing::listen_on_loopback(4, port);
  ASSERT_GE(listener, 0);
  const std::string api = "127.0.0.1:" + std::to_string(port);
  std::thread peer([listener] {
    // 1: a header line 8 MiB long with no end; 2: a byte every 100 ms.
    for (int round = 0; round < 2; ++round) {
      int c = ::accept(listener, nullptr, nullptr);
      if (c < 0) return;
      std::string chunk = round == 0 ? "HTTP/1.1 200 OK\r\nX: " : "H";
      for (int i = 0; i < (round == 0 ? 128 : 40); ++i) {
        if (::send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
        chunk = round == 0 ? std::string(65536, 'A') : "T";
        if (round == 1) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ::close(c);
    }
  });
  ProxyToxicBackend backend;
  auto t0 = std::chrono::steady_clock::now();
  auto endless = backend.apply("f-5", toxic(api, "redis"));
  ASSERT_FALSE(endless);
  EXPECT_NE(endless.error().message.find("larger than"), std::string::npos)
      << endless.error().message;
  auto drip = backend.apply("f-6", toxic(api, "redis"));
  ASSERT_FALSE(drip);
  EXPECT_NE(drip.error().message.find("timed out"), std::string::npos) << drip.error().message;
  // Each call has one deadline (2 s) for everything; the undo after an unanswered apply may
  // take another.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(9));
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  peer.join();
}

}  // namespace
}  // namespace faultline::injector
