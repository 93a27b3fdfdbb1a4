// faultline-intercept: the helper an injector starts for one http_fault or dns_fault, inside
// the fault's network namespace. It is the only process that parses the intercepted traffic,
// so before it reads any it confines itself (confine.h). It talks to its injector over its
// stdin/stdout, one socket (interceptor.proto). When its injector goes away (the socket
// ends), it takes its rules back by itself: redirects stop, connections in flight finish,
// the chains go; so a `kill -9` of the injector leaves nothing behind.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/latency_slice.h"
#include "common/log.h"
#include "faultline/v1/interceptor.pb.h"
#include "injector/intercept/confine.h"
#include "injector/intercept/dns_interceptor.h"
#include "injector/intercept/http_interceptor.h"
#include "injector/intercept/redirect_chains.h"
#include "injector/intercept/sock_retire.h"
#include "injector/network/conntrack_flows.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/network_install.h"
#include "injector/network/xt_ruleset.h"

namespace {

namespace pb = ::faultline::v1;
namespace ic = ::faultline::injector::intercept;
using google::protobuf::util::ParseDelimitedFromZeroCopyStream;
using google::protobuf::util::SerializeDelimitedToZeroCopyStream;

std::mutex out_mu;
google::protobuf::io::FileOutputStream* out_stream = nullptr;

void send(const pb::InterceptorReport& r) {
  std::lock_guard lock(out_mu);
  SerializeDelimitedToZeroCopyStream(r, out_stream);
  out_stream->Flush();
}

int fail(const std::string& why) {
  pb::InterceptorReport r;
  r.set_error(why);
  r.set_final(true);
  send(r);
  return 1;
}

// What one kind of interception does; the control loop is the same for both.
class Mode {
 public:
  virtual ~Mode() = default;
  virtual faultline::Status listen() = 0;
  virtual void run() = 0;
  // The ports to report, and the chains that redirect nothing new (RedirectMode::kHold).
  virtual void ports(pb::InterceptorReport& r) const = 0;
  virtual std::vector<faultline::injector::ChainSpec> hold_chains() const = 0;
  virtual void rules_going_in() {}
  virtual void rules_in() {}
  virtual void drain() = 0;
  // After the rules came out (the helper exits next).
  virtual void rules_out() {}
  virtual void fill(pb::InterceptorReport& r) const = 0;
};

class HttpMode : public Mode {
 public:
  HttpMode(const pb::InterceptorStart& start, ic::HttpRules rules,
           std::unique_ptr<ic::TlsTerminator> tls)
      : start_(start), interceptor_(std::move(rules), start.own_mark(), std::move(tls)) {
    start_.clear_tls_key_pem();  // the key lives in the terminator alone (main wipes the rest)
  }
  ~HttpMode() override {
    if (retirer_.joinable()) retirer_.join();
  }
  faultline::Status listen() override {
    auto port = interceptor_.listen();
    if (!port) return port.error();
    port_ = *port;
    return faultline::Ok{};
  }
  void run() override { interceptor_.run(); }
  void ports(pb::InterceptorReport& r) const override { r.set_port(port_); }
  std::vector<faultline::injector::ChainSpec> hold_chains() const override {
    return ic::redirect_chains(start_.fault_id(), start_.http().scope(), "", port_,
                               ic::RedirectMode::kHold);
  }
  void rules_going_in() override {
    // Exactly the connections the rules will not catch (the injector waits for the answer).
    if (retire()) snapshot_ = ic::snapshot_connections(scope());
  }
  void rules_in() override {
    if (!retire() || retirer_.joinable()) return;
    retirer_ = std::thread([this] {
      auto outcome = ic::retire_connections(snapshot_, std::chrono::seconds(2));
      retired_ = outcome.retired;
      retired_busy_ = outcome.busy;
    });
  }
  void drain() override { interceptor_.drain(start_.http().drain_ms()); }
  void fill(pb::InterceptorReport& r) const override {
    const auto& s = interceptor_.stats();
    r.set_connections(s.connections);
    r.set_requests(s.requests);
    r.set_matched(s.matched);
    r.set_aborted(s.aborted);
    r.set_delayed(s.delayed);
    r.set_replaced(s.replaced);
    r.set_reset(s.reset);
    r.set_passed(s.passed);
    r.set_uninspected(s.uninspected);
    r.set_tls(s.tls);
    r.set_upstream_errors(s.upstream_errors);
    r.set_tls_terminated(s.tls_terminated);
    r.set_tls_failed(s.tls_failed);
    r.set_retired(retired_);
    r.set_retired_busy(retired_busy_);
  }

