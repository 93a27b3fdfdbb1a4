// `faultline schedule add|list|pause|resume|rm`: experiments a controller runs on a cron
// schedule.
#pragma once

#include <map>
#include <string>

namespace faultline::cli {

struct ScheduleAddOptions {
  std::string name;
  std::string cron;
  std::string time_zone;  // "" = UTC
  std::string overlap;    // "" = skip
  std::string file;
  std::map<std::string, std::string> vars;
};

int add_schedule(const std::string& controller, const ScheduleAddOptions& options);
int list_schedules(const std::string& controller);
int pause_schedule(const std::string& controller, const std::string& name);
int resume_schedule(const std::string& controller, const std::string& name);
int remove_schedule(const std::string& controller, const std::string& name);

}  // namespace faultline::cli
