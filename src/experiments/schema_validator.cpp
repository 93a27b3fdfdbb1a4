#include "experiments/schema_validator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <regex>

#include "common/duration.h"
#include "common/quantity.h"

namespace faultline::experiments {

std::optional<int> parse_signal(std::string text) {
  char* end = nullptr;
  long n = std::strtol(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0')
    return (n >= 1 && n <= 64) ? std::optional<int>(static_cast<int>(n)) : std::nullopt;
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (text.rfind("SIG", 0) == 0) text = text.substr(3);
  for (int s = 1; s < 32; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev && text == abbrev) return s;
  }
  return std::nullopt;
}

std::optional<Duration> parse_signed_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  bool negative = text[0] == '-';
  auto d = parse_duration(text[0] == '-' || text[0] == '+' ? text.substr(1) : text);
  if (!d) return std::nullopt;
  return negative ? -*d : *d;
}

namespace {

const std::regex kNamePattern("^[a-z0-9][a-z0-9-]{0,62}$");

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

class Validator {
 public:
  explicit Validator(YamlReader& r) : r_(r) {}

  void check(const YAML::Node& node, const Schema& s, const std::string& field) {
    switch (s.type) {
      case Type::kObject:
        return object(node, s, field);
      case Type::kMap:
        return map(node, s, field);
      case Type::kList:
        return list(node, s, field);
      case Type::kUnion:
        return union_of(node, s, field);
      case Type::kStringMap:
        return string_map(node, field);
      default:
        return scalar(node, s, field);
    }
  }

 private:
  void object(const YAML::Node& node, const Schema& s, const std::string& field) {
    if (!node.IsMap()) {
      r_.error(node, field, "must be a map of keys to values (" + s.doc + ")");
      return;
    }
    auto known = s.property_names();
    const Schema* variant = nullptr;
    if (s.discriminated) {
      YAML::Node key = node[s.discriminated->key];
      if (key && key.IsScalar()) {
        auto it = s.discriminated->variants.find(key.Scalar());
        if (it != s.discriminated->variants.end()) variant = it->second.get();
      }
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      std::string path = sub(field, key);
      const Property* p = s.property(key);
      if (!p) {
        std::string near = closest_match(key, known);
        r_.error(
            it->first, path,
            "unknown key (" +
                (near.empty() ? "known keys: " + join(known) : "did you mean \"" + near + "\"?") +
                ")");
        continue;
      }
      if (s.discriminated && key == s.discriminated->property) {
        // Params without a known kind are not checked: the kind's own error says enough.
        if (variant) check(it->second, *variant, path);
        continue;
      }
      if (it->second.IsNull()) {
        r_.error(it->second, path, "has no value (expected " + type_name(*p->schema) + ")");
        continue;
      }
      check(it->second, *p->schema, path);
    }
    for (const auto& p : s.properties)
      if (p.required && !node[p.name]) r_.error(node, sub(field, p.name), "missing required field");
    for (const auto& group : s.one_of_keys) {
      std::vector<std::string> present;
      for (const auto& k : group)
        if (node[k]) present.push_back(k);
      if (present.empty())
        r_.error(node, field.empty() ? "(top)" : field, "needs one of: " + join(group));
      else if (present.size() > 1)
        r_.error(node[present[1]], sub(field, present[1]),
                 "only one of " + join(group) + " may be set (found " + join(present) + ")");
    }
    // Required params of the kind are checked even when `params` is left out.
    if (variant && !node[s.discriminated->property])
      for (const auto& p : variant->properties)
        if (p.required)
          r_.error(node, sub(sub(field, s.discriminated->property), p.name),
                   "missing required field");
  }

  void map(const YAML::Node& node, const Schema& s, const std::string& field) {
    if (!node.IsMap()) {
      r_.error(node, field, "must be a map of names to entries");
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      check_name(it->first, sub(field, key), key);
      check(it->second, *s.items, sub(field, key));
    }
  }

  void list(const YAML::Node& node, const Schema& s, const std::string& field) {
    if (!node.IsSequence()) {
      r_.error(node, field, "must be a list");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i)
      check(node[i], *s.items, field + "[" + std::to_string(i) + "]");
  }

  void union_of(const YAML::Node& node, const Schema& s, const std::string& field) {
    std::vector<std::string> keys;
    for (const auto& [k, _] : s.variants) keys.push_back(k);
    if (!node.IsMap()) {
      r_.error(node, field, "must be a map with one of: " + join(keys));
      return;
    }
    for (const auto& [k, variant] : s.variants)
      if (node[k]) return check(node, *variant, field);
    r_.error(node, field, "needs one of the keys " + join(keys) + " (" + s.doc + ")");
  }

