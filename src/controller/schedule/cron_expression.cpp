#include "controller/schedule/cron_expression.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

namespace faultline::controller {
namespace {

constexpr int64_t kDay = 86400;

struct Field {
  const char* name;
  int min;
  int max;
  const char* const* names;  // nullptr, or names for min..min+count-1
  int names_count;
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr Field kSecond{"second", 0, 59, nullptr, 0};
constexpr Field kMinute{"minute", 0, 59, nullptr, 0};
constexpr Field kHour{"hour", 0, 23, nullptr, 0};
constexpr Field kDayOfMonth{"day-of-month", 1, 31, nullptr, 0};
constexpr Field kMonth{"month", 1, 12, kMonthNames, 12};
// 0 and 7 are both Sunday.
constexpr Field kDayOfWeek{"day-of-week", 0, 7, kDayNames, 7};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 6 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(uint8_t(c)); });
}

class FieldParser {
 public:
  FieldParser(const std::string& expr, const Field& f) : expr_(expr), f_(f) {}

  // Sets the bits of every value `text` names; `star` says whether it begins with '*'.
  template <size_t N>
  Status parse(const std::string& text, std::bitset<N>& bits, bool* star = nullptr) {
    if (star) *star = !text.empty() && text.front() == '*';
    for (const std::string& item : split(text, ',')) {
      item_ = item;
      if (item.empty()) return fail("empty list item");
      auto slash = item.find('/');
      std::string base = item.substr(0, slash);
      int step = 1;
      if (slash != std::string::npos) {
        std::string st = item.substr(slash + 1);
        if (!all_digits(st)) return fail("step \"" + st + "\" is not a number");
        step = std::stoi(st);
        if (step < 1) return fail("step must be at least 1");
      }
      int lo = 0, hi = 0;
      if (base == "*") {
        lo = f_.min;
        hi = f_.max;
      } else if (auto dash = base.find('-'); dash != std::string::npos) {
        auto a = value(base.substr(0, dash));
        if (!a) return a.error();
        auto b = value(base.substr(dash + 1));
        if (!b) return b.error();
        lo = *a;
        hi = *b;
        if (lo > hi)
          return fail("range " + base + " runs backwards (wrapping ranges are not supported)");
      } else {
        auto v = value(base);
        if (!v) return v.error();
        lo = *v;
        // "5/15": from 5 to the end of the field in steps of 15.
        hi = slash != std::string::npos ? f_.max : lo;
      }
      for (int v = lo; v <= hi; v += step) bits.set(size_t(v));
    }
    return Ok{};
  }

 private:
  Result<int> value(const std::string& text) {
    if (text.empty()) return fail("a range needs a value on both sides of '-'");
    int v = 0;
    if (all_digits(text)) {
      v = std::stoi(text);
    } else {
      std::string up = text;
      for (char& c : up) c = char(std::toupper(uint8_t(c)));
      const char* const* end = f_.names ? f_.names + f_.names_count : nullptr;
      const char* const* it =
          f_.names ? std::find_if(f_.names, end, [&](const char* n) { return up == n; }) : end;
      if (!f_.names || it == end)
        return fail("\"" + text + "\" is not a number" +
                    (f_.names ? std::string(" or a name (") + f_.names[0] + ".." +
                                    f_.names[f_.names_count - 1] + ")"
                              : std::string()));
      v = f_.min + int(it - f_.names);
    }
    if (v < f_.min || v > f_.max)
      return fail(std::to_string(v) + " is out of range " + std::to_string(f_.min) + "-" +
                  std::to_string(f_.max));
    return v;
  }

  Error fail(const std::string& why) const {
    return make_error(ErrorCode::kInvalidArgument,
                      "cron \"" + expr_ + "\": " + f_.name + " field \"" + item_ + "\": " + why);
  }

  const std::string& expr_;
  const Field& f_;
  std::string item_;
};

std::string expand_macro(const std::string& text) {
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@hourly") return "0 * * * *";
  return "";
}

}  // namespace

