#include "experiments/vars.h"

#include <cstdlib>
#include <optional>

namespace faultline::experiments {
namespace {

std::optional<std::string> lookup(const VarEnvironment& env, const std::string& name) {
  if (env.given)
    if (auto it = env.given->find(name); it != env.given->end()) return it->second;
  if (env.process)
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
  return std::nullopt;
}

// The name in "env:NAME" or "env:NAME:-default", and the default if there is one.
std::string env_name(const std::string& ref, std::optional<std::string>* fallback = nullptr) {
  std::string name = ref.substr(4);
  if (size_t d = name.find(":-"); d != std::string::npos) {
    if (fallback) *fallback = name.substr(d + 2);
    name.resize(d);
  }
  return name;
}

// Expands one scalar; false (with `problem` set) on an unknown or unterminated reference.
bool expand(const std::string& in, const std::map<std::string, std::string>& vars,
            const VarEnvironment& env, std::string& out, std::string& problem) {
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
      std::optional<std::string> fallback;
      std::string name = env_name(ref, &fallback);
      if (auto value = lookup(env, name)) {
        out += *value;
      } else if (fallback) {
        out += *fallback;
      } else {
        std::string with_default = "${env:" + name + ":-default}";
        problem = env.process ? "environment variable " + name + " is not set (write " +
                                    with_default + " for a default)"
                              : "environment variable " + name +
                                    " was not sent with the experiment: the controller never "
                                    "reads its own environment (set it where you run faultline, "
                                    "or write " +
                                    with_default + " for a default)";
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
                const VarEnvironment& env, const std::string& field, YamlReader& reader,
                std::set<std::pair<int, int>>& failed) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find("${") == std::string::npos) return;
    std::string out, problem;
    if (expand(text, vars, env, out, problem)) {
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
      substitute(node[i], vars, env, field + "[" + std::to_string(i) + "]", reader, failed);
    return;
  }
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      if (field.empty() && key == "vars") continue;
      substitute(it->second, vars, env, field.empty() ? key : field + "." + key, reader, failed);
    }
  }
}

}  // namespace

std::map<std::string, std::string> referenced_environment(const std::string& yaml_text) {
  std::map<std::string, std::string> found;
  VarEnvironment process{.process = true};
  for (size_t at = yaml_text.find("${env:"); at != std::string::npos;
       at = yaml_text.find("${env:", at + 1)) {
    size_t close = yaml_text.find('}', at);
    if (close == std::string::npos) break;
    std::string name = env_name(yaml_text.substr(at + 2, close - at - 2));
    if (auto value = lookup(process, name)) found[name] = *value;
  }
  return found;
}

std::map<std::string, std::string> resolve_vars(const YAML::Node& vars_node,
                                                const std::map<std::string, std::string>& overrides,
                                                const VarEnvironment& env, YamlReader& reader) {
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
      if (!expand(value, vars, env, out, problem)) {
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
                                              const VarEnvironment& env, const std::string& field,
                                              YamlReader& reader) {
  std::set<std::pair<int, int>> failed;
  substitute(node, vars, env, field, reader, failed);
  return failed;
}

}  // namespace faultline::experiments
