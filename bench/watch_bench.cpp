// Watcher benchmarks:
//   1. OTLP ingest: ExportTraceServiceRequest bytes decoded and added to the SLI windows, on
//      one core (spans/s), the work the receiver does per request after gRPC hands it over;
//   2. trace SLI detection latency at 1k spans/s: from the first bad span to the breach, with
//      the guardrail polled every 100 ms as in an experiment;
//   3. breach to every fault reverted, for 1 and 50 active faults (real process_pause faults
//      on real child processes, through the run engine and the in-process injector link).
// Usage: watch_bench [rounds]   (results as Markdown on stdout)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "controller/controller.h"
#include "controller/link/in_process_link.h"
#include "controller/watch/traces/otlp_receiver.h"
#include "controller/watch/traces/sli_verdict.h"
#include "experiments/loader.h"
#include "injector/command_handler.h"
#include "injector/fault_engine.h"
#include "support/child_process.h"

using namespace faultline;
using namespace std::chrono_literals;
namespace otlp = opentelemetry::proto;

namespace {

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::string request_bytes(int spans) {
  otlp::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("checkout");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("bench");
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(16, static_cast<char>(i)));
    s->set_span_id(std::string(8, static_cast<char>(i)));
    s->set_name(i % 2 ? "POST /pay" : "GET /items");
    s->set_kind(otlp::trace::v1::Span::SPAN_KIND_SERVER);
    s->set_start_time_unix_nano(1'700'000'000'000'000'000ULL + i * 1000ULL);
    s->set_end_time_unix_nano(1'700'000'000'000'000'000ULL + i * 1000ULL + 1000ULL * (i % 97 + 1));
    auto* a = s->add_attributes();
    a->set_key("http.response.status_code");
    a->mutable_value()->set_int_value(i % 50 == 0 ? 500 : 200);
    if (i % 50 == 0) s->mutable_status()->set_code(otlp::trace::v1::Status::STATUS_CODE_ERROR);
  }
  return req.SerializeAsString();
}

void bench_ingest() {
  controller::SliStore store;
  store.watch("checkout", "", 30s);
  store.watch("checkout", "POST /pay", 30s);
  const int kPerRequest = 512;
  std::string bytes = request_bytes(kPerRequest);
  otlp::collector::trace::v1::ExportTraceServiceRequest req;
  auto start = std::chrono::steady_clock::now();
  int requests = 0;
  while (std::chrono::steady_clock::now() - start < 3s) {
    for (int i = 0; i < 100; ++i) {
      req.ParseFromString(bytes);
      controller::ingest_export(store, req);
    }
    requests += 100;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("| OTLP ingest, %d spans per request, decode + SLI windows | %.0f spans/s |\n",
              kPerRequest, requests * kPerRequest / secs);
}

void bench_detection(int rounds) {
  std::vector<double> ms;
  for (int r = 0; r < rounds; ++r) {
    controller::SliStore store;
    experiments::SliCondition c;
    c.service = "checkout";
    c.error_rate_above = 0.05;
    c.window = 10s;
    store.watch(c.service, "", c.window);
    std::string name = "GET /";
    // 10 s of healthy traffic at 1k spans/s (10 spans every 10 ms), then every span fails.
    std::vector<controller::SpanRecord> good(10, {&name, false, 2000}),
        bad(10, {&name, true, 2000});
    MonoTime t = MonoClock::now();
    for (int i = 0; i < 1000; ++i, t += 10ms) store.ingest(c.service, good.data(), 10, t);
    MonoTime first_bad = t;
    MonoTime next_poll = t + std::chrono::milliseconds(r * 7 % 100);  // poll phase varies
    while (true) {
      store.ingest(c.service, bad.data(), 10, t);
      t += 10ms;
      if (t >= next_poll) {
        next_poll += 100ms;
        if (controller::evaluate_sli(c, store.stats(c.service, "", c.window, t)).breached) break;
      }
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t - first_bad).count());
  }
  std::printf(
      "| trace SLI detection, 1k spans/s, all failing after 10 s healthy, 10 s window, "
      "5%% threshold, polled every 100 ms | p50 %.0f ms, p99 %.0f ms |\n",
      pct(ms, 0.5), pct(ms, 0.99));
}

void bench_abort(int faults, int rounds) {
  using testing::ChildProcess;
  std::vector<double> ms;
  for (int r = 0; r < rounds; ++r) {
    testing::TempDir dir;
    std::vector<std::unique_ptr<ChildProcess>> children;
    std::string yaml =
        "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: abort-bench}\n"
        "targets:\n";
    for (int i = 0; i < faults; ++i) {
      children.push_back(
          std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sleep", "600"}));
      yaml += "  t" + std::to_string(i) +
              ": {process: {pid: " + std::to_string(children.back()->pid()) + "}}\n";
    }
    yaml += "faults:\n  - name: all\n    parallel:\n";
    // A parallel block of every pause; the bench aborts once all are applied.
    for (int i = 0; i < faults; ++i)
      yaml += "      - {name: f" + std::to_string(i) + ", kind: process_pause, target: t" +
              std::to_string(i) + ", duration: 60s}\n";
    testing::write_file(dir.file("e.yaml"), yaml);
    auto loaded = experiments::load_experiment_file(dir.file("e.yaml"), {});
    if (!loaded.ok()) {
      for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
      std::exit(3);
    }
    auto engine = std::move(injector::start_engine(dir.file("ledger"))).value();
    controller::Controller ctl;
    controller::InjectorInfo info;
    info.node_name = "bench";
    info.capabilities = engine->capabilities();
    auto* e = engine.get();
    ctl.registry().add(std::make_shared<controller::InProcessInjectorLink>(
        info, [e](const v1::ControllerMessage& m) { return injector::handle_command(*e, m); }));
    auto run = ctl.submit(std::move(*loaded.experiment));
    if (!run.ok()) {
      std::fprintf(stderr, "%s\n", run.error().message.c_str());
      std::exit(3);
    }
    auto applied = [&] {
      int n = 0;
      for (const auto& ev : (*run)->journal().events())
        n += ev.type() == v1::EVENT_TYPE_FAULT_APPLIED;
      return n;
    };
    while (applied() < faults) std::this_thread::sleep_for(1ms);
    (*run)->abort("bench");
    (*run)->wait();
    for (const auto& ev : (*run)->journal().events())
      if (ev.type() == v1::EVENT_TYPE_ALL_REVERTED)
        ms.push_back(static_cast<double>(ev.since_abort_ms()));
  }
  std::printf(
      "| abort to every fault reverted, %d active process_pause faults | p50 %.0f ms, p99 %.0f ms "
      "|\n",
      faults, pct(ms, 0.5), pct(ms, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
  init_logging("error", false);
  std::printf("| What | Result |\n|---|---|\n");
  bench_ingest();
  bench_detection(rounds * 5);
  bench_abort(1, rounds);
  bench_abort(50, rounds);
  return 0;
}
