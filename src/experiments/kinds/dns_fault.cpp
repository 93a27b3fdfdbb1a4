#include "experiments/kinds/dns_fault.h"

#include "common/dns/dns_message.h"
#include "common/dns/name_match.h"
#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

SchemaPtr rules_schema() {
  auto rule = object(
      {opt("names", list(str("An exact name, a pattern with * and ?, or regex:<RE2>.",
                             "*.payments.internal"),
                         "Which queried names (case-insensitive); none given: every name.")),
       req("answer", enumeration({"nxdomain", "servfail", "refused", "timeout", "address", "delay"},
                                 "What the client gets: an error code, no answer at all "
                                 "(timeout), the addresses given, or the real answer late.")),
       opt("addresses", list(str("An IPv4 or IPv6 address.", "10.9.9.9"),
                             "answer: address — the A and AAAA records (a query for the other "
                             "family gets no records, NODATA).")),
       opt("ttl", duration("answer: address — the records' TTL; 0 keeps forged answers out of "
                           "every cache.",
                           "0s", false, 86400)),
       opt("delay",
           duration("answer: delay — how much later the real answer comes.", "", true, 60)),
       opt("jitter", duration("answer: delay — random variation around it.", "0s", false, 60)),
       opt("percent", percent("Share of matching queries the answer is given to, drawn per "
                              "query.",
                              "100%"))},
      "One rule: which names, what answer, how often.");
  auto s = list(rule,
                "Tried in order; the first rule whose names match decides. A query no "
                "rule takes goes to the real server unchanged.");
  s->example = "[{names: [\"*.payments.internal\"], answer: nxdomain, percent: 50%}]";
  return s;
}

DnsFaultRule read_rule(const ParamValues& v, const std::string& at) {
  DnsFaultRule r;
  r.names = v.texts(at + ".names");
  r.answer = v.text(at + ".answer");
  r.addresses = v.texts(at + ".addresses");
  r.ttl = v.duration(at + ".ttl");
  r.delay = v.duration(at + ".delay");
  r.jitter = v.duration(at + ".jitter");
  r.percent = v.fraction(at + ".percent");
  return r;
}

void write(const DnsFaultParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_dns_fault();
  *m->mutable_scope() = t.scope;
  m->set_drain_ms(millis(p.drain));
  for (const auto& s : p.servers) m->add_servers(s);
  for (const auto& r : p.rules) {
    auto* w = m->add_rules();
    for (const auto& n : r.names) w->add_names(n);
    w->set_answer(r.answer);
    for (const auto& a : r.addresses) w->add_addresses(a);
    w->set_ttl_s(
        static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(r.ttl).count()));
    w->set_delay_us(micros(r.delay));
    w->set_jitter_us(micros(r.jitter));
    w->set_percent(r.percent);
  }
}

void check(const FaultSpec& f, const TargetSpec*, KindProblems& problems) {
  const auto* p = params_as<DnsFaultParams>(f.params);
  if (!p) return;
  for (size_t i = 0; i < p->rules.size(); ++i) {
    const auto& r = p->rules[i];
    const std::string at = "params.rules[" + std::to_string(i) + "]";
    if (auto m = dns::NameMatcher::make(r.names); !m)
      problems.error(at + ".names", m.error().message);
    if (r.answer == "address" && r.addresses.empty())
      problems.error(at + ".addresses", "answer: address needs the addresses to answer with");
    if (r.answer != "address" && !r.addresses.empty())
      problems.error(at + ".addresses", "only answer: address uses addresses");
    for (const auto& a : r.addresses)
      if (!dns::valid_address(a))
        problems.error(at + ".addresses", "\"" + a + "\" is not an IPv4 or IPv6 address");
    if (r.answer == "delay" && r.delay == Duration{})
      problems.error(at + ".delay", "answer: delay needs the delay");
  }
  for (const auto& s : p->servers)
    if (!dns::valid_address(s))
      problems.error("params.servers", "\"" + s + "\" is not an IPv4 or IPv6 address");
}

FaultKind describe() {
  return {
      .name = "dns_fault",
      .params = object(
          {req("rules", rules_schema()),
           opt("servers", list(str("A DNS server's address.", "10.96.0.10"),
                               "The servers whose queries are intercepted; none given: the "
                               "nameservers of the scope's resolv.conf (/etc/netns/NAME/"
                               "resolv.conf for a named namespace, else /etc/resolv.conf).")),
           opt("drain", duration("On revert, how long queries held (delay) may take to be "
                                 "answered.",
                                 "5s", false, 600))},
          "Falsify the DNS answers the target's network scope gets: UDP and TCP queries to its "
          "DNS servers are intercepted in its network namespace."),
      .needs = TargetNeeds::kNetwork,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<DnsFaultParams>();
            for (size_t i = 0, n = v.count("rules"); i < n; ++i)
              p->rules.push_back(read_rule(v, "rules[" + std::to_string(i) + "]"));
            p->servers = v.texts("servers");
            p->drain = v.duration("drain");
            return p;
          },
      .check = check,
      .to_wire = wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
