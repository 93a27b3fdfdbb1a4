#include "controller/watch/http_probe.h"

#include <httplib.h>

#include <algorithm>
#include <string>

#include "common/time_util.h"

namespace faultline::controller {
namespace {

// httplib's own names ("Read", "Connection") say little to someone reading a run.
std::string describe(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "connection failed (refused or unreachable)";
    case httplib::Error::ConnectionTimeout:
      return "connect timed out";
    case httplib::Error::Read:
      return "no response (connection closed or read timed out)";
    case httplib::Error::Write:
      return "request could not be sent";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "TLS certificate not trusted";
    default:
      return "request failed: " + httplib::to_string(e);
  }
}

}  // namespace

HttpProbe::HttpProbe(std::string name, experiments::HttpProbeSpec spec)
    : name_(std::move(name)), spec_(std::move(spec)) {
  const std::string& url = spec_.url;
  size_t scheme_end = url.find("://");
  size_t path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  origin_ = path_start == std::string::npos ? url : url.substr(0, path_start);
  path_ = path_start == std::string::npos ? "/" : url.substr(path_start);
}

ProbeOutcome HttpProbe::run() {
  ProbeOutcome out;
  auto start = MonoClock::now();
  httplib::Client client(origin_);
  auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(spec_.timeout);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  httplib::Result res = [&] {
    const std::string& m = spec_.method;
    if (m == "HEAD") return client.Head(path_.c_str());
    if (m == "POST") return client.Post(path_.c_str());
    if (m == "PUT") return client.Put(path_.c_str());
    if (m == "DELETE") return client.Delete(path_.c_str());
    return client.Get(path_.c_str());
  }();
  out.latency = MonoClock::now() - start;
  if (!res) {
    out.ok = false;
    out.observed = describe(res.error());
    return out;
  }
  int status = res->status;
  out.ok = std::find(spec_.expect_status.begin(), spec_.expect_status.end(), status) !=
           spec_.expect_status.end();
  out.observed = "HTTP " + std::to_string(status);
  return out;
}

}  // namespace faultline::controller
