#include "common/proxy_api_address.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

TEST(ProxyApiAddress, LoopbackLiteralsWithAPortAreTaken) {
  auto v4 = parse_proxy_api("127.0.0.1:8474");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8474);
  auto other = parse_proxy_api("127.3.2.1:1");
  ASSERT_TRUE(other);
  auto v6 = parse_proxy_api("[::1]:65535");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
}

// The injector would otherwise send requests anywhere an experiment says (SSRF from a remote
// submission), or to whatever a name resolves to later.
TEST(ProxyApiAddress, AnythingButALoopbackLiteralIsRefusedWithTheReason) {
  for (const char* api : {"10.0.0.5:8474", "169.254.169.254:80", "[::ffff:10.0.0.1]:80",
                          "0.0.0.0:8474", "[fe80::1]:8474"})
    EXPECT_NE(proxy_api_problem(api).find("is not a loopback address"), std::string::npos) << api;
  for (const char* api : {"localhost:8474", "proxy.internal:8474", "127.0.0.1.nip.io:8474"})
    EXPECT_NE(proxy_api_problem(api).find("does not start with an IP address"), std::string::npos)
        << api;
  for (const char* api : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:84a", "::1:8474", "[::1]8474", ""})
    EXPECT_FALSE(proxy_api_problem(api).empty()) << api;
}

TEST(ProxyApiAddress, ProxyNamesAreSafeInAUrlPathAsTheyAre) {
  EXPECT_EQ(proxy_name_problem("redis-main_1.v2"), "");
  for (const char* name : {"", "a/b", "..%2f", "a b", "a?x=1", "a#b", "ä"})
    EXPECT_FALSE(proxy_name_problem(name).empty()) << name;
  EXPECT_FALSE(proxy_name_problem(std::string(129, 'a')).empty());
}

}  // namespace
}  // namespace faultline
