#include "experiments/loader.h"

#include <cstdlib>

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "common/proxy_api_address.h"
#include "common/quantity.h"
#include "experiments/kinds/fault_kind.h"
#include "experiments/schema.h"
#include "experiments/schema_validator.h"
#include "experiments/timeline.h"
#include "experiments/vars.h"

namespace faultline::experiments {

namespace {

// Readers for YAML that already passed the schema: they cannot fail, only fall back.
std::string str(const YAML::Node& n, const char* key, std::string def = "") {
  YAML::Node v = n[key];
  return v && v.IsScalar() ? v.Scalar() : def;
}
Duration dur(const YAML::Node& n, const char* key, Duration def = Duration::zero()) {
  auto d = parse_duration(str(n, key));
  return d ? *d : def;
}
double pct(const YAML::Node& n, const char* key, double def = 0) {
  auto p = parse_percent(str(n, key));
  return p ? *p : def;
}
long long num(const YAML::Node& n, const char* key, long long def = 0) {
  std::string s = str(n, key);
  return s.empty() ? def : std::strtoll(s.c_str(), nullptr, 10);
}
std::map<std::string, std::string> smap(const YAML::Node& n, const char* key) {
  std::map<std::string, std::string> out;
  if (YAML::Node m = n[key]; m && m.IsMap())
    for (auto it = m.begin(); it != m.end(); ++it) out[it->first.Scalar()] = it->second.Scalar();
  return out;
}
std::vector<std::string> strings(const YAML::Node& n, const char* key) {
  std::vector<std::string> out;
  if (YAML::Node l = n[key]; l && l.IsSequence())
    for (const auto& v : l) out.push_back(v.Scalar());
  return out;
}
std::vector<int> ints(const YAML::Node& n, const char* key) {
  std::vector<int> out;
  for (const auto& s : strings(n, key)) out.push_back(std::atoi(s.c_str()));
  return out;
}

Selection selection(const YAML::Node& n) {
  Selection s;
  std::string mode = str(n, "mode", "one");
  if (mode == "all") s.mode = Selection::Mode::kAll;
  if (mode == "count") s.mode = Selection::Mode::kCount;
  if (mode == "percent") s.mode = Selection::Mode::kPercent;
  s.count = static_cast<int>(num(n, "count", 1));
  s.fraction = pct(n, "percent", 1.0);
  return s;
}

// A fault kind's problems, placed at the node of the field they name (or the nearest that
// exists) under the fault's own path.
class FaultProblems : public KindProblems {
 public:
  FaultProblems(YamlReader& r, const YAML::Node& fault, std::string field)
      : r_(r), fault_(fault), field_(std::move(field)) {}

  void error(const std::string& field, const std::string& message) override {
    // Walks "params.rules[2].names" down to the node it names (or as far as it exists), so
    // the error points at the line that is wrong.
    YAML::Node at = fault_;
    for (size_t start = 0; start <= field.size();) {
      size_t dot = std::min(field.find('.', start), field.size());
      std::string part = field.substr(start, dot - start);
      std::vector<size_t> items;
      for (size_t open; (open = part.rfind('[')) != std::string::npos && part.back() == ']';) {
        items.insert(items.begin(), std::strtoul(part.c_str() + open + 1, nullptr, 10));
        part.resize(open);
      }
      const YAML::Node& here = at;
      YAML::Node next = here[part];
      if (!next) break;
      at.reset(next);  // rebinds; operator= would overwrite the document's node
      bool found = true;
      for (size_t i : items) {
        const YAML::Node& list = at;
        if (!list.IsSequence() || i >= list.size()) {
          found = false;
          break;
        }
        YAML::Node item = list[i];
        at.reset(item);
      }
      if (!found) break;
      start = dot + 1;
    }
    r_.error(at, field_ + "." + field, message);
  }

 private:
  YamlReader& r_;
  YAML::Node fault_;
  std::string field_;
};

class Extractor {
 public:
  Extractor(YamlReader& r, Experiment& e, const TypedParams& typed) : r_(r), e_(e), typed_(typed) {}