 private:
  bool retire() const { return start_.http().existing_connections() != "leave"; }
  ic::RetireScope scope() const {
    ic::RetireScope out;
    const auto& s = start_.http().scope();
    for (uint32_t p : s.ports()) out.ports.insert(static_cast<uint16_t>(p));
    out.ingress = s.direction() == "ingress";
    out.destinations = {s.destinations().begin(), s.destinations().end()};
    out.own_mark = start_.own_mark();
    return out;
  }

  pb::InterceptorStart start_;
  ic::HttpInterceptor interceptor_;
  uint16_t port_ = 0;
  ic::ConnectionSnapshot snapshot_;
  std::thread retirer_;
  std::atomic<uint64_t> retired_{0}, retired_busy_{0};
};

class DnsMode : public Mode {
 public:
  DnsMode(const pb::InterceptorStart& start, ic::DnsRules rules)
      : start_(start),
        interceptor_(std::move(rules), start.own_mark(),
                     {start.dns().servers().begin(), start.dns().servers().end()}) {}
  faultline::Status listen() override { return interceptor_.listen(); }
  void run() override { interceptor_.run(); }
  void ports(pb::InterceptorReport& r) const override {
    for (uint16_t p : interceptor_.udp_ports()) r.add_udp_ports(p);
    for (uint16_t p : interceptor_.tcp_ports()) r.add_tcp_ports(p);
  }
  std::vector<faultline::injector::ChainSpec> hold_chains() const override {
    return ic::dns_redirect_chains(start_.fault_id(), "", start_.dns(), interceptor_.udp_ports(),
                                   interceptor_.tcp_ports(), ic::RedirectMode::kHold);
  }
  void drain() override { interceptor_.drain(start_.dns().drain_ms()); }
  // The same socket's entry now leads to this helper, about to exit: forgotten, its next query
  // goes to the server again instead of to a closed port.
  void rules_out() override {
    using faultline::injector::UdpFlowFilter;
    if (auto n = faultline::injector::forget_dns_flows(
            UdpFlowFilter::kRedirected,
            {start_.dns().servers().begin(), start_.dns().servers().end()},
            interceptor_.udp_ports());
        !n)
      spdlog::warn("dns_fault: redirected UDP flows not released error=\"{}\"", n.error().message);
  }
  void fill(pb::InterceptorReport& r) const override {
    const auto& s = interceptor_.stats();
    r.set_queries(s.queries);
    r.set_forged(s.forged);
    r.set_dropped(s.dropped);
    r.set_delayed_queries(s.delayed);
    r.set_forwarded(s.forwarded);
    r.set_tcp_queries(s.tcp);
    r.set_malformed(s.malformed);
    r.set_upstream_errors(s.upstream_errors);
  }

 private:
  pb::InterceptorStart start_;
  ic::DnsInterceptor interceptor_;
};

faultline::Result<std::unique_ptr<Mode>> make_mode(const pb::InterceptorStart& start) {
  if (start.has_dns()) {
    auto rules = ic::DnsRules::compile(start.dns());
    if (!rules) return rules.error();
    return std::unique_ptr<Mode>(new DnsMode(start, std::move(*rules)));
  }
  auto rules = ic::HttpRules::compile(start.http());
  if (!rules) return rules.error();
  std::unique_ptr<ic::TlsTerminator> tls;
  if (start.http().has_tls()) {
    auto made = ic::TlsTerminator::make(start.tls_certificate_pem(), start.tls_key_pem());
    if (!made) return made.error();
    tls = std::move(*made);
  }
  return std::unique_ptr<Mode>(new HttpMode(start, std::move(*rules), std::move(tls)));
}

}  // namespace