  void string_map(const YAML::Node& node, const std::string& field) {
    if (!node.IsMap()) {
      r_.error(node, field, "must be a map of strings (key: value)");
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it)
      if (!it->second.IsScalar())
        r_.error(it->second, sub(field, it->first.Scalar()), "must be a string");
  }

  bool check_name(const YAML::Node& at, const std::string& field, const std::string& name) {
    if (std::regex_match(name, kNamePattern)) return true;
    r_.error(at, field,
             "\"" + name +
                 "\" is not a valid name (lowercase letters, digits and '-', starting with a "
                 "letter or digit, at most 63 characters)");
    return false;
  }

  void range(const YAML::Node& node, const Schema& s, const std::string& field, double v,
             const std::string& unit) {
    if (s.min && (s.exclusive_min ? v <= *s.min : v < *s.min)) {
      r_.error(node, field,
               "must be " + std::string(s.exclusive_min ? "> " : ">= ") + number_text(*s.min) +
                   unit + (s.min_reason.empty() ? "" : " (" + s.min_reason + ")"));
    } else if (s.max && v > *s.max) {
      r_.error(node, field, "must be <= " + number_text(*s.max) + unit);
    }
  }

  void scalar(const YAML::Node& node, const Schema& s, const std::string& field) {
    // expect_status-style fields accept a list of the same values.
    if (node.IsSequence() && s.type == Type::kInteger && field.ends_with("expect_status")) {
      for (size_t i = 0; i < node.size(); ++i)
        scalar(node[i], s, field + "[" + std::to_string(i) + "]");
      return;
    }
    if (!node.IsScalar()) {
      r_.error(node, field, "must be a " + type_name(s));
      return;
    }
    const std::string& text = node.Scalar();
    switch (s.type) {
      case Type::kString:
        if (!s.pattern.empty() && !std::regex_match(text, std::regex(s.pattern)))
          r_.error(node, field, "\"" + text + "\" " + s.pattern_doc);
        return;
      case Type::kName:
        check_name(node, field, text);
        return;
      case Type::kInteger: {
        char* end = nullptr;
        long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0') {
          r_.error(node, field, "\"" + text + "\" is not an integer");
          return;
        }
        range(node, s, field, static_cast<double>(v), "");
        return;
      }
      case Type::kNumber: {
        char* end = nullptr;
        std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0') r_.error(node, field, "\"" + text + "\" is not a number");
        return;
      }
      case Type::kBool:
        if (text != "true" && text != "false")
          r_.error(node, field, "\"" + text + "\" is not true or false");
        return;
      case Type::kDuration: {
        auto d = parse_duration(text);
        if (!d) return r_.error(node, field, d.error().message);
        double secs = to_seconds(*d);
        if (s.min && (s.exclusive_min ? secs <= *s.min : secs < *s.min))
          r_.error(node, field, s.exclusive_min ? "must be > 0" : "must be >= 0");
        else if (s.max && secs > *s.max)
          r_.error(node, field,
                   "must be at most " + format_duration(std::chrono::duration_cast<Duration>(
                                            std::chrono::duration<double>(*s.max))));
        return;
      }
      case Type::kPercent: {
        auto p = parse_percent(text);
        if (!p) return r_.error(node, field, p.error().message);
        range(node, s, field, *p * 100.0, "%");
        return;
      }
      case Type::kSize: {
        auto v = parse_size(text);
        if (!v) r_.error(node, field, v.error().message);
        return;
      }
      case Type::kRate: {
        auto v = parse_rate(text);
        if (!v) r_.error(node, field, v.error().message);
        return;
      }
      case Type::kSignal:
        if (!parse_signal(text))
          r_.error(node, field,
                   "unknown signal \"" + text + "\" (a name such as SIGKILL or SIGTERM, or 1..64)");
        return;
      case Type::kEnum: {
        if (std::find(s.values.begin(), s.values.end(), text) != s.values.end()) return;
        if (s.values.size() == 1)
          return r_.error(node, field,
                          "unsupported \"" + text + "\" (expected " + s.values[0] + ")");
        std::string near = closest_match(text, s.values);
        r_.error(node, field,
                 "unknown value \"" + text + "\" (" +
                     (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                     "expected one of: " + join(s.values) + ")");
        return;
      }
      default:
        return;
    }
  }

  static std::string sub(const std::string& field, const std::string& key) {
    return field.empty() ? key : field + "." + key;
  }

  YamlReader& r_;
};

}  // namespace

void validate_against_schema(const YAML::Node& node, const Schema& schema, const std::string& field,
                             YamlReader& reader) {
  Validator(reader).check(node, schema, field);
}

}  // namespace faultline::experiments
