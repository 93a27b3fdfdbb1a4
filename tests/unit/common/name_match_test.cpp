#include "common/dns/name_match.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace faultline::dns {
namespace {

NameMatcher matcher(const std::vector<std::string>& patterns) {
  auto m = NameMatcher::make(patterns);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? std::move(m).value() : NameMatcher::make({}).value();
}

std::string error_of(const std::vector<std::string>& patterns) {
  auto m = NameMatcher::make(patterns);
  EXPECT_FALSE(m.ok());
  return m.ok() ? "" : m.error().message;
}

TEST(NameMatch, NoPatternsMatchEveryName) {
  const NameMatcher m = matcher({});
  EXPECT_TRUE(m.matches("api.example.com"));
  EXPECT_TRUE(m.matches(""));
}

TEST(NameMatch, ExactNamesIgnoreCaseAndTheTrailingDot) {
  const NameMatcher m = matcher({"Api.Example.COM."});
  EXPECT_TRUE(m.matches("api.example.com"));
  EXPECT_TRUE(m.matches("API.EXAMPLE.COM"));
  EXPECT_TRUE(m.matches("api.example.com."));
  EXPECT_FALSE(m.matches("api.example.co"));
  EXPECT_FALSE(m.matches("x.api.example.com"));
  EXPECT_FALSE(m.matches("api.example.com.."));
  EXPECT_FALSE(m.matches(""));

  const NameMatcher plain = matcher({"api.example.com"});
  EXPECT_TRUE(plain.matches("api.example.com"));
  EXPECT_TRUE(plain.matches("Api.example.com."));
}

TEST(NameMatch, TheRoot) {
  const NameMatcher m = matcher({"."});
  EXPECT_TRUE(m.matches(""));
  EXPECT_TRUE(m.matches("."));
  EXPECT_FALSE(m.matches("com"));
}

TEST(NameMatch, StarSpansDots) {
  const NameMatcher m = matcher({"*.payments.internal"});
  EXPECT_TRUE(m.matches("a.payments.internal"));
  EXPECT_TRUE(m.matches("a.b.payments.internal"));
  EXPECT_TRUE(m.matches("A.B.Payments.Internal."));
  EXPECT_FALSE(m.matches("payments.internal"));
  EXPECT_FALSE(m.matches("xpayments.internal"));
  EXPECT_FALSE(m.matches("a.payments.internal.evil"));

  const NameMatcher middle = matcher({"api-*.EXAMPLE.com"});
  EXPECT_TRUE(middle.matches("api-1.example.com"));
  EXPECT_TRUE(middle.matches("api-.example.com"));
  EXPECT_TRUE(middle.matches("api-a.b.example.com"));
  EXPECT_FALSE(middle.matches("api.example.com"));

  EXPECT_TRUE(matcher({"*"}).matches("anything.at.all"));
  EXPECT_TRUE(matcher({"*"}).matches(""));
  EXPECT_TRUE(matcher({"**.com"}).matches("a.com"));
}

TEST(NameMatch, QuestionMarkIsOneCharacter) {
  const NameMatcher m = matcher({"db?.example.com"});
  EXPECT_TRUE(m.matches("db1.example.com"));
  EXPECT_TRUE(m.matches("DBX.example.com"));
  EXPECT_FALSE(m.matches("db.example.com"));
  EXPECT_FALSE(m.matches("db12.example.com"));
  EXPECT_TRUE(matcher({"a?b"}).matches("a.b"));  // like '*', it may match a dot
}

TEST(NameMatch, Regex) {
  const NameMatcher m = matcher({R"(regex:(api|web)\d+\.example\.com)"});
  EXPECT_TRUE(m.matches("api1.example.com"));
  EXPECT_TRUE(m.matches("WEB22.Example.com."));  // lower-cased and trimmed first
  EXPECT_FALSE(m.matches("api.example.com"));
  EXPECT_FALSE(m.matches("xapi1.example.com"));      // a full match, not a search
  EXPECT_FALSE(m.matches("api1.example.com.evil"));  // likewise

  // Capitals in the pattern still match the lower-cased name.
  EXPECT_TRUE(matcher({"regex:API\\.example\\.com"}).matches("api.example.com"));
  // The name has no trailing dot, so an anchored pattern works as written.
  EXPECT_TRUE(matcher({"regex:^.*\\.com$"}).matches("a.com."));
}

TEST(NameMatch, AnyPatternMatches) {
  const NameMatcher m = matcher({"exact.example.com", "*.glob.example.com", "regex:re\\d\\.net"});
  EXPECT_TRUE(m.matches("exact.example.com"));
  EXPECT_TRUE(m.matches("x.glob.example.com"));
  EXPECT_TRUE(m.matches("re7.net"));
  EXPECT_TRUE(m.matches("RE7.net"));
  EXPECT_FALSE(m.matches("other.example.com"));
  EXPECT_FALSE(m.matches("glob.example.com"));
}

TEST(NameMatch, BadPatternsAreRefused) {
  EXPECT_EQ(error_of({""}), "empty name pattern");
  EXPECT_EQ(error_of({"ok.example.com", ""}), "empty name pattern");
  const std::string bad = error_of({"regex:(unclosed"});
  EXPECT_NE(bad.find("bad name regex \"(unclosed\""), std::string::npos) << bad;
  EXPECT_NE(bad.find("missing )"), std::string::npos) << bad;  // RE2's own message
  EXPECT_EQ(error_of({"regex:"}), "empty name regex in \"regex:\"");
  EXPECT_NE(error_of({"a..b"}).find("empty label"), std::string::npos);
  EXPECT_NE(error_of({".example.com"}).find("empty label"), std::string::npos);
  EXPECT_NE(error_of({"example.com.."}).find("empty label"), std::string::npos);
  EXPECT_NE(error_of({"api example.com"}).find("space or control"), std::string::npos);
  EXPECT_NE(error_of({"api.example.com\n"}).find("space or control"), std::string::npos);
  EXPECT_NE(error_of({std::string(64, 'a') + ".com"}).find("longer than 63"), std::string::npos);
  std::string long_name;
  for (int i = 0; i < 127; ++i) long_name += i ? ".x" : "x";  // 253 characters: the most
  EXPECT_TRUE(NameMatcher::make({long_name}).ok());
  EXPECT_NE(error_of({long_name + "x"}).find("too long"), std::string::npos);
  // A glob's literal part is not held to the limits: '*' can stand for nothing.
  EXPECT_TRUE(NameMatcher::make({"*" + std::string(100, 'a')}).ok());
}

TEST(NameMatch, GlobsDoNotBacktrackExponentially) {
  // fnmatch(3) takes exponential time here; the two-pointer walk is quadratic at worst.
  const NameMatcher m = matcher({"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"});
  std::string name(253, 'a');
  for (size_t i = 63; i < name.size(); i += 64) name[i] = '.';
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(m.matches(name));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(NameMatch, MatchersCopy) {
  const NameMatcher original = matcher({"regex:a+\\.com"});
  const NameMatcher copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_TRUE(copy.matches("aaa.com"));
  EXPECT_TRUE(original.matches("a.com"));
}

}  // namespace
}  // namespace faultline::dns
