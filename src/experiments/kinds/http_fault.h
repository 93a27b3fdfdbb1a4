// http_fault: HTTP/1.1 requests in a network scope get aborted, delayed, answered for the
// server, or reset, by the first rule they match, for a share of them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct HttpFaultRule {
  std::vector<std::string> methods;
  std::string path_kind = "any";  // any | exact | prefix | glob | regex
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  double percent = 1;
  std::string action;  // abort | delay | replace | reset
  int status = 0;
  std::string body;
  bool has_body = false;
  std::vector<std::pair<std::string, std::string>> response_headers;
  Duration delay{}, jitter{};
};

struct HttpFaultParams : KindParams {
  std::vector<HttpFaultRule> rules;
  std::string existing_connections;  // retire | leave
  Duration drain{};
  std::string tls_certificate, tls_key;  // paths on the node; both or neither
};

}  // namespace faultline::experiments