  void run(const YAML::Node& root) {
    YAML::Node md = root["metadata"];
    e_.metadata = {str(md, "name"), str(md, "description"), str(md, "owner"), smap(md, "labels")};
    e_.max_duration = dur(root, "max_duration", 30min);
    if (auto p = node_failure(root)) e_.on_node_failure = *p;
    if (YAML::Node ts = root["targets"])
      for (auto it = ts.begin(); it != ts.end(); ++it)
        e_.targets.push_back(target(it->first, it->second));
    if (YAML::Node ss = root["steady_state"]) e_.steady_state = probes(ss, "steady_state");
    e_.method.kind = Step::Kind::kSequential;
    e_.method.where = r_.where(root["faults"]);
    for (size_t i = 0; i < root["faults"].size(); ++i)
      e_.method.children.push_back(step(root["faults"][i], "faults[" + std::to_string(i) + "]"));
    if (YAML::Node aw = root["abort_when"])
      for (size_t i = 0; i < aw.size(); ++i) e_.abort_when.push_back(guardrail(aw[i], i));
    if (YAML::Node rec = root["recovery"]) {
      RecoverySpec rs;
      rs.deadline = dur(rec, "deadline", 30s);
      rs.interval = dur(rec, "interval", 100ms);
      rs.checks = probes(rec["checks"], "recovery.checks");
      e_.recovery = std::move(rs);
    }
    if (YAML::Node rb = root["rollbacks"])
      for (size_t i = 0; i < rb.size(); ++i) e_.rollbacks.push_back(rollback(rb[i], i));
    if (YAML::Node rep = root["report"])
      e_.report = {str(rep, "junit"), str(rep, "json"), str(rep, "html")};
    check_references();
  }

