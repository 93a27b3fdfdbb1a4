#pragma once

#include <memory>

#include "controller/policy/destination_guard.h"

#include <regex>

#include "controller/watch/probe.h"

namespace faultline::controller {

// Request a URL; check the status, and where asked the body (regex or a JSON field) and the
// latency.
class HttpProbe : public Probe {
 public:
  // With `destinations`, each request goes to an address it checked and pinned.
  HttpProbe(std::string name, experiments::HttpProbeSpec spec,
            std::shared_ptr<const DestinationGuard> destinations = nullptr);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::HttpProbeSpec spec_;
  std::string origin_;  // scheme://host[:port]
  std::string path_;    // /path?query
  std::regex body_regex_;
  std::shared_ptr<const DestinationGuard> destinations_;
};

}  // namespace faultline::controller
