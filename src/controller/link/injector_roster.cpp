#include "controller/link/injector_roster.h"

#include <algorithm>
#include <chrono>

namespace faultline::controller {

namespace v1 = ::faultline::v1;

std::string join_labels(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

std::map<std::string, std::string> split_labels(const std::string& joined) {
  std::map<std::string, std::string> out;
  for (size_t at = 0; at < joined.size();) {
    size_t end = joined.find(',', at);
    if (end == std::string::npos) end = joined.size();
    std::string item = joined.substr(at, end - at);
    if (size_t eq = item.find('='); eq != std::string::npos)
      out[item.substr(0, eq)] = item.substr(eq + 1);
    at = end + 1;
  }
  return out;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::vector<std::string> split_list(const std::string& joined) {
  std::vector<std::string> out;
  for (size_t at = 0; at < joined.size();) {
    size_t end = joined.find(',', at);
    if (end == std::string::npos) end = joined.size();
    if (end > at) out.push_back(joined.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

std::vector<v1::InjectorInfo> injector_roster(const InjectorRegistry& registry,
                                              const InjectorStore* store, bool include_offline,
                                              int64_t now_unix_ms) {
  std::map<std::string, InjectorRecord> known;
  if (store)
    for (auto& rec : store->injectors()) known.emplace(rec.node, std::move(rec));

  std::map<std::string, v1::InjectorInfo> out;
  for (const auto& link : registry.all()) {
    const auto& info = link->info();
    v1::InjectorInfo row;
    row.set_node_name(info.node_name);
    row.mutable_labels()->insert(info.labels.begin(), info.labels.end());
    for (const auto& c : info.capabilities) row.add_capabilities(c);
    row.set_version(info.version);
    row.set_last_seen_ms_ago(
        std::chrono::duration_cast<std::chrono::milliseconds>(link->since_last_seen()).count());
    // The live link decides: the store may still say "disconnected" for a node whose old
    // stream ended after its new one registered.
    row.set_state(link->connected() ? "connected" : "silent");
    if (auto it = known.find(info.node_name); it != known.end()) row.set_peer(it->second.peer);
    out.emplace(info.node_name, std::move(row));
  }
  if (include_offline) {
    for (const auto& [node, rec] : known) {
      if (out.count(node)) continue;
      v1::InjectorInfo row;
      row.set_node_name(node);
      auto labels = split_labels(rec.labels);
      row.mutable_labels()->insert(labels.begin(), labels.end());
      for (const auto& c : split_list(rec.capabilities)) row.add_capabilities(c);
      row.set_version(rec.version);
      row.set_last_seen_ms_ago(std::max<int64_t>(0, now_unix_ms - rec.unix_ms));
      // A record still saying "registered" belongs to a controller that died with the stream
      // open: nobody is connected under that name now.
      row.set_state(rec.state == "registered" ? "disconnected" : rec.state);
      row.set_peer(rec.peer);
      out.emplace(node, std::move(row));
    }
  }
  std::vector<v1::InjectorInfo> rows;
  rows.reserve(out.size());
  for (auto& [node, row] : out) rows.push_back(std::move(row));
  return rows;
}

}  // namespace faultline::controller
