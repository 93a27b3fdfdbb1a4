// A toxic: one fault on one direction of a proxy's connections, in Toxiproxy's terms (the
// `faultline proxy` API speaks Toxiproxy's, so its clients work unchanged). Each type is a row
// of the table in toxic.cpp: its attributes with their defaults; what it does to the bytes is
// in link_pump.cpp.
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
  std::string
      type;  // latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, noop
  Stream stream = Stream::kDownstream;
  double toxicity = 1.0;  // the chance that a connection gets it, drawn once per connection
  std::map<std::string, int64_t> attributes;  // every attribute of the type, defaults filled

  int64_t attr(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? 0 : it->second;
  }
};

const char* stream_name(Stream s);

// The toxic types, as Toxiproxy names them.
std::vector<std::string> toxic_types();

// A toxic from a create request's JSON (type required; name, stream, toxicity and attributes
// optional). Errors say which field and why; the API turns them into 400s.
Result<Toxic> toxic_from_json(const nlohmann::json& j);
// An update: attributes (and toxicity) given are changed, the rest kept; type, name and
// stream cannot change.
Result<Toxic> toxic_updated(const Toxic& old, const nlohmann::json& j);
nlohmann::json toxic_to_json(const Toxic& t);

}  // namespace faultline::proxy
