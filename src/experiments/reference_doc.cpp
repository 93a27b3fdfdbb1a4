#include "experiments/reference_doc.h"

#include <fmt/format.h>

#include <set>

#include "experiments/kinds/fault_kind.h"
#include "experiments/schema.h"

namespace faultline::experiments {
namespace {

std::string cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string code(const std::string& text) {
  return text.empty() ? "" : "`" + text + "`";
}

// Where a nested object is described, so a table row can point to it.
std::string anchor(const std::string& title) {
  std::string out;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(c));
    else if (c == ' ' || c == '-' || c == '_')
      out += c == ' ' ? '-' : c;
  }
  return out;
}

class Writer {
 public:
  std::string run() {
    out_ +=
        "# Experiment file reference\n\n"
        "Generated from `src/experiments/experiment_schema.cpp` by `faultline schema --format "
        "markdown`; do not edit by hand (a test fails when this file and the schema differ).\n\n"
        "Units: durations `250ms`, `1.5s`, `1m30s`, `2h`; percentages `12.5%`; sizes `4096`, "
        "`512KiB`, `1.5GiB`, `100MB`; rates `800bit`, `100kbit`, `10mbit`, `1gbit` (or bytes "
        "per second: `bps`, `kbps`, `mbps`). Any value may be written as `${name}` (from `vars` "
        "or `--var name=value`) or `${env:NAME:-default}`.\n\n"
        "Editors: `faultline schema > faultline.schema.json` and, with VS Code's YAML "
        "extension, add to settings.json: `\"yaml.schemas\": {\"./faultline.schema.json\": "
        "\"experiments/*.yaml\"}`.\n\n";
    section("Experiment (top level)", experiment_schema());
    while (!queue_.empty()) {
      auto [title, s] = queue_.front();
      queue_.erase(queue_.begin());
      section(title, *s);
    }
    fault_kind_sections();
    return out_;
  }

 private:
  // The schema a row's details live in, if any: objects, lists of objects, maps of objects.
  static const Schema* nested(const Schema& s) {
    if (s.type == Type::kObject && !s.properties.empty()) return &s;
    if (s.type == Type::kUnion) return &s;
    if ((s.type == Type::kList || s.type == Type::kMap) && s.items) return nested(*s.items);
    return nullptr;
  }

  std::string link_for(const std::string& path, const Schema& s) {
    const Schema* n = nested(s);
    if (!n) return "";
    std::string title = n->def_name.empty() ? path : n->def_name;
    if (!seen_.count(n)) {
      seen_.insert(n);
      queue_.emplace_back(title, n);
    }
    return fmt::format(" (see [{}](#{}))", title, anchor(title));
  }

