#include "security/security_fixture.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>

namespace faultline::testing {

SecurityFixture::SecurityFixture() : cli_(FAULTLINE_BIN_DIR, dir_) {
  setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
  unsetenv("FAULTLINE_INSECURE");
  addr_ = "127.0.0.1:" + std::to_string(free_port());
  std::string gen = std::string(FAULTLINE_SOURCE_DIR) + "/scripts/gen-certs.sh " + certs() +
                    " node-a node-b >/dev/null";
  if (std::system(gen.c_str()) != 0) std::abort();
  write_secret_file(dir_.file("tokens.csv"), kOperatorToken + ",olga,operator\n" + kViewerToken +
                                                 ",victor,viewer\n" + kAdminToken + ",ada,admin\n");
  write_secret_file(dir_.file("viewer.tok"), kViewerToken + "\n");
  write_secret_file(dir_.file("operator.tok"), kOperatorToken + "\n");
  write_secret_file(dir_.file("admin.tok"), kAdminToken + "\n");
}

SecurityFixture::~SecurityFixture() {
  injectors_.clear();
  controller_.reset();
}

void SecurityFixture::start_controller(std::vector<std::string> extra) {
  std::vector<std::string> argv{std::string(FAULTLINE_BIN_DIR) + "/faultline-controller",
                                "--listen",
                                addr_,
                                "--otlp-listen",
                                "off",
                                "--tls-dir",
                                certs(),
                                "--token-file",
                                dir_.file("tokens.csv")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  controller_ = std::make_unique<ChildProcess>(argv, "", dir_.file("ctl.log"));
  // Answering before the test goes on: a gRPC channel that dialled too early backs off for
  // seconds.
  wait_until([&] { return cli("viewer", {"runs"}, 5000ms) == 0; }, 10000ms);
}

void SecurityFixture::stop_controller() {
  if (!controller_) return;
  controller_->signal(SIGTERM);
  controller_->wait(15000ms);
  controller_.reset();
}

bool SecurityFixture::start_injector(const std::string& node, std::vector<std::string> extra) {
  spawn_injector(node, std::move(extra));
  return cli_.wait_connected(addr_, node,
                             {"--tls-dir", certs(), "--token-file", dir_.file("viewer.tok")});
}

void SecurityFixture::spawn_injector(const std::string& node, std::vector<std::string> extra) {
  std::vector<std::string> argv{std::string(FAULTLINE_BIN_DIR) + "/faultline-injector",
                                "--controller",
                                addr_,
                                "--tls-dir",
                                certs(),
                                "--node",
                                node};
  argv.insert(argv.end(), extra.begin(), extra.end());
  injectors_.push_back(std::make_unique<ChildProcess>(argv, "", dir_.file("inj-" + node + ".log")));
}

std::unique_ptr<v1::ControllerApi::Stub> SecurityFixture::stub(const std::string& cert) const {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = read_file(certs() + "/ca.crt");
  o.pem_cert_chain = read_file(certs() + "/" + cert + ".crt");
  o.pem_private_key = read_file(certs() + "/" + cert + ".key");
  return v1::ControllerApi::NewStub(grpc::CreateChannel(addr_, grpc::SslCredentials(o)));
}

void SecurityFixture::authorize(grpc::ClientContext& ctx, const std::string& token) {
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
}

int SecurityFixture::cli(const std::string& role, std::vector<std::string> args,
                         std::chrono::milliseconds timeout) {
  // `schedule` takes --controller before its subcommand; the rest take it anywhere.
  if (!args.empty() && args[0] == "schedule")
    args.insert(args.begin() + 1, {"--controller", addr_});
  else
    args.insert(args.end(), {"--controller", addr_});
  args.insert(args.end(), {"--tls-dir", certs()});
  if (!role.empty()) args.insert(args.end(), {"--token-file", dir_.file(role + ".tok")});
  return cli_.run(std::move(args), timeout);
}

}  // namespace faultline::testing
