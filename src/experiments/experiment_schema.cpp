// The experiment format, described once. Read this file as the reference: every key, its
// type, default and limits. docs/experiment-reference.md is generated from it.
#include "experiments/kinds/kind_parts.h"
#include "experiments/schema.h"
#include "experiments/schema_builders.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

// --- shared pieces ---------------------------------------------------------------------------

SchemaPtr number(std::string doc) {
  return make(Type::kNumber, std::move(doc));
}

SchemaPtr pod_target_doc() {
  return name(
      "Instead of a fixed host: a container or pod target; the probe runs against "
      "each of its running pods (or containers), at the pod's own address, and passes "
      "when every one passes.");
}
SchemaPtr pod_port_doc() {
  return integer("With target: the port to reach on each pod.", 1, 65535);
}

SchemaPtr http_probe() {
  return object(
      {
          opt("url",
              [] {
                auto s = str("http:// or https:// URL to request.", "http://127.0.0.1:8080/health");
                s->pattern = "https?://.+";
                s->pattern_doc = "must start with http:// or https://";
                return s;
              }()),
          opt("target", pod_target_doc()),
          opt("port", pod_port_doc()),
          opt("path",
              [] {
                auto s = str("With target: the path requested from each pod.", "/health");
                s->default_text = "/";
                s->pattern = "/.*";
                s->pattern_doc = "must start with /";
                return s;
              }()),
          opt("method",
              enumeration({"GET", "HEAD", "POST", "PUT", "DELETE"}, "HTTP method.", "GET")),
          opt("headers", string_map("Request headers.")),
          opt("body", str("Request body (sent with POST and PUT).")),
          opt("expect_status",
              integer("Expected status code; a list of codes is accepted too.", 100, 599, "200")),
          opt("expect_status_range",
              [] {
                auto s = str("Expected status codes as an inclusive range; replaces expect_status.",
                             "200-299");
                s->pattern = "[1-5][0-9][0-9]-[1-5][0-9][0-9]";
                s->pattern_doc = "must look like 200-299";
                return s;
              }()),
          opt("body_regex", str("The body must contain a match of this ECMAScript regex.")),
          opt("json", object({req("path", str("Dot path into the JSON body; numbers index arrays.",
                                              "status.db")),
                              opt("equals", str("The field, as text, must equal this.")),
                              opt("min", number("The field must be a number >= this.")),
                              opt("max", number("The field must be a number <= this."))},
                             "Compare a field of a JSON response body.")),
          opt("max_latency", duration("Fail when the response took longer than this.", "", true)),
          opt("ca_file", str("PEM file of the CA that signs the server's certificate (https).")),
          opt("timeout", duration("Give up after this long.", "2s", true, 3600)),
      },
      "Request a URL (or, with target and port, every pod of a target) and check the status, "
      "body and latency.",
      {{"url", "target"}});
}

SchemaPtr address(std::string doc) {
  auto s = str(std::move(doc), "127.0.0.1:8080");
  s->pattern = ".+:[0-9]+";
  s->pattern_doc = "must be host:port";
  return s;
}

SchemaPtr http_url(std::string doc, std::string example) {
  auto s = str(std::move(doc), std::move(example));
  s->pattern = "https?://.+";
  s->pattern_doc = "must start with http:// or https://";
  return s;
}

SchemaPtr sli_condition(std::string doc) {
  auto source = object(
      {opt("zipkin",
           http_url("Base URL of a Zipkin server; its v2 API is polled.", "http://127.0.0.1:9411")),
       opt("jaeger", http_url("Base URL of a Jaeger query service; /api/traces is polled.",
                              "http://127.0.0.1:16686")),
       opt("poll_interval", duration("How often the API is asked for new spans.", "1s", true, 60))},
      "Read the spans from a Jaeger or Zipkin API instead of the OTLP receiver.",
      {{"zipkin", "jaeger"}});
  return object(
      {opt("source", source), req("service", str("service.name of the spans.")),
       opt("span", str("Only spans with this name.")),
       opt("error_rate_above", percent("Trip when the error ratio is above this.")),
       opt("p50_above", duration("Trip when p50 latency is above this.")),
       opt("p95_above", duration("Trip when p95 latency is above this.")),
       opt("p99_above", duration("Trip when p99 latency is above this.")),
       opt("window", duration("Sliding window the SLI is computed over.", "30s", true, 600)),
       opt("min_spans", integer("No verdict with fewer spans in the window.", 1, 1e9, "20")),
       opt("confidence",
           percent("One-sided confidence the bound is compared at: the SLI trips only when even "
                   "its optimistic bound is past the threshold.",
                   "95%", true))},
      std::move(doc), {{"error_rate_above", "p50_above", "p95_above", "p99_above"}});
}

