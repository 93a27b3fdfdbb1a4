#include "controller/watch/http_probe.h"
#include "controller/watch/probe.h"

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

}  // namespace

std::unique_ptr<Probe> make_probe(const experiments::ProbeSpec& spec) {
  return std::visit(
      [&](const auto& kind) -> std::unique_ptr<Probe> {
        using T = std::decay_t<decltype(kind)>;
        if constexpr (std::is_same_v<T, experiments::HttpProbeSpec>) {
          return std::make_unique<HttpProbe>(spec.name, kind);
        } else {
          // process_restarted needs what the run touched; the run engine builds it. The
          // schema allows it only in recovery checks, so this is a bug if it is ever run.
          return std::make_unique<FailingProbe>(spec.name, "process_restarted is a recovery check");
        }
      },
      spec.kind);
}

}  // namespace faultline::controller
