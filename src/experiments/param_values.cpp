#include "experiments/param_values.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include "common/quantity.h"
#include "common/signal_names.h"
#include "experiments/yaml_reader.h"

namespace faultline::experiments {
namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

// "" when `v` is within the schema's bounds, else why not.
std::string out_of_range(const Schema& s, double v, const std::string& unit) {
  if (s.min && (s.exclusive_min ? v <= *s.min : v < *s.min))
    return "must be " + std::string(s.exclusive_min ? "> " : ">= ") + number_text(*s.min) + unit +
           (s.min_reason.empty() ? "" : " (" + s.min_reason + ")");
  if (s.max && v > *s.max) return "must be <= " + number_text(*s.max) + unit;
  return "";
}

}  // namespace

Result<ScalarValue> parse_scalar(const Schema& s, const std::string& text) {
  switch (s.type) {
    case Type::kString:
      if (!s.pattern.empty() && !std::regex_match(text, std::regex(s.pattern)))
        return invalid("\"" + text + "\" " + s.pattern_doc);
      return ScalarValue(text);
    case Type::kName: {
      static const std::regex kNamePattern("^[a-z0-9][a-z0-9-]{0,62}$");
      if (!std::regex_match(text, kNamePattern))
        return invalid("\"" + text +
                       "\" is not a valid name (lowercase letters, digits and '-', starting with "
                       "a letter or digit, at most 63 characters)");
      return ScalarValue(text);
    }
    case Type::kInteger: {
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0') return invalid("\"" + text + "\" is not an integer");
      if (auto why = out_of_range(s, static_cast<double>(v), ""); !why.empty()) return invalid(why);
      return ScalarValue(v);
    }
    case Type::kNumber: {
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') return invalid("\"" + text + "\" is not a number");
      return ScalarValue(v);
    }
    case Type::kBool:
      if (text != "true" && text != "false")
        return invalid("\"" + text + "\" is not true or false");
      return ScalarValue(text == "true");
    case Type::kDuration: {
      auto d = parse_duration(text);
      if (!d) return d.error();
      double secs = to_seconds(*d);
      if (s.min && (s.exclusive_min ? secs <= *s.min : secs < *s.min))
        return invalid(s.exclusive_min ? "must be > 0" : "must be >= 0");
      if (s.max && secs > *s.max)
        return invalid("must be at most " + format_duration(std::chrono::duration_cast<Duration>(
                                                std::chrono::duration<double>(*s.max))));
      return ScalarValue(*d);
    }
    case Type::kPercent: {
      auto p = parse_percent(text);
      if (!p) return p.error();
      if (auto why = out_of_range(s, *p * 100.0, "%"); !why.empty()) return invalid(why);
      return ScalarValue(*p);
    }
    case Type::kSize: {
      auto v = parse_size(text);
      if (!v) return v.error();
      return ScalarValue(*v);
    }
    case Type::kRate: {
      auto v = parse_rate(text);
      if (!v) return v.error();
      return ScalarValue(*v);
    }
    case Type::kSignal: {
      auto sig = parse_signal(text);
      if (!sig)
        return invalid("unknown signal \"" + text +
                       "\" (a name such as SIGKILL or SIGTERM, or 1..64)");
      return ScalarValue(*sig);
    }
    case Type::kEnum: {
      if (std::find(s.values.begin(), s.values.end(), text) != s.values.end())
        return ScalarValue(text);
      if (s.values.size() == 1)
        return invalid("unsupported \"" + text + "\" (expected " + s.values[0] + ")");
      std::string near = closest_match(text, s.values);
      return invalid("unknown value \"" + text + "\" (" +
                     (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                     "expected one of: " + join(s.values) + ")");
    }
    default:
      return invalid("is not a single value");
  }
}

std::vector<long long> ParamValues::integers(const std::string& key) const {
  std::vector<long long> out;
  auto it = lists_.find(key);
  if (it == lists_.end()) return out;
  for (const auto& v : it->second)
    if (const auto* i = std::get_if<long long>(&v)) out.push_back(*i);
  return out;
}

std::vector<std::string> ParamValues::texts(const std::string& key) const {
  std::vector<std::string> out;
  auto it = lists_.find(key);
  if (it == lists_.end()) return out;
  for (const auto& v : it->second)
    if (const auto* t = std::get_if<std::string>(&v)) out.push_back(*t);
  return out;
}

std::vector<std::string> ParamValues::keys_under(const std::string& prefix) const {
  std::vector<std::string> out;
  std::string start = prefix + ".";
  for (auto it = values_.lower_bound(start); it != values_.end() && it->first.starts_with(start);
       ++it) {
    std::string rest = it->first.substr(start.size());
    if (rest.find('.') == std::string::npos && rest.find('[') == std::string::npos)
      out.push_back(rest);
  }
  return out;
}

size_t ParamValues::count(const std::string& key) const {
  size_t n = 0;
  while (has_object(key + "[" + std::to_string(n) + "]")) ++n;
  return n;
}

namespace {

// The schema of a nested key ("rules[0].match.path"), walking objects and list items.
const Schema* schema_at(const Schema* s, const std::string& key) {
  size_t at = 0;
  while (s && at < key.size()) {
    size_t end = key.find_first_of(".[", at);
    std::string name = key.substr(at, end == std::string::npos ? std::string::npos : end - at);
    const Property* p = s->property(name);
    s = p ? p->schema.get() : nullptr;
    at = end == std::string::npos ? key.size() : end;
    while (s && at < key.size() && key[at] == '[') {  // list items
      s = s->items.get();
      at = key.find(']', at);
      at = at == std::string::npos ? key.size() : at + 1;
    }
    if (at < key.size() && key[at] == '.') ++at;
  }
  return s;
}

}  // namespace

std::optional<ScalarValue> ParamValues::default_of(const std::string& key) const {
  const Schema* s = schema_ ? schema_at(schema_, key) : nullptr;
  if (!s || s->default_text.empty()) return std::nullopt;
  // Defaults are part of the format and checked by a test, so they always parse.
  auto v = parse_scalar(*s, s->default_text);
  if (!v) return std::nullopt;
  return *v;
}

}  // namespace faultline::experiments
