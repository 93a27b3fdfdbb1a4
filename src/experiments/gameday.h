// A game day: experiments run in order by people in a room, with manual gates between them,
// notes and participants. One file, one combined report.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "experiments/diagnostic.h"

namespace faultline::experiments {

struct GameDayStep {
  std::string file;  // resolved against the game-day file's directory
  std::string gate;  // shown before the step; empty: no manual gate
  std::string note;
  std::map<std::string, std::string> vars;
};

struct GameDay {
  std::string source_file;
  std::string name, description;
  std::vector<std::string> participants;
  std::string notes;
  std::vector<GameDayStep> steps;
};

struct GameDayLoad {
  std::optional<GameDay> day;
  Diagnostics diagnostics;  // every problem, file:line:col
};

GameDayLoad load_gameday_file(const std::string& path);

}  // namespace faultline::experiments
