#include "common/duration.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

using namespace std::chrono_literals;

struct Case {
  const char* text;
  Duration want;
};

TEST(ParseDuration, AcceptsUnitsAndCompounds) {
  const Case cases[] = {
      {"0", 0ns},     {"250ms", 250ms}, {"1.5s", 1500ms},         {"1m30s", 90s},    {"2h", 2h},
      {"10us", 10us}, {"7ns", 7ns},     {"1h2m3s4ms", 3723004ms}, {"0.25ms", 250us},
  };
  for (const auto& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.error().message;
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(ParseDuration, RejectsWithReason) {
  for (const char* bad : {"", "5", "5x", "ms", "1.2.3s", "-1s", "1s "}) {
    auto d = parse_duration(bad);
    EXPECT_FALSE(d.ok()) << "'" << bad << "' parsed";
  }
  EXPECT_EQ(parse_duration("5x").error().message,
            "invalid duration \"5x\": missing or unknown unit (expected e.g. 250ms, 1.5s, 1m30s)");
}

TEST(FormatDuration, ShortestReadableForm) {
  EXPECT_EQ(format_duration(0ns), "0s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(2h), "2h");
  EXPECT_EQ(format_duration(12us), "12us");
}

}  // namespace
}  // namespace faultline
