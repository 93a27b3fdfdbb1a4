// A toxic: one fault on one direction of a proxy's connections, in Toxiproxy's terms (the
// `faultline proxy` API speaks Toxiproxy's, so its clients work unchanged). Each type is a row
// of the table in toxic.cpp: its attributes with their defaults; what it does to the bytes is
// in link_pump.cpp (and, for http_abort, request_watcher.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace faultline::proxy {

// "upstream": client -> server; "downstream": server -> client (Toxiproxy's default).
enum class Stream { kUpstream, kDownstream };

struct Toxic {
  std::string name;  // default "<type>_<stream>"
  std::string type;  // latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data,
                     // noop, http_abort
  Stream stream = Stream::kDownstream;
  // The chance that a connection gets it, drawn once per connection (for http_abort: once per
  // matching request).
  double toxicity = 1.0;
  // Every attribute of the type, defaults filled: whole numbers in one map, text in the other,
  // so the JSON carries each with the type it was declared with.
  std::map<std::string, int64_t> attributes;
  std::map<std::string, std::string> text_attributes;
  // Faultline's extension: the proxy removes the toxic this long after its last create or
  // update that named lease_ms, so a tool that dies does not leave its fault behind. 0: none.
  int64_t lease_ms = 0;

  int64_t attr(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? 0 : it->second;
  }
  const std::string& text(const std::string& key) const;
};

const char* stream_name(Stream s);

// The toxic types, as Toxiproxy names them (and http_abort, Faultline's).
std::vector<std::string> toxic_types();
// Whether `type` declares `key` as a text attribute (http_abort's path, method, body).
bool is_text_attribute(const std::string& type, const std::string& key);

// A toxic from a create request's JSON (type required; name, stream, toxicity, attributes and
// lease_ms optional). Errors say which field and why; the API turns them into 400s.
Result<Toxic> toxic_from_json(const nlohmann::json& j);
// An update: attributes, toxicity and lease_ms given are changed, the rest kept; type, name
// and stream cannot change.
Result<Toxic> toxic_updated(const Toxic& old, const nlohmann::json& j);
// Toxiproxy's shape; lease_ms only when the toxic has a lease, so a Toxiproxy client never
// sees it.
nlohmann::json toxic_to_json(const Toxic& t);

}  // namespace faultline::proxy
