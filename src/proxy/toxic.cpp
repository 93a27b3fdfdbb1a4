#include "proxy/toxic.h"

#include <cctype>

namespace faultline::proxy {

namespace {

// Each type's attributes and their defaults (units as Toxiproxy's: ms, KB/s, bytes, µs).
const std::map<std::string, std::map<std::string, int64_t>>& table() {
  static const std::map<std::string, std::map<std::string, int64_t>> t = {
      {"latency", {{"latency", 0}, {"jitter", 0}}},  // ms
      {"bandwidth", {{"rate", 0}}},                  // KB/s
      {"slow_close", {{"delay", 0}}},                // ms before the close
      {"timeout", {{"timeout", 0}}},                 // ms; 0 = hold until removed
      {"reset_peer", {{"timeout", 0}}},              // ms before the reset
      {"slicer", {{"average_size", 0}, {"size_variation", 0}, {"delay", 0}}},  // bytes, µs
      {"limit_data", {{"bytes", 0}}},
      {"noop", {}},
  };
  return t;
}

Error bad(const std::string& what) {
  return Error{ErrorCode::kInvalidArgument, what};
}

Status read_attributes(const nlohmann::json& j, Toxic& t) {
  if (!j.contains("attributes") || j["attributes"].is_null()) return Ok{};
  if (!j["attributes"].is_object()) return bad("attributes: must be an object");
  const auto& known = table().at(t.type);
  for (const auto& [key, value] : j["attributes"].items()) {
    if (!known.count(key)) continue;  // ignored, as Toxiproxy ignores them
    if (!value.is_number_integer() && !value.is_number_unsigned())
      return bad("bad request body: attributes." + key + " must be a whole number");
    int64_t v = value.get<int64_t>();
    if (v < 0) return bad("bad request body: attributes." + key + " must not be negative");
    t.attributes[key] = v;
  }
  if (t.type == "slicer" &&
      (t.attr("average_size") <= 0 || t.attr("size_variation") > t.attr("average_size")))
    return bad("bad request body: slicer needs average_size > 0 and size_variation <= it");
  return Ok{};
}

Status read_toxicity(const nlohmann::json& j, Toxic& t) {
  if (!j.contains("toxicity") || j["toxicity"].is_null()) return Ok{};
  if (!j["toxicity"].is_number()) return bad("bad request body: toxicity must be a number");
  double v = j["toxicity"].get<double>();
  if (v < 0 || v > 1) return bad("bad request body: toxicity must be from 0 to 1");
  t.toxicity = v;
  return Ok{};
}

}  // namespace

const char* stream_name(Stream s) {
  return s == Stream::kUpstream ? "upstream" : "downstream";
}

std::vector<std::string> toxic_types() {
  std::vector<std::string> out;
  for (const auto& [name, attrs] : table()) out.push_back(name);
  return out;
}

Result<Toxic> toxic_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return bad("bad request body: a toxic must be a JSON object");
  Toxic t;
  if (j.contains("stream") && !j["stream"].is_null()) {
    std::string s = j["stream"].is_string() ? j["stream"].get<std::string>() : "";
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "upstream")
      t.stream = Stream::kUpstream;
    else if (s != "downstream")
      return bad("stream was invalid, can be either upstream or downstream");
  }
  if (!j.contains("type") || !j["type"].is_string() || !table().count(j["type"].get<std::string>()))
    return bad("invalid toxic type");
  t.type = j["type"].get<std::string>();
  t.attributes = table().at(t.type);
  if (j.contains("name") && !j["name"].is_null()) {
    if (!j["name"].is_string()) return bad("bad request body: name must be a string");
    t.name = j["name"].get<std::string>();
  }
  if (t.name.empty()) t.name = t.type + "_" + stream_name(t.stream);
  if (Status s = read_toxicity(j, t); !s) return s.error();
  if (Status s = read_attributes(j, t); !s) return s.error();
  return t;
}

Result<Toxic> toxic_updated(const Toxic& old, const nlohmann::json& j) {
  if (!j.is_object()) return bad("bad request body: a toxic must be a JSON object");
  Toxic t = old;
  if (Status s = read_toxicity(j, t); !s) return s.error();
  if (Status s = read_attributes(j, t); !s) return s.error();
  return t;
}

nlohmann::json toxic_to_json(const Toxic& t) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [k, v] : t.attributes) attrs[k] = v;
  return {{"name", t.name},
          {"type", t.type},
          {"stream", stream_name(t.stream)},
          {"toxicity", t.toxicity},
          {"attributes", attrs}};
}

}  // namespace faultline::proxy
