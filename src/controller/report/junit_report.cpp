#include "controller/report/junit_report.h"

#include <fmt/format.h>

#include "common/time_util.h"
#include "controller/report/run_checks.h"
#include "controller/report/xml_escape.h"
#include "controller/run_state.h"

namespace faultline::controller {
namespace {

// "steady state before" -> "steady_state_before": CI tools split classnames on dots and spaces.
std::string class_part(std::string group) {
  for (auto& c : group)
    if (c == ' ') c = '_';
  return group;
}

}  // namespace

std::string junit_xml(const std::vector<v1::Run>& runs) {
  std::string suites;
  int tests = 0, failures = 0, skipped = 0;
  double total_seconds = 0;
  for (const auto& run : runs) {
    const auto& sum = run.summary();
    auto checks = run_checks(run);
    int f = 0, s = 0;
    std::string cases;
    for (const auto& c : checks) {
      // classname groups the cases in CI views: experiment.phase
      cases += fmt::format(R"(    <testcase classname="{}.{}" name="{}" time="{:.3f}")",
                           xml_escape(run.experiment_name()), xml_escape(class_part(c.group)),
                           xml_escape(c.name), c.seconds);
      switch (c.status) {
        case CheckOutcome::Status::kPassed:
          cases += c.message.empty()
                       ? "/>\n"
                       : fmt::format(">\n      <system-out>{}</system-out>\n    </testcase>\n",
                                     xml_escape(c.message));
          break;
        case CheckOutcome::Status::kFailed:
          ++f;
          cases += fmt::format(
              ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
              xml_escape(c.message), xml_escape(c.group), xml_escape(c.message));
          break;
        case CheckOutcome::Status::kSkipped:
          ++s;
          cases += fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                               xml_escape(c.message));
          break;
      }
    }
    double seconds = run_duration_ms(sum) / 1000.0;
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
        "time=\"{:.3f}\" timestamp=\"{}\">\n"
        "    <properties>\n"
        "      <property name=\"run_id\" value=\"{}\"/>\n"
        "      <property name=\"verdict\" value=\"{}\"/>\n"
        "      <property name=\"reason\" value=\"{}\"/>\n"
        "      <property name=\"source\" value=\"{}\"/>\n"
        "    </properties>\n{}  </testsuite>\n",
        xml_escape(run.experiment_name()), checks.size(), f, s, seconds,
        format_utc_millis(sum.started_unix_ms()).substr(0, 19), xml_escape(run.run_id()),
        state_name(sum.verdict()), xml_escape(sum.reason()), xml_escape(sum.source_name()), cases);
    tests += static_cast<int>(checks.size());
    failures += f;
    skipped += s;
    total_seconds += seconds;
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"faultline\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
      "time=\"{:.3f}\">\n{}</testsuites>\n",
      tests, failures, skipped, total_seconds, suites);
}

}  // namespace faultline::controller
