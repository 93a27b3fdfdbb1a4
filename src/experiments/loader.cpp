#include "experiments/loader.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "experiments/yaml_reader.h"

namespace faultline::experiments {

const std::vector<std::string>& known_fault_kinds() {
  static const std::vector<std::string> kinds{"process_kill", "process_pause"};
  return kinds;
}

namespace {

const std::regex kNamePattern("^[a-z0-9][a-z0-9-]{0,62}$");

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string idx(const std::string& field, size_t i) {
  return field + "[" + std::to_string(i) + "]";
}

// Signal names people write: "SIGKILL", "KILL", "sigterm"; or a number 1..64.
std::optional<int> parse_signal(std::string text) {
  char* end = nullptr;
  long n = std::strtol(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0')
    return (n >= 1 && n <= 64) ? std::optional<int>(n) : std::nullopt;
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (text.rfind("SIG", 0) == 0) text = text.substr(3);
  for (int s = 1; s < 32; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev && text == abbrev) return s;
  }
  return std::nullopt;
}

class Loader {
 public:
  Loader(const std::string& file, Diagnostics& diags) : r_(file, diags) { exp_.source_file = file; }

  Experiment load(const YAML::Node& root) {
    if (!r_.map(root, "",
                {"apiVersion", "kind", "metadata", "max_duration", "targets", "steady_state",
                 "faults", "recovery"}))
      return exp_;
    if (auto v = r_.string(root, "apiVersion", "apiVersion", true); v && *v != kApiVersion)
      r_.error(root["apiVersion"], "apiVersion",
               "unsupported \"" + *v + "\" (expected " + kApiVersion + ")");
    if (auto v = r_.string(root, "kind", "kind", true); v && *v != "Experiment")
      r_.error(root["kind"], "kind", "must be Experiment (got \"" + *v + "\")");
    metadata(root);
    if (auto d = r_.duration(root, "max_duration", "max_duration")) {
      if (*d <= Duration::zero())
        r_.error(root["max_duration"], "max_duration", "must be > 0");
      else
        exp_.max_duration = *d;
    }
    targets(root);
    if (root["steady_state"]) exp_.steady_state = probes(root["steady_state"], "steady_state");
    faults(root);
    recovery(root);
    return exp_;
  }

 private:
  bool check_name(const YAML::Node& at, const std::string& field, const std::string& name) {
    if (std::regex_match(name, kNamePattern)) return true;
    r_.error(at, field,
             "\"" + name +
                 "\" is not a valid name (lowercase letters, digits and '-', "
                 "starting with a letter or digit, at most 63 characters)");
    return false;
  }

  void metadata(const YAML::Node& root) {
    YAML::Node m = root["metadata"];
    if (!m) {
      r_.error(root, "metadata", "missing required field");
      return;
    }
    if (!r_.map(m, "metadata", {"name", "description", "owner", "labels"})) return;
    if (auto n = r_.string(m, "name", "metadata.name", true);
        n && check_name(m["name"], "metadata.name", *n))
      exp_.metadata.name = *n;
    exp_.metadata.description = r_.string(m, "description", "metadata.description").value_or("");
    exp_.metadata.owner = r_.string(m, "owner", "metadata.owner").value_or("");
    exp_.metadata.labels = r_.string_map(m, "labels", "metadata.labels")
                               .value_or(std::map<std::string, std::string>{});
  }

  void targets(const YAML::Node& root) {
    YAML::Node ts = root["targets"];
    if (!ts) return;
    if (!ts.IsMap()) {
      r_.error(ts, "targets", "must be a map of target names to selections");
      return;
    }
    for (auto it = ts.begin(); it != ts.end(); ++it) {
      std::string name = it->first.Scalar();
      std::string field = "targets." + name;
      check_name(it->first, field, name);
      TargetSpec t;
      t.name = name;
      t.where = r_.where(it->first);
      const YAML::Node& spec = it->second;
      if (!r_.map(spec, field, {"nodes", "process"})) continue;
      if (YAML::Node nodes = spec["nodes"]) {
        if (r_.map(nodes, field + ".nodes", {"selector", "mode"})) {
          t.nodes.selector = r_.string_map(nodes, "selector", field + ".nodes.selector")
                                 .value_or(std::map<std::string, std::string>{});
          if (auto mode = r_.string(nodes, "mode", field + ".nodes.mode")) {
            if (*mode == "all")
              t.nodes.mode = NodeMode::kAll;
            else if (*mode != "one")
              r_.error(nodes["mode"], field + ".nodes.mode",
                       "\"" + *mode + "\" is not a mode (one or all)");
          }
        }
      }
      // A malformed selector is already reported; an empty one stops faults on this target
      // from adding a second, misleading "has no process selector" error.
      if (YAML::Node proc = spec["process"])
        t.process = process_selector(proc, field + ".process").value_or(ProcessSelector{});
      exp_.targets.push_back(std::move(t));
    }
  }