 private:
  TargetSpec target(const YAML::Node& key, const YAML::Node& n) {
    TargetSpec t;
    t.name = key.Scalar();
    t.where = r_.where(key);
    if (YAML::Node nodes = n["nodes"]) {
      t.nodes.selector = smap(nodes, "selector");
      t.nodes.select = selection(nodes);
      if (nodes["seed"]) t.nodes.seed = static_cast<uint32_t>(num(nodes, "seed"));
    }
    container_target(t, n);
    if (YAML::Node p = n["process"]) {
      ProcessSelector s;
      s.name = str(p, "name");
      s.cmdline = str(p, "cmdline");
      s.pidfile = str(p, "pidfile");
      s.cgroup = str(p, "cgroup");
      s.pid = static_cast<int>(num(p, "pid"));
      s.pid_namespace = str(p, "pid_namespace");
      s.skip_if_empty = str(p, "on_empty", "fail") == "skip";
      if (!s.cmdline.empty()) {
        try {
          std::regex check(s.cmdline, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          r_.error(p["cmdline"], "targets." + t.name + ".process.cmdline",
                   std::string("invalid regular expression: ") + e.what());
        }
      }
      t.process = s;
    }
    if (YAML::Node net = n["network"]) {
      NetworkScope s;
      s.netns = str(net, "namespace");
      s.interface = str(net, "interface");
      s.destinations = strings(net, "destinations");
      s.ports = ints(net, "ports");
      s.protocol = str(net, "protocol", "all");
      s.direction = str(net, "direction", "egress");
      for (size_t i = 0; i < s.destinations.size(); ++i)
        if (!valid_cidr(s.destinations[i]))
          r_.error(net["destinations"][i],
                   "targets." + t.name + ".network.destinations[" + std::to_string(i) + "]",
                   "\"" + s.destinations[i] + "\" is not a CIDR (expected e.g. 10.0.0.0/24)");
      t.network = s;
    }
    t.paths = strings(n, "paths");
    if (YAML::Node p = n["proxy"]) {
      ProxyTarget proxy;
      proxy.name = str(p, "name");
      proxy.api = str(p, "api", proxy.api);
      const std::string at = "targets." + t.name + ".proxy";
      if (std::string why = proxy_name_problem(proxy.name); !why.empty())
        r_.error(p["name"], at + ".name", why);
      if (std::string why = proxy_api_problem(proxy.api); !why.empty())
        r_.error(p["api"] ? p["api"] : p, at + ".api", why);
      if (t.container || t.process || t.network || !t.paths.empty())
        r_.error(p, at,
                 "a proxy target is the proxy alone; put processes, networks, paths and "
                 "containers in targets of their own");
      t.proxy = proxy;
    }
    return t;
  }

  // container: or pod:, and what process and network may say inside one.
  void container_target(TargetSpec& t, const YAML::Node& n) {
    const std::string at = "targets." + t.name;
    YAML::Node c = n["container"];
    YAML::Node pod = n["pod"];
    if (c && pod) {
      r_.error(pod, at + ".pod", "a target is a container or a pod, not both");
      return;
    }
    if (c) {
      ContainerSelector s;
      s.runtime = str(c, "runtime", "auto");
      s.name = str(c, "name");
      s.id = str(c, "id");
      s.image = str(c, "image");
      s.labels = smap(c, "labels");
      s.select = selection(c);
      s.skip_if_empty = str(c, "on_empty", "fail") == "skip";
      if (s.name.empty() && s.id.empty() && s.image.empty() && s.labels.empty())
        r_.error(c, at + ".container",
                 "name at least one of name, id, labels or image (a selector that matches every "
                 "container is too wide a blast radius)");
      if (!s.id.empty() &&
          (s.id.size() < 12 || s.id.find_first_not_of("0123456789abcdef") != std::string::npos))
        r_.error(c["id"], at + ".container.id",
                 "\"" + s.id + "\" is not a container id (12 or more lowercase hex digits)");
      t.container = s;
    }
    if (pod) {
      ContainerSelector s;
      s.pod = true;
      s.runtime = "cri";
      s.pod_namespace = str(pod, "namespace");
      s.pod_name = str(pod, "name");
      s.pod_labels = smap(pod, "labels");
      s.name = str(pod, "container");
      s.select = selection(pod);
      s.skip_if_empty = str(pod, "on_empty", "fail") == "skip";
      if (s.pod_name.empty() && s.pod_labels.empty())
        r_.error(pod, at + ".pod",
                 "name the pod (name) or select it (labels); a namespace alone is too wide");
      t.container = s;
    }
    if (!t.container) return;
    const std::string what = pod ? "pod" : "container";
    if (YAML::Node nodes = n["nodes"])
      for (const char* key : {"mode", "count", "percent"})
        if (nodes[key])
          r_.error(nodes[key], at + ".nodes." + key,
                   "a " + what + " target chooses among the matching " + what +
                       "s of every selected node: put " + key + " under " + what);
    if (YAML::Node p = n["process"]) {
      for (const char* key : {"pid", "pidfile", "cgroup", "pid_namespace"})
        if (p[key])
          r_.error(p[key], at + ".process." + key,
                   std::string("inside a container, processes are chosen by name or cmdline; ") +
                       key + " is not available");
    }
    if (YAML::Node net = n["network"]; net && net["namespace"])
      r_.error(net["namespace"], at + ".network.namespace",
               "a container's network namespace is its own; namespace cannot be set too");
  }

  static bool valid_cidr(const std::string& c) {
    static const std::regex v4(R"(^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(/(\d{1,2}))?$)");
    std::smatch m;
    if (!std::regex_match(c, m, v4))
      return c.find(':') != std::string::npos;  // IPv6: kernel checks
    for (int i = 1; i <= 4; ++i)
      if (std::stoi(m[i]) > 255) return false;
    return !m[6].matched || std::stoi(m[6]) <= 32;
  }

  static std::optional<double> real(const YAML::Node& n, const char* key) {
    std::string s = str(n, key);
    if (s.empty()) return std::nullopt;
    return std::strtod(s.c_str(), nullptr);
  }

  // `target` and `port` instead of a fixed host: every pod of a container or pod target.
  std::optional<PodEndpoint> pod_endpoint(const YAML::Node& n, const std::string& field) {
    if (!n["target"]) {
      if (n["port"]) r_.error(n["port"], field + ".port", "port goes with target (a pod target)");
      if (n["path"]) r_.error(n["path"], field + ".path", "path goes with target; put it in url");
      return std::nullopt;
    }
    PodEndpoint e;
    e.target = str(n, "target");
    e.port = static_cast<int>(num(n, "port", 0));
    e.path = str(n, "path", "/");
    if (!n["port"])
      r_.error(n["target"], field + ".port",
               "a probe of target \"" + e.target + "\"'s pods needs the port to reach them on");
    container_refs_.push_back({n["target"], field + ".target"});
    return e;
  }

  HttpProbeSpec http_probe(const YAML::Node& http, const std::string& field) {
    HttpProbeSpec h;
    h.url = str(http, "url");
    h.pods = pod_endpoint(http, field);
    h.method = str(http, "method", "GET");
    h.headers = smap(http, "headers");
    h.body = str(http, "body");
    h.timeout = dur(http, "timeout", 2s);
    if (YAML::Node s = http["expect_status"]) {
      h.expect_status.clear();
      if (s.IsSequence())
        for (const auto& v : s) h.expect_status.push_back(std::atoi(v.Scalar().c_str()));
      else
        h.expect_status.push_back(std::atoi(s.Scalar().c_str()));
    }
    if (std::string range = str(http, "expect_status_range"); !range.empty()) {
      int lo = std::atoi(range.c_str()), hi = std::atoi(range.c_str() + range.find('-') + 1);
      if (lo > hi)
        r_.error(http["expect_status_range"], field + ".expect_status_range",
                 "\"" + range + "\" is empty: the first code must not be above the second");
      h.expect_status_range = {lo, hi};
    }
    h.body_regex = str(http, "body_regex");
    check_regex(http, "body_regex", field + ".body_regex", h.body_regex);
    if (YAML::Node j = http["json"]) {
      h.json_path = str(j, "path");
      if (j["equals"]) h.json_check.equals = str(j, "equals");
      h.json_check.min = real(j, "min");
      h.json_check.max = real(j, "max");
    }
    if (http["max_latency"]) h.max_latency = dur(http, "max_latency");
    h.ca_file = str(http, "ca_file");
    if (!h.pods && !h.url.starts_with("http://") && !h.url.starts_with("https://"))
      r_.error(http["url"], field + ".url",
               "\"" + h.url + "\" must start with http:// or https://");
    return h;
  }

  void check_regex(const YAML::Node& n, const char* key, const std::string& field,
                   const std::string& re) {
    if (re.empty()) return;
    try {
      std::regex compiled(re);
    } catch (const std::regex_error& e) {
      r_.error(n[key], field, "\"" + re + "\" is not a valid regex: " + e.what());
    }
  }

  SliCondition sli(const YAML::Node& s) {
    SliCondition c;
    c.service = str(s, "service");
    c.span = str(s, "span");
    if (s["error_rate_above"]) c.error_rate_above = pct(s, "error_rate_above");
    if (s["p50_above"]) c.p50_above = dur(s, "p50_above");
    if (s["p95_above"]) c.p95_above = dur(s, "p95_above");
    if (s["p99_above"]) c.p99_above = dur(s, "p99_above");
    c.window = dur(s, "window", 30s);
    c.min_spans = static_cast<int>(num(s, "min_spans", 20));
    c.confidence = pct(s, "confidence", 0.95);
    if (YAML::Node src = s["source"]) {
      c.source.kind = src["zipkin"] ? SpanSource::Kind::kZipkin : SpanSource::Kind::kJaeger;
      c.source.url = str(src, src["zipkin"] ? "zipkin" : "jaeger");
      c.source.poll_interval = dur(src, "poll_interval", 1s);
    }
    return c;
  }

  ProbeKind probe_kind(const YAML::Node& n) {
    if (YAML::Node cr = n["container_restarted"]) {
      container_refs_.push_back({cr["target"], probe_field_ + ".container_restarted.target"});
      return ContainerRestartedSpec{str(cr, "target")};
    }
    if (YAML::Node pr = n["process_restarted"]) {
      process_refs_.push_back({pr["target"], probe_field_ + ".process_restarted.target"});
      return ProcessRestartedSpec{str(pr, "target")};
    }
    if (YAML::Node t = n["tcp"])
      return TcpProbeSpec{str(t, "address"), pod_endpoint(t, probe_field_ + ".tcp")};
    if (YAML::Node g = n["grpc_health"])
      return GrpcHealthProbeSpec{str(g, "address"), str(g, "service"), str(g, "ca_file")};
    if (YAML::Node c = n["command"]) {
      CommandProbeSpec cmd{strings(c, "run"), static_cast<int>(num(c, "expect_exit", 0)),
                           str(c, "output_regex")};
      check_regex(c, "output_regex", probe_field_ + ".command.output_regex", cmd.output_regex);
      return cmd;
    }
    if (YAML::Node p = n["process"]) {
      process_refs_.push_back({p["target"], probe_field_ + ".process.target"});
      return ProcessAliveSpec{str(p, "target")};
    }
    if (YAML::Node p = n["prometheus"]) {
      PrometheusProbeSpec prom{str(p, "url"), str(p, "query"), {}};
      prom.check.min = real(p, "min");
      prom.check.max = real(p, "max");
      return prom;
    }
    if (YAML::Node t = n["traces"]) return sli(t);
    return http_probe(n["http"], probe_field_ + ".http");
  }

  ProbeTiming timing(const YAML::Node& n) {
    ProbeTiming t;
    t.timeout = dur(n, "timeout", 2s);
    // An http probe's own timeout is the one its users wrote before probes had timing keys.
    if (YAML::Node h = n["http"]; h && h["timeout"] && !n["timeout"]) t.timeout = dur(h, "timeout");
    t.retries = static_cast<int>(num(n, "retries", 0));
    t.initial_delay = dur(n, "initial_delay");
    if (n["interval"]) t.interval = dur(n, "interval");
    return t;
  }

  std::vector<ProbeSpec> probes(const YAML::Node& list, const std::string& field) {
    std::vector<ProbeSpec> out;
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      ProbeSpec p;
      p.name = str(list[i], "name");
      p.where = r_.where(list[i]);
      if (!seen.insert(p.name).second)
        r_.error(list[i]["name"], field + "[" + std::to_string(i) + "].name",
                 "\"" + p.name + "\" is used by another probe in " + field);
      probe_field_ = field + "[" + std::to_string(i) + "]";
      p.kind = probe_kind(list[i]);
      p.timing = timing(list[i]);
      out.push_back(std::move(p));
    }
    return out;
  }