// Probe kinds share one place so steady state, recovery and guardrails accept the same ones.
std::vector<Property> probe_kind_props() {
  return {
      opt("http", http_probe()),
      opt("tcp", object({opt("address", address("host:port to connect to.")),
                         opt("target", pod_target_doc()), opt("port", pod_port_doc())},
                        "Passes when a TCP connection opens within the timeout (to every pod of "
                        "a target, with target and port).",
                        {{"address", "target"}})),
      opt("grpc_health",
          object({req("address", address("host:port of the gRPC server.")),
                  opt("service", str("Service name to ask about; empty asks about the server.")),
                  opt("ca_file", str("PEM CA file: use TLS and trust this CA."))},
                 "grpc.health.v1.Health/Check must answer SERVING.")),
      opt("command", object({req("run", list(str("argument"), "Program and arguments (no shell).")),
                             opt("expect_exit", integer("Expected exit code.", 0, 255, "0")),
                             opt("output_regex", str("Standard output must contain a match of this "
                                                     "ECMAScript regex."))},
                            "Run a program and check its exit code and output.")),
      opt("process",
          object({req("target", name("A target with a process selector."))},
                 "A process matching the target's selector is alive on each of its nodes.")),
      opt("prometheus",
          object(
              {req("url", http_url("Base URL of the Prometheus server.", "http://127.0.0.1:9090")),
               req("query", str("PromQL instant query; its first sample is compared.",
                                "sum(rate(http_errors_total[1m]))")),
               opt("min", number("The value must be >= this.")),
               opt("max", number("The value must be <= this."))},
              "A PromQL instant query over the HTTP API, compared to thresholds.")),
      opt("traces", sli_condition("Passes while a trace SLI (spans from the OTLP receiver, or "
                                  "a Jaeger/Zipkin API) is within its thresholds (and while "
                                  "there are too few spans to say).")),
  };
}
std::vector<std::vector<std::string>> probe_kind_keys() {
  return {{"http", "tcp", "grpc_health", "command", "process", "prometheus", "traces"}};
}

// How the scheduler runs a probe: the same keys for every kind.
std::vector<Property> probe_timing_props() {
  return {
      opt("timeout", duration("The probe fails when one attempt takes longer (http: its own "
                              "timeout wins when given).",
                              "2s", true, 3600)),
      opt("retries", integer("Failed attempts retried at once before the probe counts as "
                             "failing.",
                             0, 100, "0")),
      opt("initial_delay",
          duration("Wait this long after the phase starts before the first attempt.", "0s")),
      opt("interval", duration("How often the probe is polled where it is polled (guardrails, "
                               "recovery); default: the guardrail's or recovery's interval.",
                               "", true)),
  };
}

SchemaPtr probe() {
  auto props = probe_kind_props();
  props.insert(props.begin(), req("name", name("Unique name of the probe in its list.")));
  for (auto& p : probe_timing_props()) props.push_back(p);
  auto s = object(props, "A check of the system, run once per evaluation.", probe_kind_keys());
  s->def_name = "probe";
  return s;
}

