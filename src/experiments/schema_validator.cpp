#include "experiments/schema_validator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <regex>

namespace faultline::experiments {

namespace {

class Validator {
 public:
  Validator(YamlReader& r, TypedParams* typed) : r_(r), typed_(typed) {}

  // `into`: where the typed values of an object's keys go (a fault's params), or null.
  void check(const YAML::Node& node, const Schema& s, const std::string& field,
             ParamValues* into = nullptr, const std::string& key = "") {
    switch (s.type) {
      case Type::kObject:
        // Inside params, a nested object's keys are kept under the object's own key
        // ("rules[0].match.path"), and the object itself as present (true).
        if (into && !key.empty()) into->set(key, true);
        return object(node, s, field, into, key);
      case Type::kMap:
        return map(node, s, field);
      case Type::kList:
        return list(node, s, field, into, key);
      case Type::kUnion:
        return union_of(node, s, field, into, key);
      case Type::kStringMap:
        return string_map(node, field, into, key);
      default:
        if (auto v = scalar(node, s, field); v && into) into->set(key, std::move(*v));
        return;
    }
  }

 private:
  using KeysSeen = std::map<std::string, int>;  // key -> the line it was first seen on

  // YAML lets a map repeat a key and keeps only one of them, silently: an error here, with
  // both lines, so "metadata:" written twice is not half ignored.
  bool repeated(KeysSeen& seen, const YAML::Node& key, const std::string& path) {
    auto [it, first] = seen.emplace(key.Scalar(), key.Mark().line + 1);
    if (first) return false;
    r_.error(key, path,
             "repeated key (first at line " + std::to_string(it->second) +
                 "); each key may appear once in a map");
    return true;
  }

  void object(const YAML::Node& node, const Schema& s, const std::string& field,
              ParamValues* into = nullptr, const std::string& prefix = "") {
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
    KeysSeen seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      std::string path = sub(field, key);
      if (repeated(seen, it->first, path)) continue;
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
        if (variant) object(it->second, *variant, path, typed_params(path, *variant));
        continue;
      }
      if (it->second.IsNull()) {
        r_.error(it->second, path, "has no value (expected " + type_name(*p->schema) + ")");
        continue;
      }
      check(it->second, *p->schema, path, into, prefix.empty() ? key : prefix + "." + key);
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
    if (variant && !node[s.discriminated->property]) {
      typed_params(sub(field, s.discriminated->property), *variant);
      for (const auto& p : variant->properties)
        if (p.required)
          r_.error(node, sub(sub(field, s.discriminated->property), p.name),
                   "missing required field");
    }
  }

  // The typed values of the params object at `field` (defaults from `schema`), or null when
  // the caller did not ask for them.
  ParamValues* typed_params(const std::string& field, const Schema& schema) {
    if (!typed_) return nullptr;
    return &typed_->insert_or_assign(field, ParamValues(&schema)).first->second;
  }

  void map(const YAML::Node& node, const Schema& s, const std::string& field) {
    if (!node.IsMap()) {
      r_.error(node, field, "must be a map of names to entries");
      return;
    }
    KeysSeen seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      if (repeated(seen, it->first, sub(field, key))) continue;
      check_name(it->first, sub(field, key), key);
      check(it->second, *s.items, sub(field, key));
    }
  }

  void list(const YAML::Node& node, const Schema& s, const std::string& field, ParamValues* into,
            const std::string& key) {
    if (!node.IsSequence()) {
      r_.error(node, field, "must be a list");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      std::string item = field + "[" + std::to_string(i) + "]";
      if (into && !is_scalar_type(s.items->type)) {
        check(node[i], *s.items, item, into, key + "[" + std::to_string(i) + "]");
      } else if (!into || !node[i].IsScalar() || !is_scalar_type(s.items->type)) {
        check(node[i], *s.items, item);
      } else if (auto v = scalar(node[i], *s.items, item)) {
        into->append(key, std::move(*v));
      }
    }
  }

  static bool is_scalar_type(Type t) {
    return t != Type::kObject && t != Type::kMap && t != Type::kList && t != Type::kUnion &&
           t != Type::kStringMap;
  }

  void union_of(const YAML::Node& node, const Schema& s, const std::string& field,
                ParamValues* into = nullptr, const std::string& key = "") {
    std::vector<std::string> keys;
    for (const auto& [k, _] : s.variants) keys.push_back(k);
    if (!node.IsMap()) {
      r_.error(node, field, "must be a map with one of: " + join(keys));
      return;
    }
    for (const auto& [k, variant] : s.variants)
      if (node[k]) return check(node, *variant, field, into, key);
    r_.error(node, field, "needs one of the keys " + join(keys) + " (" + s.doc + ")");
  }

  void string_map(const YAML::Node& node, const std::string& field, ParamValues* into = nullptr,
                  const std::string& key = "") {
    if (!node.IsMap()) {
      r_.error(node, field, "must be a map of strings (key: value)");
      return;
    }
    KeysSeen seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (repeated(seen, it->first, sub(field, it->first.Scalar()))) continue;
      if (!it->second.IsScalar())
        r_.error(it->second, sub(field, it->first.Scalar()), "must be a string");
      else if (into && !key.empty())
        into->set(key + "." + it->first.Scalar(), it->second.Scalar());
    }
  }

  void check_name(const YAML::Node& at, const std::string& field, const std::string& name) {
    static const Schema kName{.type = Type::kName};
    if (auto v = parse_scalar(kName, name); !v) r_.error(at, field, v.error().message);
  }

  // The typed value, or nullopt after reporting why there is none.
  std::optional<ScalarValue> scalar(const YAML::Node& node, const Schema& s,
                                    const std::string& field) {
    // expect_status-style fields accept a list of the same values.
    if (node.IsSequence() && s.type == Type::kInteger && field.ends_with("expect_status")) {
      for (size_t i = 0; i < node.size(); ++i)
        scalar(node[i], s, field + "[" + std::to_string(i) + "]");
      return std::nullopt;
    }
    if (!node.IsScalar()) {
      r_.error(node, field, "must be a " + type_name(s));
      return std::nullopt;
    }
    auto v = parse_scalar(s, node.Scalar());
    if (!v) {
      r_.error(node, field, v.error().message);
      return std::nullopt;
    }
    return std::move(*v);
  }

  static std::string sub(const std::string& field, const std::string& key) {
    return field.empty() ? key : field + "." + key;
  }

  YamlReader& r_;
  TypedParams* typed_;
};

}  // namespace

void validate_against_schema(const YAML::Node& node, const Schema& schema, const std::string& field,
                             YamlReader& reader, TypedParams* typed_params) {
  Validator(reader, typed_params).check(node, schema, field);
}

}  // namespace faultline::experiments
