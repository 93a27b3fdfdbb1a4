#include "experiments/yaml_reader.h"

#include <algorithm>
#include <cctype>

namespace faultline::experiments {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 3;
  for (const auto& c : candidates) {
    size_t d = lower(c) == lower(word) ? 0 : edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

SourceLocation YamlReader::where(const YAML::Node& node) const {
  YAML::Mark m = node.Mark();
  if (m.is_null()) return {file_, 0, 0};
  return {file_, m.line + 1, m.column + 1};
}

void YamlReader::error(const YAML::Node& at, const std::string& field, const std::string& message) {
  error(where(at), field, message);
}

void YamlReader::error(const SourceLocation& at, const std::string& field,
                       const std::string& message) {
  out_.push_back({at, field, message});
}

bool YamlReader::map(const YAML::Node& node, const std::string& field,
                     const std::vector<std::string>& allowed) {
  if (!node.IsMap()) {
    error(node, field, "must be a map of keys to values");
    return false;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string path = field.empty() ? key : field + "." + key;
    std::string near = closest_match(key, allowed);
    std::string known;
    for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
    error(it->first, path,
          "unknown key (" +
              (near.empty() ? "known keys: " + known : "did you mean \"" + near + "\"?") + ")");
  }
  return true;
}

bool YamlReader::list(const YAML::Node& node, const std::string& field) {
  if (node.IsSequence()) return true;
  error(node, field, "must be a list");
  return false;
}

std::optional<YAML::Node> YamlReader::child(const YAML::Node& parent, const std::string& key,
                                            const std::string& field, bool required) {
  if (parent.IsMap()) {
    if (YAML::Node n = parent[key]; n.IsDefined() && !n.IsNull()) return n;
  }
  if (required) error(parent, field, "missing required field");
  return std::nullopt;
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& node, const std::string& field,
                                              const char* expected) {
  if (node.IsScalar()) return node.Scalar();
  error(node, field, std::string("must be ") + expected);
  return std::nullopt;
}

std::optional<std::string> YamlReader::string(const YAML::Node& parent, const std::string& key,
                                              const std::string& field, bool required) {
  auto n = child(parent, key, field, required);
  if (!n) return std::nullopt;
  auto s = scalar(*n, field, "a string");
  if (s && s->empty() && required) {
    error(*n, field, "must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<long long> YamlReader::integer(const YAML::Node& parent, const std::string& key,
                                             const std::string& field, bool required) {
  auto n = child(parent, key, field, required);
  if (!n) return std::nullopt;
  auto s = scalar(*n, field, "an integer");
  if (!s) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(s->c_str(), &end, 10);
  if (s->empty() || *end != '\0') {
    error(*n, field, "\"" + *s + "\" is not an integer");
    return std::nullopt;
  }
  return v;
}

std::optional<Duration> YamlReader::duration(const YAML::Node& parent, const std::string& key,
                                             const std::string& field, bool required) {
  auto n = child(parent, key, field, required);
  if (!n) return std::nullopt;
  auto s = scalar(*n, field, "a duration such as 250ms or 1m30s");
  if (!s) return std::nullopt;
  auto d = parse_duration(*s);
  if (!d) {
    error(*n, field, d.error().message);
    return std::nullopt;
  }
  return *d;
}

std::optional<std::map<std::string, std::string>> YamlReader::string_map(const YAML::Node& parent,
                                                                         const std::string& key,
                                                                         const std::string& field) {
  auto n = child(parent, key, field, false);
  if (!n) return std::nullopt;
  if (!n->IsMap()) {
    error(*n, field, "must be a map of strings (key: value)");
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (auto it = n->begin(); it != n->end(); ++it) {
    if (!it->second.IsScalar()) {
      error(it->second, field + "." + it->first.Scalar(), "must be a string");
      continue;
    }
    out[it->first.Scalar()] = it->second.Scalar();
  }
  return out;
}

}  // namespace faultline::experiments
