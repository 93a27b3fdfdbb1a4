#include "controller/schedule/time_zone.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace faultline::controller {
namespace {

constexpr int64_t kDay = 86400;

uint32_t be32(std::string_view d, size_t at) {
  return (uint32_t(uint8_t(d[at])) << 24) | (uint32_t(uint8_t(d[at + 1])) << 16) |
         (uint32_t(uint8_t(d[at + 2])) << 8) | uint32_t(uint8_t(d[at + 3]));
}

int64_t be64(std::string_view d, size_t at) {
  return static_cast<int64_t>((uint64_t(be32(d, at)) << 32) | be32(d, at + 4));
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Names are looked up as files: nothing that could leave the zoneinfo directory.
bool valid_zone_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name.front() == '/' ||
      name.find("..") != std::string::npos)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

std::string offset_text(int32_t off) {
  char buf[16];
  int a = off < 0 ? -off : off;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return buf;
}

// The TZif header (RFC 8536 3.1): counts of what follows.
struct Header {
  char version = 0;
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

bool read_header(std::string_view d, size_t at, Header& h) {
  if (d.size() < at + 44 || d.substr(at, 4) != "TZif") return false;
  h.version = d[at + 4];
  h.isutcnt = be32(d, at + 20);
  h.isstdcnt = be32(d, at + 24);
  h.leapcnt = be32(d, at + 28);
  h.timecnt = be32(d, at + 32);
  h.typecnt = be32(d, at + 36);
  h.charcnt = be32(d, at + 40);
  return true;
}

size_t block_size(const Header& h, size_t time_size) {
  return h.timecnt * time_size + h.timecnt + h.typecnt * 6 + h.charcnt +
         h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt;
}

// POSIX TZ pieces. Each parser advances `s` past what it read.
bool parse_name(std::string_view& s, std::string& out) {
  if (!s.empty() && s.front() == '<') {
    auto close = s.find('>');
    if (close == std::string_view::npos) return false;
    out = std::string(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    return !out.empty();
  }
  size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  if (n < 3) return false;
  out = std::string(s.substr(0, n));
  s.remove_prefix(n);
  return true;
}

bool parse_number(std::string_view& s, int& out) {
  size_t n = 0;
  out = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) {
    out = out * 10 + (s[n] - '0');
    if (out > 100000) return false;
    ++n;
  }
  s.remove_prefix(n);
  return n > 0;
}

// [+-]hh[:mm[:ss]] in seconds.
bool parse_hms(std::string_view& s, int32_t& out) {
  int sign = 1;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int h = 0, m = 0, sec = 0;
  if (!parse_number(s, h)) return false;
  if (!s.empty() && s.front() == ':') {
    s.remove_prefix(1);
    if (!parse_number(s, m)) return false;
    if (!s.empty() && s.front() == ':') {
      s.remove_prefix(1);
      if (!parse_number(s, sec)) return false;
    }
  }
  out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

}  // namespace

CivilTime civil_from_local(LocalSeconds local) {
  using namespace std::chrono;
  int64_t days = floor_div(local, kDay);
  int64_t sod = local - days * kDay;
  sys_days sd{std::chrono::days{days}};
  year_month_day ymd{sd};
  CivilTime c;
  c.year = int(ymd.year());
  c.month = unsigned(ymd.month());
  c.day = unsigned(ymd.day());
  c.hour = unsigned(sod / 3600);
  c.minute = unsigned(sod / 60 % 60);
  c.second = unsigned(sod % 60);
  c.weekday = weekday{sd}.c_encoding();
  return c;
}

LocalSeconds local_from_civil(int year, unsigned month, unsigned day, unsigned hour,
                              unsigned minute, unsigned second) {
  using namespace std::chrono;
  // Month 13 is January of the next year: callers step past December that way.
  if (month > 12) {
    year += int((month - 1) / 12);
    month = (month - 1) % 12 + 1;
  }
  sys_days sd{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{1}};
  int64_t days = sd.time_since_epoch().count() + int64_t(day) - 1;
  return days * kDay + int64_t(hour) * 3600 + int64_t(minute) * 60 + second;
}

TimeZone TimeZone::utc() {
  TimeZone z;
  z.types_.push_back({0, false, "UTC"});
  return z;
}

Result<TimeZone> TimeZone::load(const std::string& name) {
  if (name.empty() || name == "UTC") return utc();
  if (!valid_zone_name(name))
    return make_error(ErrorCode::kInvalidArgument,
                      "time zone \"" + name + "\": not a zone name (e.g. Europe/Berlin, UTC)");
  const char* env = std::getenv("TZDIR");
  std::string dir = env && *env ? env : "/usr/share/zoneinfo";
  std::string path = dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(ErrorCode::kNotFound, "time zone \"" + name + "\": unknown (no " + path +
                                                "; is the tzdata package installed?)");
  std::stringstream buf;
  buf << in.rdbuf();
  auto zone = from_tzif(name, buf.str());
  if (!zone) return make_error(zone.error().code, path + ": " + zone.error().message);
  return zone;
}

Result<TimeZone> TimeZone::from_tzif(const std::string& name, std::string_view d) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, "time zone \"" + name + "\": " + why);
  };
  Header h;
  if (!read_header(d, 0, h)) return bad("not a TZif file");
  size_t at = 44;
  size_t time_size = 4;
  if (h.version >= '2') {
    // Skip the 32-bit block; the 64-bit one after it covers every year.
    at += block_size(h, 4);
    if (!read_header(d, at, h)) return bad("truncated TZif file (no second header)");
    at += 44;
    time_size = 8;
  }
  if (d.size() < at + block_size(h, time_size)) return bad("truncated TZif file");
  if (h.typecnt == 0) return bad("TZif file has no local time types");
  TimeZone z;
  z.name_ = name;
  for (uint32_t i = 0; i < h.timecnt; ++i)
    z.transitions_.push_back(time_size == 8 ? be64(d, at + i * 8)
                                            : int64_t(int32_t(be32(d, at + i * 4))));
  at += h.timecnt * time_size;
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    uint8_t idx = uint8_t(d[at + i]);
    if (idx >= h.typecnt) return bad("transition names a local time type that does not exist");
    z.transition_types_.push_back(idx);
  }
  at += h.timecnt;
  size_t chars_at = at + h.typecnt * 6;
  for (uint32_t i = 0; i < h.typecnt; ++i) {
    Type t;
    t.utoff = int32_t(be32(d, at + i * 6));
    t.dst = d[at + i * 6 + 4] != 0;
    uint8_t ai = uint8_t(d[at + i * 6 + 5]);
    if (ai < h.charcnt) {
      std::string_view chars = d.substr(chars_at, h.charcnt);
      t.abbrev = std::string(chars.substr(ai, chars.find('\0', ai) - ai));
    }
    z.types_.push_back(std::move(t));
  }
  at += block_size(h, time_size) - h.timecnt * (time_size + 1);
  if (time_size == 8 && at < d.size() && d[at] == '\n') {
    auto end = d.find('\n', at + 1);
    if (end != std::string_view::npos && end > at + 1) {
      auto rule = parse_posix(d.substr(at + 1, end - at - 1));
      if (!rule) return bad(rule.error().message);
      z.rule_ = std::move(*rule);
    }
  }
  return z;
}