// Recovery checks are probes plus checks that only make sense after a fault.
SchemaPtr recovery_check() {
  auto props = probe_kind_props();
  props.insert(props.begin(), req("name", name("Unique name of the check.")));
  for (auto& p : probe_timing_props()) props.push_back(p);
  props.push_back(
      opt("process_restarted",
          object({req("target", name("A target with a process selector; its processes that the "
                                     "faults hit must be replaced by new ones."))},
                 "Passes once a process matching the target's selector runs again on each of its "
                 "nodes with a different PID or start time than the ones the faults hit.")));
  props.push_back(opt(
      "container_restarted",
      object({req("target", name("A container or pod target; the containers or pods the faults "
                                 "hit must run again."))},
             "Passes once every container the faults hit runs again on its node: a new container "
             "of the same name in the same pod, a higher restart count, or a new sandbox of the "
             "same pod (what the kubelet, or Docker's restart policy, does after a crash).")));
  auto keys = probe_kind_keys();
  keys.front().push_back("process_restarted");
  keys.front().push_back("container_restarted");
  auto s =
      object(props, "A self-healing check, polled until it passes or the deadline ends.", keys);
  s->def_name = "recovery_check";
  return s;
}

// --- faults --------------------------------------------------------------------------------

// The params of a fault depend on its kind: each kind's entry in the fault-kind table
// (kinds/) brings its own schema.
SchemaPtr fault_step(const SchemaPtr& step) {
  std::vector<std::string> kind_names = fault_kind_names();
  auto fault = object(
      {
          req("name", name("Unique name of the fault.")),
          req("kind", enumeration(kind_names, "What to break; see the fault kinds below.")),
          req("target", name("Name of an entry under targets.")),
          opt("duration", duration("How long the fault stays applied (0s for instantaneous "
                                   "faults such as a kill).",
                                   "0s")),
          opt("start", duration("Wait this long after the step would otherwise start.", "0s")),
          opt("after", name("Start when this fault has ended, instead of in step order.")),
          opt("repeat",
              object({opt("count", integer("How many times in all.", 1, 10000, "1")),
                      opt("interval", duration("Gap between one end and the next start.", "0s"))},
                     "Apply the fault several times.")),
          opt("on_node_failure",
              enumeration({"abort", "continue"},
                          "If some of its nodes cannot apply it: abort the run, or continue "
                          "with the nodes that did. Default: the experiment's on_node_failure.")),
          opt("params", object({}, "Parameters of the fault kind (see below).")),
      },
      "A fault: what to break, where, and for how long.");
  Discriminated d{"kind", "params", {}};
  for (const FaultKind* k : fault_kinds()) d.variants[k->name] = k->params;
  fault->discriminated = std::move(d);

  auto steps = list(step, "Steps, in the block's order.");
  auto named = [](std::vector<Property> props) {
    props.push_back(opt("name", name("Optional name, shown in the plan.")));
    return props;
  };
  step->type = Type::kUnion;
  step->doc = "A fault, a pause, or a block of steps.";
  step->def_name = "step";
  step->variants = {
      {"kind", fault},
      {"pause", object(named({req("pause", duration("Wait this long.", "", true))}),
                       "Wait before the next step.")},
      {"parallel", object(named({req("parallel", steps)}),
                          "Start every step at once; the block ends when all have.")},
      {"sequential", object(named({req("sequential", steps)}), "Run steps one after another.")},
  };
  return step;
}

// A container or pod selector's keys plus mode/count/percent: which of the matches on every
// selected node are hit.
std::vector<Property> with_selection(const std::string& what, std::vector<Property> own) {
  auto props = kind_parts::selection_props(what + " across the selected nodes");
  own.insert(own.end(), props.begin(), props.end());
  return own;
}

SchemaPtr on_empty_containers() {
  return enumeration({"fail", "skip"},
                     "When nothing matches on any node: fail the run, or plan the target's "
                     "faults on nothing and say so.",
                     "fail");
}

