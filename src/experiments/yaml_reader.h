// Reads typed values out of yaml-cpp nodes while collecting every problem with its source
// location and field path, so the loader can report all mistakes in one pass.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "experiments/diagnostic.h"

namespace faultline::experiments {

// The closest candidate within edit distance 2 (or equal ignoring case), or "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

class YamlReader {
 public:
  YamlReader(std::string file, Diagnostics& out) : file_(std::move(file)), out_(out) {}

  SourceLocation where(const YAML::Node& node) const;
  void error(const YAML::Node& at, const std::string& field, const std::string& message);
  void error(const SourceLocation& at, const std::string& field, const std::string& message);

  // True if `node` is a map; reports every key not in `allowed` with a suggestion.
  bool map(const YAML::Node& node, const std::string& field,
           const std::vector<std::string>& allowed);
  bool list(const YAML::Node& node, const std::string& field);

  // Each getter reads parent[key]: nullopt when absent (reported if `required`) or malformed
  // (always reported). `field` is the dotted path of the key itself.
  std::optional<std::string> string(const YAML::Node& parent, const std::string& key,
                                    const std::string& field, bool required = false);
  std::optional<long long> integer(const YAML::Node& parent, const std::string& key,
                                   const std::string& field, bool required = false);
  std::optional<Duration> duration(const YAML::Node& parent, const std::string& key,
                                   const std::string& field, bool required = false);
  std::optional<std::map<std::string, std::string>> string_map(const YAML::Node& parent,
                                                               const std::string& key,
                                                               const std::string& field);

 private:
  // The node for parent[key] if present; reports a missing required key at the parent.
  std::optional<YAML::Node> child(const YAML::Node& parent, const std::string& key,
                                  const std::string& field, bool required);
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& field,
                                    const char* expected);

  std::string file_;
  Diagnostics& out_;
};

}  // namespace faultline::experiments
