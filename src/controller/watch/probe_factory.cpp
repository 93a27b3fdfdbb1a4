#include "controller/watch/probe_factory.h"

#include <iterator>
#include <variant>

#include "common/time_util.h"
#include "controller/controller_metrics.h"
#include "controller/watch/command_probe.h"
#include "controller/watch/grpc_health_probe.h"
#include "controller/watch/http_probe.h"
#include "controller/watch/pod_endpoints_probe.h"
#include "controller/watch/process_alive_probe.h"
#include "controller/watch/prometheus_probe.h"
#include "controller/watch/tcp_probe.h"
#include "controller/watch/traces/traces_probe.h"

namespace faultline::controller {
namespace {

class FailingProbe : public Probe {
 public:
  FailingProbe(std::string name, std::string why) : name_(std::move(name)), why_(std::move(why)) {}
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override { return {false, why_, {}}; }

 private:
  std::string name_, why_;
};

// A failed attempt is retried at once, up to `retries` times: one lost packet is not an outage.
class RetryingProbe : public Probe {
 public:
  RetryingProbe(std::unique_ptr<Probe> inner, int retries)
      : inner_(std::move(inner)), retries_(retries) {}
  const std::string& name() const override { return inner_->name(); }
  ProbeOutcome run() override {
    ProbeOutcome o = inner_->run();
    Duration spent = o.latency;
    int attempt = 0;
    for (; !o.ok && attempt < retries_; ++attempt) {
      o = inner_->run();
      spent += o.latency;
    }
    if (attempt > 0)
      o.observed += " (after " + std::to_string(attempt) + (attempt == 1 ? " retry)" : " retries)");
    o.latency = spent;
    return o;
  }

 private:
  std::unique_ptr<Probe> inner_;
  int retries_;
};

// Every attempt (retries included) is timed into the probe latency histogram, by kind: the
// name is the experiment author's and would make the label set unbounded.
class MeteredProbe : public Probe {
 public:
  MeteredProbe(std::unique_ptr<Probe> inner, const char* kind)
      : inner_(std::move(inner)),
        seconds_(controller_metrics().probe_seconds.with({kind})),
        ok_(controller_metrics().probe_checks_total.with({kind, "ok"})),
        failed_(controller_metrics().probe_checks_total.with({kind, "failed"})) {}
  const std::string& name() const override { return inner_->name(); }
  ProbeOutcome run() override {
    MonoTime start = MonoClock::now();
    ProbeOutcome o = inner_->run();
    seconds_.observe(MonoClock::now() - start);
    (o.ok ? ok_ : failed_).inc();
    return o;
  }

 private:
  std::unique_ptr<Probe> inner_;
  metrics::Histogram& seconds_;
  metrics::Counter& ok_;
  metrics::Counter& failed_;
};

// The probe kinds as the experiment YAML names them, in ProbeKind's order.
const char* kind_name(const experiments::ProbeKind& kind) {
  static constexpr const char* kNames[] = {"http",
                                           "tcp",
                                           "grpc_health",
                                           "command",
                                           "process",
                                           "prometheus",
                                           "traces",
                                           "process_restarted",
                                           "container_restarted"};
  static_assert(std::size(kNames) == std::variant_size_v<experiments::ProbeKind>);
  return kNames[kind.index()];
}

// The probe once per pod of the target, at each pod's address.
std::unique_ptr<Probe> per_pod(const std::string& name, const experiments::PodEndpoint& pods,
                               const ProbeContext& ctx, PodEndpointsProbe::MakeOne make) {
  if (!ctx.pod_nodes_of || !ctx.container_of)
    return std::make_unique<FailingProbe>(
        name, "no injectors to ask for the pods of target \"" + pods.target + "\"");
  return std::make_unique<PodEndpointsProbe>(name, pods.target, pods.port,
                                             ctx.container_of(pods.target),
                                             ctx.pod_nodes_of(pods.target), std::move(make));
}

std::unique_ptr<Probe> build(const experiments::ProbeSpec& spec, const ProbeContext& ctx) {
  Duration timeout = spec.timing.timeout;
  return std::visit(
      [&](const auto& kind) -> std::unique_ptr<Probe> {
        using T = std::decay_t<decltype(kind)>;
        if constexpr (std::is_same_v<T, experiments::HttpProbeSpec>) {
          experiments::HttpProbeSpec h = kind;
          h.timeout = timeout;
          if (h.pods)
            return per_pod(spec.name, *h.pods, ctx, [name = spec.name, h](const std::string& at) {
              experiments::HttpProbeSpec one = h;
              one.url = "http://" + at + h.pods->path;
              return std::make_unique<HttpProbe>(name, std::move(one));
            });
          return std::make_unique<HttpProbe>(spec.name, std::move(h), ctx.destinations);
        } else if constexpr (std::is_same_v<T, experiments::TcpProbeSpec>) {
          if (kind.pods)
            return per_pod(spec.name, *kind.pods, ctx,
                           [name = spec.name, kind, timeout](const std::string& at) {
                             experiments::TcpProbeSpec one = kind;
                             one.address = at;
                             return std::make_unique<TcpProbe>(name, std::move(one), timeout);
                           });
          return std::make_unique<TcpProbe>(spec.name, kind, timeout, ctx.destinations);
        } else if constexpr (std::is_same_v<T, experiments::GrpcHealthProbeSpec>) {
          return std::make_unique<GrpcHealthProbe>(spec.name, kind, timeout, ctx.destinations);
        } else if constexpr (std::is_same_v<T, experiments::CommandProbeSpec>) {
          return std::make_unique<CommandProbe>(spec.name, kind, timeout, ctx.commands);
        } else if constexpr (std::is_same_v<T, experiments::PrometheusProbeSpec>) {
          return std::make_unique<PrometheusProbe>(spec.name, kind, timeout, ctx.destinations);
        } else if constexpr (std::is_same_v<T, experiments::SliCondition>) {
          if (kind.source.kind != experiments::SpanSource::Kind::kOtlp) {
            if (!ctx.polled)
              return std::make_unique<FailingProbe>(spec.name, "no span poller in this context");
            auto src = ctx.polled->source_for(kind);
            return std::make_unique<TracesProbe>(spec.name, kind, src.store, &src.poller);
          }
          if (!ctx.traces)
            return std::make_unique<FailingProbe>(spec.name,
                                                  "this controller has no OTLP trace receiver");
          return std::make_unique<TracesProbe>(spec.name, kind, *ctx.traces);
        } else if constexpr (std::is_same_v<T, experiments::ProcessAliveSpec>) {
          if (!ctx.nodes_of || !ctx.selector_of)
            return std::make_unique<FailingProbe>(spec.name, "no injectors to ask");
          return std::make_unique<ProcessAliveProbe>(spec.name, ctx.selector_of(kind.target),
                                                     ctx.nodes_of(kind.target));
        } else {
          // process_restarted and container_restarted need what the run touched; the run
          // engine builds them. The schema allows them only in recovery checks, so this is a
          // bug if it is ever run.
          return std::make_unique<FailingProbe>(
              spec.name, std::string(kind_name(spec.kind)) + " is a recovery check");
        }
      },
      spec.kind);
}

}  // namespace

std::unique_ptr<Probe> make_probe(const experiments::ProbeSpec& spec, const ProbeContext& ctx) {
  auto probe = std::make_unique<MeteredProbe>(build(spec, ctx), kind_name(spec.kind));
  if (spec.timing.retries > 0)
    return std::make_unique<RetryingProbe>(std::move(probe), spec.timing.retries);
  return probe;
}

}  // namespace faultline::controller
