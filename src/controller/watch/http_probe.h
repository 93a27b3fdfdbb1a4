#pragma once

#include "controller/watch/probe.h"

namespace faultline::controller {

// GET (or another method) a URL and compare the status with the expected set.
class HttpProbe : public Probe {
 public:
  HttpProbe(std::string name, experiments::HttpProbeSpec spec);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::HttpProbeSpec spec_;
  std::string origin_;  // scheme://host[:port]
  std::string path_;    // /path?query
};

}  // namespace faultline::controller
