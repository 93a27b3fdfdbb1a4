// The query APIs of tracing backends users already run (Zipkin v2, Jaeger query): how to ask
// one for a service's spans in a time range, and how to read its answer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "experiments/model.h"

namespace faultline::controller {

struct PolledSpan {
  std::string key;  // trace id + span id: the same span seen by two polls counts once
  std::string name;
  bool error = false;  // error status, error tag, or HTTP status >= 500
  uint64_t micros = 0;
  int64_t end_unix_us = 0;
};

class SpanQueryApi {
 public:
  virtual ~SpanQueryApi() = default;
  // Path and query string (after the base URL's path) for spans of `service` that started in
  // [from_us, to_us] (unix microseconds).
  virtual std::string request_path(const std::string& service, int64_t from_us, int64_t to_us,
                                   int limit) const = 0;
  // The spans of `service` in a response body (traces hold other services' spans too).
  virtual Result<std::vector<PolledSpan>> parse(const std::string& body,
                                                const std::string& service) const = 0;
};

std::unique_ptr<SpanQueryApi> make_zipkin_query();
std::unique_ptr<SpanQueryApi> make_jaeger_query();

// True for an HTTP status code attribute (old or new semantic convention) of 500 or more.
bool is_server_error_status(const std::string& key, int64_t status);
// Percent-encodes a query parameter value.
std::string url_encode(const std::string& value);

}  // namespace faultline::controller