Result<TimeZone::PosixRule> TimeZone::parse_posix(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "TZ rule \"" + std::string(text) + "\" is not a POSIX TZ string");
  };
  std::string_view s = text;
  PosixRule r;
  int32_t off = 0;
  if (!parse_name(s, r.std_type.abbrev) || !parse_hms(s, off)) return bad();
  r.std_type.utoff = -off;  // POSIX counts west of UTC as positive
  if (s.empty()) return r;
  r.has_dst = true;
  r.dst_type.dst = true;
  if (!parse_name(s, r.dst_type.abbrev)) return bad();
  r.dst_type.utoff = r.std_type.utoff + 3600;
  if (!s.empty() && s.front() != ',') {
    if (!parse_hms(s, off)) return bad();
    r.dst_type.utoff = -off;
  }
  auto parse_date = [&](RuleDate& date) {
    if (s.empty() || s.front() != ',') return false;
    s.remove_prefix(1);
    if (!s.empty() && s.front() == 'M') {
      s.remove_prefix(1);
      date.kind = RuleDate::Kind::kMonthWeekDay;
      if (!parse_number(s, date.month) || s.empty() || s.front() != '.') return false;
      s.remove_prefix(1);
      if (!parse_number(s, date.week) || s.empty() || s.front() != '.') return false;
      s.remove_prefix(1);
      if (!parse_number(s, date.weekday)) return false;
      if (date.month < 1 || date.month > 12 || date.week < 1 || date.week > 5 || date.weekday > 6)
        return false;
    } else if (!s.empty() && s.front() == 'J') {
      s.remove_prefix(1);
      date.kind = RuleDate::Kind::kJulianNoLeap;
      if (!parse_number(s, date.n) || date.n < 1 || date.n > 365) return false;
    } else {
      date.kind = RuleDate::Kind::kDayOfYear;
      if (!parse_number(s, date.n) || date.n > 365) return false;
    }
    date.time_s = 7200;
    if (!s.empty() && s.front() == '/') {
      s.remove_prefix(1);
      if (!parse_hms(s, date.time_s)) return false;
    }
    return true;
  };
  if (s.empty()) {
    // No rule given: the POSIX default, the United States' current one.
    r.start = {RuleDate::Kind::kMonthWeekDay, 0, 3, 2, 0, 7200};
    r.end = {RuleDate::Kind::kMonthWeekDay, 0, 11, 1, 0, 7200};
    return r;
  }
  if (!parse_date(r.start) || !parse_date(r.end) || !s.empty()) return bad();
  return r;
}