  std::optional<ProcessSelector> process_selector(const YAML::Node& n, const std::string& field) {
    if (!r_.map(n, field, {"name", "pidfile", "cmdline", "pid"})) return std::nullopt;
    if (n.size() != 1) {
      r_.error(n, field, "needs exactly one of name, pidfile, cmdline, pid");
      return std::nullopt;
    }
    ProcessSelector s;
    if (auto v = r_.string(n, "name", field + ".name")) s.name = *v;
    if (auto v = r_.string(n, "pidfile", field + ".pidfile")) s.pidfile = *v;
    if (auto v = r_.string(n, "cmdline", field + ".cmdline")) {
      try {
        std::regex check(*v, std::regex::ECMAScript);
        s.cmdline = *v;
      } catch (const std::regex_error& e) {
        r_.error(n["cmdline"], field + ".cmdline",
                 std::string("invalid regular expression: ") + e.what());
      }
    }
    if (auto v = r_.integer(n, "pid", field + ".pid")) {
      if (*v == 1)
        r_.error(n["pid"], field + ".pid", "PID 1 is never touched");
      else if (*v < 1 || *v > 4194304)
        r_.error(n["pid"], field + ".pid", "must be a PID (2..4194304)");
      else
        s.pid = static_cast<int>(*v);
    }
    return s;
  }

  std::vector<ProbeSpec> probes(const YAML::Node& list, const std::string& field) {
    std::vector<ProbeSpec> out;
    if (!r_.list(list, field)) return out;
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node& n = list[i];
      std::string f = idx(field, i);
      if (!r_.map(n, f, {"name", "http"})) continue;
      ProbeSpec p;
      p.where = r_.where(n);
      if (auto name = r_.string(n, "name", f + ".name", true)) {
        if (check_name(n["name"], f + ".name", *name) && !seen.insert(*name).second)
          r_.error(n["name"], f + ".name",
                   "\"" + *name + "\" is used by another probe in " + field);
        p.name = *name;
      }
      if (!n["http"]) {
        r_.error(n, f, "needs a probe kind (http)");
        continue;
      }
      p.kind = http_probe(n["http"], f + ".http");
      out.push_back(std::move(p));
    }
    return out;
  }

  HttpProbeSpec http_probe(const YAML::Node& n, const std::string& f) {
    HttpProbeSpec h;
    if (!r_.map(n, f, {"url", "method", "expect_status", "timeout"})) return h;
    if (auto url = r_.string(n, "url", f + ".url", true)) {
      if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)
        r_.error(n["url"], f + ".url", "\"" + *url + "\" must start with http:// or https://");
      h.url = *url;
    }
    if (auto m = r_.string(n, "method", f + ".method")) {
      static const std::vector<std::string> methods{"GET", "HEAD", "POST", "PUT", "DELETE"};
      if (std::find(methods.begin(), methods.end(), *m) == methods.end())
        r_.error(n["method"], f + ".method",
                 "\"" + *m + "\" is not supported (" + join(methods) + ")");
      h.method = *m;
    }
    if (YAML::Node s = n["expect_status"]) {
      h.expect_status.clear();
      auto one = [&](const YAML::Node& v, const std::string& field) {
        char* end = nullptr;
        long code = v.IsScalar() ? std::strtol(v.Scalar().c_str(), &end, 10) : 0;
        if (!v.IsScalar() || *end != '\0' || code < 100 || code > 599)
          r_.error(v, field, "must be an HTTP status code (100..599)");
        else
          h.expect_status.push_back(static_cast<int>(code));
      };
      if (s.IsSequence()) {
        for (size_t i = 0; i < s.size(); ++i) one(s[i], idx(f + ".expect_status", i));
      } else {
        one(s, f + ".expect_status");
      }
    }
    if (auto t = r_.duration(n, "timeout", f + ".timeout")) {
      if (*t <= Duration::zero())
        r_.error(n["timeout"], f + ".timeout", "must be > 0");
      else
        h.timeout = *t;
    }
    return h;
  }

