// The documented set-up an attacker faces (mTLS from scripts/gen-certs.sh, a token file with a
// viewer, an operator and an admin), with a real controller and, when a test asks, a real
// injector. Each attack test drives it as the attacker would and asserts the refusal.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "faultline/v1/controller_api.grpc.pb.h"
#include "support/child_process.h"
#include "support/faultline_cli.h"

namespace faultline::testing {

inline const std::string kViewerToken = "view-0123456789abcdef0123456789abcdef";
inline const std::string kOperatorToken = "op-0123456789abcdef0123456789abcdef";
inline const std::string kAdminToken = "admin-0123456789abcdef0123456789abcdef";

class SecurityFixture {
 public:
  SecurityFixture();
  ~SecurityFixture();

  // Starts the controller with mTLS and the token file (`extra` flags appended) and waits
  // until it answers.
  void start_controller(std::vector<std::string> extra = {});
  // SIGTERM to the controller and waits for its exit (what it flushes at shutdown is written).
  void stop_controller();
  // Starts an injector for `node` with its certificate; true once the controller lists it.
  bool start_injector(const std::string& node = "node-a", std::vector<std::string> extra = {});
  // The same without waiting: for an injector the controller is expected to refuse.
  void spawn_injector(const std::string& node, std::vector<std::string> extra = {});
  std::string injector_log(const std::string& node) const {
    return read_file(dir_.file("inj-" + node + ".log"));
  }

  // A gRPC stub presenting `cert` (a name from gen-certs.sh: the CLI's by default), and a
  // context carrying `token` ("" = none).
  std::unique_ptr<v1::ControllerApi::Stub> stub(const std::string& cert = "cli") const;
  static void authorize(grpc::ClientContext& ctx, const std::string& token);

  // The CLI with the CLI certificate and the token file of `role` (viewer|operator|admin).
  int cli(const std::string& role, std::vector<std::string> args,
          std::chrono::milliseconds timeout = 60000ms);
  const std::string& out() const { return cli_.out(); }
  const std::string& err() const { return cli_.err(); }

  std::string audit() const { return read_file(dir_.file("audit.log")); }
  std::string controller_log() const { return read_file(dir_.file("ctl.log")); }
  const TempDir& dir() const { return dir_; }
  const std::string& address() const { return addr_; }
  std::string certs() const { return dir_.file("certs"); }

 private:
  TempDir dir_;
  FaultlineCli cli_;
  std::string addr_;
  std::unique_ptr<ChildProcess> controller_;
  std::vector<std::unique_ptr<ChildProcess>> injectors_;
};

}  // namespace faultline::testing
