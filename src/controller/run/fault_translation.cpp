#include "controller/run/fault_translation.h"

namespace faultline::controller {
namespace {

v1::ProcessSelector to_wire(const experiments::ProcessSelector& s) {
  v1::ProcessSelector out;
  out.set_name(s.name);
  out.set_pidfile(s.pidfile);
  out.set_cmdline_regex(s.cmdline);
  out.set_pid(s.pid);
  out.set_cgroup(s.cgroup);
  out.set_pid_namespace(s.pid_namespace);
  out.set_skip_if_empty(s.skip_if_empty);
  return out;
}

v1::ProcessSelection to_wire(const experiments::Selection& s) {
  using Mode = experiments::Selection::Mode;
  v1::ProcessSelection out;
  switch (s.mode) {
    case Mode::kOne:
      out.set_mode(v1::PROCESS_MODE_ONE);
      break;
    case Mode::kAll:
      out.set_mode(v1::PROCESS_MODE_ALL);
      break;
    case Mode::kCount:
      out.set_mode(v1::PROCESS_MODE_COUNT);
      break;
    case Mode::kPercent:
      out.set_mode(v1::PROCESS_MODE_PERCENT);
      break;
  }
  out.set_count(static_cast<uint32_t>(s.count));
  out.set_fraction(s.percent);
  return out;
}

v1::NetworkScope to_wire(const std::optional<experiments::NetworkScope>& scope) {
  v1::NetworkScope out;
  if (!scope) return out;
  out.set_netns(scope->netns);
  out.set_interface(scope->interface);
  for (const auto& d : scope->destinations) out.add_destinations(d);
  for (int p : scope->ports) out.add_ports(static_cast<uint32_t>(p));
  out.set_protocol(scope->protocol);
  out.set_direction(scope->direction);
  return out;
}

uint64_t micros(Duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}
uint32_t millis(Duration d) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

template <typename Msg, typename Params>
void mangle(Msg* m, const v1::NetworkScope& scope, const Params& p) {
  *m->mutable_scope() = scope;
  m->set_fraction(p.percent);
  m->set_correlation(p.correlation);
  m->set_backend(p.backend);
}

}  // namespace

v1::ProcessSelector selector_to_wire(const experiments::ProcessSelector& selector) {
  return to_wire(selector);
}

bool has_wire_form(const std::string& kind) {
  const auto* field = v1::FaultSpec::descriptor()->FindFieldByName(kind);
  return field && field->containing_oneof();
}

v1::FaultSpec to_wire(const experiments::FaultSpec& fault, const experiments::TargetSpec& target) {
  v1::FaultSpec out;
  experiments::ProcessSelector selector = target.process.value_or(experiments::ProcessSelector{});
  v1::NetworkScope scope = to_wire(target.network);
  std::string path = target.paths.empty() ? "" : target.paths.front();
  namespace ex = experiments;
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, experiments::ProcessKillParams>) {
          auto* k = out.mutable_process_kill();
          *k->mutable_selector() = to_wire(selector);
          k->set_signal(p.signal);
          k->set_interval_ms(millis(p.interval));
          *k->mutable_select() = to_wire(p.select);
        } else if constexpr (std::is_same_v<T, experiments::ProcessPauseParams>) {
          auto* k = out.mutable_process_pause();
          *k->mutable_selector() = to_wire(selector);
          *k->mutable_select() = to_wire(p.select);
          k->set_method(p.method);
        } else if constexpr (std::is_same_v<T, ex::NetworkDelayParams>) {
          auto* m = out.mutable_network_delay();
          *m->mutable_scope() = scope;
          m->set_delay_us(micros(p.delay));
          m->set_jitter_us(micros(p.jitter));
          m->set_correlation(p.correlation);
          m->set_distribution(p.distribution);
          m->set_backend(p.backend);
        } else if constexpr (std::is_same_v<T, ex::NetworkLossParams>) {
          auto* m = out.mutable_network_loss();
          *m->mutable_scope() = scope;
          m->set_fraction(p.percent);
          m->set_correlation(p.correlation);
          m->set_model(p.model);
          m->set_p(p.p);
          m->set_r(p.r);
          m->set_loss_bad(p.loss_bad);
          m->set_loss_good(p.loss_good);
          m->set_backend(p.backend);
        } else if constexpr (std::is_same_v<T, ex::NetworkDuplicateParams>) {
          mangle(out.mutable_network_duplicate(), scope, p);
        } else if constexpr (std::is_same_v<T, ex::NetworkCorruptParams>) {
          mangle(out.mutable_network_corrupt(), scope, p);
        } else if constexpr (std::is_same_v<T, ex::NetworkReorderParams>) {
          auto* m = out.mutable_network_reorder();
          mangle(m, scope, p);
          m->set_delay_us(micros(p.delay));
          m->set_gap(static_cast<uint32_t>(p.gap));
        } else if constexpr (std::is_same_v<T, ex::NetworkPartitionParams>) {
          auto* m = out.mutable_network_partition();
          *m->mutable_scope() = scope;
          m->set_direction(p.direction);
        } else if constexpr (std::is_same_v<T, ex::NetworkBandwidthParams>) {
          auto* m = out.mutable_network_bandwidth();
          *m->mutable_scope() = scope;
          m->set_rate_bps(p.rate_bps);
          m->set_burst_bytes(p.burst_bytes);
          m->set_limit_bytes(p.limit_bytes);
          m->set_backend(p.backend);
        } else if constexpr (std::is_same_v<T, ex::InterfaceDownParams>) {
          *out.mutable_interface_down()->mutable_scope() = scope;
        } else if constexpr (std::is_same_v<T, ex::LinkFlapParams>) {
          auto* m = out.mutable_link_flap();
          *m->mutable_scope() = scope;
          m->set_flap_down_ms(millis(p.down));
          m->set_flap_up_ms(millis(p.up));
        } else if constexpr (std::is_same_v<T, ex::CpuStressParams>) {
          auto* m = out.mutable_cpu_stress();
          m->set_workers(static_cast<uint32_t>(p.workers));
          m->set_load(p.load);
          for (int c : p.cpus) m->add_cpus(static_cast<uint32_t>(c));
        } else if constexpr (std::is_same_v<T, ex::MemoryPressureParams>) {
          auto* m = out.mutable_memory_pressure();
          m->set_size_bytes(p.size_bytes);
          m->set_fraction(p.percent);
          m->set_ramp_ms(millis(p.ramp));
          m->set_floor(p.floor);
        } else if constexpr (std::is_same_v<T, ex::DiskFillParams>) {
          auto* m = out.mutable_disk_fill();
          m->set_path(path);
          m->set_size_bytes(p.size_bytes);
          m->set_fraction(p.percent);
          m->set_reserve_bytes(p.reserve_bytes);
        } else if constexpr (std::is_same_v<T, ex::IoFaultParams>) {
          auto* m = out.mutable_io_fault();
          for (const auto& tp : target.paths) m->add_paths(tp);
          m->set_latency_us(micros(p.latency));
          m->set_error(p.error);
          m->set_fraction(p.fraction);
          m->set_operations(p.operations);
        } else if constexpr (std::is_same_v<T, ex::ClockSkewParams>) {
          auto* m = out.mutable_clock_skew();
          *m->mutable_selector() = to_wire(selector);
          m->set_offset_ms(std::chrono::duration_cast<std::chrono::milliseconds>(p.offset).count());
          m->set_clocks(p.clocks);
        }
      },
      fault.params);
  return out;
}

}  // namespace faultline::controller
