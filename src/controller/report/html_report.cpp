#include "controller/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/time_util.h"
#include "controller/report/run_checks.h"
#include "controller/report/terminal_report.h"
#include "controller/report/xml_escape.h"
#include "controller/run_state.h"

namespace faultline::controller {
namespace {

constexpr double kLabelWidth = 230, kPlotWidth = 700, kRowHeight = 22, kTop = 30, kChartHeight = 48;

const char* verdict_class(v1::RunState s) {
  switch (s) {
    case v1::RUN_STATE_PASSED:
      return "passed";
    case v1::RUN_STATE_ABORTED:
      return "aborted";
    default:
      return "failed";
  }
}

const char* phase_label(v1::ProbePhase p) {
  switch (p) {
    case v1::PROBE_PHASE_STEADY_STATE_BEFORE:
      return "steady state";
    case v1::PROBE_PHASE_STEADY_STATE_AFTER:
      return "steady state";
    case v1::PROBE_PHASE_GUARDRAIL:
      return "guardrail";
    case v1::PROBE_PHASE_RECOVERY:
      return "recovery";
    default:
      return "probe";
  }
}

struct Timeline {
  double end_ms = 1;
  double x(double ms) const { return kLabelWidth + kPlotWidth * std::clamp(ms / end_ms, 0.0, 1.0); }
};

std::string svg_timeline(const v1::Run& run) {
  Timeline t;
  for (const auto& ev : run.events()) t.end_ms = std::max(t.end_ms, double(ev.elapsed_ms()));
  t.end_ms *= 1.02;  // room for the last mark

  struct Row {
    std::string label, kind;
    std::string marks;
  };
  std::vector<Row> rows;
  std::map<std::string, size_t> row_of;
  auto row = [&](const std::string& key, const std::string& label, const std::string& kind) {
    auto [it, fresh] = row_of.emplace(key, rows.size());
    if (fresh) rows.push_back({label, kind, ""});
    return it->second;
  };
  std::string marks;  // vertical markers, drawn over everything
  auto y_of = [](size_t r) { return kTop + kRowHeight * (static_cast<double>(r) + 1); };

  // Phases as one strip.
  size_t phase_row = row("phase", "run phase", "phase");
  double phase_start = 0;
  std::string phase = "PENDING";
  auto close_phase = [&](double until) {
    // PENDING is an instant and the final verdict is the banner, not a phase.
    for (const char* skip : {"PENDING", "PASSED", "FAILED", "ABORTED", "ERROR"})
      if (phase == skip) return;
    if (until <= phase_start) return;
    rows[phase_row].marks += fmt::format(
        R"(<rect class="ph {}" x="{:.1f}" width="{:.1f}" height="14"><title>{}</title></rect>)",
        phase, t.x(phase_start), std::max(1.0, t.x(until) - t.x(phase_start)), phase);
  };

  // A dashed vertical line across every row with its label above the plot; labels near an end
  // of the axis hang inwards so they stay inside the picture.
  auto marker = [&](double ms, const char* cls, double label_y, const std::string& label) {
    double x = t.x(ms);
    const char* anchor = x > kLabelWidth + kPlotWidth * 0.75  ? "end"
                         : x < kLabelWidth + kPlotWidth * 0.2 ? "start"
                                                              : "middle";
    marks += fmt::format(
        R"~(<line class="m {0}" x1="{1:.1f}" x2="{1:.1f}" y1="{2}" y2="{{H}}"/><text class="ml {0}" text-anchor="{3}" x="{1:.1f}" y="{4}">{5}</text>)~",
        cls, x, kTop, anchor, label_y, xml_escape(label));
  };
  std::map<std::string, double> applied_at;
  for (const auto& ev : run.events()) {
    double ms = static_cast<double>(ev.elapsed_ms());
    switch (ev.type()) {
      case v1::EVENT_TYPE_STATE_CHANGED:
        close_phase(ms);
        phase = state_name(ev.state());
        phase_start = ms;
        break;
      case v1::EVENT_TYPE_FAULT_APPLIED:
        applied_at[ev.fault().fault_id()] = ms;
        row(ev.fault().fault_id(), "fault " + ev.fault().fault_name() + " @" + ev.fault().node(),
            "fault");
        break;
      case v1::EVENT_TYPE_FAULT_REVERTED:
      case v1::EVENT_TYPE_FAULT_FAILED: {
        auto it = applied_at.find(ev.fault().fault_id());
        if (it == applied_at.end()) break;
        size_t r = row(ev.fault().fault_id(), "", "fault");
        rows[r].marks += fmt::format(
            R"(<rect class="band{}" x="{:.1f}" width="{:.1f}" height="14"><title>{} ({}) {:.2f}s – {:.2f}s</title></rect>)",
            ev.type() == v1::EVENT_TYPE_FAULT_FAILED ? " bad" : "", t.x(it->second),
            std::max(2.0, t.x(ms) - t.x(it->second)), xml_escape(ev.fault().fault_name()),
            xml_escape(ev.fault().kind()), it->second / 1000, ms / 1000);
        applied_at.erase(it);
        break;
      }
      case v1::EVENT_TYPE_PROBE_RESULT: {
        const auto& p = ev.probe();
        std::string key = std::string(phase_label(p.phase())) + ":" + p.name();
        size_t r = row(key, std::string(phase_label(p.phase())) + " " + p.name(), "probe");
        rows[r].marks += fmt::format(
            R"(<circle class="{}" cx="{:.1f}" cy="7" r="5"><title>{:.2f}s {}: {}</title></circle>)",
            p.ok() ? "ok" : "bad", t.x(ms), ms / 1000, p.ok() ? "ok" : "FAILED",
            xml_escape(p.observed()));
        break;
      }
      case v1::EVENT_TYPE_GUARDRAIL_BREACHED:
        marker(ms, "breach", kTop - 6, "breach: " + ev.guardrail().name());
        break;
      case v1::EVENT_TYPE_ALL_REVERTED:
        marker(ms, "reverted", kTop - 18,
               fmt::format("all reverted (+{} ms)", ev.since_abort_ms()));
        break;
      case v1::EVENT_TYPE_RECOVERED:
        marker(ms, "recovered", kTop - 6,
               fmt::format("recovered in {} ms", ev.time_to_recover_ms()));
        break;
      default:
        break;
    }
  }
  close_phase(t.end_ms / 1.02);

  std::string body;
  for (size_t r = 0; r < rows.size(); ++r) {
    double y = y_of(r);
    body += fmt::format(
        R"~(<text class="lbl" x="{:.1f}" y="{:.1f}">{}</text><line class="grid" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"/><g transform="translate(0,{:.1f})">{}</g>)~",
        kLabelWidth - 8, y + 11, xml_escape(rows[r].label), kLabelWidth, kLabelWidth + kPlotWidth,
        y + 7, y + 7, y, rows[r].marks);
  }
  // Below the marks, each probe's number over time as a line, with its limit dashed.
  double y = y_of(rows.size());
  for (const auto& ser : run.summary().series()) {
    if (ser.values_size() < 2) continue;
    double lo = *std::min_element(ser.values().begin(), ser.values().end());
    double hi = *std::max_element(ser.values().begin(), ser.values().end());
    if (ser.has_threshold()) {
      lo = std::min(lo, ser.threshold());
      hi = std::max(hi, ser.threshold());
    }
    if (hi - lo < 1e-9) hi = lo + 1;
    auto vy = [&](double v) {
      return y + kChartHeight - 4 - (kChartHeight - 8) * (v - lo) / (hi - lo);
    };
    std::string points, bad;
    for (int i = 0; i < ser.values_size(); ++i) {
      double px = t.x(static_cast<double>(ser.elapsed_ms(i))), py = vy(ser.values(i));
      points += fmt::format("{:.1f},{:.1f} ", px, py);
      if (!ser.ok(i))
        bad += fmt::format(R"(<circle class="bad" cx="{:.1f}" cy="{:.1f}" r="2.5"/>)", px, py);
    }
    std::string unit = ser.unit().empty() ? "" : " " + ser.unit();
    body += fmt::format(
        R"~(<text class="lbl" x="{:.1f}" y="{:.1f}">{} {}</text><text class="lbl sub" x="{:.1f}" y="{:.1f}">{:.3g} – {:.3g}{}</text><rect class="chart" x="{}" y="{:.1f}" width="{}" height="{}"/><polyline class="series" points="{}"/>{})~",
        kLabelWidth - 8, y + 16, phase_label(ser.phase()), xml_escape(ser.name()), kLabelWidth - 8,
        y + 30, lo, hi, xml_escape(unit), kLabelWidth, y, kPlotWidth, kChartHeight, points, bad);
    if (ser.has_threshold())
      body += fmt::format(
          R"~(<line class="limit" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"/><text class="limit-lbl" x="{:.1f}" y="{:.1f}">limit {:.3g}{}</text>)~",
          kLabelWidth, kLabelWidth + kPlotWidth, vy(ser.threshold()), vy(ser.threshold()),
          kLabelWidth + kPlotWidth - 4, vy(ser.threshold()) - 3, ser.threshold(), xml_escape(unit));
    y += kChartHeight + 8;
  }
  double height = y + 24;
  // Axis: about six ticks at round seconds.
  double end_s = t.end_ms / 1000;
  double step = 0.1;
  for (double s :
       {0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0})
    if (end_s / s <= 7) {
      step = s;
      break;
    }
  double axis_y = height - 18;
  std::string axis = fmt::format(R"(<line class="axis" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"/>)",
                                 kLabelWidth, kLabelWidth + kPlotWidth, axis_y, axis_y);
  for (double s = 0; s <= end_s; s += step)
    axis += fmt::format(R"(<text class="tick" x="{:.1f}" y="{:.1f}">{:g}s</text>)", t.x(s * 1000),
                        axis_y + 14, s);
  std::string h = fmt::format("{:.1f}", axis_y);
  for (size_t pos; (pos = marks.find("{H}")) != std::string::npos;) marks.replace(pos, 3, h);
  return fmt::format(
      R"(<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{0:.0f}" height="{1:.0f}" viewBox="0 0 {0:.0f} {1:.0f}">{2}{3}{4}</svg>)",
      kLabelWidth + kPlotWidth + 20, height, body, axis, marks);
}

