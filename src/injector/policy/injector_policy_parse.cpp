// Loading an injector policy file. The first problem found stops the load: the injector
// refuses to start on a bad policy, so there is no partial policy to run with.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "injector/policy/injector_policy.h"

#include "injector/fault_kind_name.h"

namespace faultline::injector {
namespace {

const std::vector<std::string> kTopKeys = {"allow"};
const std::vector<std::string> kAllowKeys = {"kinds",        "interfaces", "network_namespaces",
                                             "processes",    "paths",      "containers",
                                             "max_duration", "commands"};
const std::vector<std::string> kContainerRuleKeys = {"runtime", "namespace", "pod",
                                                     "name",    "image",     "labels"};
const std::vector<std::string> kRuleKeys = {"name", "cmdline", "cgroup"};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// ", did you mean "x"?" when a candidate is within two edits, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 3;
  for (const auto& c : candidates)
    if (size_t d = edit_distance(word, c); d < best_d) best_d = d, best = c;
  return best.empty() ? "" : ", did you mean \"" + best + "\"?";
}

const char* type_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "empty";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "undefined";
  }
}

// Carries the first problem out of the nested readers.
struct Problem {
  Error error;
};

}  // namespace

class PolicyParser {
 public:
  explicit PolicyParser(std::string source) : source_(std::move(source)) {}

  InjectorPolicy parse(const YAML::Node& root) {
    InjectorPolicy p;
    p.source_ = source_;
    if (!root.IsMap()) {
      if (root.IsNull()) fail(root, "allow", "missing", "a map of what this injector may do");
      fail(root, "(top level)", std::string("is ") + type_name(root), "a map with the key allow");
    }
    check_keys(root, "", kTopKeys);
    YAML::Node allow = root["allow"];
    if (!allow) fail(root, "allow", "missing", "a map of what this injector may do");
    if (!allow.IsMap())
      fail(allow, "allow", std::string("is ") + type_name(allow), "a map with " + join(kAllowKeys));
    check_keys(allow, "allow.", kAllowKeys);

    YAML::Node kinds = allow["kinds"];
    if (!kinds)
      fail(allow, "allow.kinds", "missing",
           "the list of fault kinds this injector may apply, e.g. [process_pause]");
    std::vector<std::string> known = all_fault_kinds();
    p.kinds_ =
        strings(kinds, "allow.kinds", "a list of fault kinds",
                [&](const YAML::Node& at, const std::string& field, const std::string& k) {
                  if (std::find(known.begin(), known.end(), k) == known.end())
                    fail(at, field, "unknown fault kind \"" + k + "\"" + did_you_mean(k, known),
                         "one of " + join(known));
                });
    if (auto n = allow["interfaces"])
      p.interfaces_ = strings(n, "allow.interfaces", "a list of interface names or globs",
                              [](auto&, auto&, auto&) {});
    if (auto n = allow["network_namespaces"])
      p.network_namespaces_ =
          strings(n, "allow.network_namespaces", "a list of namespace names, paths or globs",
                  [&](const YAML::Node& at, const std::string& field, const std::string& ns) {
                    if (ns != "self" && ns.find('/') != std::string::npos && ns[0] != '/')
                      fail(at, field, "\"" + ns + "\" is a relative path",
                           "self, a name under /run/netns or an absolute path (globs allowed)");
                  });
    if (auto n = allow["paths"]) p.paths_ = paths(n);
    if (auto n = allow["processes"]) p.processes_ = processes(n);
    if (auto n = allow["containers"]) p.containers_ = containers(n);
    if (auto n = allow["max_duration"]) p.max_duration_ = duration(n, "allow.max_duration");
    if (auto n = allow["commands"])
      p.commands_ =
          strings(n, "allow.commands", "a list of absolute program paths",
                  [&](const YAML::Node& at, const std::string& field, const std::string& path) {
                    if (path[0] != '/' || path.find('*') != std::string::npos)
                      fail(at, field, "\"" + path + "\" is not an absolute path",
                           "the exact path of a program, e.g. /usr/local/bin/check-db");
                  });
    return p;
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& field, const std::string& what,
                         const std::string& expected) {
    fail(at.Mark(), field, what, expected);
  }
  [[noreturn]] void fail(const YAML::Mark& at, const std::string& field, const std::string& what,
                         const std::string& expected) {
    // yaml-cpp counts from 0; editors count from 1. A node that is not in the text (an
    // empty document) has no mark: point at the start.
    int line = at.is_null() ? 1 : at.line + 1, col = at.is_null() ? 1 : at.column + 1;
    throw Problem{make_error(ErrorCode::kInvalidArgument,
                             source_ + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                 ": " + field + ": " + what + " (expected " + expected + ")")};
  }

