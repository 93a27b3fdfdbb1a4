// IANA time zones read from the system's TZif files (/usr/share/zoneinfo, or $TZDIR), so
// schedules can say "03:00 in Europe/Berlin". GCC 12's <chrono> has no tzdb; this reads the
// transitions table and, for instants after the last transition, the file's POSIX TZ footer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace faultline::controller {

// A wall-clock reading in some zone, counted in seconds as if that wall clock were UTC
// (1970-01-01 00:00:00 on the wall clock is 0).
using LocalSeconds = int64_t;

struct CivilTime {
  int year = 1970;
  unsigned month = 1, day = 1, hour = 0, minute = 0, second = 0;
  unsigned weekday = 4;  // 0 = Sunday
};

CivilTime civil_from_local(LocalSeconds local);
LocalSeconds local_from_civil(int year, unsigned month, unsigned day, unsigned hour = 0,
                              unsigned minute = 0, unsigned second = 0);
// Floor division for seconds -> days with instants before 1970.
inline int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

class TimeZone {
 public:
  struct Offset {
    int32_t utc_offset_s = 0;  // east of UTC is positive
    bool dst = false;
    std::string abbrev = "UTC";
  };
  // Where a wall-clock reading falls. Around a DST change a reading can be skipped (spring
  // forward) or shown twice (fall back).
  struct Mapping {
    enum class Kind { kUnique, kRepeated, kSkipped };
    Kind kind = Kind::kUnique;
    // kUnique: the instant. kRepeated: the earlier of the two. kSkipped: the first instant
    // after the gap (the moment the clocks jumped).
    int64_t first = 0;
    int64_t second = 0;  // kRepeated: the later instant
  };

  static TimeZone utc();
  // "UTC" (built in) or an IANA name such as "Europe/Berlin". An unknown or malformed name
  // is kNotFound / kInvalidArgument naming it.
  static Result<TimeZone> load(const std::string& name);
  // TZif data, versions 1 to 4 (RFC 8536).
  static Result<TimeZone> from_tzif(const std::string& name, std::string_view data);

  const std::string& name() const { return name_; }
  Offset offset_at(int64_t unix_s) const;
  LocalSeconds to_local(int64_t unix_s) const { return unix_s + offset_at(unix_s).utc_offset_s; }
  Mapping to_utc(LocalSeconds local) const;
  // "2026-03-29 03:00:00 CEST (+02:00)"
  std::string format(int64_t unix_s) const;

 private:
  struct Type {
    int32_t utoff = 0;
    bool dst = false;
    std::string abbrev;
  };
  // A POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"): the rule for every year after the
  // transitions table ends.
  struct RuleDate {
    enum class Kind { kJulianNoLeap, kDayOfYear, kMonthWeekDay } kind = Kind::kMonthWeekDay;
    int n = 0;  // Jn / n
    int month = 0, week = 0, weekday = 0;
    int32_t time_s = 7200;
  };
  struct PosixRule {
    Type std_type;
    bool has_dst = false;
    Type dst_type;
    RuleDate start, end;
  };
  static Result<PosixRule> parse_posix(std::string_view text);
  static LocalSeconds rule_local(const RuleDate& date, int year);
  Offset from_rule(int64_t unix_s) const;

  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;
  std::vector<uint8_t> transition_types_;
  std::vector<Type> types_;
  std::optional<PosixRule> rule_;
};

}  // namespace faultline::controller
