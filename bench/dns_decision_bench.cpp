// What dns_fault's helper spends deciding about one UDP query that no rule takes, in-process:
// dns::parse_query() of a real query (as dig sends it, bench/dns_query_wire.h) and
// DnsRules::decide() over a fault of 100 rules, none of which matches the queried name
// (bench.example.test). The rules are a mix: 50 exact names of the same suffix
// (svcN.example.test), 40 globs (*.svcN.internal, and *.svcN.example.test, which share the
// queried name's suffix, so the walk reads it to its end) and 10 regexes
// (regex:^db[0-9]+[.]svcN[.]example[.]test$); each is checked first to take a name of its own.
// Usage: dns_decision_bench [ITERATIONS [REPETITIONS]]   (defaults 1,000,000 and 10)
//   prints: rules=100 matched=0 iterations=.. repetitions=.. decision_ns=.. parse_ns=..
//           decide_ns=.. decision_min_ns=.. decision_max_ns=..   (each the median of the
//           repetitions, in ns per query; decision = parse + decide in one loop)
//        dns_decision_bench rules-yaml
//   prints the same 100 rules as YAML list items (8 spaces in), for bench/dns_fault_bench.sh.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/dns/dns_message.h"
#include "dns_query_wire.h"
#include "injector/intercept/dns_interceptor.h"

namespace {

namespace pb = faultline::v1;
using faultline::injector::intercept::DnsRules;
using Clock = std::chrono::steady_clock;

constexpr const char* kQueried = "bench.example.test";

struct BenchRule {
  std::string name;     // the pattern
  std::string answer;   // nxdomain, servfail, refused, address, timeout, delay
  std::string address;  // answer: address
  std::string sample;   // a name the pattern takes (checked)
};

std::vector<BenchRule> bench_rules() {
  static const char* kAnswers[] = {"nxdomain", "servfail", "refused",
                                   "address",  "timeout",  "delay"};
  std::vector<BenchRule> out;
  for (int i = 0; i < 100; ++i) {
    BenchRule r;
    const std::string n = std::to_string(i);
    const int kind = i % 10;
    if (kind < 5) {
      r.name = "svc" + n + ".example.test";
      r.sample = r.name;
    } else if (kind < 7) {
      r.name = "*.svc" + n + ".internal";
      r.sample = "a.b.svc" + n + ".internal";
    } else if (kind < 9) {
      r.name = "*.svc" + n + ".example.test";
      r.sample = "api.svc" + n + ".example.test";
    } else {
      r.name = "regex:^db[0-9]+[.]svc" + n + "[.]example[.]test$";
      r.sample = "db12.svc" + n + ".example.test";
    }
    r.answer = kAnswers[i % 6];
    if (r.answer == "address") r.address = "10.9." + n + ".1";
    out.push_back(r);
  }
  return out;
}

pb::DnsFault fault_of(const std::vector<BenchRule>& rules) {
  pb::DnsFault f;
  f.set_seed(7);
  for (const auto& r : rules) {
    auto* w = f.add_rules();
    w->add_names(r.name);
    w->set_answer(r.answer);
    if (!r.address.empty()) w->add_addresses(r.address);
    if (r.answer == "delay") w->set_delay_us(1'000'000);
    w->set_percent(1);  // what `percent: 100%`, the default, becomes
  }
  return f;
}

void print_yaml(const std::vector<BenchRule>& rules) {
  for (const auto& r : rules) {
    std::printf("        - {names: [\"%s\"], answer: %s", r.name.c_str(), r.answer.c_str());
    if (!r.address.empty()) std::printf(", addresses: [%s]", r.address.c_str());
    if (r.answer == "delay") std::printf(", delay: 1s");
    std::printf("}\n");
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

volatile uintptr_t g_sink;  // keeps every result alive

}  // namespace

int main(int argc, char** argv) {
  const auto rules = bench_rules();
  if (argc == 2 && std::string(argv[1]) == "rules-yaml") {
    print_yaml(rules);
    return 0;
  }
  const long iterations = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 10;
  if (iterations <= 0 || reps <= 0) {
    std::fprintf(stderr, "usage: %s [ITERATIONS [REPETITIONS]] | rules-yaml\n", argv[0]);
    return 2;
  }

  auto compiled = DnsRules::compile(fault_of(rules));
  if (!compiled) {
    std::fprintf(stderr, "dns_decision_bench: rules refused: %s\n",
                 compiled.error().message.c_str());
    return 1;
  }
  const DnsRules& dns_rules = *compiled;
  // Every rule takes its own sample name (so none is trivially dead), and none takes ours.
  for (size_t i = 0; i < rules.size(); ++i) {
    const pb::DnsRule* got = dns_rules.decide(rules[i].sample);
    if (!got || got->names(0) != rules[i].name) {
      std::fprintf(stderr, "dns_decision_bench: rule %zu (%s) does not take %s\n", i,
                   rules[i].name.c_str(), rules[i].sample.c_str());
      return 1;
    }
  }
  const std::string wire = dnsbench::query_wire(kQueried, 0x4a21, 1, 0x0123456789abcdefULL);
  auto parsed = faultline::dns::parse_query(wire);
  if (!parsed || parsed->question.name != kQueried) {
    std::fprintf(stderr, "dns_decision_bench: the query does not parse\n");
    return 1;
  }
  if (dns_rules.decide(parsed->question.name) != nullptr) {
    std::fprintf(stderr, "dns_decision_bench: a rule matched %s\n", kQueried);
    return 1;
  }
  const std::string name = parsed->question.name;

  auto per_query_ns = [&](auto&& body) {
    const auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i) body();
    return static_cast<double>(
               std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()) /
           static_cast<double>(iterations);
  };
  std::vector<double> decision, parse, decide;
  for (int r = 0; r < reps; ++r) {
    // What the helper's UDP thread does between recvmsg() and forwarding, for a query no rule
    // takes: parse, then decide on the parsed name.
    decision.push_back(per_query_ns([&] {
      auto q = faultline::dns::parse_query(wire);
      g_sink = q ? reinterpret_cast<uintptr_t>(dns_rules.decide(q->question.name)) + q->id : 1;
    }));
    parse.push_back(per_query_ns([&] {
      auto q = faultline::dns::parse_query(wire);
      g_sink = q ? q->question.name.size() : 0;
    }));
    decide.push_back(
        per_query_ns([&] { g_sink = reinterpret_cast<uintptr_t>(dns_rules.decide(name)); }));
  }
  std::printf(
      "rules=%zu matched=0 iterations=%ld repetitions=%d decision_ns=%.1f parse_ns=%.1f "
      "decide_ns=%.1f decision_min_ns=%.1f decision_max_ns=%.1f\n",
      rules.size(), iterations, reps, median(decision), median(parse), median(decide),
      *std::min_element(decision.begin(), decision.end()),
      *std::max_element(decision.begin(), decision.end()));
  return 0;
}
