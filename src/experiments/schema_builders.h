// Building blocks for describing a YAML format as a Schema (experiment_schema.cpp uses them for
// experiments, gameday.cpp for game days), so every format gets the same validation, messages
// and "did you mean".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "experiments/schema.h"

namespace faultline::experiments::schema_builders {

inline SchemaPtr make(Type t, std::string doc) {
  auto s = std::make_shared<Schema>();
  s->type = t;
  s->doc = std::move(doc);
  return s;
}

inline SchemaPtr str(std::string doc, std::string example = "") {
  auto s = make(Type::kString, std::move(doc));
  s->example = std::move(example);
  return s;
}
inline SchemaPtr name(std::string doc) {
  return make(Type::kName, std::move(doc));
}
inline SchemaPtr integer(std::string doc, double min, double max, std::string def = "") {
  auto s = make(Type::kInteger, std::move(doc));
  s->min = min;
  s->max = max;
  s->default_text = std::move(def);
  return s;
}
inline SchemaPtr duration(std::string doc, std::string def = "", bool positive = false,
                          std::optional<double> max_seconds = std::nullopt) {
  auto s = make(Type::kDuration, std::move(doc));
  s->default_text = std::move(def);
  s->min = 0;
  s->exclusive_min = positive;
  s->max = max_seconds;
  return s;
}
inline SchemaPtr percent(std::string doc, std::string def = "", bool positive = false) {
  auto s = make(Type::kPercent, std::move(doc));
  s->default_text = std::move(def);
  s->min = 0;
  s->max = 100;
  s->exclusive_min = positive;
  return s;
}
inline SchemaPtr size(std::string doc, std::string def = "") {
  auto s = make(Type::kSize, std::move(doc));
  s->default_text = std::move(def);
  return s;
}
inline SchemaPtr rate(std::string doc) {
  return make(Type::kRate, std::move(doc));
}
inline SchemaPtr enumeration(std::vector<std::string> values, std::string doc,
                             std::string def = "") {
  auto s = make(Type::kEnum, std::move(doc));
  s->values = std::move(values);
  s->default_text = std::move(def);
  return s;
}
inline SchemaPtr string_map(std::string doc) {
  return make(Type::kStringMap, std::move(doc));
}
inline SchemaPtr list(SchemaPtr items, std::string doc) {
  auto s = make(Type::kList, std::move(doc));
  s->items = std::move(items);
  return s;
}
inline SchemaPtr map_of(SchemaPtr items, std::string doc) {
  auto s = make(Type::kMap, std::move(doc));
  s->items = std::move(items);
  return s;
}
inline SchemaPtr object(std::vector<Property> props, std::string doc,
                        std::vector<std::vector<std::string>> one_of = {}) {
  auto s = make(Type::kObject, std::move(doc));
  s->properties = std::move(props);
  s->one_of_keys = std::move(one_of);
  return s;
}
inline Property req(std::string n, SchemaPtr s) {
  return {std::move(n), std::move(s), true};
}
inline Property opt(std::string n, SchemaPtr s) {
  return {std::move(n), std::move(s), false};
}

}  // namespace faultline::experiments::schema_builders
