#include "experiments/gameday.h"

#include <filesystem>

#include "experiments/schema_builders.h"
#include "experiments/schema_validator.h"
#include "experiments/yaml_reader.h"

namespace faultline::experiments {
namespace fs = std::filesystem;

namespace {

// The game-day format, checked by the same validator as experiments: types, required and
// unknown keys with "did you mean", every problem at once with file:line:column.
const Schema& gameday_schema() {
  using namespace schema_builders;
  static const SchemaPtr schema =
      object({opt("apiVersion", enumeration({"faultline/v1"}, "Version of the format.")),
              req("kind", enumeration({"GameDay"}, "Always GameDay.")),
              req("metadata", object({req("name", str("A name for the day's report.")),
                                      opt("description", str("What the day is meant to show."))},
                                     "Name and description.")),
              opt("participants", list(str("A name"), "Who takes part.")),
              opt("notes", str("Notes for the room and the report.")),
              req("experiments",
                  list(object({req("file", str("Experiment file, relative to this file.")),
                               opt("gate", str("Shown before the step; the day waits for Enter.")),
                               opt("note", str("Shown before the step.")),
                               opt("vars", string_map("Vars for this experiment."))},
                              "One step of the day."),
                       "The experiments, in order."))},
             "A game day.");
  return *schema;
}

std::string text(const YAML::Node& n) {
  return n && n.IsScalar() ? n.as<std::string>() : "";
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
  validate_against_schema(root, gameday_schema(), "", r);
  if (!out.diagnostics.empty()) return out;

  GameDay day;
  day.source_file = path;
  day.name = text(root["metadata"]["name"]);
  day.description = text(root["metadata"]["description"]);
  for (const auto& p : root["participants"]) day.participants.push_back(text(p));
  day.notes = text(root["notes"]);
  const YAML::Node steps = root["experiments"];
  if (steps.size() == 0) r.error(steps, "experiments", "needs at least one {file: ...} step");
  fs::path base = fs::path(path).parent_path();
  for (size_t i = 0; i < steps.size(); ++i) {
    const YAML::Node& s = steps[i];
    GameDayStep step;
    fs::path file = text(s["file"]);
    step.file = file.is_absolute() ? file.string() : (base / file).lexically_normal().string();
    if (!fs::exists(step.file))
      r.error(s["file"], "experiments[" + std::to_string(i) + "].file",
              "no such file: " + step.file);
    step.gate = text(s["gate"]);
    step.note = text(s["note"]);
    for (const auto& kv : s["vars"]) step.vars[kv.first.as<std::string>()] = text(kv.second);
    day.steps.push_back(std::move(step));
  }
  if (out.diagnostics.empty()) out.day = std::move(day);
  return out;
}

}  // namespace faultline::experiments