std::string fact(const std::string& k, const std::string& v) {
  return "<tr><th>" + xml_escape(k) + "</th><td>" + xml_escape(v) + "</td></tr>";
}

std::string run_section(const v1::Run& run) {
  const auto& sum = run.summary();
  std::string facts = fact("Run", run.run_id());
  if (!sum.source_name().empty()) facts += fact("Experiment file", sum.source_name());
  facts += fact("Started", format_utc_millis(sum.started_unix_ms()));
  facts += fact("Duration", fmt::format("{:.2f} s", run_duration_ms(sum) / 1000.0));
  bool reached_recovery = false;
  for (const auto& ev : run.events())
    reached_recovery = reached_recovery || (ev.type() == v1::EVENT_TYPE_STATE_CHANGED &&
                                            ev.state() == v1::RUN_STATE_RECOVERING);
  if (sum.recovery_deadline_ms() > 0)
    facts += fact("Time to recover", time_to_recover_text(sum, reached_recovery));
  if (sum.abort_to_reverted_ms() >= 0)
    facts += fact("Abort to all reverted", fmt::format("{} ms", sum.abort_to_reverted_ms()));
  facts += fact("Exit code", std::to_string(sum.exit_code()));

  std::string checks;
  for (const auto& c : run_checks(run)) {
    const char* cls = c.status == CheckOutcome::Status::kPassed   ? "ok"
                      : c.status == CheckOutcome::Status::kFailed ? "bad"
                                                                  : "skip";
    const char* word = c.status == CheckOutcome::Status::kPassed   ? "passed"
                       : c.status == CheckOutcome::Status::kFailed ? "FAILED"
                                                                   : "skipped";
    checks += fmt::format(
        R"(<tr class="{}"><td class="st">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>)", cls, word,
        xml_escape(c.group), xml_escape(c.name), xml_escape(c.message));
  }
  std::string events;
  for (const auto& ev : run.events()) {
    std::string line = format_event_line(ev);
    auto close = line.find("] ");
    events +=
        fmt::format("<tr><td class=\"t\">+{:.2f}s</td><td>{}</td></tr>", ev.elapsed_ms() / 1000.0,
                    xml_escape(close == std::string::npos ? line : line.substr(close + 2)));
  }
  return fmt::format(
      R"(<section class="run"><div class="banner {0}"><span class="verdict">{1}</span> {2}</div>
<p class="why">{3}</p><table class="facts">{4}</table>
<h3>Timeline</h3>{5}
<h3>Checks</h3><table class="checks"><tr><th></th><th>phase</th><th>check</th><th>observed</th></tr>{6}</table>
<details><summary>Events ({7})</summary><table class="events">{8}</table></details></section>
)",
      verdict_class(sum.verdict()), state_name(sum.verdict()), xml_escape(run.experiment_name()),
      xml_escape(sum.reason()), facts, svg_timeline(run), checks, run.events_size(), events);
}

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d2430;background:#fafbfc}
h1{font-size:20px;margin:0 0 16px} h3{font-size:15px;margin:18px 0 6px}
.run{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:16px 20px;margin-bottom:24px;max-width:980px}
.banner{font-size:20px;font-weight:600;padding:10px 14px;border-radius:6px;color:#fff}
.banner.passed{background:#1f883d}.banner.failed{background:#cf222e}.banner.aborted{background:#bf6a02}
.verdict{letter-spacing:.04em;margin-right:8px}
.why{font-size:15px;margin:10px 0}
table{border-collapse:collapse} .facts th{text-align:left;color:#57606a;font-weight:500;padding:2px 16px 2px 0}
.checks td,.checks th,.events td{padding:3px 8px;border-bottom:1px solid #eef1f4;text-align:left;vertical-align:top}
.checks tr.ok .st{color:#1f883d}.checks tr.bad .st{color:#cf222e;font-weight:600}.checks tr.skip .st{color:#8c959f}
.events td.t{color:#57606a;font-variant-numeric:tabular-nums;white-space:nowrap}
svg .lbl{font-size:12px;text-anchor:end;fill:#1d2430} svg .tick{font-size:11px;fill:#57606a} svg text.tick:not([text-anchor]){text-anchor:middle}
svg .grid{stroke:#eef1f4} svg .axis{stroke:#8c959f}
svg .band{fill:#f0883e;opacity:.85} svg .band.bad{fill:#cf222e}
svg .ph{opacity:.35} svg .ph.STEADY_STATE_CHECK{fill:#8c959f} svg .ph.INJECTING{fill:#f0883e} svg .ph.RECOVERING{fill:#54aeff}
svg .ph.PASSED{fill:#1f883d} svg .ph.FAILED,svg .ph.ERROR{fill:#cf222e} svg .ph.ABORTED{fill:#bf6a02}
svg .day.passed{fill:#1f883d} svg .day.failed{fill:#cf222e} svg .day.aborted{fill:#bf6a02}
svg .chart{fill:#f6f8fa} svg .series{fill:none;stroke:#0969da;stroke-width:1.5} svg .limit{stroke:#cf222e;stroke-dasharray:5 3} svg .limit-lbl{font-size:10px;fill:#cf222e;text-anchor:end} svg .lbl.sub{font-size:10px;fill:#57606a}
svg circle.ok{fill:#1f883d} svg circle.bad{fill:#cf222e}
svg .m{stroke-width:1.5;stroke-dasharray:4 3} svg .ml{font-size:11px}
svg .breach{stroke:#cf222e;fill:#cf222e} svg .reverted{stroke:#6e40c9;fill:#6e40c9} svg .recovered{stroke:#1f883d;fill:#1f883d}
)";

// The day at a glance: one band per run on the wall clock, coloured by verdict.
std::string day_section(const std::vector<v1::Run>& runs, const DayInfo& day) {
  std::string out = "<section class=\"run\">";
  if (!day.description.empty()) out += "<p class=\"why\">" + xml_escape(day.description) + "</p>";
  std::string facts;
  if (!day.participants.empty()) {
    std::string who;
    for (const auto& p : day.participants) who += (who.empty() ? "" : ", ") + p;
    facts += fact("Participants", who);
  }
  if (!day.notes.empty()) facts += fact("Notes", day.notes);
  for (const auto& n : day.not_run) facts += fact("Not run", n);
  out += "<table class=\"facts\">" + facts + "</table>";
  if (!runs.empty()) {
    int64_t t0 = runs.front().summary().started_unix_ms(), t1 = t0 + 1;
    for (const auto& r : runs) t1 = std::max(t1, r.summary().ended_unix_ms());
    double span = static_cast<double>(t1 - t0);
    auto x = [&](int64_t ms) { return kLabelWidth + kPlotWidth * (ms - t0) / span; };
    std::string body;
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto& s = runs[i].summary();
      double y = kTop + kRowHeight * static_cast<double>(i);
      body += fmt::format(
          R"~(<text class="lbl" x="{:.1f}" y="{:.1f}">{}</text><rect class="day {}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="14"><title>{} {} ({:.1f} s)</title></rect>)~",
          kLabelWidth - 8, y + 11, xml_escape(runs[i].experiment_name()),
          verdict_class(s.verdict()), x(s.started_unix_ms()), y,
          std::max(2.0, x(s.started_unix_ms() + run_duration_ms(s)) - x(s.started_unix_ms())),
          xml_escape(runs[i].experiment_name()), state_name(s.verdict()),
          run_duration_ms(s) / 1000.0);
    }
    double h = kTop + kRowHeight * static_cast<double>(runs.size()) + 20;
    body += fmt::format(
        R"~(<text class="tick" text-anchor="start" x="{:.1f}" y="{:.1f}">{}</text><text class="tick" text-anchor="end" x="{:.1f}" y="{:.1f}">{}</text>)~",
        kLabelWidth, h - 4, format_utc_millis(t0).substr(11, 8), kLabelWidth + kPlotWidth, h - 4,
        format_utc_millis(t1).substr(11, 8));
    out += fmt::format(
        R"~(<h3>The day</h3><svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{0:.0f}" height="{1:.0f}" viewBox="0 0 {0:.0f} {1:.0f}">{2}</svg>)~",
        kLabelWidth + kPlotWidth + 20, h, body);
  }
  return out + "</section>";
}

}  // namespace

std::string html_report(const std::vector<v1::Run>& runs, const std::string& title,
                        const DayInfo* day) {
  std::string sections;
  int passed = 0;
  for (const auto& r : runs) {
    sections += run_section(r);
    passed += r.summary().verdict() == v1::RUN_STATE_PASSED;
  }
  std::string overview = runs.size() > 1 ? fmt::format("<p class=\"why\">{} of {} runs passed</p>",
                                                       passed, runs.size())
                                         : "";
  if (day) overview += day_section(runs, *day);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>{0}</title><style>{1}</style>"
      "</head><body><h1>{0}</h1>{2}{3}</body></html>\n",
      xml_escape(title), kStyle, overview, sections);
}

}  // namespace faultline::controller