Result<CronExpression> CronExpression::parse(const std::string& text) {
  CronExpression c;
  c.text_ = text;
  std::string body = text;
  if (!text.empty() && text.front() == '@') {
    body = expand_macro(text);
    if (body.empty())
      return make_error(ErrorCode::kInvalidArgument,
                        "cron \"" + text +
                            "\": unknown shorthand (use @hourly, @daily, @weekly, @monthly or "
                            "@yearly)");
  }
  std::vector<std::string> fields;
  std::istringstream in(body);
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5 && fields.size() != 6)
    return make_error(ErrorCode::kInvalidArgument,
                      "cron \"" + text + "\": expected 5 fields (minute hour day-of-month month " +
                          "day-of-week) or 6 with a leading seconds field, got " +
                          std::to_string(fields.size()));
  size_t i = 0;
  if (fields.size() == 6) {
    if (Status s = FieldParser(text, kSecond).parse(fields[i++], c.seconds_); !s) return s.error();
  } else {
    c.seconds_.set(0);
  }
  if (Status s = FieldParser(text, kMinute).parse(fields[i++], c.minutes_); !s) return s.error();
  if (Status s = FieldParser(text, kHour).parse(fields[i++], c.hours_); !s) return s.error();
  if (Status s = FieldParser(text, kDayOfMonth).parse(fields[i++], c.days_, &c.days_star_); !s)
    return s.error();
  if (Status s = FieldParser(text, kMonth).parse(fields[i++], c.months_); !s) return s.error();
  std::bitset<8> dow;
  if (Status s = FieldParser(text, kDayOfWeek).parse(fields[i++], dow, &c.weekdays_star_); !s)
    return s.error();
  for (size_t d = 0; d < 7; ++d) c.weekdays_[d] = dow[d];
  if (dow[7]) c.weekdays_.set(0);
  return c;
}

bool CronExpression::day_matches(const CivilTime& c) const {
  bool dom = days_[c.day], dow = weekdays_[c.weekday];
  if (days_star_) return dow;
  if (weekdays_star_) return dom;
  return dom || dow;
}

std::optional<LocalSeconds> CronExpression::next_local_match(LocalSeconds from) const {
  const LocalSeconds limit = from + 10 * 366 * kDay;
  LocalSeconds t = from;
  while (t <= limit) {
    CivilTime c = civil_from_local(t);
    LocalSeconds day_start = floor_div(t, kDay) * kDay;
    if (!months_[c.month]) {
      t = local_from_civil(c.year, c.month + 1, 1);
      continue;
    }
    if (!day_matches(c)) {
      t = day_start + kDay;
      continue;
    }
    if (!hours_[c.hour]) {
      t = day_start + int64_t(c.hour + 1) * 3600;
      continue;
    }
    if (!minutes_[c.minute]) {
      t = day_start + int64_t(c.hour) * 3600 + int64_t(c.minute + 1) * 60;
      continue;
    }
    unsigned s = c.second;
    while (s < 60 && !seconds_[s]) ++s;
    if (s == 60) {
      t = day_start + int64_t(c.hour) * 3600 + int64_t(c.minute + 1) * 60;
      continue;
    }
    return t + (s - c.second);
  }
  return std::nullopt;
}

std::optional<int64_t> CronExpression::next_after(int64_t after_unix_s,
                                                  const TimeZone& zone) const {
  LocalSeconds from = zone.to_local(after_unix_s) + 1;
  // Readings whose (first) instant is not after `after` are passed over: after a fall-back
  // the clock shows the repeated hour again, which already fired the first time round.
  for (int guard = 0; guard < 200000; ++guard) {
    auto local = next_local_match(from);
    if (!local) return std::nullopt;
    int64_t instant = zone.to_utc(*local).first;
    if (instant > after_unix_s) return instant;
    from = *local + 1;
  }
  return std::nullopt;
}

std::optional<std::chrono::system_clock::time_point> CronExpression::next_after(
    std::chrono::system_clock::time_point after, const TimeZone& zone) const {
  using namespace std::chrono;
  int64_t s = floor<seconds>(after.time_since_epoch()).count();
  auto next = next_after(s, zone);
  if (!next) return std::nullopt;
  return system_clock::time_point(seconds(*next));
}

}  // namespace faultline::controller
