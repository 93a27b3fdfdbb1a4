#include "cli/proxy_command.h"

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "common/exit_codes.h"
#include "common/latency_slice.h"
#include "common/log.h"
#include "common/signals.h"
#include "proxy/proxy_collection.h"
#include "proxy/toxiproxy_api.h"

namespace faultline::cli {

int run_proxy(const std::string& host, int port, const std::string& config_file) {
  // Before any thread starts: every thread inherits the blocked signals, and the short slice
  // (a relay thread woken by a packet should not wait out a batch job's turn).
  if (!request_latency_slice(std::chrono::microseconds(100)))
    spdlog::debug("latency slice refused errno={}", errno);
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  ShutdownSignals signals([&](int) {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  });
  proxy::ProxyCollection proxies;
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) {
      std::fprintf(stderr, "faultline proxy: cannot read %s\n", config_file.c_str());
      return kExitInvalidOrInfra;
    }
    // The same bound as the API's request bodies: a proxy list is small.
    constexpr size_t kMaxConfig = 1 << 20;
    std::string text(kMaxConfig + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfig) {
      std::fprintf(stderr, "faultline proxy: %s: larger than 1 MiB\n", config_file.c_str());
      return kExitInvalidOrInfra;
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      // e.what() says where: "... parse error at line 3, column 5: ...".
      std::fprintf(stderr, "faultline proxy: %s: not JSON: %s\n", config_file.c_str(), e.what());
      return kExitInvalidOrInfra;
    }
    auto done = proxies.populate(j);
    if (!done) {
      std::fprintf(stderr, "faultline proxy: %s: %s\n", config_file.c_str(),
                   done.error().message.c_str());
      return kExitInvalidOrInfra;
    }
  }
  proxy::ToxiproxyApi api(proxies);
  if (Status s = api.start(host, port); !s) {
    std::fprintf(stderr, "faultline proxy: %s\n", s.error().message.c_str());
    return kExitInvalidOrInfra;
  }
  // Scripts wait for this line before they create proxies.
  std::printf("faultline proxy: API on %s:%d\n", host.c_str(), api.port());
  std::fflush(stdout);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return stop; });
  spdlog::info("proxy stopping");
  api.stop();
  return 0;
}

}  // namespace faultline::cli
