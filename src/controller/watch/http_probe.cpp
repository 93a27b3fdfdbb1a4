#include "controller/watch/http_probe.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "common/time_util.h"
#include "controller/watch/http_url.h"
#include "controller/watch/pinned_destination.h"
#include "controller/watch/value_check.h"

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

HttpProbe::HttpProbe(std::string name, experiments::HttpProbeSpec spec,
                     std::shared_ptr<const DestinationGuard> destinations)
    : name_(std::move(name)), spec_(std::move(spec)), destinations_(std::move(destinations)) {
  HttpUrl url = split_http_url(spec_.url);
  origin_ = url.origin;
  path_ = url.path.empty() ? "/" : url.path;
  if (!spec_.body_regex.empty()) body_regex_ = std::regex(spec_.body_regex);
}

ProbeOutcome HttpProbe::run() {
  ProbeOutcome out;
  if (spec_.max_latency)
    out.threshold = std::chrono::duration<double, std::milli>(*spec_.max_latency).count();
  auto start = MonoClock::now();
  httplib::Client client(origin_);
  if (std::string why = pin_destination(client, origin_, destinations_.get()); !why.empty()) {
    out.ok = false;
    out.observed = why;
    return out;
  }
  auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(spec_.timeout);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  if (!spec_.ca_file.empty()) {
    client.set_ca_cert_path(spec_.ca_file.c_str());
    client.enable_server_certificate_verification(true);
  }
  httplib::Headers headers(spec_.headers.begin(), spec_.headers.end());
  std::string type = "application/octet-stream";
  if (auto it = spec_.headers.find("Content-Type"); it != spec_.headers.end()) type = it->second;
  httplib::Result res = [&] {
    const std::string& m = spec_.method;
    if (m == "HEAD") return client.Head(path_, headers);
    if (m == "POST") return client.Post(path_, headers, spec_.body, type);
    if (m == "PUT") return client.Put(path_, headers, spec_.body, type);
    if (m == "DELETE") return client.Delete(path_, headers);
    return client.Get(path_, headers);
  }();
  out.latency = MonoClock::now() - start;
  if (!res) {
    out.ok = false;
    out.observed = describe(res.error());
    return out;
  }
  int status = res->status;
  out.observed = "HTTP " + std::to_string(status);
  if (spec_.expect_status_range) {
    out.ok =
        status >= spec_.expect_status_range->first && status <= spec_.expect_status_range->second;
  } else {
    out.ok = std::find(spec_.expect_status.begin(), spec_.expect_status.end(), status) !=
             spec_.expect_status.end();
  }
  if (!out.ok) return out;
  if (!spec_.body_regex.empty() && !std::regex_search(res->body, body_regex_)) {
    out.ok = false;
    out.observed += ", body does not match /" + spec_.body_regex + "/";
    return out;
  }
  if (!spec_.json_path.empty()) {
    nlohmann::json doc = nlohmann::json::parse(res->body, nullptr, false);
    const nlohmann::json* field = doc.is_discarded() ? nullptr : json_at(doc, spec_.json_path);
    std::string why = doc.is_discarded() ? "body is not JSON"
                      : !field           ? spec_.json_path + " is missing"
                                         : check_value(spec_.json_check, *field);
    if (!why.empty()) {
      out.ok = false;
      out.observed += ", " + (field ? spec_.json_path + ": " : "") + why;
      return out;
    }
    out.observed += ", " + spec_.json_path + " = " + value_text(*field);
  }
  if (spec_.max_latency && out.latency > *spec_.max_latency) {
    out.ok = false;
    out.observed +=
        " in " +
        format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(out.latency)) +
        ", slower than " + format_duration(*spec_.max_latency);
  }
  return out;
}

}  // namespace faultline::controller