  Step step(const YAML::Node& n, const std::string& field) {
    Step s;
    s.where = r_.where(n);
    s.name = str(n, "name");
    if (n["pause"]) {
      s.kind = Step::Kind::kPause;
      s.pause = dur(n, "pause");
      return s;
    }
    for (const char* block : {"parallel", "sequential"}) {
      if (!n[block]) continue;
      s.kind = std::string(block) == "parallel" ? Step::Kind::kParallel : Step::Kind::kSequential;
      for (size_t i = 0; i < n[block].size(); ++i)
        s.children.push_back(
            step(n[block][i], field + "." + block + "[" + std::to_string(i) + "]"));
      return s;
    }
    s.kind = Step::Kind::kFault;
    s.fault_index = e_.faults.size();
    e_.faults.push_back(fault(n, field));
    return s;
  }

  static std::optional<NodeFailurePolicy> node_failure(const YAML::Node& n) {
    // The schema has already checked the value.
    YAML::Node v = n["on_node_failure"];
    if (!v || !v.IsScalar()) return std::nullopt;
    return v.Scalar() == "continue" ? NodeFailurePolicy::kContinue : NodeFailurePolicy::kAbort;
  }

  FaultSpec fault(const YAML::Node& n, const std::string& field) {
    FaultSpec f;
    f.where = r_.where(n);
    f.name = str(n, "name");
    f.kind = str(n, "kind");
    f.target = str(n, "target");
    f.duration = dur(n, "duration");
    f.start = dur(n, "start");
    f.after = str(n, "after");
    if (YAML::Node rep = n["repeat"]) {
      f.repeat_count = static_cast<int>(num(rep, "count", 1));
      f.repeat_interval = dur(rep, "interval");
    }
    f.on_node_failure = node_failure(n);
    if (!fault_names_.insert(f.name).second) {
      r_.error(n["name"], field + ".name",
               "\"" + f.name + "\" is already the name of " + fault_fields_[f.name] + " (line " +
                   std::to_string(r_.where(fault_nodes_[f.name]).line) + ")");
    } else {
      fault_fields_[f.name] = field;
      fault_nodes_[f.name] = n;
    }
    // The schema passed, so the kind is in the table and its params were typed.
    const FaultKind* kind = find_fault_kind(f.kind);
    auto typed = typed_.find(field + ".params");
    FaultProblems problems(r_, n, field);
    f.params = kind->read(typed != typed_.end() ? typed->second : ParamValues(kind->params.get()),
                          problems);
    return f;
  }

