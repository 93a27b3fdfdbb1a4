#include "controller/policy/controller_policy.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "experiments/schema_builders.h"
#include "experiments/schema_validator.h"
#include "experiments/yaml_reader.h"

namespace faultline::controller {
namespace {

using namespace experiments::schema_builders;

const experiments::Schema& policy_schema() {
  static const experiments::SchemaPtr schema = [] {
    auto count = [](const char* what, double def) {
      return integer(std::string("At most this many ") + what + ".", 1, 1e9,
                     std::to_string(static_cast<long long>(def)));
    };
    experiments::LoadLimits d;
    return object(
        {req("apiVersion", enumeration({"faultline/v1"}, "Version of the format.")),
         req("kind", enumeration({"ControllerPolicy"}, "Always ControllerPolicy.")),
         opt("commands",
             list(object({req("path", str("Absolute path of a program command probes, recovery "
                                          "checks and rollbacks may run "
                                          "(argv[0] must be exactly this path).",
                                          "/usr/local/bin/check-replicas")),
                          opt("node", str("Run it on this injector node instead of the "
                                          "controller; the node's own policy must list the "
                                          "path in allow.commands.",
                                          "db-1"))},
                         "A program submitted experiments may run."),
                  "Programs submitted experiments may run. Default: none.")),
         opt("hosts",
             object({opt("allow", list(str("An address, CIDR, host name or *.suffix."),
                                       "Only these hosts. Default: every host not denied.")),
                     opt("deny", list(str("An address, CIDR, host name or *.suffix."),
                                      "Never these hosts.")),
                     opt("link_local",
                         make(experiments::Type::kBool,
                              "Allow link-local addresses and cloud metadata services "
                              "(169.254.0.0/16, fe80::/10, metadata.google.internal, ...). "
                              "Default: false."))},
                    "Where probes, checks and rollbacks may connect.")),
         opt("ca_files", list(str("A file, or a directory ending in /."),
                              "Files probes may name as ca_file. Default: none.")),
         opt("limits",
             object({opt("experiment_bytes", count("bytes in an experiment file", d.max_bytes)),
                     opt("yaml_nodes", count("YAML nodes once aliases are expanded", d.max_nodes)),
                     opt("faults", count("faults in an experiment", d.max_faults)),
                     opt("probes", count("probes, guardrails, checks and rollbacks", d.max_probes)),
                     opt("steps", count("steps in an experiment's timeline", d.max_steps)),
                     opt("events_per_run", count("journal events per run", 20000))},
                    "How big a submitted experiment and its run may be."))},
        "What submitted experiments may make the controller do.");
  }();
  return *schema;
}

std::vector<std::string> strings(const YAML::Node& list) {
  std::vector<std::string> out;
  if (list && list.IsSequence())
    for (const auto& n : list) out.push_back(n.Scalar());
  return out;
}

}  // namespace

const CommandRule* ControllerPolicy::command(const std::string& argv0) const {
  for (const auto& c : commands)
    if (c.path == argv0) return &c;
  return nullptr;
}

std::map<std::string, std::string> ControllerPolicy::command_nodes() const {
  std::map<std::string, std::string> out;
  for (const auto& c : commands)
    if (!c.node.empty()) out[c.path] = c.node;
  return out;
}

bool ControllerPolicy::ca_file_allowed(const std::string& path) const {
  // A path with ".." could leave an allowed directory; none is needed to name a CA file.
  if (path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
      path.ends_with("/.."))
    return false;
  for (const auto& allowed : ca_files)
    if (allowed.ends_with("/") ? path.rfind(allowed, 0) == 0 : path == allowed) return true;
  return false;
}

Result<ControllerPolicy> ControllerPolicy::parse(const std::string& yaml,
                                                 const std::string& source) {
  experiments::Diagnostics problems;
  experiments::YamlReader reader(source, problems);
  auto first_problem = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "controller policy " + problems.front().format());
  };
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    problems.push_back({{source, e.mark.line + 1, e.mark.column + 1}, "", e.msg});
    return first_problem();
  }
  experiments::validate_against_schema(root, policy_schema(), "", reader);
  ControllerPolicy p;
  p.source = source;
  if (problems.empty()) {
    if (auto cmds = root["commands"])
      for (size_t i = 0; i < cmds.size(); ++i) {
        std::string path = cmds[i]["path"].Scalar();
        if (path.empty() || path[0] != '/')
          reader.error(cmds[i]["path"], "commands[" + std::to_string(i) + "].path",
                       "\"" + path + "\" is not an absolute path");
        std::string node = cmds[i]["node"] ? cmds[i]["node"].Scalar() : "";
        p.commands.push_back({path, node});
      }
    if (auto hosts = root["hosts"]) {
      p.hosts.allow = strings(hosts["allow"]);
      p.hosts.deny = strings(hosts["deny"]);
      p.hosts.link_local = hosts["link_local"] && hosts["link_local"].as<bool>();
      for (const char* key : {"allow", "deny"})
        for (size_t i = 0; hosts[key] && i < hosts[key].size(); ++i)
          if (std::string why = check_host_rule(hosts[key][i].Scalar()); !why.empty())
            reader.error(hosts[key][i], std::string("hosts.") + key + "[" + std::to_string(i) + "]",
                         why);
    }
    p.ca_files = strings(root["ca_files"]);
    for (size_t i = 0; i < p.ca_files.size(); ++i)
      if (p.ca_files[i].empty() || p.ca_files[i][0] != '/')
        reader.error(root["ca_files"][i], "ca_files[" + std::to_string(i) + "]",
                     "\"" + p.ca_files[i] + "\" is not an absolute path");
    if (auto limits = root["limits"]) {
      auto set = [&](const char* key, size_t& into) {
        if (limits[key]) into = limits[key].as<size_t>();
      };
      set("experiment_bytes", p.limits.max_bytes);
      set("yaml_nodes", p.limits.max_nodes);
      set("faults", p.limits.max_faults);
      set("probes", p.limits.max_probes);
      set("steps", p.limits.max_steps);
      set("events_per_run", p.max_events_per_run);
    }
  }
  if (!problems.empty()) return first_problem();
  return p;
}

Result<ControllerPolicy> ControllerPolicy::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot read controller policy " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

}  // namespace faultline::controller