SchemaPtr build_experiment() {
  auto step = std::make_shared<Schema>();
  fault_step(step);

  auto target = object(
      {
          opt("nodes",
              [] {
                auto props = kind_parts::selection_props("matching nodes");
                props.insert(props.begin(),
                             opt("selector", string_map("Labels an injector must have "
                                                        "(all of them). Empty: every node.")));
                props.push_back(opt("seed", integer("Seed for the random choice, so a run "
                                                    "can be reproduced.",
                                                    0, 4294967295.0)));
                return object(props, "Which injectors (nodes) the target hits.");
              }()),
          opt("container",
              object(
                  with_selection(
                      "matching containers",
                      {opt("runtime", enumeration({"auto", "cri", "docker"},
                                                  "Which runtime to ask on each node: the "
                                                  "CRI socket (containerd, CRI-O), the "
                                                  "Docker Engine API, or every one "
                                                  "configured.",
                                                  "auto")),
                       opt("name", str("Container name (Docker's, or the CRI metadata "
                                       "name).",
                                       "redis")),
                       opt("id", str("Container id, or a prefix of 12 or more hex digits.")),
                       opt("labels", string_map("Labels the container must have (all of them).")),
                       opt("image", str("Image reference; without a tag, any tag.", "redis")),
                       opt("on_empty", on_empty_containers())}),
                  "A container, found on each node through its container runtime; with "
                  "process and network: the processes and traffic inside it.")),
          opt("pod",
              object(with_selection(
                         "matching pods",
                         {opt("namespace", str("Kubernetes namespace.", "shop")),
                          opt("name", str("Pod name.")),
                          opt("labels", string_map("Labels the pod must have (all of them).")),
                          opt("container", str("Only this container of the pod, by name.", "web")),
                          opt("on_empty", on_empty_containers())}),
                     "A Kubernetes pod, found on each node through the CRI; with process and "
                     "network: the processes and traffic inside it.")),
          opt("process",
              object({opt("name", str("/proc/PID/comm or the basename of argv[0].", "nginx")),
                      opt("cmdline", str("ECMAScript regex over the command line.")),
                      opt("pidfile", str("File holding the PID, read when the fault starts.")),
                      opt("cgroup", str("cgroup path; every process in it.")),
                      opt("pid",
                          [] {
                            auto s = integer("An explicit PID (never 1).", 2, 4194304);
                            s->min_reason = "PID 1 is never touched";
                            return s;
                          }()),
                      opt("pid_namespace",
                          str("Resolve PIDs inside this PID namespace (e.g. /proc/42/ns/pid).")),
                      opt("on_empty", enumeration({"fail", "skip"},
                                                  "When no process matches: fail the fault, or "
                                                  "apply it to nothing and say so.",
                                                  "fail"))},
                     "Which processes on the node.",
                     {{"name", "cmdline", "pidfile", "cgroup", "pid"}})),
          opt("network",
              object({opt("namespace", str("Network namespace: a name under /var/run/netns "
                                           "or a path.")),
                      opt("interface", str("Network interface.", "eth0")),
                      opt("destinations",
                          list(str("CIDR", "10.0.0.0/24"), "Only traffic to these CIDRs.")),
                      opt("ports", list(integer("Port.", 1, 65535), "Only these ports.")),
                      opt("protocol",
                          enumeration({"all", "tcp", "udp", "icmp"}, "Only this protocol.", "all")),
                      opt("direction", enumeration({"egress", "ingress", "both"},
                                                   "Which direction is hit.", "egress"))},
                     "Which traffic on the node.")),
          opt("paths", list(str("Path.", "/var/lib/app"),
                            "Paths for disk and I/O faults (on a pod or container target: "
                            "inside its filesystem).")),
          opt("proxy", object({req("name", str("The proxy's name in its API.", "redis")),
                               opt("api",
                                   [] {
                                     auto s = str(
                                         "host:port of the proxy's API: a loopback address (the "
                                         "injector drives only the proxies of its own node).",
                                         "127.0.0.1:8474");
                                     s->default_text = "127.0.0.1:8474";
                                     return s;
                                   }())},
                              "A TCP fault proxy on the node (`faultline proxy`, or Toxiproxy): "
                              "proxy_toxic faults are toxics it applies, and need no privileges.")),
      },
      "A named selection: which nodes, and what on them.");

  auto sli = sli_condition("A service level indicator computed from trace spans.");
  auto guard_props = probe_kind_props();
  for (auto& p : probe_timing_props())
    if (p.name != "interval") guard_props.push_back(p);
  auto guard_probe = object(guard_props, "A probe that must keep passing.", probe_kind_keys());
  auto guardrail = object(
      {req("name", name("Unique name of the guardrail.")), opt("probe", guard_probe),
       opt("sli", sli), opt("for", duration("Trip only after the condition held this long.", "0s")),
       opt("interval", duration("How often it is evaluated.", "100ms", true))},
      "A condition that aborts the run while faults are active.", {{"probe", "sli"}});

  auto action =
      object({req("name", name("Unique name of the action.")),
              opt("command",
                  object({req("run", list(str("argument"), "Program and arguments (no shell).")),
                          opt("timeout", duration("Kill it after this long.", "30s", true))},
                         "Run a program.")),
              opt("http", http_probe()),
              opt("on", list(enumeration({"passed", "failed", "aborted", "error"}, "An ending."),
                             "Endings to run on; default: every ending."))},
             "An action run when the run ends.", {{"command", "http"}});

  auto root = object(
      {
          req("apiVersion", enumeration({"faultline/v1"}, "Version of the format.")),
          req("kind", enumeration({"Experiment"}, "Always Experiment.")),
          req("metadata", object({req("name", name("Name of the experiment.")),
                                  opt("description", str("What the experiment shows.")),
                                  opt("owner", str("Who to ask about it.")),
                                  opt("labels", string_map("Free-form labels."))},
                                 "Who and what.")),
          opt("vars", string_map("Defaults for ${name} substitutions; override with --var "
                                 "name=value. ${env:NAME:-default} reads the environment of the "
                                 "CLI that loads the "
                                 "file (a controller never reads its own).")),
          opt("max_duration", duration("Safety limit: the planned fault timeline may not be "
                                       "longer.",
                                       "30m", true)),
          opt("on_node_failure",
              enumeration({"abort", "continue"},
                          "When a node fails to apply a fault, or its injector disconnects "
                          "mid-run: abort (revert every fault everywhere and end the run "
                          "ERROR) or continue with the other nodes (the run reports each failed "
                          "node).",
                          "abort")),
          opt("targets", map_of(target, "Named selections the faults refer to.")),
          opt("steady_state",
              list(probe(), "Probes that must pass before any fault and after recovery.")),
          req("faults", list(step, "The method: faults, pauses and blocks, run in order.")),
          opt("abort_when", list(guardrail, "Guardrails evaluated while faults are active.")),
          opt("recovery",
              object({opt("deadline", duration("All checks must pass within this after the "
                                               "faults end.",
                                               "30s", true)),
                      opt("interval", duration("How often checks are polled.", "100ms", true)),
                      req("checks", list(recovery_check(), "Self-healing checks."))},
                     "Self-healing validation after the faults end.")),
          opt("rollbacks", list(action, "Actions run on every ending.")),
          opt("report", object({opt("junit", str("Write JUnit XML here.")),
                                opt("json", str("Write the run's journal as JSON here.")),
                                opt("html", str("Write the HTML report here."))},
                               "Default report outputs.")),
      },
      "A chaos experiment.");
  return root;
}

}  // namespace

