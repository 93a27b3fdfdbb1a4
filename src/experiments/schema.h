// A declarative description of the experiment format. It is the single source of truth:
// the loader validates YAML against it, `faultline schema` turns it into a JSON Schema for
// editors, and docs/experiment-reference.md is generated from it. Nothing is written twice.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace faultline::experiments {

enum class Type {
  kString,
  kName,  // lowercase letters, digits and '-'
  kInteger,
  kNumber,  // 0.5, -3, 1e6
  kBool,
  kDuration,   // "250ms", "1m30s"
  kPercent,    // "12.5%"
  kSize,       // "512MiB"
  kRate,       // "10mbit"
  kSignal,     // "SIGKILL", "term", 9
  kEnum,       // one of `values`
  kStringMap,  // {key: value} of strings
  kObject,     // fixed `properties`
  kMap,        // {name: <items>} with user-chosen names
  kList,       // [<items>]
  kUnion,      // an object whose shape is chosen by which `variants` key it has
};

struct Schema;
using SchemaPtr = std::shared_ptr<Schema>;

struct Property {
  std::string name;
  SchemaPtr schema;
  bool required = false;
};

// For kObject: the schema of `property` depends on the value of `key` (a fault's `params`
// depend on its `kind`).
struct Discriminated {
  std::string key;
  std::string property;
  std::map<std::string, SchemaPtr> variants;
};

struct Schema {
  Type type = Type::kString;
  std::string doc;
  std::string default_text;  // as a user would write it
  std::string example;
  std::vector<std::string> values;  // kEnum
  // kString: the value must match this ECMAScript regex; `pattern_doc` says how, in words.
  std::string pattern, pattern_doc;
  std::string min_reason;  // appended to "must be >= N" (why the limit exists)
  // kInteger, kNumber: the value; kDuration: seconds; kPercent: percent points.
  std::optional<double> min, max;
  bool exclusive_min = false;
  std::vector<Property> properties;                   // kObject
  std::vector<std::vector<std::string>> one_of_keys;  // kObject: exactly one key of each group
  std::optional<Discriminated> discriminated;         // kObject
  SchemaPtr items;                                    // kList, kMap
  std::vector<std::pair<std::string, SchemaPtr>> variants;  // kUnion: key present -> schema
  std::string def_name;  // named once in JSON Schema "$defs" (needed for recursion)

  const Property* property(const std::string& name) const {
    for (const auto& p : properties)
      if (p.name == name) return &p;
    return nullptr;
  }
  std::vector<std::string> property_names() const {
    std::vector<std::string> out;
    for (const auto& p : properties) out.push_back(p.name);
    return out;
  }
};

// The whole experiment file format.
const Schema& experiment_schema();

// "string", "duration", "list of probe", ... for docs and messages.
std::string type_name(const Schema& s);

}  // namespace faultline::experiments
