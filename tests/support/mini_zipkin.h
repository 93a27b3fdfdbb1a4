// A small stand-in for a Zipkin server (none is packaged for Debian): it keeps the spans that
// real Zipkin clients POST to /api/v2/spans and answers GET /api/v2/traces the way Zipkin's v2
// query API does (filtered by serviceName, endTs and lookback, grouped by traceId), so the
// JSON the poller reads is the JSON the real OpenTelemetry Zipkin exporter wrote.
#pragma once

#include <httplib.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace faultline::testing {

class MiniZipkin {
 public:
  MiniZipkin();
  ~MiniZipkin();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  size_t spans_stored() const;
  size_t queries() const;

 private:
  httplib::Server server_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> spans_;  // one JSON object per span, as posted
  size_t queries_ = 0;
  std::thread thread_;
};

}  // namespace faultline::testing
