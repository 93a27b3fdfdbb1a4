#include "cli/proxy_command.h"

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/exit_codes.h"
#include "common/log.h"
#include "common/signals.h"
#include "proxy/proxy_collection.h"
#include "proxy/toxiproxy_api.h"

namespace faultline::cli {

int run_proxy(const std::string& host, int port, const std::string& config_file) {
  // Before any thread starts: every thread inherits the blocked signals.
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
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded()) {
      std::fprintf(stderr, "faultline proxy: %s: not JSON\n", config_file.c_str());
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
