// Where submitted experiments' probes may connect: CIDRs, names and suffixes, the built-in
// link-local/metadata rule, and probes that dial the address that was checked.
#include "controller/policy/destination_guard.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <thread>

#include "controller/policy/controller_policy.h"
#include "controller/watch/http_probe.h"

namespace faultline::controller {
namespace {

std::shared_ptr<DestinationGuard> guard(HostRules rules) {
  return std::make_shared<DestinationGuard>(std::move(rules), "p.yaml");
}

TEST(DestinationGuard, RulesMatchAddressesCidrsNamesAndSuffixes) {
  auto g = guard({{"10.0.0.0/8", "fd00::/8", "db.internal", "*.svc.local"}, {"10.9.0.0/16"}});
  EXPECT_EQ(g->refusal("10.1.2.3"), "");
  EXPECT_EQ(g->refusal("::ffff:10.1.2.3"), "");  // IPv4-mapped is the IPv4 address
  EXPECT_EQ(g->refusal("fd12::1"), "");
  EXPECT_EQ(g->refusal("10.9.1.1"),
            "10.9.1.1 is denied by the controller policy p.yaml "
            "(hosts.deny: 10.9.0.0/16)");
  EXPECT_EQ(g->refusal("11.0.0.1"),
            "11.0.0.1 is not allowed by the controller policy p.yaml (no hosts.allow rule "
            "matches it)");
  // Names the allow list gives are allowed even before they resolve; others need addresses.
  EXPECT_EQ(g->refusal("db.internal"), "");
  EXPECT_EQ(g->refusal("web.svc.local"), "");
  EXPECT_NE(g->refusal("svc.local"), "");  // "*.svc.local" is a suffix, not the name itself
  EXPECT_EQ(g->refusal("169.254.169.254"),
            "169.254.169.254 is link-local or a cloud metadata address (169.254.0.0/16), never "
            "reachable from a submitted experiment (built-in rule; the controller policy's "
            "hosts.link_local lifts it)");
  EXPECT_EQ(check_host_rule("10.0.0.0/33"),
            "\"10.0.0.0/33\" is not a CIDR (e.g. 10.0.0.0/8, "
            "fd00::/8)");
  EXPECT_EQ(check_host_rule("a b"), "\"a b\" is not an address, CIDR, host name or *.suffix");
}

TEST(DestinationGuard, ALinkLocalRuleCanBeLiftedButTheDefaultGuardAllowsTheRest) {
  EXPECT_EQ(guard({{}, {}, true})->refusal("169.254.169.254"), "");
  EXPECT_EQ(guard({})->refusal("127.0.0.1"), "");
  EXPECT_NE(guard({})->refusal("METADATA.google.internal."), "");
  EXPECT_EQ(DestinationGuard().refusal("169.254.169.254"), "");  // the CLI's own runs
}

TEST(DestinationGuard, AProbeDialsTheCheckedAddressAndIsRefusedWhereTheAddressIs) {
  httplib::Server server;
  server.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.get_header_value("Host"), "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  experiments::HttpProbeSpec spec;
  spec.url = "http://localhost:" + std::to_string(port) + "/";
  spec.body_regex = "^localhost:";  // the name is still what the server is asked for
  // Allowed by name; localhost's addresses are checked and the first one dialled.
  HttpProbe allowed("p", spec, guard({{"localhost", "127.0.0.1/32", "::1/128"}, {}}));
  EXPECT_TRUE(allowed.run().ok) << allowed.run().observed;
  // Allowed by name, but an address it resolves to is denied: refused at the connection.
  HttpProbe denied("p", spec, guard({{"localhost"}, {"127.0.0.0/8"}}));
  ProbeOutcome o = denied.run();
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed.rfind("refused: localhost (127.0.0.1) is denied by the controller policy "
                             "p.yaml (hosts.deny: 127.0.0.0/8)",
                             0),
            0u)
      << o.observed;
  server.stop();
  t.join();
}

TEST(ControllerPolicyFile, DefaultsAndOverridesAndErrorsWithTheirLine) {
  auto p = ControllerPolicy::parse(
      "apiVersion: faultline/v1\nkind: ControllerPolicy\ncommands:\n  - path: /usr/bin/true\n"
      "ca_files: [/etc/faultline/cas/]\nlimits: {faults: 5, events_per_run: 100}\n",
      "p.yaml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->command("/usr/bin/true"));
  EXPECT_FALSE(p->command("true"));
  EXPECT_TRUE(p->ca_file_allowed("/etc/faultline/cas/a.pem"));
  EXPECT_FALSE(p->ca_file_allowed("/etc/faultline/cas/../../shadow"));
  EXPECT_EQ(p->limits.max_faults, 5u);
  EXPECT_EQ(p->limits.max_probes, experiments::LoadLimits{}.max_probes);
  EXPECT_EQ(p->max_events_per_run, 100u);
  auto bad = ControllerPolicy::parse(
      "apiVersion: faultline/v1\nkind: ControllerPolicy\ncommands:\n  - path: true\n", "p.yaml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "controller policy p.yaml:4:11: commands[0].path: \"true\" is not an absolute path");
}

}  // namespace
}  // namespace faultline::controller
