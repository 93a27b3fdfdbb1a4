// Cron expressions for scheduled experiments: the standard five fields (minute hour
// day-of-month month day-of-week) or six with a leading seconds field; lists, ranges, steps,
// month and weekday names, and @hourly/@daily/@weekly/@monthly/@yearly. As in Vixie cron,
// when both day fields are restricted a day matches either of them.
//
// Read in a time zone, around DST changes: a time the clocks skip (spring forward) fires at
// the first instant after the jump; a time shown twice (fall back) fires once, the first time.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>

#include "common/result.h"
#include "controller/schedule/time_zone.h"

namespace faultline::controller {

class CronExpression {
 public:
  // Errors name the field and the text that is wrong, e.g.
  //   cron "*/0 * * * *": minute field "*/0": step must be at least 1
  static Result<CronExpression> parse(const std::string& text);

  // The first instant strictly after `after_unix_s` that the expression names in `zone`;
  // nullopt when it names none in the next ten years (e.g. "0 0 30 2 *").
  std::optional<int64_t> next_after(int64_t after_unix_s, const TimeZone& zone) const;
  std::optional<std::chrono::system_clock::time_point> next_after(
      std::chrono::system_clock::time_point after, const TimeZone& zone) const;

  const std::string& text() const { return text_; }

 private:
  // The first wall-clock reading at or after `from` that matches.
  std::optional<LocalSeconds> next_local_match(LocalSeconds from) const;
  bool day_matches(const CivilTime& c) const;

  std::string text_;
  std::bitset<60> seconds_, minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_star_ = true, weekdays_star_ = true;
};

}  // namespace faultline::controller
