// How faultline's daemons and CLI secure their gRPC connections: mutual TLS by default,
// plaintext only when someone asked for it by name (--insecure). One place decides, so the
// injector link and the controller API can never disagree.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include "common/peer_certificate.h"
#include "common/result.h"

namespace faultline {

struct TransportSecurity {
  std::string ca_file;    // CA that signed the peer's certificate (PEM)
  std::string cert_file;  // our certificate chain (PEM)
  std::string key_file;   // our private key (PEM)
  // Name the controller's certificate must carry, when it differs from the host dialled.
  std::string server_name;
  bool insecure = false;  // plaintext, explicitly asked for

  bool has_tls() const { return !ca_file.empty() || !cert_file.empty() || !key_file.empty(); }
  // Fills the three files from a directory made by scripts/gen-certs.sh: DIR/ca.crt,
  // DIR/<name>.crt, DIR/<name>.key (name: "controller", "cli", or an injector's node name).
  void use_dir(const std::string& dir, const std::string& name);
};

// Exactly one of TLS files and --insecure; an error says what to pass otherwise.
Status check_transport(const TransportSecurity& t, const std::string& who);

// Server side: TLS with our certificate; the client's certificate is asked for and its
// possession proven by the handshake, and its chain is checked by client_verifier() in each
// call, where a refusal can be explained and audited.
Result<std::shared_ptr<grpc::ServerCredentials>> server_credentials(const TransportSecurity& t);
// Null with --insecure.
Result<std::shared_ptr<ClientCertVerifier>> client_verifier(const TransportSecurity& t);

// Client side: the server must present a certificate from the CA; we present ours.
Result<std::shared_ptr<grpc::Channel>> secure_client_channel(const std::string& address,
                                                             const TransportSecurity& t);

// Said on stderr and in the log whenever a daemon runs without TLS.
void warn_plaintext(const std::string& who);

}  // namespace faultline
