#include "controller/watch/http_probe.h"
#include "controller/watch/probe.h"

namespace faultline::controller {

std::unique_ptr<Probe> make_probe(const experiments::ProbeSpec& spec) {
  return std::visit(
      [&](const auto& kind) -> std::unique_ptr<Probe> {
        using T = std::decay_t<decltype(kind)>;
        if constexpr (std::is_same_v<T, experiments::HttpProbeSpec>)
          return std::make_unique<HttpProbe>(spec.name, kind);
      },
      spec.kind);
}

}  // namespace faultline::controller
