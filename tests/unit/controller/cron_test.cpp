// Cron expressions and time zones against the system's real tzdata (/usr/share/zoneinfo).
#include <gtest/gtest.h>

#include "controller/schedule/cron_expression.h"
#include "controller/schedule/time_zone.h"

namespace faultline::controller {
namespace {

// Unix seconds of a UTC reading.
int64_t utc(int y, unsigned mo, unsigned d, unsigned h = 0, unsigned mi = 0, unsigned s = 0) {
  return local_from_civil(y, mo, d, h, mi, s);
}

TimeZone zone(const std::string& name) {
  auto z = TimeZone::load(name);
  EXPECT_TRUE(z.ok()) << (z.ok() ? "" : z.error().message);
  return z.ok() ? *z : TimeZone::utc();
}

CronExpression cron(const std::string& text) {
  auto c = CronExpression::parse(text);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? *c : *CronExpression::parse("* * * * *");
}

// The instant after `after`, or -1 when there is none.
int64_t next(const std::string& expr, int64_t after, const TimeZone& z = TimeZone::utc()) {
  return cron(expr).next_after(after, z).value_or(-1);
}

std::string parse_error(const std::string& text) {
  auto c = CronExpression::parse(text);
  return c.ok() ? "(parsed)" : c.error().message;
}

TEST(TimeZone, UtcHasNoOffsetAndFormatsReadably) {
  TimeZone z = zone("UTC");
  EXPECT_EQ(z.offset_at(utc(2026, 7, 1)).utc_offset_s, 0);
  EXPECT_EQ(z.format(utc(2026, 3, 29, 1, 2, 3)), "2026-03-29 01:02:03 UTC (+00:00)");
  EXPECT_EQ(zone("Etc/UTC").offset_at(utc(2026, 7, 1)).utc_offset_s, 0);
}

TEST(TimeZone, BerlinChangesAtOneUtcOnTheLastSundaysOfMarchAndOctober) {
  TimeZone z = zone("Europe/Berlin");
  EXPECT_EQ(z.offset_at(utc(2026, 3, 29, 0, 59, 59)).utc_offset_s, 3600);
  EXPECT_EQ(z.offset_at(utc(2026, 3, 29, 1, 0, 0)).utc_offset_s, 7200);
  EXPECT_TRUE(z.offset_at(utc(2026, 3, 29, 1)).dst);
  EXPECT_EQ(z.offset_at(utc(2026, 3, 29, 1)).abbrev, "CEST");
  EXPECT_EQ(z.offset_at(utc(2026, 10, 25, 0, 59, 59)).utc_offset_s, 7200);
  EXPECT_EQ(z.offset_at(utc(2026, 10, 25, 1, 0, 0)).utc_offset_s, 3600);
  EXPECT_EQ(z.format(utc(2026, 3, 29, 1)), "2026-03-29 03:00:00 CEST (+02:00)");
}

TEST(TimeZone, SkippedAndRepeatedWallClockReadings) {
  TimeZone z = zone("Europe/Berlin");
  // 02:30 does not exist on 2026-03-29: the first instant after the gap is the jump itself.
  auto gap = z.to_utc(local_from_civil(2026, 3, 29, 2, 30));
  EXPECT_EQ(gap.kind, TimeZone::Mapping::Kind::kSkipped);
  EXPECT_EQ(gap.first, utc(2026, 3, 29, 1));
  // 02:30 happens twice on 2026-10-25: 00:30 UTC (CEST) and 01:30 UTC (CET).
  auto twice = z.to_utc(local_from_civil(2026, 10, 25, 2, 30));
  EXPECT_EQ(twice.kind, TimeZone::Mapping::Kind::kRepeated);
  EXPECT_EQ(twice.first, utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(twice.second, utc(2026, 10, 25, 1, 30));
  auto plain = z.to_utc(local_from_civil(2026, 7, 1, 12));
  EXPECT_EQ(plain.kind, TimeZone::Mapping::Kind::kUnique);
  EXPECT_EQ(plain.first, utc(2026, 7, 1, 10));
}

TEST(TimeZone, NewYorkChangesOnTheSecondSundayOfMarchAndTheFirstOfNovember) {
  TimeZone z = zone("America/New_York");
  EXPECT_EQ(z.offset_at(utc(2026, 3, 8, 6, 59, 59)).utc_offset_s, -5 * 3600);
  EXPECT_EQ(z.offset_at(utc(2026, 3, 8, 7)).utc_offset_s, -4 * 3600);
  EXPECT_EQ(z.offset_at(utc(2026, 11, 1, 5, 59, 59)).utc_offset_s, -4 * 3600);
  EXPECT_EQ(z.offset_at(utc(2026, 11, 1, 6)).utc_offset_s, -5 * 3600);
  EXPECT_EQ(z.format(utc(2026, 11, 1, 6)), "2026-11-01 01:00:00 EST (-05:00)");
}

TEST(TimeZone, YearsAfterTheTransitionsTableFollowTheFooterRule) {
  // Past 2037 (and in "slim" tzdata, far sooner) only the POSIX TZ footer says what holds.
  TimeZone berlin = zone("Europe/Berlin");
  EXPECT_EQ(berlin.offset_at(utc(2050, 7, 1)).utc_offset_s, 7200);
  EXPECT_EQ(berlin.offset_at(utc(2050, 1, 15)).utc_offset_s, 3600);
  // 2050-03-27 is the last Sunday of March 2050.
  EXPECT_EQ(berlin.offset_at(utc(2050, 3, 27, 0, 59, 59)).utc_offset_s, 3600);
  EXPECT_EQ(berlin.offset_at(utc(2050, 3, 27, 1)).utc_offset_s, 7200);
  // The southern hemisphere: daylight time spans the new year.
  TimeZone sydney = zone("Australia/Sydney");
  EXPECT_EQ(sydney.offset_at(utc(2045, 1, 15)).utc_offset_s, 11 * 3600);
  EXPECT_EQ(sydney.offset_at(utc(2045, 7, 15)).utc_offset_s, 10 * 3600);
  EXPECT_EQ(zone("Asia/Kolkata").offset_at(utc(2045, 7, 15)).utc_offset_s, 5 * 3600 + 1800);
}

TEST(TimeZone, UnknownOrMalformedNamesAreClearErrors) {
  auto unknown = TimeZone::load("Mars/Olympus_Mons");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_NE(unknown.error().message.find("time zone \"Mars/Olympus_Mons\": unknown"),
            std::string::npos)
      << unknown.error().message;
  auto escape = TimeZone::load("../../etc/passwd");
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().code, ErrorCode::kInvalidArgument);
  auto garbage = TimeZone::from_tzif("Bad/Zone", "not a tzif file at all, clearly");
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("not a TZif file"), std::string::npos);
}

TEST(Cron, EveryFifteenMinutes) {
  EXPECT_EQ(next("*/15 * * * *", utc(2026, 11, 18, 10, 7, 30)), utc(2026, 11, 18, 10, 15));
  EXPECT_EQ(next("*/15 * * * *", utc(2026, 11, 18, 10, 45)), utc(2026, 11, 18, 11, 0));
  EXPECT_EQ(next("*/15 * * * *", utc(2026, 12, 31, 23, 59, 59)), utc(2027, 1, 1));
}

TEST(Cron, SecondsFieldListsRangesAndSteps) {
  EXPECT_EQ(next("*/5 * * * * *", utc(2026, 11, 18, 10, 0, 2)), utc(2026, 11, 18, 10, 0, 5));
  EXPECT_EQ(next("*/5 * * * * *", utc(2026, 11, 18, 10, 0, 55)), utc(2026, 11, 18, 10, 1, 0));
  EXPECT_EQ(next("0 5,35 8-10/2 * * *", utc(2026, 11, 18, 8, 5)), utc(2026, 11, 18, 8, 35));
  EXPECT_EQ(next("0 5,35 8-10/2 * * *", utc(2026, 11, 18, 8, 35)), utc(2026, 11, 18, 10, 5));
  EXPECT_EQ(next("0 5,35 8-10/2 * * *", utc(2026, 11, 18, 10, 35)), utc(2026, 11, 19, 8, 5));
  // "5/20": from 5 to the end of the field.
  EXPECT_EQ(next("5/20 * * * *", utc(2026, 11, 18, 10, 26)), utc(2026, 11, 18, 10, 45));
}

TEST(Cron, NamesAndShorthands) {
  EXPECT_EQ(next("0 0 1 jan,JUL *", utc(2026, 2, 1)), utc(2026, 7, 1));
  // 2026-11-18 is a Wednesday.
  EXPECT_EQ(next("0 9 * * MON-FRI", utc(2026, 11, 20, 9)), utc(2026, 11, 23, 9));
  EXPECT_EQ(next("0 0 * * 7", utc(2026, 11, 18)), utc(2026, 11, 22));  // 7 is Sunday too
  EXPECT_EQ(next("@weekly", utc(2026, 11, 18)), utc(2026, 11, 22));
  EXPECT_EQ(next("@hourly", utc(2026, 11, 18, 10, 0)), utc(2026, 11, 18, 11));
  EXPECT_EQ(next("@daily", utc(2026, 11, 18, 10)), utc(2026, 11, 19));
  EXPECT_EQ(next("@monthly", utc(2026, 11, 18)), utc(2026, 12, 1));
  EXPECT_EQ(next("@yearly", utc(2026, 11, 18)), utc(2027, 1, 1));
}

TEST(Cron, DayOfMonthAndDayOfWeekBothRestrictedMeansEither) {
  // 2026-11-06 and 2026-11-13 are Fridays.
  int64_t t = utc(2026, 11, 1);
  t = next("0 0 10 * FRI", t);
  EXPECT_EQ(t, utc(2026, 11, 6));
  t = next("0 0 10 * FRI", t);
  EXPECT_EQ(t, utc(2026, 11, 10));
  t = next("0 0 10 * FRI", t);
  EXPECT_EQ(t, utc(2026, 11, 13));
  // With one of them '*', only the other counts.
  EXPECT_EQ(next("0 0 10 * *", utc(2026, 11, 1)), utc(2026, 11, 10));
  EXPECT_EQ(next("0 0 * * FRI", utc(2026, 11, 7)), utc(2026, 11, 13));
}

TEST(Cron, FebruaryTwentyNinthWaitsForALeapYearAndImpossibleDatesNeverFire) {
  EXPECT_EQ(next("0 12 29 2 *", utc(2026, 3, 1)), utc(2028, 2, 29, 12));
  EXPECT_EQ(next("0 0 30 2 *", utc(2026, 3, 1)), -1);
  EXPECT_EQ(next("0 0 31 4,6 *", utc(2026, 3, 1)), -1);
}

TEST(Cron, BerlinSpringForwardFiresOnceAtTheJump) {
  TimeZone z = zone("Europe/Berlin");
  // 02:30 is skipped on 2026-03-29: it fires at 03:00 CEST (01:00 UTC), the next day as usual.
  EXPECT_EQ(next("30 2 * * *", utc(2026, 3, 28, 12), z), utc(2026, 3, 29, 1));
  EXPECT_EQ(next("30 2 * * *", utc(2026, 3, 29, 1), z), utc(2026, 3, 30, 0, 30));
  // Every quarter hour: 01:45 CET, then once at the jump (02:00..02:45 do not exist), 03:15.
  EXPECT_EQ(next("*/15 * * * *", utc(2026, 3, 29, 0, 30), z), utc(2026, 3, 29, 0, 45));
  EXPECT_EQ(next("*/15 * * * *", utc(2026, 3, 29, 0, 45), z), utc(2026, 3, 29, 1, 0));
  EXPECT_EQ(next("*/15 * * * *", utc(2026, 3, 29, 1, 0), z), utc(2026, 3, 29, 1, 15));
}

TEST(Cron, BerlinFallBackFiresTheRepeatedHourOnce) {
  TimeZone z = zone("Europe/Berlin");
  // 02:30 happens twice on 2026-10-25; it fires the first time (00:30 UTC) only.
  EXPECT_EQ(next("30 2 * * *", utc(2026, 10, 24, 12), z), utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(next("30 2 * * *", utc(2026, 10, 25, 0, 30), z), utc(2026, 10, 26, 1, 30));
  // From inside the second 02:xx hour, the next fire is 03:00 CET.
  EXPECT_EQ(next("*/15 * * * *", utc(2026, 10, 25, 1, 10), z), utc(2026, 10, 25, 2, 0));
}

TEST(Cron, NewYorkDaylightSavingDays) {
  TimeZone z = zone("America/New_York");
  EXPECT_EQ(next("0 2 * * *", utc(2026, 3, 7, 12), z), utc(2026, 3, 8, 7));  // 03:00 EDT
  EXPECT_EQ(next("0 9 * * *", utc(2026, 3, 8, 7), z), utc(2026, 3, 8, 13));  // 09:00 EDT
  EXPECT_EQ(next("30 1 * * *", utc(2026, 10, 31, 12), z), utc(2026, 11, 1, 5, 30));
  EXPECT_EQ(next("30 1 * * *", utc(2026, 11, 1, 5, 30), z), utc(2026, 11, 2, 6, 30));
}

TEST(Cron, TimePointOverloadAgreesWithSeconds) {
  using namespace std::chrono;
  auto c = cron("*/5 * * * * *");
  system_clock::time_point after{milliseconds(utc(2026, 11, 18, 10, 0, 4) * 1000 + 999)};
  auto n = c.next_after(after, TimeZone::utc());
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(duration_cast<seconds>(n->time_since_epoch()).count(), utc(2026, 11, 18, 10, 0, 5));
}

TEST(Cron, ParseErrorsNameTheFieldAndTheText) {
  EXPECT_EQ(parse_error("61 * * * *"),
            "cron \"61 * * * *\": minute field \"61\": 61 is out of "
            "range 0-59");
  EXPECT_EQ(parse_error("* 24 * * *"),
            "cron \"* 24 * * *\": hour field \"24\": 24 is out of "
            "range 0-23");
  EXPECT_EQ(parse_error("*/0 * * * *"),
            "cron \"*/0 * * * *\": minute field \"*/0\": step must be at least 1");
  EXPECT_EQ(parse_error("* * * * MOON"),
            "cron \"* * * * MOON\": day-of-week field \"MOON\": \"MOON\" is not a number or a "
            "name (SUN..SAT)");
  EXPECT_EQ(parse_error("* * 0 * *"),
            "cron \"* * 0 * *\": day-of-month field \"0\": 0 is out of range 1-31");
  EXPECT_EQ(parse_error("* * * 13 *"),
            "cron \"* * * 13 *\": month field \"13\": 13 is out of range 1-12");
  EXPECT_EQ(parse_error("60 * * * * *"),
            "cron \"60 * * * * *\": second field \"60\": 60 is out of range 0-59");
  EXPECT_NE(parse_error("5-3 * * * *").find("minute field \"5-3\": range 5-3 runs backwards"),
            std::string::npos);
  EXPECT_NE(parse_error("1,,2 * * * *").find("minute field \"\": empty list item"),
            std::string::npos);
  EXPECT_EQ(parse_error("* * *"),
            "cron \"* * *\": expected 5 fields (minute hour day-of-month month day-of-week) or 6 "
            "with a leading seconds field, got 3");
  EXPECT_NE(parse_error("@every").find("unknown shorthand"), std::string::npos);
  EXPECT_NE(parse_error("").find("got 0"), std::string::npos);
}

}  // namespace
}  // namespace faultline::controller
