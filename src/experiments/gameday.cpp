#include "experiments/gameday.h"

#include <algorithm>
#include <filesystem>

#include "experiments/yaml_reader.h"

namespace faultline::experiments {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTopKeys = {"apiVersion",   "kind",  "metadata",
                                           "participants", "notes", "experiments"};
const std::vector<std::string> kStepKeys = {"file", "gate", "note", "vars"};

void unknown_keys(YamlReader& r, const YAML::Node& map, const std::vector<std::string>& known,
                  const std::string& prefix) {
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string hint = closest_match(key, known);
    r.error(kv.first, prefix + key,
            "unknown key" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)") +
                " (expected one of: " + join(known) + ")");
  }
}

std::string scalar(YamlReader& r, const YAML::Node& n, const std::string& field) {
  if (!n) return "";
  if (!n.IsScalar()) {
    r.error(n, field, "must be text");
    return "";
  }
  return n.as<std::string>();
}

}  // namespace

GameDayLoad load_gameday_file(const std::string& path) {
  GameDayLoad out;
  YamlReader r(path, out.diagnostics);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    r.error(SourceLocation{path, 0, 0}, "", "cannot read the file");
    return out;
  } catch (const YAML::ParserException& e) {
    r.error(SourceLocation{path, e.mark.line + 1, e.mark.column + 1}, "",
            "YAML syntax error: " + e.msg);
    return out;
  }
  if (!root.IsMap()) {
    r.error(root, "", "a game day is a mapping with kind: GameDay");
    return out;
  }
  unknown_keys(r, root, kTopKeys, "");
  if (scalar(r, root["kind"], "kind") != "GameDay")
    r.error(root["kind"] ? root["kind"] : root, "kind", "must be GameDay");
  GameDay day;
  day.source_file = path;
  if (YAML::Node m = root["metadata"]; m && m.IsMap()) {
    day.name = scalar(r, m["name"], "metadata.name");
    day.description = scalar(r, m["description"], "metadata.description");
  }
  if (day.name.empty())
    r.error(root["metadata"] ? root["metadata"] : root, "metadata.name",
            "required (a name for the day's report)");
  if (YAML::Node p = root["participants"]) {
    if (!p.IsSequence())
      r.error(p, "participants", "must be a list of names");
    else
      for (size_t i = 0; i < p.size(); ++i)
        day.participants.push_back(scalar(r, p[i], "participants[" + std::to_string(i) + "]"));
  }
  day.notes = scalar(r, root["notes"], "notes");
  YAML::Node steps = root["experiments"];
  if (!steps || !steps.IsSequence() || steps.size() == 0) {
    r.error(steps ? steps : root, "experiments", "required: a list of {file: ...} steps");
  } else {
    fs::path base = fs::path(path).parent_path();
    for (size_t i = 0; i < steps.size(); ++i) {
      std::string field = "experiments[" + std::to_string(i) + "]";
      const YAML::Node& s = steps[i];
      if (!s.IsMap()) {
        r.error(s, field, "must be a mapping with file: (and optional gate, note, vars)");
        continue;
      }
      unknown_keys(r, s, kStepKeys, field + ".");
      GameDayStep step;
      std::string file = scalar(r, s["file"], field + ".file");
      if (file.empty()) {
        r.error(s, field + ".file", "required: the experiment file to run");
      } else {
        step.file = fs::path(file).is_absolute() ? file : (base / file).lexically_normal().string();
        if (!fs::exists(step.file))
          r.error(s["file"], field + ".file", "no such file: " + step.file);
      }
      step.gate = scalar(r, s["gate"], field + ".gate");
      step.note = scalar(r, s["note"], field + ".note");
      if (YAML::Node v = s["vars"]) {
        if (!v.IsMap())
          r.error(v, field + ".vars", "must be a mapping of name: value");
        else
          for (const auto& kv : v)
            step.vars[kv.first.as<std::string>()] =
                scalar(r, kv.second, field + ".vars." + kv.first.as<std::string>());
      }
      day.steps.push_back(std::move(step));
    }
  }
  if (out.diagnostics.empty()) out.day = std::move(day);
  return out;
}

}  // namespace faultline::experiments
