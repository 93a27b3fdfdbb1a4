// Reads experiment YAML into the model, collecting every problem with its location.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "experiments/diagnostic.h"
#include "experiments/load_limits.h"
#include "experiments/model.h"

namespace faultline::experiments {

struct LoadOptions {
  // --var name=value: override the file's vars.
  std::map<std::string, std::string> vars;
  // Where ${env:NAME} comes from. Only the experiment's author (the CLI) reads its own
  // environment; a controller takes the values the client sent (`environment`) and never
  // reads its own, so a remote caller cannot read the controller's secrets through a file.
  bool read_process_environment = false;
  std::map<std::string, std::string> environment;
  LoadLimits limits;
};

struct LoadResult {
  std::optional<Experiment> experiment;  // set only when diagnostics is empty
  Diagnostics diagnostics;

  bool ok() const { return experiment.has_value() && diagnostics.empty(); }
};

// `source_name` is what diagnostics print as the file (a path, or "<submitted>").
LoadResult parse_experiment(std::string_view yaml_text, const std::string& source_name,
                            const LoadOptions& options = {});

// A missing or unreadable file is one diagnostic with line 0.
LoadResult load_experiment_file(const std::string& path, const LoadOptions& options = {});

}  // namespace faultline::experiments