  void table(const std::string& path, const Schema& s) {
    out_ += "| Key | Type | Required | Default | Example | Description |\n";
    out_ += "|---|---|---|---|---|---|\n";
    for (const auto& p : s.properties) {
      std::string sub = path.empty() ? p.name : path + "." + p.name;
      std::string type = type_name(*p.schema);
      if (p.schema->type == Type::kMap) sub += ".<name>";
      std::string doc = p.schema->doc;
      if (s.discriminated && p.name == s.discriminated->property)
        doc += " Depends on `" + s.discriminated->key + "`: see [Fault kinds](#fault-kinds).";
      else
        doc += link_for(sub, *p.schema);
      std::string limits = limits_text(*p.schema);
      if (!limits.empty()) doc += " " + limits;
      out_ += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", p.name, cell(type),
                          p.required ? "yes" : "", cell(code(p.schema->default_text)),
                          cell(code(example_value(*p.schema))), cell(doc));
    }
    for (const auto& group : s.one_of_keys) {
      std::string keys;
      for (const auto& k : group) keys += (keys.empty() ? "" : ", ") + code(k);
      out_ += "\nExactly one of " + keys + " must be set.\n";
    }
    out_ += "\n";
  }

  static std::string limits_text(const Schema& s) {
    auto num = [](double v) { return fmt::format("{:g}", v); };
    std::string unit = s.type == Type::kDuration ? "s" : s.type == Type::kPercent ? "%" : "";
    if (s.type != Type::kInteger && s.type != Type::kDuration && s.type != Type::kPercent)
      return "";
    std::string out;
    if (s.min && (s.exclusive_min || *s.min != 0))
      out += (s.exclusive_min ? "> " : ">= ") + num(*s.min) + unit;
    if (s.max) out += (out.empty() ? "" : ", ") + std::string("<= ") + num(*s.max) + unit;
    return out.empty() ? "" : "Limits: " + out + ".";
  }

  void section(const std::string& title, const Schema& s) {
    out_ += "## " + title + "\n\n";
    if (!s.doc.empty()) out_ += s.doc + "\n\n";
    if (s.type == Type::kUnion) {
      out_ += "Written as one of these shapes, chosen by the key it has:\n\n";
      for (const auto& [key, variant] : s.variants) {
        out_ += "### A step with `" + key + "`\n\n" + variant->doc + "\n\n";
        table(title, *variant);
      }
      return;
    }
    table(title, s);
  }

  void fault_kind_sections() {
    out_ += "## Fault kinds\n\nThe `params` of a fault depend on its `kind`.\n\n";
    for (const FaultKind* k : experiments::fault_kinds()) {
      const std::string& kind = k->name;
      const SchemaPtr& params = k->params;
      out_ += "### " + kind + "\n\n" + params->doc + "\n\n";
      out_ += k->containers.works
                  ? "On a container or pod target: yes, inside it.\n\n"
                  : "On a container or pod target: no; " + k->containers.why_not + ".\n\n";
      if (params->properties.empty()) {
        out_ += "No parameters.\n\n";
      } else {
        table("params", *params);
      }
      // Kinds that act on a container or pod through its runtime, or on a proxy, show such a
      // target.
      out_ += "```yaml\n- name: example-" + kind_dash(kind) + "\n  kind: " + kind + "\n  target: " +
              (k->needs == TargetNeeds::kContainer ? "my-pod"
               : k->needs == TargetNeeds::kProxy   ? "my-proxy"
                                                   : "my-target") +
              "\n  duration: 30s\n";
      std::string lines;
      // Required params, one key of each exactly-one-of group, and params that carry an
      // example of their own: the smallest snippet that is valid.
      std::set<std::string> shown;
      for (const auto& group : params->one_of_keys) shown.insert(group.front());
      for (const auto& p : params->properties)
        if (p.required || !p.schema->example.empty() || shown.count(p.name))
          lines += "    " + p.name + ": " + example_value(*p.schema) + "\n";
      if (!lines.empty()) out_ += "  params:\n" + lines;
      out_ += "```\n\n";
    }
  }

  static std::string kind_dash(const std::string& kind) {
    std::string out = kind;
    for (char& c : out)
      if (c == '_') c = '-';
    return out;
  }

  std::string out_;
  std::vector<std::pair<std::string, const Schema*>> queue_;
  std::set<const Schema*> seen_;
};

}  // namespace

std::string example_value(const Schema& s) {
  if (!s.example.empty()) return s.example;
  switch (s.type) {
    case Type::kString:
      return "";
    case Type::kName:
      return "my-name";
    case Type::kInteger:
      return s.default_text.empty() ? fmt::format("{:g}", s.min.value_or(1)) : s.default_text;
    case Type::kNumber:
      return "0.5";
    case Type::kBool:
      return "true";
    case Type::kDuration:
      return "100ms";
    case Type::kPercent:
      return "12.5%";
    case Type::kSize:
      return "512MiB";
    case Type::kRate:
      return "10mbit";
    case Type::kSignal:
      return "SIGTERM";
    case Type::kEnum:
      return s.values.empty() ? "" : s.values.front();
    default:
      return "";
  }
}

std::string reference_markdown() {
  return Writer().run();
}

}  // namespace faultline::experiments
