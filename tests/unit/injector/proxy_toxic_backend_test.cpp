// The proxy_toxic backend against a spec as a remote submission could send it, past whatever
// the controller checked: it must not send anything off the node or into another URL path.
// (The end-to-end behaviour, with a real proxy and a real server, is in
// tests/integration/proxy_toxic_cli_test.cpp.)
#include "injector/proxy/proxy_toxic_backend.h"

#include <gtest/gtest.h>

namespace faultline::injector {
namespace {

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
  EXPECT_NE(escape.error().message.find("has a character other than"), std::string::npos);
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

TEST(ProxyToxicBackend, ToxicNamesComeFromTheFaultIdAndStayInTheirPath) {
  EXPECT_EQ(ProxyToxicBackend::toxic_name("f-81883cd867"), "faultline-f-81883cd867");
  EXPECT_EQ(ProxyToxicBackend::toxic_name("r/1?x"), "faultline-r_1_x");
}

}  // namespace
}  // namespace faultline::injector
