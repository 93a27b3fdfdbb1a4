#include "experiments/json_schema.h"

#include <nlohmann/json.hpp>

#include "experiments/schema.h"

namespace faultline::experiments {
namespace {

using nlohmann::json;

// Any scalar may instead be a ${var} reference, resolved before validation.
constexpr const char* kVarRef = R"(\$\{[^}]+\})";

// Limits are doubles in the schema model; whole numbers are written as JSON integers.
json number(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v))) return static_cast<int64_t>(v);
  return v;
}

// Non-string values may be written as a ${var} reference instead.
json or_var(json j) {
  return {{"anyOf", json::array({std::move(j), {{"type", "string"}, {"pattern", kVarRef}}})}};
}

json pattern_string(const std::string& pattern) {
  return {{"type", "string"}, {"pattern", "^(" + pattern + "|.*" + std::string(kVarRef) + ".*)$"}};
}

class Generator {
 public:
  json root() {
    const Schema& top = experiment_schema();
    json out = convert(top, "");
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema";
    out["$id"] = "https://faultline.dev/schemas/experiment-v1.json";
    out["title"] = "Faultline experiment";
    if (!defs_.empty()) out["$defs"] = defs_;
    return out;
  }

 private:
  json convert(const Schema& s, const std::string& property) {
    if (!s.def_name.empty()) {
      if (!defs_.contains(s.def_name)) {
        defs_[s.def_name] = json::object();  // placeholder stops recursion
        defs_[s.def_name] = body(s, property);
      }
      return {{"$ref", "#/$defs/" + s.def_name}};
    }
    return body(s, property);
  }

  json body(const Schema& s, const std::string& property) {
    json j = shape(s, property);
    if (!s.doc.empty()) j["description"] = s.doc;
    if (!s.default_text.empty()) j["default"] = s.default_text;
    if (!s.example.empty()) j["examples"] = json::array({s.example});
    return j;
  }

  json shape(const Schema& s, const std::string& property) {
    switch (s.type) {
      case Type::kString:
        if (!s.pattern.empty()) return pattern_string(s.pattern);
        return {{"type", "string"}};
      case Type::kName:
        return pattern_string("[a-z0-9][a-z0-9-]{0,62}");
      case Type::kInteger: {
        json n = {{"type", "integer"}};
        if (s.min) n[s.exclusive_min ? "exclusiveMinimum" : "minimum"] = number(*s.min);
        if (s.max) n["maximum"] = number(*s.max);
        n = or_var(n);
        // The loader accepts one status or a list of them.
        if (property == "expect_status")
          return {{"anyOf", json::array({n, {{"type", "array"}, {"items", n}}})}};
        return n;
      }
      case Type::kNumber:
        return or_var({{"type", "number"}});
      case Type::kBool:
        return or_var({{"type", "boolean"}});
      case Type::kDuration:
        return {{"anyOf", json::array({{{"const", 0}},
                                       pattern_string(R"((\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+|0)")})}};
      case Type::kPercent:
        return pattern_string(R"(\d+(\.\d+)?%)");
      case Type::kSize:
        return {{"anyOf",
                 json::array({{{"type", "integer"}, {"minimum", 0}},
                              pattern_string(R"(\d+(\.\d+)?(B|kB|MB|GB|TB|KiB|MiB|GiB|TiB)?)")})}};
      case Type::kRate:
        return pattern_string(R"(\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps))");
      case Type::kSignal:
        return {{"anyOf", json::array({{{"type", "integer"}, {"minimum", 1}, {"maximum", 64}},
                                       {{"type", "string"}}})}};
      case Type::kEnum:
        return or_var({{"enum", s.values}});
      case Type::kStringMap:
        // Values are read as the text YAML wrote: `latency: 300` is "300", as the loader takes it.
        return {{"type", "object"},
                {"additionalProperties", {{"type", {"string", "number", "boolean"}}}}};
      case Type::kMap:
        return {{"type", "object"},
                {"propertyNames", pattern_string("[a-z0-9][a-z0-9-]{0,62}")},
                {"additionalProperties", convert(*s.items, "")}};
      case Type::kList:
        return {{"type", "array"}, {"items", convert(*s.items, property)}};
      case Type::kObject:
        return object(s);
      case Type::kUnion: {
        json any = json::array();
        for (const auto& [key, variant] : s.variants) {
          json v = convert(*variant, "");
          any.push_back({{"required", json::array({key})}, {"allOf", json::array({v})}});
        }
        return {{"type", "object"}, {"oneOf", any}};
      }
    }
    return json::object();
  }

  json object(const Schema& s) {
    json j = {{"type", "object"}, {"additionalProperties", false}};
    json props = json::object();
    json required = json::array();
    for (const auto& p : s.properties) {
      if (s.discriminated && p.name == s.discriminated->property)
        props[p.name] = {{"type", "object"}, {"description", p.schema->doc}};
      else
        props[p.name] = convert(*p.schema, p.name);
      if (p.required) required.push_back(p.name);
    }
    j["properties"] = props;
    if (!required.empty()) j["required"] = required;
    json all = json::array();
    for (const auto& group : s.one_of_keys) {
      json one = json::array();
      for (const auto& k : group) one.push_back({{"required", json::array({k})}});
      all.push_back({{"oneOf", one}});
    }
    if (s.discriminated) {
      for (const auto& [value, variant] : s.discriminated->variants) {
        json then = {{"properties", {{s.discriminated->property, convert(*variant, "")}}}};
        json required_params = json::array();
        for (const auto& p : variant->properties)
          if (p.required) required_params.push_back(p.name);
        if (!required_params.empty()) then["required"] = json::array({s.discriminated->property});
        all.push_back({{"if",
                        {{"properties", {{s.discriminated->key, {{"const", value}}}}},
                         {"required", json::array({s.discriminated->key})}}},
                       {"then", then}});
      }
    }
    if (!all.empty()) j["allOf"] = all;
    return j;
  }

  json defs_ = json::object();
};

}  // namespace

std::string json_schema() {
  return Generator().root().dump(2);
}

}  // namespace faultline::experiments
