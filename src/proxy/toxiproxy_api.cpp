#include "proxy/toxiproxy_api.h"

#include <httplib.h>

#include "common/log.h"

namespace faultline::proxy {

namespace {

int status_of(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kInvalidArgument:
      return 400;
    default:
      return 500;
  }
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// Toxiproxy's error body: {"error": "...", "status": N}.
void send_error(httplib::Response& res, const Error& e) {
  int status = status_of(e);
  res.status = status;
  res.set_content(nlohmann::json{{"error", e.message}, {"status", status}}.dump() + "\n",
                  "application/json");
}

// The request's JSON body; an empty body reads as an empty object.
Result<nlohmann::json> body_of(const httplib::Request& req) {
  if (req.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Error{ErrorCode::kInvalidArgument, "bad request body: not valid JSON"};
  return j;
}

}  // namespace

ToxiproxyApi::ToxiproxyApi(ProxyCollection& proxies)
    : proxies_(proxies), server_(std::make_unique<httplib::Server>()) {
  routes();
}

ToxiproxyApi::~ToxiproxyApi() {
  stop();
}

void ToxiproxyApi::routes() {
  auto& s = *server_;
  // A request body is a proxy or a toxic, or a /populate list: 1 MiB is plenty, and a hostile
  // client gets a 413 instead of the process's memory. A client that stalls is dropped.
  s.set_payload_max_length(1 << 20);
  s.set_read_timeout(5, 0);
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Origin") || req.get_header_value("User-Agent").rfind("Mozilla/", 0) == 0) {
      spdlog::warn("proxy api refused a browser request path={} origin=\"{}\"", req.path,
                   req.get_header_value("Origin"));
      res.status = 403;
      res.set_content("User agent not allowed\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  s.Get("/version", [](const httplib::Request&, httplib::Response& res) {
    // Toxiproxy's exact shape (clients may compare the text), with the API version it follows.
    res.set_content(std::string("{\"version\": \"") + kProxyVersion + "\"}\n",
                    "application/json;charset=utf-8");
  });
  s.Post("/reset", [this](const httplib::Request&, httplib::Response& res) {
    proxies_.reset();
    res.status = 204;
  });
  s.Get("/proxies", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, proxies_.all());
  });
  s.Post("/proxies", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    auto made = proxies_.create(*body);
    if (!made) return send_error(res, made.error());
    send_json(res, 201, *made);
  });
  s.Post("/populate", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    auto done = proxies_.populate(*body);
    if (!done) return send_error(res, done.error());
    send_json(res, 201, *done);
  });

  const std::string proxy = R"(/proxies/([^/]+))";
  s.Get(proxy, [this](const httplib::Request& req, httplib::Response& res) {
    auto p = proxies_.show(req.matches[1]);
    if (!p) return send_error(res, p.error());
    send_json(res, 200, *p);
  });
  auto update_proxy = [this](const httplib::Request& req, httplib::Response& res) {
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    auto p = proxies_.update(req.matches[1], *body);
    if (!p) return send_error(res, p.error());
    send_json(res, 200, *p);
  };
  s.Post(proxy, update_proxy);
  s.Patch(proxy, update_proxy);
  s.Delete(proxy, [this](const httplib::Request& req, httplib::Response& res) {
    if (Status st = proxies_.remove(req.matches[1]); !st) return send_error(res, st.error());
    res.status = 204;
  });

  const std::string toxics = proxy + "/toxics";
  auto with_proxy = [this](const httplib::Request& req,
                           httplib::Response& res) -> std::shared_ptr<TcpProxy> {
    auto p = proxies_.find(req.matches[1]);
    if (!p) send_error(res, Error{ErrorCode::kNotFound, "proxy not found"});
    return p;
  };
  s.Get(toxics, [with_proxy](const httplib::Request& req, httplib::Response& res) {
    auto p = with_proxy(req, res);
    if (!p) return;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : p->toxics().list()) list.push_back(toxic_to_json(t));
    send_json(res, 200, list);
  });
  s.Post(toxics, [with_proxy](const httplib::Request& req, httplib::Response& res) {
    auto p = with_proxy(req, res);
    if (!p) return;
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    auto t = toxic_from_json(*body);
    if (!t) return send_error(res, t.error());
    auto added = p->toxics().add(*t);
    if (!added) return send_error(res, added.error());
    spdlog::info("toxic added proxy={} toxic={} type={} stream={} toxicity={} lease_ms={}",
                 p->config().name, added->name, added->type, stream_name(added->stream),
                 added->toxicity, added->lease_ms);
    send_json(res, 200, toxic_to_json(*added));
  });
  const std::string toxic = toxics + "/([^/]+)";
  s.Get(toxic, [with_proxy](const httplib::Request& req, httplib::Response& res) {
    auto p = with_proxy(req, res);
    if (!p) return;
    auto t = p->toxics().find(req.matches[2]);
    if (!t) return send_error(res, t.error());
    send_json(res, 200, toxic_to_json(*t));
  });
  auto update_toxic = [with_proxy](const httplib::Request& req, httplib::Response& res) {
    auto p = with_proxy(req, res);
    if (!p) return;
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    auto t = p->toxics().update(req.matches[2], *body);
    if (!t) return send_error(res, t.error());
    send_json(res, 200, toxic_to_json(*t));
  };
  s.Post(toxic, update_toxic);
  s.Patch(toxic, update_toxic);
  // Faultline's: what the toxic did so far (toxic_set.h, ToxicCounts).
  s.Get(toxic + "/counts", [with_proxy](const httplib::Request& req, httplib::Response& res) {
    auto p = with_proxy(req, res);
    if (!p) return;
    auto c = p->toxics().counts(req.matches[2]);
    if (!c) return send_error(res, c.error());
    send_json(res, 200,
              {{"name", std::string(req.matches[2])},
               {"connections", c->connections},
               {"requests", c->requests},
               {"aborted", c->aborted}});
  });
  s.Delete(toxic, [with_proxy](const httplib::Request& req, httplib::Response& res) {
    auto p = with_proxy(req, res);
    if (!p) return;
    if (Status st = p->toxics().remove(req.matches[2]); !st) return send_error(res, st.error());
    spdlog::info("toxic removed proxy={} toxic={}", p->config().name, std::string(req.matches[2]));
    res.status = 204;
  });
}

Status ToxiproxyApi::start(const std::string& host, int port) {
  port_ =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0)
    return Error{ErrorCode::kFailedPrecondition,
                 "proxy api: cannot listen on " + host + ":" + std::to_string(port)};
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  spdlog::info("proxy api listening address={}:{} version={}", host, port_, kProxyVersion);
  return Ok{};
}

void ToxiproxyApi::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace faultline::proxy