const Schema& experiment_schema() {
  // Steps contain steps, so the schema graph has a cycle and cannot be freed by its
  // shared_ptrs; it lives for the whole process, reachable from here.
  static const SchemaPtr* root = new SchemaPtr(build_experiment());
  return **root;
}

std::string type_name(const Schema& s) {
  switch (s.type) {
    case Type::kString:
      return "string";
    case Type::kName:
      return "name";
    case Type::kInteger:
      return "integer";
    case Type::kNumber:
      return "number";
    case Type::kBool:
      return "boolean";
    case Type::kDuration:
      return "duration";
    case Type::kPercent:
      return "percentage";
    case Type::kSize:
      return "size";
    case Type::kRate:
      return "rate";
    case Type::kSignal:
      return "signal";
    case Type::kEnum: {
      std::string out;
      for (const auto& v : s.values) out += (out.empty() ? "" : " | ") + v;
      return out;
    }
    case Type::kStringMap:
      return "map of strings";
    case Type::kObject:
      return "object";
    case Type::kMap:
      return "map of " + (s.items ? type_name(*s.items) : std::string("?"));
    case Type::kList:
      return "list of " + (s.items && !s.items->def_name.empty() ? s.items->def_name
                           : s.items                             ? type_name(*s.items)
                                                                 : "?");
    case Type::kUnion:
      return s.def_name.empty() ? "one of several shapes" : s.def_name;
  }
  return "?";
}

}  // namespace faultline::experiments
