#include "experiments/kinds/proxy_toxic.h"

#include "experiments/kinds/kind_parts.h"
#include "proxy/toxic.h"
#include "proxy/toxic_request.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

void write(const ProxyToxicParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_proxy_toxic();
  if (t.proxy) {
    m->set_api(t.proxy->api);
    m->set_proxy(t.proxy->name);
  }
  m->set_type(p.type);
  m->set_stream(p.stream);
  m->set_toxicity(p.toxicity);
  for (const auto& [key, value] : p.attributes) (*m->mutable_attributes())[key] = value;
}

// The proxy's own parser judges the toxic the injector will send, so what passes here is
// what the proxy takes (Toxiproxy's rules: names, types, ranges), with its message.
void check(const FaultSpec& f, const TargetSpec*, KindProblems& problems) {
  const auto* p = params_as<ProxyToxicParams>(f.params);
  if (!p) return;
  if (p->type == "down") {
    if (!p->attributes.empty())
      problems.error("params.attributes", "down takes the proxy down and has no attributes");
    return;
  }
  auto toxic = proxy::toxic_from_json(
      proxy::toxic_request("check", p->type, p->stream, p->toxicity, p->attributes));
  if (!toxic) {
    // The proxy's message is written for an API caller ("bad request body: attributes.x
    // ..."); the experiment's author gets the field it is about.
    std::string message = toxic.error().message;
    if (message.starts_with("bad request body: ")) message.erase(0, 18);
    problems.error(message.starts_with("attributes.") ? "params.attributes" : "params", message);
  }
  if (f.duration == Duration::zero())
    problems.error("duration", "a toxic is held for a while: give the fault a duration");
}

FaultKind describe() {
  std::vector<std::string> types = proxy::toxic_types();  // the proxy's own table
  types.push_back("down");
  return {
      .name = "proxy_toxic",
      .params = object(
          {req("type", enumeration(types,
                                   "The toxic, as Toxiproxy names it (see docs/proxy.md), or "
                                   "down: the proxy refuses connections and closes the open "
                                   "ones.")),
           opt("stream",
               enumeration({"downstream", "upstream"},
                           "Which direction: downstream is server to client.", "downstream")),
           opt("toxicity", percent("Share of connections that get it (of requests, for "
                                   "http_abort).",
                                   "100%")),
           opt("attributes",
               [] {
                 auto s = string_map(
                     "The toxic's attributes, in Toxiproxy's units (ms, KB/s, "
                     "bytes); whole numbers are sent as numbers.");
                 s->example = "{latency: 500, jitter: 50}";
                 return s;
               }())},
          "A toxic on a TCP fault proxy, added for the fault's duration and removed at its end "
          "(also after a crash: the proxy drops a toxic whose lease is not renewed)."),
      .needs = TargetNeeds::kProxy,
      .scope = ScopeClass::kProxy,
      .containers = not_on_containers("a proxy target is the proxy alone, not a container"),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<ProxyToxicParams>();
            p->type = v.text("type");
            p->stream = v.text("stream");
            p->toxicity = v.fraction("toxicity");
            for (const auto& key : v.keys_under("attributes"))
              p->attributes[key] = v.text("attributes." + key);
            return p;
          },
      .check = check,
      .to_wire = kind_parts::wire(&write),
  };
}

}  // namespace

FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
