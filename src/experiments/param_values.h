// Typed values of a schema's scalars, parsed once. The schema validator parses every scalar
// it checks (units, ranges, enums) and keeps the typed value of each fault's params here; a
// fault kind reads its params from it, with the defaults its schema states. No value is
// parsed twice and no default is written twice.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "common/duration.h"
#include "common/result.h"
#include "experiments/schema.h"

namespace faultline::experiments {

// kString/kName/kEnum: std::string; kInteger: long long; kNumber and kPercent (a fraction):
// double; kBool: bool; kDuration: Duration; kSize and kRate: uint64_t; kSignal: int.
using ScalarValue = std::variant<std::string, long long, double, bool, Duration, uint64_t, int>;

// Parses `text` as a scalar of schema `s` and checks its range, pattern or enum. The error's
// message is what the validator reports for the field.
Result<ScalarValue> parse_scalar(const Schema& s, const std::string& text);

// The params of one fault: the values written, typed; a key not written reads as its
// schema's default, or zero when it has none (a required key is always written).
class ParamValues {
 public:
  explicit ParamValues(const Schema* schema = nullptr) : schema_(schema) {}

  void set(const std::string& key, ScalarValue v) { values_[key] = std::move(v); }
  void append(const std::string& key, ScalarValue v) { lists_[key].push_back(std::move(v)); }

  bool has(const std::string& key) const { return values_.count(key) || lists_.count(key); }
  std::string text(const std::string& key) const { return get<std::string>(key); }
  long long integer(const std::string& key) const { return get<long long>(key); }
  double fraction(const std::string& key) const { return get<double>(key); }
  double number(const std::string& key) const { return get<double>(key); }
  Duration duration(const std::string& key) const { return get<Duration>(key); }
  uint64_t bytes(const std::string& key) const { return get<uint64_t>(key); }
  int signal(const std::string& key) const { return get<int>(key); }
  std::vector<long long> integers(const std::string& key) const;
  std::vector<std::string> texts(const std::string& key) const;
  // Nested objects inside params keep their keys under the object's key, lists' items under
  // "key[i]": "rules[0].match.path.prefix". These say what was written there.
  bool has_object(const std::string& key) const { return values_.count(key) > 0; }
  // The keys written directly under `prefix` + ".", without the prefix (a string map's names).
  std::vector<std::string> keys_under(const std::string& prefix) const;
  // How many items of the list of objects at `key` were written.
  size_t count(const std::string& key) const;

 private:
  template <typename T>
  T get(const std::string& key) const {
    auto it = values_.find(key);
    if (it != values_.end())
      if (const T* v = std::get_if<T>(&it->second)) return *v;
    if (auto d = default_of(key))
      if (const T* v = std::get_if<T>(&*d)) return *v;
    return T{};
  }
  std::optional<ScalarValue> default_of(const std::string& key) const;

  const Schema* schema_;
  std::map<std::string, ScalarValue> values_;
  std::map<std::string, std::vector<ScalarValue>> lists_;
};

// The typed params of every fault in a document, by the field of its params object
// ("faults[0].params", "faults[1].parallel[0].params").
using TypedParams = std::map<std::string, ParamValues>;

}  // namespace faultline::experiments
