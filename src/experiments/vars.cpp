#include "experiments/vars.h"

#include <cstdlib>

namespace faultline::experiments {
namespace {

// Expands one scalar; false (with `problem` set) on an unknown or unterminated reference.
bool expand(const std::string& in, const std::map<std::string, std::string>& vars,
            std::string& out, std::string& problem) {
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

}  // namespace

void substitute_vars(YAML::Node node, const std::map<std::string, std::string>& vars,
                     const std::string& field, YamlReader& reader) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find("${") == std::string::npos) return;
    std::string out, problem;
    if (expand(text, vars, out, problem)) node = out;
    else reader.error(node, field, problem);
    return;
  }
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      substitute_vars(node[i], vars, field + "[" + std::to_string(i) + "]", reader);
    return;
  }
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      if (field.empty() && key == "vars") continue;
      substitute_vars(it->second, vars, field.empty() ? key : field + "." + key, reader);
    }
  }
}

}  // namespace faultline::experiments
