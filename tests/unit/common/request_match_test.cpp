#include "common/http/request_match.h"

#include <gtest/gtest.h>

namespace faultline::http {
namespace {

RequestHead request(std::string_view method, std::string_view target,
                    std::vector<Header> headers = {}) {
  RequestHead head;
  head.method = method;
  head.target = target;
  head.headers = std::move(headers);
  return head;
}

RequestMatcher matcher(std::vector<std::string> methods, PathPattern path,
                       std::vector<RequestMatcher::HeaderCondition> headers = {}) {
  auto m = RequestMatcher::make(std::move(methods), std::move(path), std::move(headers));
  EXPECT_TRUE(m.ok()) << m.error().message;
  return std::move(m).value();
}

TEST(RequestMatch, AnyMatchesEverything) {
  const RequestMatcher m = matcher({}, {});
  EXPECT_TRUE(m.matches(request("GET", "/")));
  EXPECT_TRUE(m.matches(request("BREW", "*")));
}

TEST(RequestMatch, MethodsAreExact) {
  const RequestMatcher m = matcher({"POST", "PUT"}, {});
  EXPECT_TRUE(m.matches(request("POST", "/")));
  EXPECT_TRUE(m.matches(request("PUT", "/")));
  EXPECT_FALSE(m.matches(request("GET", "/")));
  EXPECT_FALSE(m.matches(request("post", "/")));
}

TEST(RequestMatch, ExactAndPrefixIgnoreTheQuery) {
  const RequestMatcher exact = matcher({}, {PathPattern::kExact, "/v1/charge"});
  EXPECT_TRUE(exact.matches(request("GET", "/v1/charge")));
  EXPECT_TRUE(exact.matches(request("GET", "/v1/charge?id=1#top")));
  EXPECT_TRUE(exact.matches(request("GET", "http://api:8080/v1/charge")));
  EXPECT_FALSE(exact.matches(request("GET", "/v1/charge/")));
  EXPECT_FALSE(exact.matches(request("GET", "/V1/charge")));

  const RequestMatcher prefix = matcher({}, {PathPattern::kPrefix, "/v1/charge"});
  EXPECT_TRUE(prefix.matches(request("GET", "/v1/charge")));
  EXPECT_TRUE(prefix.matches(request("GET", "/v1/charges/7")));
  EXPECT_FALSE(prefix.matches(request("GET", "/v1/char")));
  EXPECT_FALSE(prefix.matches(request("GET", "/v2/charge")));
}

TEST(RequestMatch, GlobStarStaysInOneSegment) {
  const RequestMatcher m = matcher({}, {PathPattern::kGlob, "/v1/*/status"});
  EXPECT_TRUE(m.matches(request("GET", "/v1/a/status")));
  EXPECT_TRUE(m.matches(request("GET", "/v1//status")));
  EXPECT_TRUE(m.matches(request("GET", "/v1/abc/status?verbose=1")));
  EXPECT_FALSE(m.matches(request("GET", "/v1/a/b/status")));
  EXPECT_FALSE(m.matches(request("GET", "/v1/a/status/")));
  EXPECT_FALSE(m.matches(request("GET", "/v1/status")));

  const RequestMatcher q = matcher({}, {PathPattern::kGlob, "/img/?.p*g"});
  EXPECT_TRUE(q.matches(request("GET", "/img/a.png")));
  EXPECT_TRUE(q.matches(request("GET", "/img/b.pg")));
  EXPECT_FALSE(q.matches(request("GET", "/img/ab.png")));
  EXPECT_FALSE(q.matches(request("GET", "/img/a.gif")));

  const RequestMatcher stars = matcher({}, {PathPattern::kGlob, "/*a*a*a*a*a*a*a*b"});
  EXPECT_FALSE(stars.matches(request("GET", "/" + std::string(20000, 'a'))));  // and quickly
  EXPECT_TRUE(stars.matches(request("GET", "/" + std::string(20000, 'a') + "b")));

  const RequestMatcher tail = matcher({}, {PathPattern::kGlob, "/v1/**"});
  EXPECT_TRUE(tail.matches(request("GET", "/v1/x")));
  EXPECT_FALSE(tail.matches(request("GET", "/v1/x/y")));
}

TEST(RequestMatch, RegexSearchesUnlessAnchored) {
  const RequestMatcher search = matcher({}, {PathPattern::kRegex, "/v[0-9]+/"});
  EXPECT_TRUE(search.matches(request("GET", "/api/v2/x")));
  EXPECT_FALSE(search.matches(request("GET", "/api/vx/x")));
  const RequestMatcher anchored = matcher({}, {PathPattern::kRegex, "^/v[0-9]+/"});
  EXPECT_TRUE(anchored.matches(request("GET", "/v12/x")));
  EXPECT_FALSE(anchored.matches(request("GET", "/api/v2/x")));
  const RequestMatcher whole = matcher({}, {PathPattern::kRegex, "^/health$"});
  EXPECT_TRUE(whole.matches(request("GET", "/health?deep=1")));
  EXPECT_FALSE(whole.matches(request("GET", "/healthz")));

  const RequestMatcher copy = anchored;  // shares the compiled RE2
  EXPECT_TRUE(copy.matches(request("GET", "/v1/")));
}

TEST(RequestMatch, HeaderNamesIgnoreCaseAndValuesMayGlob) {
  const RequestMatcher m = matcher({}, {}, {{"X-Tenant", "acme"}});
  EXPECT_TRUE(m.matches(request("GET", "/", {{"x-tenant", "acme"}})));
  EXPECT_TRUE(m.matches(request("GET", "/", {{"X-TENANT", "other"}, {"x-Tenant", "acme"}})));
  EXPECT_FALSE(m.matches(request("GET", "/", {{"x-tenant", "Acme"}})));
  EXPECT_FALSE(m.matches(request("GET", "/", {{"x-tenant", "acme2"}})));
  EXPECT_FALSE(m.matches(request("GET", "/")));

  const RequestMatcher present = matcher({}, {}, {{"authorization", "*"}});
  EXPECT_TRUE(present.matches(request("GET", "/", {{"Authorization", ""}})));
  EXPECT_FALSE(present.matches(request("GET", "/")));

  const RequestMatcher glob = matcher({}, {}, {{"user-agent", "curl/*"}, {"accept", "*json?"}});
  EXPECT_TRUE(glob.matches(
      request("GET", "/", {{"User-Agent", "curl/8.1/x"}, {"Accept", "application/json?"}})));
  EXPECT_FALSE(glob.matches(
      request("GET", "/", {{"User-Agent", "curl/8.1/x"}, {"Accept", "application/jsonx"}})))
      << "'?' is literal in a header value";
  EXPECT_FALSE(glob.matches(
      request("GET", "/", {{"User-Agent", "wget/1"}, {"Accept", "application/json?"}})));
}

TEST(RequestMatch, AllConditionsMustHold) {
  const RequestMatcher m =
      matcher({"POST"}, {PathPattern::kPrefix, "/v1/charge"}, {{"x-tenant", "acme"}});
  RequestHead head;
  ASSERT_EQ(parse_request_head("POST /v1/charge HTTP/1.1\r\nX-Tenant: acme\r\n\r\n", head).state,
            Parse::kDone);
  EXPECT_TRUE(m.matches(head));
  EXPECT_FALSE(m.matches(request("GET", "/v1/charge", {{"x-tenant", "acme"}})));
  EXPECT_FALSE(m.matches(request("POST", "/v1/refund", {{"x-tenant", "acme"}})));
  EXPECT_FALSE(m.matches(request("POST", "/v1/charge", {{"x-tenant", "other"}})));
}

TEST(RequestMatch, RefusesBadRules) {
  auto bad_regex = RequestMatcher::make({}, {PathPattern::kRegex, "/v1/(a"}, {});
  ASSERT_FALSE(bad_regex.ok());
  EXPECT_EQ(bad_regex.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_regex.error().message, "bad path regex \"/v1/(a\": missing ): /v1/(a");

  auto error = [](std::vector<std::string> methods, PathPattern path,
                  std::vector<RequestMatcher::HeaderCondition> headers) {
    auto m = RequestMatcher::make(std::move(methods), std::move(path), std::move(headers));
    return m.ok() ? std::string("ok") : m.error().message;
  };
  EXPECT_EQ(error({"get"}, {}, {}),
            "method \"get\" is not upper case (methods are case-sensitive)");
  EXPECT_EQ(error({"GE T"}, {}, {}), "method \"GE T\" is not a token");
  EXPECT_EQ(error({""}, {}, {}), "method \"\" is not a token");
  EXPECT_EQ(error({}, {PathPattern::kPrefix, ""}, {}), "empty path pattern");
  EXPECT_EQ(error({}, {PathPattern::kGlob, "v1/*"}, {}), "path \"v1/*\" does not start with '/'");
  EXPECT_EQ(error({}, {}, {{"x tenant", "a"}}), "header name \"x tenant\" is not a token");
  EXPECT_EQ(error({}, {}, {{"x", "a\r\nb"}}), "header \"x\" value has a control character");
  EXPECT_EQ(error({"M-SEARCH"}, {PathPattern::kRegex, "^/$"}, {{"x", "*"}}), "ok");
}

}  // namespace
}  // namespace faultline::http
