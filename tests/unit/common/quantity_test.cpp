#include "common/quantity.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

TEST(Quantity, Percent) {
  EXPECT_DOUBLE_EQ(*parse_percent("12.5%"), 0.125);
  EXPECT_DOUBLE_EQ(*parse_percent("100%"), 1.0);
  EXPECT_FALSE(parse_percent("0.5").ok());
  EXPECT_EQ(parse_percent("ten%").error().message,
            "invalid percentage \"ten%\" (expected e.g. 12.5%)");
  EXPECT_EQ(format_percent(0.125), "12.5%");
}

TEST(Quantity, Size) {
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("512MiB"), 512u * 1024 * 1024);
  EXPECT_EQ(*parse_size("1.5GiB"), 1610612736u);
  EXPECT_EQ(*parse_size("100MB"), 100000000u);
  EXPECT_EQ(parse_size("5mb").error().message,
            "invalid size \"5mb\": unknown unit \"mb\" (expected e.g. 512MiB, 2GiB, 100MB)");
  EXPECT_EQ(format_size(512u * 1024 * 1024), "512MiB");
  EXPECT_EQ(format_size(1000), "1000B");
}

TEST(Quantity, Rate) {
  EXPECT_EQ(*parse_rate("10mbit"), 10000000u);
  EXPECT_EQ(*parse_rate("100kbit"), 100000u);
  EXPECT_EQ(*parse_rate("1mbps"), 8000000u);
  EXPECT_FALSE(parse_rate("10").ok());
  EXPECT_FALSE(parse_rate("10 mbit").ok());
}

}  // namespace
}  // namespace faultline
