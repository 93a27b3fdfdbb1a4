// faultline: the command people and CI pipelines use.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "cli/abort_command.h"
#include "cli/audit_command.h"
#include "cli/client_security.h"
#include "cli/exec_command.h"
#include "cli/gameday_command.h"
#include "cli/halt_command.h"
#include "cli/injectors_command.h"
#include "cli/proxy_command.h"
#include "cli/report_commands.h"
#include "cli/run_command.h"
#include "cli/schedule_command.h"
#include "cli/token_command.h"
#include "common/audit_log.h"
#include "common/exit_codes.h"
#include "common/log.h"
#include "experiments/json_schema.h"
#include "experiments/loader.h"
#include "experiments/reference_doc.h"

using namespace faultline;

namespace {

// --var name=value, repeated.
bool parse_vars(const std::vector<std::string>& raw, std::map<std::string, std::string>& out) {
  for (const auto& kv : raw) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "faultline: --var %s: expected name=value\n", kv.c_str());
      return false;
    }
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return true;
}

void add_run_options(CLI::App* cmd, std::vector<std::string>& files, cli::RunOptions& opts,
                     std::vector<std::string>& vars, int64_t& seed) {
  cmd->add_option("files", files, "experiment YAML file(s), run one after the other")->required();
  cmd->add_option("--controller", opts.controller,
                  "use a running faultline-controller (host:port) instead of the embedded one")
      ->envname("FAULTLINE_CONTROLLER");
  cmd->add_flag("--queue", opts.queue,
                "with --controller: wait for a run that holds one of the targets to end, "
                "instead of being refused");
  cmd->add_option("--var", vars, "override one of the experiment's vars: name=value (repeatable)");
  cmd->add_option("--otlp-listen", opts.otlp_listen,
                  "embedded controller: host:port of the OTLP/gRPC trace receiver, started when "
                  "the experiment reads trace SLIs");
  cmd->add_option("--otlp-export", opts.otlp_export,
                  "embedded controller: send each fault's window as a span to this OTLP/gRPC "
                  "receiver (host:port), so tracing UIs show when faults were active");
  cmd->add_option("--seed", seed, "seed for random target selection (reproduces a placement)")
      ->check(CLI::Range(int64_t{0}, int64_t{UINT32_MAX}));
}

// The more serious of two exit codes: invalid/infra (3) > aborted (2) > failed (1) > passed (0).
int worse(int a, int b) {
  return std::max(a, b);
}

int run_files_in_order(const std::vector<std::string>& files, cli::RunOptions opts,
                       const std::string& junit, const std::string& html, const std::string& json) {
  if (!json.empty() && files.size() > 1) {
    std::fprintf(stderr, "faultline: --json writes one run's journal; use faultline journal\n");
    return kExitInvalidOrInfra;
  }
  int code = kExitPassed;
  std::vector<v1::Run> records;
  experiments::ReportSpec asked;  // report paths in the file, used when no flag is given
  for (size_t i = 0; i < files.size(); ++i) {
    opts.file = files[i];
    if (files.size() > 1 && !opts.plan_only)
      std::printf("%s=== %s (%zu of %zu)\n", i ? "\n" : "", files[i].c_str(), i + 1, files.size());
    v1::Run record;
    experiments::ReportSpec report;
    int c = cli::run_experiment(opts, &record, &report);
    std::fflush(stdout);
    code = worse(code, c);
    if (i == 0) asked = report;
    if (record.has_summary()) records.push_back(std::move(record));
    // Ctrl-C stops the whole suite, not just the experiment it interrupted.
    if (!records.empty() && cli::interrupted_by_signal(records.back())) break;
  }
  if (opts.plan_only || records.empty()) return code;
  std::string j = !junit.empty() ? junit : files.size() == 1 ? asked.junit : "";
  std::string h = !html.empty() ? html : files.size() == 1 ? asked.html : "";
  std::string js = !json.empty() ? json : files.size() == 1 ? asked.json : "";
  if (!cli::write_reports(records, j, h, js)) code = worse(code, kExitInvalidOrInfra);
  return code;
}

