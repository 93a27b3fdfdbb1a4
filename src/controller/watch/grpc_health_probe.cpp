#include "controller/watch/grpc_health_probe.h"

#include <fstream>
#include <sstream>

#include "common/time_util.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace faultline::controller {
namespace health = grpc::health::v1;

namespace {

std::shared_ptr<grpc::ChannelCredentials> credentials(const std::string& ca_file) {
  if (ca_file.empty()) return grpc::InsecureChannelCredentials();
  std::ifstream in(ca_file);
  std::stringstream pem;
  pem << in.rdbuf();
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = pem.str();
  return grpc::SslCredentials(opts);
}

const char* status_name(health::HealthCheckResponse::ServingStatus s) {
  switch (s) {
    case health::HealthCheckResponse::SERVING:
      return "SERVING";
    case health::HealthCheckResponse::NOT_SERVING:
      return "NOT_SERVING";
    case health::HealthCheckResponse::SERVICE_UNKNOWN:
      return "SERVICE_UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

GrpcHealthProbe::GrpcHealthProbe(std::string name, experiments::GrpcHealthProbeSpec spec,
                                 Duration timeout,
                                 std::shared_ptr<const DestinationGuard> destinations)
    : name_(std::move(name)), spec_(std::move(spec)), timeout_(timeout) {
  grpc::ChannelArguments args;
  // A probe must see a recovered server at its next attempt, not after gRPC's backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  std::string target = spec_.address;
  if (destinations && destinations->restricts()) {
    // The channel keeps the address checked now; gRPC would otherwise re-resolve the name.
    std::string host = host_of_address(spec_.address);
    auto pinned = destinations->pin(host);
    if (!pinned) {
      refused_ = "refused: " + pinned.error().message;
      return;
    }
    std::string port = spec_.address.substr(spec_.address.rfind(':') + 1);
    bool v6 = pinned->find(':') != std::string::npos;
    target = (v6 ? "ipv6:[" + *pinned + "]:" : "ipv4:" + *pinned + ":") + port;
    if (!spec_.ca_file.empty()) args.SetSslTargetNameOverride(host);
  }
  channel_ = grpc::CreateCustomChannel(target, credentials(spec_.ca_file), args);
}

ProbeOutcome GrpcHealthProbe::run() {
  if (!refused_.empty()) return {false, refused_, {}};
  auto start = MonoClock::now();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  health::HealthCheckRequest req;
  req.set_service(spec_.service);
  health::HealthCheckResponse resp;
  grpc::Status s = health::Health::NewStub(channel_)->Check(&ctx, req, &resp);
  ProbeOutcome out;
  out.latency = MonoClock::now() - start;
  if (!s.ok()) {
    out.observed = "health check failed: " + s.error_message() + " (code " +
                   std::to_string(static_cast<int>(s.error_code())) + ")";
    return out;
  }
  out.ok = resp.status() == health::HealthCheckResponse::SERVING;
  out.observed = status_name(resp.status());
  return out;
}

}  // namespace faultline::controller