LocalSeconds TimeZone::rule_local(const RuleDate& date, int year) {
  int64_t day_start = 0;
  switch (date.kind) {
    case RuleDate::Kind::kJulianNoLeap: {
      // Day 1..365; February 29 is never counted.
      int idx = date.n - 1 + (leap(year) && date.n >= 60 ? 1 : 0);
      day_start = local_from_civil(year, 1, 1) + int64_t(idx) * kDay;
      break;
    }
    case RuleDate::Kind::kDayOfYear:
      day_start = local_from_civil(year, 1, 1) + int64_t(date.n) * kDay;
      break;
    case RuleDate::Kind::kMonthWeekDay: {
      LocalSeconds first = local_from_civil(year, unsigned(date.month), 1);
      unsigned wd1 = civil_from_local(first).weekday;
      unsigned day = 1 + (unsigned(date.weekday) + 7 - wd1) % 7 + unsigned(date.week - 1) * 7;
      while (day > days_in_month(year, unsigned(date.month))) day -= 7;
      day_start = first + int64_t(day - 1) * kDay;
      break;
    }
  }
  return day_start + date.time_s;
}

TimeZone::Offset TimeZone::from_rule(int64_t unix_s) const {
  const PosixRule& r = *rule_;
  if (!r.has_dst) return {r.std_type.utoff, false, r.std_type.abbrev};
  int year = civil_from_local(unix_s + r.std_type.utoff).year;
  // The start time is written in standard time, the end time in daylight time.
  int64_t start = rule_local(r.start, year) - r.std_type.utoff;
  int64_t end = rule_local(r.end, year) - r.dst_type.utoff;
  bool dst = start < end ? (unix_s >= start && unix_s < end) : !(unix_s >= end && unix_s < start);
  const Type& t = dst ? r.dst_type : r.std_type;
  return {t.utoff, dst, t.abbrev};
}

TimeZone::Offset TimeZone::offset_at(int64_t unix_s) const {
  if (transitions_.empty() || unix_s >= transitions_.back()) {
    if (rule_) return from_rule(unix_s);
    if (transitions_.empty()) {
      const Type& t = types_.front();
      return {t.utoff, t.dst, t.abbrev};
    }
  }
  if (unix_s < transitions_.front()) {
    // RFC 8536: type 0 holds before the first transition.
    const Type& t = types_.front();
    return {t.utoff, t.dst, t.abbrev};
  }
  size_t i = size_t(std::upper_bound(transitions_.begin(), transitions_.end(), unix_s) -
                    transitions_.begin()) -
             1;
  const Type& t = types_[transition_types_[i]];
  return {t.utoff, t.dst, t.abbrev};
}

TimeZone::Mapping TimeZone::to_utc(LocalSeconds local) const {
  // Offsets that hold within a day either side (no zone changes its offset twice a day).
  std::set<int32_t> offsets{offset_at(local - kDay).utc_offset_s, offset_at(local).utc_offset_s,
                            offset_at(local + kDay).utc_offset_s};
  std::set<int64_t> valid, tried;
  for (int32_t off : offsets) {
    int64_t u = local - off;
    tried.insert(u);
    if (offset_at(u).utc_offset_s == off) valid.insert(u);
  }
  Mapping m;
  if (valid.size() == 1) {
    m.first = *valid.begin();
    return m;
  }
  if (valid.size() > 1) {
    m.kind = Mapping::Kind::kRepeated;
    m.first = *valid.begin();
    m.second = *valid.rbegin();
    return m;
  }
  // In a gap: the clocks jumped somewhere between the candidate instants; find the jump.
  m.kind = Mapping::Kind::kSkipped;
  int64_t lo = *tried.begin(), hi = *tried.rbegin();
  int32_t before = offset_at(lo).utc_offset_s;
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (offset_at(mid).utc_offset_s == before)
      lo = mid;
    else
      hi = mid;
  }
  m.first = hi;
  return m;
}

std::string TimeZone::format(int64_t unix_s) const {
  Offset off = offset_at(unix_s);
  CivilTime c = civil_from_local(unix_s + off.utc_offset_s);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02u:%02u:%02u", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return std::string(buf) + " " + off.abbrev + " (" + offset_text(off.utc_offset_s) + ")";
}

}  // namespace faultline::controller