int validate(const std::vector<std::string>& files,
             const std::map<std::string, std::string>& vars) {
  int problems = 0;
  experiments::LoadOptions options;
  options.vars = vars;
  options.read_process_environment = true;
  for (const auto& f : files) {
    auto loaded = experiments::load_experiment_file(f, options);
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
    problems += static_cast<int>(loaded.diagnostics.size());
    if (loaded.ok())
      std::printf("%s: ok (%s)\n", f.c_str(), loaded.experiment->metadata.name.c_str());
  }
  return problems == 0 ? kExitPassed : kExitInvalidOrInfra;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"faultline: chaos experiments with auto-abort and nothing left behind"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (logs go to stderr)");
  app.set_version_flag("--version", FAULTLINE_VERSION);
  // How to reach a controller (--controller): mutual TLS and a bearer token, for every
  // subcommand that talks to one.
  cli::ClientSecurity security;
  std::string tls_dir, token_file;
  app.add_option("--tls-dir", tls_dir,
                 "with --controller: ca.crt, cli.crt and cli.key made by scripts/gen-certs.sh")
      ->envname("FAULTLINE_TLS_DIR");
  app.add_option("--tls-ca", security.transport.ca_file, "CA the controller's certificate is from");
  app.add_option("--tls-cert", security.transport.cert_file, "our client certificate");
  app.add_option("--tls-key", security.transport.key_file, "our client key");
  app.add_option("--tls-server-name", security.transport.server_name,
                 "name in the controller's certificate, when it differs from the address");
  app.add_flag("--insecure", security.transport.insecure,
               "plaintext to the controller (only for one started with --insecure)")
      ->envname("FAULTLINE_INSECURE");
  app.add_option("--token-file", token_file, "file holding the API token")
      ->envname("FAULTLINE_TOKEN_FILE");
  app.fallthrough();

  cli::RunOptions run_opts;
  std::vector<std::string> raw_vars;
  int64_t seed = -1;
  std::vector<std::string> run_files;
  std::string junit_out, html_out, json_out;
  auto* run = app.add_subcommand("run", "run experiments and print what happened");
  add_run_options(run, run_files, run_opts, raw_vars, seed);
  run->add_option("--junit", junit_out, "write a JUnit XML report (one suite per experiment)");
  run->add_option("--html", html_out, "write a self-contained HTML report");
  run->add_option("--json", json_out, "write the run's journal as JSON (one run only)");

  auto* plan = app.add_subcommand(
      "plan", "show where and when each fault would run, without running anything");
  add_run_options(plan, run_files, run_opts, raw_vars, seed);

  std::vector<std::string> validate_files;
  auto* val = app.add_subcommand("validate", "check experiment files without running them");
  val->add_option("files", validate_files, "experiment YAML files")->required();
  val->add_option("--var", raw_vars, "override one of the experiments' vars: name=value");

  std::vector<std::string> exec_argv;
  auto* exec = app.add_subcommand(
      "exec", "run a target under faultline's control, so clock_skew can reach it");
  exec->add_option("command", exec_argv, "the command and its arguments (after --)")->required();
  bool exec_all_clocks = false;
  exec->add_flag("--all-clocks", exec_all_clocks,
                 "also put the monotonic and boottime clocks under faultline's control (a skew "
                 "then shifts every clock)");

  std::string schema_format = "json";
  auto* schema = app.add_subcommand(
      "schema", "print the experiment format: JSON Schema for editors, or the Markdown reference");
  schema->add_option("--format", schema_format, "json | markdown")
      ->check(CLI::IsMember({"json", "markdown"}));

  std::string abort_id, abort_controller, abort_reason;
  auto* abrt = app.add_subcommand(
      "abort", "abort a run: revert every fault, run rollbacks, end it ABORTED; waits until done");
  abrt->add_option("run", abort_id, "run id (printed when the run started)")->required();
  abrt->add_option("--controller", abort_controller,
                   "the faultline-controller running it (host:port); without it, an embedded "
                   "`faultline run` on this machine")
      ->envname("FAULTLINE_CONTROLLER");
  abrt->add_option("--reason", abort_reason, "why, for the journal");

  std::string halt_controller, halt_reason;
  auto* halt = app.add_subcommand(
      "halt",
      "halt the fleet: abort every run, revert every fault on every node, refuse new runs and "
      "schedule fires until an admin runs faultline unhalt (operator)");
  halt->add_option("--controller", halt_controller, "the faultline-controller (host:port)")
      ->envname("FAULTLINE_CONTROLLER");
  halt->add_option("--reason", halt_reason, "why: shown to everyone refused, and audited")
      ->required();
  std::string unhalt_controller;
  auto* unhalt =
      app.add_subcommand("unhalt", "lift the fleet's halt: runs may start again (admin)");
  unhalt->add_option("--controller", unhalt_controller, "the faultline-controller (host:port)")
      ->envname("FAULTLINE_CONTROLLER");

  std::string proxy_host = "127.0.0.1", proxy_config;
  int proxy_port = 8474;
  auto* proxy_cmd = app.add_subcommand(
      "proxy", "the TCP fault proxy (no privileges needed), driven through Toxiproxy's HTTP API");
  proxy_cmd->add_option("--host", proxy_host, "address the API listens on (127.0.0.1)");
  proxy_cmd->add_option("--port", proxy_port, "the API's port (8474, Toxiproxy's)")
      ->check(CLI::Range(0, 65535));
  proxy_cmd->add_option("--config", proxy_config,
                        "JSON array of proxies to create at start (as Toxiproxy's /populate)");

  std::string gameday_file;
  bool gameday_yes = false;
  auto* gameday = app.add_subcommand(
      "gameday", "run a game day: its experiments in order, with manual gates, one report");
  gameday->add_option("file", gameday_file, "game-day YAML file (kind: GameDay)")->required();
  gameday->add_flag("--yes", gameday_yes, "pass every manual gate (a rehearsal)");
  gameday
      ->add_option("--controller", run_opts.controller,
                   "run on this faultline-controller instead of the embedded one")
      ->envname("FAULTLINE_CONTROLLER");
  gameday->add_option("--var", raw_vars, "override the experiments' vars: name=value");
  gameday->add_option("--junit", junit_out, "write the day's JUnit XML report");
  gameday->add_option("--html", html_out, "write the day's HTML report");

  std::string journal_id, query_controller;
  auto* journal = app.add_subcommand("journal", "print a run's journal as JSON");
  journal->add_option("run", journal_id, "run id")->required();
  journal
      ->add_option("--controller", query_controller,
                   "ask this faultline-controller; without it, runs made on this machine")
      ->envname("FAULTLINE_CONTROLLER");
  int runs_limit = 20;
  auto* runs = app.add_subcommand("runs", "list past and running runs, newest first");
  runs->add_option("--controller", query_controller,
                   "ask this faultline-controller; without it, runs made on this machine")
      ->envname("FAULTLINE_CONTROLLER");
  runs->add_option("--limit", runs_limit, "at most this many")->check(CLI::PositiveNumber);
  std::string runs_page;
  runs->add_option("--page-token", runs_page,
                   "continue after the last page (the token `runs` printed under it)");
  std::vector<std::string> report_ids;
  auto* report = app.add_subcommand("report", "render stored runs as JUnit XML and/or HTML");
  report->add_option("runs", report_ids, "run ids (several make one combined report)")->required();
  report
      ->add_option("--controller", query_controller,
                   "ask this faultline-controller; without it, runs made on this machine")
      ->envname("FAULTLINE_CONTROLLER");
  report->add_option("--junit", junit_out, "JUnit XML file to write");
  report->add_option("--html", html_out, "HTML file to write");

  std::string injectors_controller, disconnect_node;
  bool injectors_all = false;
  auto* inj = app.add_subcommand("injectors", "list the injectors connected to a controller");
  inj->add_option("--controller", injectors_controller, "controller address host:port")
      ->required()
      ->envname("FAULTLINE_CONTROLLER");
  inj->add_option("--disconnect", disconnect_node,
                  "admin: drop this node's connection (its faults revert by their leases)");
  inj->add_flag("--all", injectors_all,
                "also nodes that registered before and are not connected now (disconnected, "
                "refused), with when they were last heard from");

  std::string audit_file = default_audit_log_path();
  size_t audit_tail = 0;
  auto* audit = app.add_subcommand("audit", "check or print the hash-chained audit trail");
  audit->require_subcommand(1);
  auto* audit_verify = audit->add_subcommand(
      "verify", "check that no entry was edited, deleted or reordered (exit 1 names the entry)");
  audit_verify->add_option("file", audit_file, "audit log (default: <state dir>/audit.log)");
  auto* audit_show = audit->add_subcommand("show", "print entries as aligned lines");
  audit_show->add_option("file", audit_file, "audit log (default: <state dir>/audit.log)");
  audit_show->add_option("--tail", audit_tail, "only the last N entries");

  std::string token_controller, token_name, token_role = "viewer";
  auto* token = app.add_subcommand("token", "manage API tokens on a controller (admin)");
  token->require_subcommand(1);
  token->add_option("--controller", token_controller, "controller address host:port")
      ->required()
      ->envname("FAULTLINE_CONTROLLER");
  auto* token_create = token->add_subcommand("create", "make a token; prints its secret once");
  token_create->add_option("name", token_name, "who or what the token is for")->required();
  token_create->add_option("--role", token_role, "viewer | operator | admin")
      ->check(CLI::IsMember({"viewer", "operator", "admin"}));
  auto* token_revoke = token->add_subcommand("revoke", "revoke a token made through the API");
  token_revoke->add_option("name", token_name, "the token's name")->required();
  token->add_subcommand("list", "list tokens (names and roles, never secrets)");

  std::string schedule_controller;
  cli::ScheduleAddOptions schedule_opts;
  std::vector<std::string> schedule_vars;
  auto* sched = app.add_subcommand("schedule", "experiments a controller runs on a cron schedule");
  sched->require_subcommand(1);
  sched->add_option("--controller", schedule_controller, "controller address host:port")
      ->envname("FAULTLINE_CONTROLLER")
      ->required();
  auto* sched_add = sched->add_subcommand("add", "run an experiment file on a schedule (operator)");
  sched_add->add_option("name", schedule_opts.name, "the schedule's name")->required();
  sched_add->add_option("file", schedule_opts.file, "experiment YAML file")->required();
  sched_add
      ->add_option("--cron", schedule_opts.cron,
                   "\"min hour day-of-month month day-of-week\", 6 fields with seconds first, "
                   "or @hourly/@daily/@weekly/@monthly/@yearly")
      ->required();
  sched_add->add_option("--tz", schedule_opts.time_zone,
                        "IANA time zone the expression is read in (default UTC)");
  sched_add
      ->add_option("--overlap", schedule_opts.overlap,
                   "when a run still holds a target at a fire: skip (default) or queue")
      ->check(CLI::IsMember({"skip", "queue"}));
  sched_add->add_option("--var", schedule_vars,
                        "override one of the experiment's vars: name=value (repeatable)");
  sched->add_subcommand("list", "schedules with their next and last fire");
  std::string schedule_name;
  auto* sched_pause = sched->add_subcommand("pause", "stop a schedule firing until resumed");
  sched_pause->add_option("name", schedule_name, "the schedule's name")->required();
  auto* sched_resume = sched->add_subcommand("resume", "fire a paused schedule again from now");
  sched_resume->add_option("name", schedule_name, "the schedule's name")->required();
  auto* sched_rm = sched->add_subcommand("rm", "remove a schedule (its runs stay)");
  sched_rm->add_option("name", schedule_name, "the schedule's name")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faultline: %s (see faultline --help)\n", e.what());
    return kExitInvalidOrInfra;
  }
  init_logging(log_level);
  if (!tls_dir.empty() && security.transport.cert_file.empty())
    security.transport.use_dir(tls_dir, "cli");
  if (!token_file.empty()) {
    auto t = cli::read_token_file(token_file);
    if (!t) {
      std::fprintf(stderr, "faultline: %s\n", t.error().message.c_str());
      return kExitInvalidOrInfra;
    }
    security.token = *t;
  } else if (const char* env = std::getenv("FAULTLINE_TOKEN")) {
    security.token = env;
  }
  cli::set_client_security(security);

  if (!parse_vars(raw_vars, run_opts.vars)) return kExitInvalidOrInfra;
  if (seed >= 0) run_opts.seed = static_cast<uint32_t>(seed);
  if (*run || *plan) {
    if (!run_opts.controller.empty() && !run_opts.otlp_export.empty()) {
      std::fprintf(stderr,
                   "faultline: --otlp-export applies to the embedded controller; with "
                   "--controller, start faultline-controller with --otlp-export\n");
      return kExitInvalidOrInfra;
    }
    run_opts.plan_only = plan->parsed();
    return run_files_in_order(run_files, run_opts, junit_out, html_out, json_out);
  }
  if (*gameday) return cli::run_gameday(gameday_file, run_opts, gameday_yes, junit_out, html_out);
  if (*journal) return cli::print_journal(journal_id, query_controller);
  if (*runs) return cli::list_runs(query_controller, runs_limit, runs_page);
  if (*report) return cli::render_reports(report_ids, query_controller, junit_out, html_out);
  if (*val) return validate(validate_files, run_opts.vars);
  if (*exec) return cli::exec_target(exec_argv, exec_all_clocks);
  if (*schema) {
    if (schema_format == "markdown")
      std::printf("%s", experiments::reference_markdown().c_str());
    else
      std::printf("%s\n", experiments::json_schema().c_str());
    return kExitPassed;
  }
  if (*inj)
    return disconnect_node.empty()
               ? cli::list_injectors(injectors_controller, injectors_all)
               : cli::disconnect_injector(injectors_controller, disconnect_node);
  if (*audit)
    return *audit_verify ? cli::verify_audit(audit_file) : cli::show_audit(audit_file, audit_tail);
  if (*token) {
    if (*token_create) return cli::create_token(token_controller, token_name, token_role);
    if (*token_revoke) return cli::revoke_token(token_controller, token_name);
    return cli::list_tokens(token_controller);
  }
  if (*sched) {
    if (*sched_add) {
      if (!parse_vars(schedule_vars, schedule_opts.vars)) return kExitInvalidOrInfra;
      return cli::add_schedule(schedule_controller, schedule_opts);
    }
    if (*sched_pause) return cli::pause_schedule(schedule_controller, schedule_name);
    if (*sched_resume) return cli::resume_schedule(schedule_controller, schedule_name);
    if (*sched_rm) return cli::remove_schedule(schedule_controller, schedule_name);
    return cli::list_schedules(schedule_controller);
  }
  if (*abrt) return cli::abort_run(abort_id, abort_controller, abort_reason);
  if (*halt) return cli::halt_fleet(halt_controller, halt_reason);
  if (*unhalt) return cli::unhalt_fleet(unhalt_controller);
  if (*proxy_cmd) return cli::run_proxy(proxy_host, proxy_port, proxy_config);
  return kExitInvalidOrInfra;
}
