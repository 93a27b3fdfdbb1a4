// faultline-intercept: the helper an injector starts for one http_fault, inside the fault's
// network namespace. It parses untrusted traffic, so it runs apart from the injector, with no
// capability but the two it needs (CAP_NET_ADMIN for its mark and for taking its rules out,
// CAP_NET_RAW for x_tables' socket) and no way to gain more. It talks to its injector over
// stdin/stdout (interceptor.proto). When the injector goes away (stdin ends), the helper takes
// the REDIRECT rules out itself, so the scope's traffic goes direct again at once, drains and
// exits: a `kill -9` of the injector leaves nothing behind.
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>

#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "common/log.h"
#include "faultline/v1/interceptor.pb.h"
#include "injector/intercept/http_interceptor.h"
#include "injector/intercept/redirect_chains.h"
#include "injector/intercept/sock_retire.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/network_install.h"

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

// Keeps CAP_NET_ADMIN and CAP_NET_RAW, drops every other capability for good, and forbids
// gaining any back through exec.
bool drop_privileges(std::string& why) {
  // The bounding set needs CAP_SETPCAP to shrink; without it (a systemd unit's bounding set
  // already limits it) capset below still leaves nothing else effective or permitted.
  if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1) {
    for (int cap = 0; cap <= 63; ++cap) {
      if (cap == CAP_NET_ADMIN || cap == CAP_NET_RAW) continue;
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM) {
        why = "drop capability " + std::to_string(cap) + " from the bounding set";
        return false;
      }
    }
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  // Inheritable and ambient empty: nothing this process could exec would get any.
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  data[0].effective = data[0].permitted = (1u << CAP_NET_ADMIN) | (1u << CAP_NET_RAW);
  if (syscall(SYS_capset, &header, data) != 0) {
    why = "capset";
    return false;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    why = "no_new_privs";
    return false;
  }
  return true;
}

void fill(pb::InterceptorReport& r, const ic::InterceptStats& s) {
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
}

ic::RetireScope retire_scope(const pb::InterceptorStart& start) {
  ic::RetireScope scope;
  const auto& s = start.http().scope();
  for (uint32_t p : s.ports()) scope.ports.insert(static_cast<uint16_t>(p));
  scope.ingress = s.direction() == "ingress";
  scope.destinations = {s.destinations().begin(), s.destinations().end()};
  scope.own_mark = start.own_mark();
  return scope;
}

int fail(const std::string& why) {
  pb::InterceptorReport r;
  r.set_error(why);
  r.set_final(true);
  send(r);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Reports go to stdout; nothing else may write there.
  faultline::init_logging("warn");
  signal(SIGPIPE, SIG_IGN);
  // The injector's stop is a message or the end of stdin, never a signal from elsewhere.
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  google::protobuf::io::FileInputStream in(STDIN_FILENO);
  google::protobuf::io::FileOutputStream out(STDOUT_FILENO);
  out_stream = &out;
  (void)argc;
  (void)argv;

  pb::InterceptorControl msg;
  bool clean_eof = false;
  if (!ParseDelimitedFromZeroCopyStream(&msg, &in, &clean_eof) || !msg.has_start())
    return fail("the first message must say what to intercept");
  const pb::InterceptorStart start = msg.start();
  auto rules = ic::HttpRules::compile(start.http());
  if (!rules) return fail(rules.error().message);
  ic::HttpInterceptor interceptor(std::move(*rules), start.own_mark());
  auto port = interceptor.start();
  if (!port) return fail(port.error().message);
  std::string why;
  if (!drop_privileges(why)) return fail("cannot drop privileges: " + why);
  {
    pb::InterceptorReport r;
    r.set_port(*port);
    send(r);
  }

  std::optional<pb::NetworkInstall> installed;
  ic::ConnectionSnapshot snapshot;
  std::thread retirer;
  std::atomic<uint64_t> retired{0}, retired_busy{0};
  for (;;) {
    msg.Clear();
    if (!ParseDelimitedFromZeroCopyStream(&msg, &in, &clean_eof)) break;  // injector gone
    if (msg.has_rules()) {
      installed = msg.rules().install();
      installed->set_netns("");  // this process is inside the namespace already
      const bool retire = start.http().existing_connections() != "leave";
      if (!msg.rules().installed()) {
        // Before the rules go in (the injector waits for this answer): exactly the
        // connections that will bypass them.
        if (retire) snapshot = ic::snapshot_connections(retire_scope(start));
        pb::InterceptorReport ack;
        ack.set_port(*port);
        send(ack);
      } else if (retire && !retirer.joinable()) {
        retirer = std::thread([&snapshot, &retired, &retired_busy] {
          auto outcome = ic::retire_connections(snapshot, std::chrono::seconds(2));
          retired = outcome.retired;
          retired_busy = outcome.busy;
        });
      }
    } else if (msg.has_report()) {
      pb::InterceptorReport r;
      fill(r, interceptor.stats());
      r.set_port(*port);
      r.set_retired(retired);
      r.set_retired_busy(retired_busy);
      send(r);
    } else if (msg.has_stop()) {
      break;
    }
  }
  // New connections go direct at once (kHold: conntrack stays on for the ones in flight), the
  // connections in flight finish, then the chains go.
  std::string rules_error;
  if (installed) {
    auto hold = faultline::injector::intercept::redirect_chains(
        start.fault_id(), start.http().scope(), "", *port,
        faultline::injector::intercept::RedirectMode::kHold);
    pb::NetworkInstall scratch;
    if (auto held = faultline::injector::install_chains(hold, scratch); !held)
      rules_error = held.error().message;
  }
  interceptor.drain(start.http().drain_ms());
  if (installed) {
    auto removed = faultline::injector::remove_installed(*installed);
    if (!removed) rules_error = removed.error().message;
  }
  if (retirer.joinable()) retirer.join();
  pb::InterceptorReport r;
  fill(r, interceptor.stats());
  r.set_port(*port);
  r.set_retired(retired);
  r.set_retired_busy(retired_busy);
  r.set_final(true);
  if (!rules_error.empty()) r.set_error("could not take the rules out: " + rules_error);
  send(r);
  return 0;
}
