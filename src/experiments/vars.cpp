#include "experiments/vars.h"

#include <cstdlib>

namespace faultline::experiments {
namespace {

// Expands one scalar; false (with `problem` set) on an unknown or unterminated reference.
bool expand(const std::string& in, const std::map<std::string, std::string>& vars, std::string& out,
            std::string& problem) {
  out.clear();
  size_t i = 0;
  while (i < in.size()) {
    size_t open = in.find("${", i);
    if (open == std::string::npos) {
      out += in.substr(i);
      break;
    }
    out += in.substr(i, open - i);
    size_t close = in.find('}', open);
    if (close == std::string::npos) {
      problem = "unterminated \"${\" (write ${name})";
      return false;
    }
    std::string ref = in.substr(open + 2, close - open - 2);
    if (ref.rfind("env:", 0) == 0) {
      std::string name = ref.substr(4), fallback;
      bool has_fallback = false;
      if (size_t d = name.find(":-"); d != std::string::npos) {
        fallback = name.substr(d + 2);
        name = name.substr(0, d);
        has_fallback = true;
      }
      const char* value = std::getenv(name.c_str());
      if (value) {
        out += value;
      } else if (has_fallback) {
        out += fallback;
      } else {
        problem = "environment variable " + name + " is not set (write ${env:" + name +
                  ":-default} for a default)";
        return false;
      }
    } else {
      auto it = vars.find(ref);
      if (it == vars.end()) {
        std::vector<std::string> names;
        for (const auto& [k, _] : vars) names.push_back(k);
        std::string near = closest_match(ref, names);
        problem = "undefined variable \"" + ref + "\" (" +
                  (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                  "define it under vars: or pass --var " + ref + "=VALUE)";
        return false;
      }
      out += it->second;
    }
    i = close + 1;
  }
  return true;
}

void substitute(YAML::Node node, const std::map<std::string, std::string>& vars,
                const std::string& field, YamlReader& reader,
                std::set<std::pair<int, int>>& failed) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find("${") == std::string::npos) return;
    std::string out, problem;
    if (expand(text, vars, out, problem)) {
      node = out;
    } else {
      reader.error(node, field, problem);
      auto at = reader.where(node);
      failed.emplace(at.line, at.column);
    }
    return;
  }
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      substitute(node[i], vars, field + "[" + std::to_string(i) + "]", reader, failed);
    return;
  }
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      if (field.empty() && key == "vars") continue;
      substitute(it->second, vars, field.empty() ? key : field + "." + key, reader, failed);
    }
  }
}

}  // namespace

std::map<std::string, std::string> resolve_vars(const YAML::Node& vars_node,
                                                const std::map<std::string, std::string>& overrides,
                                                YamlReader& reader) {
  std::map<std::string, std::string> vars;
  std::map<std::string, YAML::Node> nodes;
  if (vars_node && vars_node.IsMap())
    for (auto it = vars_node.begin(); it != vars_node.end(); ++it)
      if (it->second.IsScalar()) {
        vars[it->first.Scalar()] = it->second.Scalar();
        nodes[it->first.Scalar()] = it->second;
      }
  for (const auto& [k, v] : overrides) vars[k] = v;
  // A var may use another var; each pass resolves one more level. More passes than vars
  // means a cycle.
  for (size_t pass = 0; pass <= nodes.size(); ++pass) {
    bool changed = false;
    for (auto& [name, node] : nodes) {
      std::string& value = vars[name];
      if (overrides.count(name) || value.find("${") == std::string::npos) continue;
      std::string out, problem;
      if (!expand(value, vars, out, problem)) {
        reader.error(node, "vars." + name, problem);
        value.clear();
        continue;
      }
      changed |= out != value;
      value = out;
    }
    if (!changed) return vars;
  }
  for (auto& [name, node] : nodes)
    if (vars[name].find("${") != std::string::npos)
      reader.error(node, "vars." + name, "refers to itself through other vars");
  return vars;
}

std::set<std::pair<int, int>> substitute_vars(YAML::Node node,
                                              const std::map<std::string, std::string>& vars,
                                              const std::string& field, YamlReader& reader) {
  std::set<std::pair<int, int>> failed;
  substitute(node, vars, field, reader, failed);
  return failed;
}

}  // namespace faultline::experiments
