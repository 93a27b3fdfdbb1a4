// Where a YAML node is, and a place to collect problems about nodes.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "experiments/diagnostic.h"

namespace faultline::experiments {

// The closest candidate within edit distance 2 (or equal ignoring case), or "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "a, b, c"
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");

class YamlReader {
 public:
  YamlReader(std::string file, Diagnostics& out) : file_(std::move(file)), out_(out) {}

  SourceLocation where(const YAML::Node& node) const;
  void error(const YAML::Node& at, const std::string& field, const std::string& message);
  void error(const SourceLocation& at, const std::string& field, const std::string& message);
  size_t error_count() const { return out_.size(); }

 private:
  std::string file_;
  Diagnostics& out_;
};

}  // namespace faultline::experiments