  void faults(const YAML::Node& root) {
    YAML::Node list = root["faults"];
    if (!list) {
      r_.error(root, "faults", "missing required field (at least one fault)");
      return;
    }
    if (!r_.list(list, "faults")) return;
    if (list.size() == 0) r_.error(list, "faults", "needs at least one fault");
    std::set<std::string> seen;
    Duration total{};
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node& n = list[i];
      std::string f = idx("faults", i);
      if (!r_.map(n, f, {"name", "kind", "target", "duration", "params"})) continue;
      FaultSpec fs;
      fs.where = r_.where(n);
      if (auto name = r_.string(n, "name", f + ".name", true)) {
        if (check_name(n["name"], f + ".name", *name) && !seen.insert(*name).second)
          r_.error(n["name"], f + ".name", "\"" + *name + "\" is used by another fault");
        fs.name = *name;
      }
      auto kind = r_.string(n, "kind", f + ".kind", true);
      const auto& kinds = known_fault_kinds();
      if (kind && std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) {
        std::string near = closest_match(*kind, kinds);
        r_.error(n["kind"], f + ".kind",
                 "unknown fault kind \"" + *kind + "\" (" +
                     (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                     "known: " + join(kinds) + ")");
        kind.reset();
      }
      if (kind) fs.kind = *kind;
      const TargetSpec* target = nullptr;
      if (auto t = r_.string(n, "target", f + ".target", true)) {
        fs.target = *t;
        target = exp_.find_target(*t);
        if (!target) {
          std::vector<std::string> names;
          for (const auto& ts : exp_.targets) names.push_back(ts.name);
          std::string near = closest_match(*t, names);
          r_.error(n["target"], f + ".target",
                   "target \"" + *t + "\" is not defined (" +
                       (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                       "defined: " + (names.empty() ? "none" : join(names)) + ")");
        }
      }
      if (auto d = r_.duration(n, "duration", f + ".duration")) {
        if (*d < Duration::zero())
          r_.error(n["duration"], f + ".duration", "must be >= 0");
        else
          fs.duration = *d;
      }
      if (kind) {
        fs.params = params(*kind, n["params"], f + ".params");
        if (target && !target->process)
          r_.error(
              n["target"], f + ".target",
              "target \"" + target->name + "\" has no process selector, which " + *kind + " needs");
        if (*kind == "process_pause" && fs.duration <= Duration::zero())
          r_.error(n["duration"] ? n["duration"] : n, f + ".duration",
                   "process_pause needs a duration > 0 (how long the process stays paused)");
      }
      total += fs.duration;
      if (total > exp_.max_duration)
        r_.error(n["duration"] ? n["duration"] : n, f + ".duration",
                 "faults add up to " + format_duration(total) + ", over max_duration " +
                     format_duration(exp_.max_duration));
      exp_.faults.push_back(std::move(fs));
    }
  }

  ProcessMode process_mode(const YAML::Node& p, const std::string& f) {
    auto mode = r_.string(p, "mode", f + ".mode");
    if (!mode || *mode == "one") return ProcessMode::kOne;
    if (*mode == "all") return ProcessMode::kAll;
    r_.error(p["mode"], f + ".mode", "\"" + *mode + "\" is not a mode (one or all)");
    return ProcessMode::kOne;
  }

  FaultParams params(const std::string& kind, const YAML::Node& p, const std::string& f) {
    YAML::Node map = p ? p : YAML::Node(YAML::NodeType::Map);
    if (kind == "process_kill") {
      ProcessKillParams k;
      if (!r_.map(map, f, {"signal", "mode"})) return k;
      if (auto s = r_.string(map, "signal", f + ".signal")) {
        if (auto sig = parse_signal(*s))
          k.signal = *sig;
        else
          r_.error(map["signal"], f + ".signal",
                   "unknown signal \"" + *s + "\" (a name such as SIGKILL or SIGTERM, or 1..64)");
      }
      k.mode = process_mode(map, f);
      return k;
    }
    ProcessPauseParams pp;
    if (!r_.map(map, f, {"mode"})) return pp;
    pp.mode = process_mode(map, f);
    return pp;
  }

  void recovery(const YAML::Node& root) {
    YAML::Node n = root["recovery"];
    if (!n) return;
    if (!r_.map(n, "recovery", {"deadline", "interval", "checks"})) return;
    RecoverySpec rec;
    if (auto d = r_.duration(n, "deadline", "recovery.deadline")) {
      if (*d <= Duration::zero())
        r_.error(n["deadline"], "recovery.deadline", "must be > 0");
      else
        rec.deadline = *d;
    }
    if (auto d = r_.duration(n, "interval", "recovery.interval")) {
      if (*d <= Duration::zero())
        r_.error(n["interval"], "recovery.interval", "must be > 0");
      else
        rec.interval = *d;
    }
    if (!n["checks"])
      r_.error(n, "recovery.checks", "missing required field");
    else
      rec.checks = probes(n["checks"], "recovery.checks");
    exp_.recovery = std::move(rec);
  }

  YamlReader r_;
  Experiment exp_;
};

}  // namespace

LoadResult parse_experiment(std::string_view yaml_text, const std::string& source_name) {
  LoadResult result;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    SourceLocation at{source_name, e.mark.is_null() ? 0 : e.mark.line + 1,
                      e.mark.is_null() ? 0 : e.mark.column + 1};
    result.diagnostics.push_back({at, "", "YAML syntax error: " + e.msg});
    return result;
  }
  if (!root || root.IsNull()) {
    result.diagnostics.push_back(
        {{source_name, 0, 0}, "", "the file is empty (expected an Experiment)"});
    return result;
  }
  Experiment exp = Loader(source_name, result.diagnostics).load(root);
  if (result.diagnostics.empty()) result.experiment = std::move(exp);
  return result;
}

LoadResult load_experiment_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    LoadResult r;
    r.diagnostics.push_back(
        {{path, 0, 0}, "", std::string("cannot read file: ") + std::strerror(errno)});
    return r;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_experiment(text.str(), path);
}

}  // namespace faultline::experiments