  Guardrail guardrail(const YAML::Node& n, size_t i) {
    Guardrail g;
    g.name = str(n, "name");
    g.where = r_.where(n);
    g.hold_for = dur(n, "for");
    g.interval = dur(n, "interval", 100ms);
    if (YAML::Node p = n["probe"]) {
      probe_field_ = "abort_when[" + std::to_string(i) + "].probe";
      g.probe = probe_kind(p);
      g.timing = timing(p);
    } else if (YAML::Node sl = n["sli"]) {
      g.probe = sli(sl);
    }
    if (!guard_names_.insert(g.name).second)
      r_.error(n["name"], "abort_when[" + std::to_string(i) + "].name",
               "\"" + g.name + "\" is used by another guardrail");
    return g;
  }

  RollbackAction rollback(const YAML::Node& n, size_t i) {
    RollbackAction a;
    a.name = str(n, "name");
    a.where = r_.where(n);
    a.on = strings(n, "on");
    if (YAML::Node c = n["command"])
      a.action = CommandAction{strings(c, "run"), dur(c, "timeout", 30s)};
    else {
      std::string field = "rollbacks[" + std::to_string(i) + "].http";
      HttpProbeSpec h = http_probe(n["http"], field);
      if (h.pods)
        r_.error(n["http"]["target"], field + ".target",
                 "a rollback requests one URL (url), not every pod of a target");
      a.action = std::move(h);
    }
    return a;
  }