 private:
  // Unknown and repeated keys are errors: a typo must not silently change what is allowed.
  void check_keys(const YAML::Node& map, const std::string& prefix,
                  const std::vector<std::string>& known) {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end())
        fail(kv.first.Mark(), prefix + key, "unknown key" + did_you_mean(key, known),
             known.size() == 1 ? known[0] : "one of " + join(known));
      if (!seen.insert(key).second)
        fail(kv.first.Mark(), prefix + key, "repeated key", "each key once");
    }
  }

  template <typename Check>
  std::vector<std::string> strings(const YAML::Node& list, const std::string& field,
                                   const std::string& expected, Check check) {
    if (!list.IsSequence()) fail(list, field, std::string("is ") + type_name(list), expected);
    std::vector<std::string> out;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node& item = list[i];
      std::string at = field + "[" + std::to_string(i) + "]";
      if (!item.IsScalar() || item.Scalar().empty())
        fail(item, at, item.IsScalar() ? "is empty" : std::string("is ") + type_name(item),
             expected);
      check(item, at, item.Scalar());
      out.push_back(item.Scalar());
    }
    return out;
  }

  std::vector<std::string> paths(const YAML::Node& list) {
    std::vector<std::string> out =
        strings(list, "allow.paths", "a list of absolute paths or globs",
                [&](const YAML::Node& at, const std::string& field, const std::string& path) {
                  if (path[0] != '/')
                    fail(at, field, "\"" + path + "\" is not absolute",
                         "an absolute path or glob, e.g. /var/tmp/chaos");
                });
    // "/data/" and "/data/./x/.." mean /data: compare like with like.
    for (auto& p : out) {
      p = std::filesystem::path(p).lexically_normal().string();
      if (p.size() > 1 && p.back() == '/') p.pop_back();
    }
    return out;
  }

  std::vector<ProcessRule> processes(const YAML::Node& list) {
    const std::string expected = "a list of rules with name, cmdline and/or cgroup";
    if (!list.IsSequence())
      fail(list, "allow.processes", std::string("is ") + type_name(list), expected);
    std::vector<ProcessRule> rules;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node& item = list[i];
      std::string field = "allow.processes[" + std::to_string(i) + "]";
      if (!item.IsMap() || item.size() == 0)
        fail(item, field, item.IsMap() ? "names nothing" : std::string("is ") + type_name(item),
             "a map with at least one of " + join(kRuleKeys));
      check_keys(item, field + ".", kRuleKeys);
      ProcessRule r;
      for (const auto& kv : item) {
        std::string key = kv.first.Scalar(), f = field + "." + key;
        if (!kv.second.IsScalar() || kv.second.Scalar().empty())
          fail(kv.second, f,
               kv.second.IsScalar() ? "is empty" : std::string("is ") + type_name(kv.second),
               key == "cmdline" ? "a regular expression" : "a name or glob");
        const std::string& v = kv.second.Scalar();
        if (key == "name") r.name = v;
        if (key == "cgroup") r.cgroup = v;
        if (key == "cmdline") {
          r.cmdline = v;
          try {
            r.cmdline_re.emplace(v, std::regex::ECMAScript);
          } catch (const std::regex_error& e) {
            fail(kv.second, f, "bad regular expression \"" + v + "\": " + e.what(),
                 "an ECMAScript regular expression");
          }
        }
      }
      rules.push_back(std::move(r));
    }
    return rules;
  }

  std::vector<ContainerRule> containers(const YAML::Node& list) {
    const std::string expected =
        "a list of rules with runtime, namespace, pod, name, image and/or labels";
    if (!list.IsSequence())
      fail(list, "allow.containers", std::string("is ") + type_name(list), expected);
    std::vector<ContainerRule> rules;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node& item = list[i];
      std::string field = "allow.containers[" + std::to_string(i) + "]";
      if (!item.IsMap() || item.size() == 0)
        fail(item, field, item.IsMap() ? "names nothing" : std::string("is ") + type_name(item),
             "a map with at least one of " + join(kContainerRuleKeys));
      check_keys(item, field + ".", kContainerRuleKeys);
      ContainerRule r;
      for (const auto& kv : item) {
        std::string key = kv.first.Scalar(), f = field + "." + key;
        if (key == "labels") {
          if (!kv.second.IsMap() || kv.second.size() == 0)
            fail(kv.second, f, std::string("is ") + type_name(kv.second),
                 "a map of label names to values");
          for (const auto& l : kv.second) {
            if (!l.second.IsScalar())
              fail(l.second, f + "." + l.first.Scalar(), std::string("is ") + type_name(l.second),
                   "a label value");
            r.labels[l.first.Scalar()] = l.second.Scalar();
          }
          continue;
        }
        if (!kv.second.IsScalar() || kv.second.Scalar().empty())
          fail(kv.second, f,
               kv.second.IsScalar() ? "is empty" : std::string("is ") + type_name(kv.second),
               key == "runtime" ? "cri or docker" : "a name or glob");
        const std::string& v = kv.second.Scalar();
        if (key == "runtime") {
          if (v != "cri" && v != "docker")
            fail(kv.second, f, "\"" + v + "\" is not a runtime", "cri or docker");
          r.runtime = v;
        }
        if (key == "namespace") r.namespace_ = v;
        if (key == "pod") r.pod = v;
        if (key == "name") r.name = v;
        if (key == "image") r.image = v;
      }
      rules.push_back(std::move(r));
    }
    return rules;
  }

  Duration duration(const YAML::Node& n, const std::string& field) {
    const std::string expected = "a duration such as 10m or 1h";
    if (!n.IsScalar()) fail(n, field, std::string("is ") + type_name(n), expected);
    auto d = parse_duration(n.Scalar());
    if (!d) fail(n, field, d.error().message, expected);
    if (*d <= Duration::zero()) fail(n, field, n.Scalar() + " is not positive", expected);
    return *d;
  }

  std::string source_;
};

Result<InjectorPolicy> InjectorPolicy::parse(const std::string& yaml, const std::string& source) {
  PolicyParser parser(source);
  try {
    YAML::Node root;
    try {
      root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
      parser.fail(e.mark, "(syntax)", e.msg, "valid YAML");
    }
    return parser.parse(root);
  } catch (const Problem& p) {
    return p.error;
  }
}

Result<InjectorPolicy> InjectorPolicy::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(ErrorCode::kInvalidArgument,
                      path + ": cannot read the policy file: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

}  // namespace faultline::injector
