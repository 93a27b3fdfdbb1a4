#include "proxy/toxic.h"

#include <cctype>

#include "proxy/http_abort.h"

namespace faultline::proxy {

namespace {

Error bad(const std::string& what) {
  return Error{ErrorCode::kInvalidArgument, what};
}

// One type: its attributes with their defaults, and what else a toxic of it must satisfy.
struct ToxicType {
  std::map<std::string, int64_t> numbers;
  std::map<std::string, std::string> texts;
  Status (*check)(const Toxic&) = nullptr;
};

Status check_slicer(const Toxic& t) {
  if (t.attr("average_size") <= 0 || t.attr("size_variation") > t.attr("average_size"))
    return bad("bad request body: slicer needs average_size > 0 and size_variation <= it");
  return Ok{};
}

Status check_http_abort(const Toxic& t) {
  if (auto rule = HttpAbortRule::make(t); !rule) return rule.error();
  return Ok{};
}

// Each type's attributes and their defaults (units as Toxiproxy's: ms, KB/s, bytes, µs).
const std::map<std::string, ToxicType>& table() {
  static const std::map<std::string, ToxicType> t = {
      {"latency", {{{"latency", 0}, {"jitter", 0}}}},  // ms
      {"bandwidth", {{{"rate", 0}}}},                  // KB/s
      {"slow_close", {{{"delay", 0}}}},                // ms before the close
      {"timeout", {{{"timeout", 0}}}},                 // ms; 0 = hold until removed
      {"reset_peer", {{{"timeout", 0}}}},              // ms before the reset
      {"slicer",
       {{{"average_size", 0}, {"size_variation", 0}, {"delay", 0}}, {}, check_slicer}},  // µs
      {"limit_data", {{{"bytes", 0}}}},
      {"noop", {}},
      // Faultline's: answers matching requests itself (path: a prefix, or a glob with '*').
      {"http_abort",
       {{{"status", 503}}, {{"method", ""}, {"path", ""}, {"body", ""}}, check_http_abort}},
  };
  return t;
}

Status read_attributes(const nlohmann::json& j, Toxic& t) {
  const ToxicType& type = table().at(t.type);
  if (j.contains("attributes") && !j["attributes"].is_null()) {
    if (!j["attributes"].is_object()) return bad("attributes: must be an object");
    for (const auto& [key, value] : j["attributes"].items()) {
      if (type.texts.count(key)) {
        if (!value.is_string())
          return bad("bad request body: attributes." + key + " must be a string");
        t.text_attributes[key] = value.get<std::string>();
        continue;
      }
      if (!type.numbers.count(key)) continue;  // ignored, as Toxiproxy ignores them
      if (!value.is_number_integer() && !value.is_number_unsigned())
        return bad("bad request body: attributes." + key + " must be a whole number");
      int64_t v = value.get<int64_t>();
      if (v < 0) return bad("bad request body: attributes." + key + " must not be negative");
      t.attributes[key] = v;
    }
  }
  return type.check ? type.check(t) : Status(Ok{});
}

Status read_toxicity(const nlohmann::json& j, Toxic& t) {
  if (!j.contains("toxicity") || j["toxicity"].is_null()) return Ok{};
  if (!j["toxicity"].is_number()) return bad("bad request body: toxicity must be a number");
  double v = j["toxicity"].get<double>();
  if (v < 0 || v > 1) return bad("bad request body: toxicity must be from 0 to 1");
  t.toxicity = v;
  return Ok{};
}

Status read_lease(const nlohmann::json& j, Toxic& t) {
  if (!j.contains("lease_ms") || j["lease_ms"].is_null()) return Ok{};
  const auto& v = j["lease_ms"];
  if ((!v.is_number_integer() && !v.is_number_unsigned()) || v.get<int64_t>() < 0)
    return bad("bad request body: lease_ms must be a whole number of milliseconds (0: no lease)");
  t.lease_ms = v.get<int64_t>();
  return Ok{};
}

}  // namespace

const std::string& Toxic::text(const std::string& key) const {
  static const std::string kNone;
  auto it = text_attributes.find(key);
  return it == text_attributes.end() ? kNone : it->second;
}

const char* stream_name(Stream s) {
  return s == Stream::kUpstream ? "upstream" : "downstream";
}

bool is_text_attribute(const std::string& type, const std::string& key) {
  auto it = table().find(type);
  return it != table().end() && it->second.texts.count(key) > 0;
}

std::vector<std::string> toxic_types() {
  std::vector<std::string> out;
  for (const auto& [name, type] : table()) out.push_back(name);
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
  t.attributes = table().at(t.type).numbers;
  t.text_attributes = table().at(t.type).texts;
  if (j.contains("name") && !j["name"].is_null()) {
    if (!j["name"].is_string()) return bad("bad request body: name must be a string");
    t.name = j["name"].get<std::string>();
  }
  if (t.name.empty()) t.name = t.type + "_" + stream_name(t.stream);
  if (Status s = read_toxicity(j, t); !s) return s.error();
  if (Status s = read_attributes(j, t); !s) return s.error();
  if (Status s = read_lease(j, t); !s) return s.error();
  return t;
}

Result<Toxic> toxic_updated(const Toxic& old, const nlohmann::json& j) {
  if (!j.is_object()) return bad("bad request body: a toxic must be a JSON object");
  Toxic t = old;
  if (Status s = read_toxicity(j, t); !s) return s.error();
  if (Status s = read_attributes(j, t); !s) return s.error();
  if (Status s = read_lease(j, t); !s) return s.error();
  return t;
}

nlohmann::json toxic_to_json(const Toxic& t) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [k, v] : t.attributes) attrs[k] = v;
  for (const auto& [k, v] : t.text_attributes) attrs[k] = v;
  nlohmann::json out = {{"name", t.name},
                        {"type", t.type},
                        {"stream", stream_name(t.stream)},
                        {"toxicity", t.toxicity},
                        {"attributes", attrs}};
  if (t.lease_ms > 0) out["lease_ms"] = t.lease_ms;
  return out;
}

}  // namespace faultline::proxy