// Sanitizer builds only (tests): LeakSanitizer's check at exit needs /proc, which the confined
// helper cannot see; without this it reports a fatal error on every exit.
extern "C" const char* __lsan_default_options() {
  return "detect_leaks=0";
}

int main() {
  // Reports go to stdout; logs to stderr.
  faultline::init_logging("warn");
  signal(SIGPIPE, SIG_IGN);
  // The injector's stop is a message or the end of stdin, never a signal from elsewhere.
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  google::protobuf::io::FileInputStream in(STDIN_FILENO);
  google::protobuf::io::FileOutputStream out(STDOUT_FILENO);
  out_stream = &out;

  pb::InterceptorControl msg;
  bool clean_eof = false;
  if (!ParseDelimitedFromZeroCopyStream(&msg, &in, &clean_eof) || !msg.has_start())
    return fail("the first message must say what to intercept");
  pb::InterceptorStart start = std::move(*msg.mutable_start());
  auto mode = make_mode(start);
  // The private key's bytes are in the TLS context now: wiped from the message they came in.
  OPENSSL_cleanse(start.mutable_tls_key_pem()->data(), start.tls_key_pem().size());
  start.clear_tls_key_pem();
  msg.Clear();
  if (!mode) return fail(mode.error().message);
  if (auto bound = (*mode)->listen(); !bound) return fail(bound.error().message);
  // iptables' lock file cannot be opened once confined: opened now, used for every change.
  const char* lock_env = std::getenv("XTABLES_LOCKFILE");
  std::string lock_path = lock_env && *lock_env ? lock_env : "/run/xtables.lock";
  int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock >= 0) faultline::injector::xt_use_lock_file(lock);
  std::string why;
  if (!ic::confine(why)) return fail("cannot confine the interceptor: " + why);
  // Before the serving threads start (they inherit it): each request wakes a thread of ours on
  // a node whose CPUs are busy with the service itself, and the tail of what the interception
  // adds looked like waiting for a CPU (docs/BENCHMARKS.md, HTTP fault path: real-time priority
  // brought it near the target). A short slice is the unprivileged way to get the turn sooner;
  // on the noisy runs where it was tried, its effect was lost in the noise.
  if (!faultline::request_latency_slice(std::chrono::microseconds(100)))
    spdlog::debug("latency slice refused errno={}", errno);
  (*mode)->run();
  {
    pb::InterceptorReport r;
    (*mode)->ports(r);
    send(r);
  }

  std::optional<pb::NetworkInstall> installed;
  for (;;) {
    msg.Clear();
    if (!ParseDelimitedFromZeroCopyStream(&msg, &in, &clean_eof)) break;  // injector gone
    if (msg.has_rules()) {
      installed = msg.rules().install();
      // This process is inside the namespace already (and, confined, cannot see /proc).
      installed->set_netns("");
      installed->set_netns_inode(0);
      if (!msg.rules().installed()) {
        (*mode)->rules_going_in();
        pb::InterceptorReport ack;
        (*mode)->ports(ack);
        send(ack);
      } else {
        (*mode)->rules_in();
      }
    } else if (msg.has_report()) {
      pb::InterceptorReport r;
      (*mode)->ports(r);
      (*mode)->fill(r);
      send(r);
    } else if (msg.has_stop()) {
      break;
    }
  }
  // New connections go direct at once (kHold keeps conntrack on for those in flight), the
  // ones in flight finish, then the chains go.
  std::string rules_error;
  if (installed) {
    auto hold = (*mode)->hold_chains();
    std::string flavour = installed->chains_size() ? installed->chains(0).flavour() : "";
    for (auto& c : hold)
      if (!flavour.empty()) c.flavour = flavour;
    if (auto held = faultline::injector::replace_chain_rules(hold); !held)
      rules_error = held.error().message;
  }
  (*mode)->drain();
  if (installed) {
    auto removed = faultline::injector::remove_installed(*installed);
    if (!removed) rules_error = removed.error().message;
    (*mode)->rules_out();
  }
  pb::InterceptorReport r;
  (*mode)->ports(r);
  (*mode)->fill(r);
  r.set_final(true);
  if (!rules_error.empty()) r.set_error("rules: " + rules_error);
  send(r);
  return 0;
}
