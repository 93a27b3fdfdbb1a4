// The body that adds a toxic through Toxiproxy's API, built from attributes as an experiment
// writes them (every value a string; a whole number is sent as a JSON number unless the type
// declares the attribute as text, the rest as strings). One builder for the experiment loader,
// which checks the body with the proxy's own parser (toxic_from_json) so a bad attribute is an
// error at its line, and for the injector, which sends it.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace faultline::proxy {

nlohmann::json toxic_request(const std::string& name, const std::string& type,
                             const std::string& stream, double toxicity,
                             const std::map<std::string, std::string>& attributes);

}  // namespace faultline::proxy
