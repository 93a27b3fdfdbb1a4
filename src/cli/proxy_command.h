#pragma once

#include <string>

namespace faultline::cli {

// `faultline proxy [--host H] [--port P] [--config FILE]`: the unprivileged TCP fault proxy,
// driven through Toxiproxy's HTTP API (default 127.0.0.1:8474). --config is a JSON array of
// proxies, as for Toxiproxy's /populate. Runs until SIGINT/SIGTERM; every proxy's listener
// and connections are closed on the way out.
// Exit: 0 after a signal; 3 when the API or a configured proxy cannot listen, or --config is bad.
int run_proxy(const std::string& host, int port, const std::string& config_file);

}  // namespace faultline::cli