  void check_references() {
    std::vector<std::string> targets;
    for (const auto& t : e_.targets) targets.push_back(t.name);
    // The target a probe or check names, or null after reporting it undefined.
    auto referenced = [&](const YAML::Node& at, const std::string& field) -> const TargetSpec* {
      std::string name = at.Scalar();
      const TargetSpec* t = e_.find_target(name);
      if (!t) {
        std::string near = closest_match(name, targets);
        r_.error(at, field,
                 "target \"" + name + "\" is not defined" +
                     (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
      }
      return t;
    };
    for (const auto& [at, field] : process_refs_) {
      const TargetSpec* t = referenced(at, field);
      if (t && !t->process)
        r_.error(at, field,
                 "target \"" + t->name + "\" has no process selector to look for (add targets." +
                     t->name + ".process)");
    }
    for (const auto& [at, field] : container_refs_) {
      const TargetSpec* t = referenced(at, field);
      if (t && !t->container)
        r_.error(at, field,
                 "target \"" + t->name + "\" is not a container or pod (add targets." + t->name +
                     ".pod or .container)");
    }
    for (const auto& f : e_.faults) {
      const std::string& field = fault_fields_[f.name];
      const YAML::Node& n = fault_nodes_[f.name];
      const TargetSpec* t = e_.find_target(f.target);
      if (!t) {
        std::string near = closest_match(f.target, targets);
        r_.error(n["target"], field + ".target",
                 "target \"" + f.target + "\" is not defined (" +
                     (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                     "defined: " + (targets.empty() ? "none" : join(targets)) + ")");
      } else {
        const FaultKind* kind = find_fault_kind(f.kind);
        // A container or pod stands for its processes and its network namespace.
        bool in_container = t->container.has_value();
        if (in_container && !kind->containers.works)
          r_.error(n["target"], field + ".target",
                   f.kind + " cannot run on a container or pod target (\"" + t->name +
                       "\"): " + kind->containers.why_not);
        bool missing = (kind->needs == TargetNeeds::kProcess && !t->process && !in_container) ||
                       (kind->needs == TargetNeeds::kNetwork && !t->network && !in_container) ||
                       (kind->needs == TargetNeeds::kInterface &&
                        (!t->network || t->network->interface.empty())) ||
                       (kind->needs == TargetNeeds::kPaths && t->paths.empty()) ||
                       (kind->needs == TargetNeeds::kContainer && !in_container) ||
                       (kind->needs == TargetNeeds::kProxy && !t->proxy);
        static const std::map<TargetNeeds, std::pair<std::string, std::string>> kWhat = {
            {TargetNeeds::kProcess, {"a process selector", "process"}},
            {TargetNeeds::kNetwork, {"a network scope", "network"}},
            {TargetNeeds::kInterface, {"a network interface", "network.interface"}},
            {TargetNeeds::kPaths, {"paths", "paths"}},
            {TargetNeeds::kContainer, {"a container or pod", "pod"}},
            {TargetNeeds::kProxy, {"a proxy", "proxy"}}};
        if (missing) {
          const auto& [what, key] = kWhat.at(kind->needs);
          r_.error(n["target"], field + ".target",
                   f.kind + " needs a target with " + what + ", but target \"" + t->name +
                       "\" has none (add targets." + t->name + "." + key + ")");
        }
      }
      if (const FaultKind* kind = find_fault_kind(f.kind); kind->check) {
        FaultProblems problems(r_, n, field);
        kind->check(f, t, problems);
      }
      if (!f.after.empty() && !e_.find_fault(f.after)) {
        std::vector<std::string> names(fault_names_.begin(), fault_names_.end());
        std::string near = closest_match(f.after, names);
        r_.error(n["after"], field + ".after",
                 "fault \"" + f.after + "\" is not defined" +
                     (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
      }
    }
    if (r_.error_count() > 0) return;
    auto timeline = compute_timeline(e_);
    if (!timeline) {
      r_.error(e_.method.where, "faults", timeline.error().message);
      return;
    }
    if (timeline->total > e_.max_duration) {
      // Point at the fault whose window crosses the limit.
      for (const auto& w : timeline->windows) {
        if (w.end <= e_.max_duration) continue;
        const FaultSpec& f = e_.faults[w.fault_index];
        r_.error(f.where, fault_fields_[f.name],
                 "ends at " + format_duration(w.end) + " into the run, after max_duration " +
                     format_duration(e_.max_duration));
        return;
      }
      r_.error(e_.method.where, "faults",
               "the method takes " + format_duration(timeline->total) +
                   ", longer than max_duration " + format_duration(e_.max_duration));
    }
  }

  YamlReader& r_;
  Experiment& e_;
  const TypedParams& typed_;
  std::string probe_field_;  // where the probe being read sits, for errors
  std::vector<std::pair<YAML::Node, std::string>> process_refs_;
  std::vector<std::pair<YAML::Node, std::string>> container_refs_;
  std::set<std::string> fault_names_, guard_names_;
  std::map<std::string, std::string> fault_fields_;
  std::map<std::string, YAML::Node> fault_nodes_;
};

}  // namespace

LoadResult parse_experiment(std::string_view yaml_text, const std::string& source_name,
                            const LoadOptions& options) {
  LoadResult result;
  if (auto crossed = check_yaml_size(yaml_text, source_name, options.limits)) {
    result.diagnostics.push_back(std::move(*crossed));
    return result;
  }
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
  YamlReader reader(source_name, result.diagnostics);
  if (!check_experiment_counts(root, options.limits, reader)) return result;
  Experiment exp;
  exp.source_file = source_name;
  VarEnvironment env{options.read_process_environment, &options.environment};
  exp.vars = resolve_vars(root.IsMap() ? root["vars"] : YAML::Node(), options.vars, env, reader);
  auto unresolved = substitute_vars(root, exp.vars, env, "", reader);
  size_t before_schema = result.diagnostics.size();
  TypedParams typed;
  validate_against_schema(root, experiment_schema(), "", reader, &typed);
  // A value whose ${...} could not be resolved has one problem, already reported.
  std::erase_if(result.diagnostics, [&, i = size_t{0}](const Diagnostic& d) mutable {
    return i++ >= before_schema && unresolved.count({d.where.line, d.where.column});
  });
  // In file order, so the list reads top to bottom like the file.
  auto in_file_order = [&] {
    std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return std::pair(a.where.line, a.where.column) <
                              std::pair(b.where.line, b.where.column);
                     });
  };
  if (!result.diagnostics.empty()) {
    in_file_order();
    return result;
  }
  Extractor(reader, exp, typed).run(root);
  in_file_order();
  if (result.diagnostics.empty()) result.experiment = std::move(exp);
  return result;
}

LoadResult load_experiment_file(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path);
  if (!in) {
    LoadResult r;
    r.diagnostics.push_back(
        {{path, 0, 0}, "", std::string("cannot read file: ") + std::strerror(errno)});
    return r;
  }
  // One byte past the limit is enough to refuse it: a huge file costs no memory.
  std::string text(options.limits.max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > options.limits.max_bytes) {
    LoadResult r;
    r.diagnostics.push_back({{path, 0, 0},
                             "",
                             "the file is larger than " + std::to_string(options.limits.max_bytes) +
                                 " bytes, the limit for experiments"});
    return r;
  }
  return parse_experiment(text, path, options);
}

}  // namespace faultline::experiments
