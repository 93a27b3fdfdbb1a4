#include "controller/watch/pod_endpoints_probe.h"

#include <algorithm>
#include <future>

#include "common/time_util.h"

namespace faultline::controller {
namespace {

struct Endpoint {
  std::string label;  // "node-a shop/checkout-7d9"
  std::string address;
};

std::string label_of(const std::string& node, const pb::TouchedContainer& c) {
  std::string what = !c.pod_name().empty() ? c.pod_namespace() + "/" + c.pod_name()
                                           : c.name() + " (" + c.id().substr(0, 12) + ")";
  return node + " " + what;
}

}  // namespace

std::string endpoint(const std::string& ip, int port) {
  bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

PodEndpointsProbe::PodEndpointsProbe(std::string name, std::string target, int port,
                                     pb::ContainerSelector selector,
                                     std::vector<std::shared_ptr<InjectorLink>> nodes, MakeOne make)
    : name_(std::move(name)),
      target_(std::move(target)),
      port_(port),
      selector_(std::move(selector)),
      nodes_(std::move(nodes)),
      make_(std::move(make)) {}

ProbeOutcome PodEndpointsProbe::run() {
  auto start = MonoClock::now();
  ProbeOutcome out;
  // Every node asked at once.
  std::vector<std::pair<std::string, Reply<std::vector<pb::TouchedContainer>>>> asked;
  for (const auto& link : nodes_)
    asked.emplace_back(link->info().node_name, link->start_list_containers(selector_));
  std::vector<Endpoint> endpoints;
  std::vector<std::string> problems;
  for (auto& [node, reply] : asked) {
    auto found = reply.get();
    if (!found) {
      problems.push_back(node + ": cannot list: " + found.error().message);
      continue;
    }
    for (const auto& c : *found) {
      if (c.ip().empty())
        problems.push_back(label_of(node, c) + " has no address (host network, or none)");
      else
        endpoints.push_back({label_of(node, c), endpoint(c.ip(), port_)});
    }
  }
  if (endpoints.empty() && problems.empty()) {
    out.observed = "no running pod or container of target \"" + target_ + "\" on its " +
                   std::to_string(nodes_.size()) + " node(s)";
    out.latency = MonoClock::now() - start;
    return out;
  }
  // Each endpoint probed at once: a slow pod does not delay the verdict on the others.
  std::vector<std::future<ProbeOutcome>> running;
  for (const auto& e : endpoints)
    running.push_back(std::async(std::launch::async,
                                 [this, address = e.address] { return make_(address)->run(); }));
  size_t ok = 0;
  Duration slowest{};
  std::string first_ok;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    ProbeOutcome o = running[i].get();
    slowest = std::max(slowest, o.latency);
    if (o.ok) {
      ++ok;
      if (first_ok.empty()) first_ok = o.observed;
    } else {
      problems.push_back(endpoints[i].label + " (" + endpoints[i].address + "): " + o.observed);
    }
  }
  out.ok = problems.empty();
  out.latency = slowest;
  std::string counted = std::to_string(ok) + "/" + std::to_string(endpoints.size()) + " pod(s)";
  if (out.ok) {
    out.observed = counted + " ok (" + first_ok + ")";
  } else {
    out.observed = counted + " ok; ";
    for (size_t i = 0; i < problems.size() && i < 3; ++i)
      out.observed += (i ? "; " : "") + problems[i];
    if (problems.size() > 3)
      out.observed += "; and " + std::to_string(problems.size() - 3) + " more";
  }
  return out;
}

}  // namespace faultline::controller
