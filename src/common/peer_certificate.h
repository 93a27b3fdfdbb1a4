// Client-certificate checks done by faultline itself rather than inside the TLS handshake.
// The handshake still proves the client holds the key of the certificate it sent; the chain
// to our CA is checked here, so that a client without a certificate, or with one from
// another CA, gets a clear error it can read and the refusal lands in the audit trail (a
// failed handshake reaches neither).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/result.h"

namespace faultline {

struct PeerIdentity {
  std::string common_name;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries
  std::string subject;                 // one line, for the audit trail
};

class ClientCertVerifier {
 public:
  // `ca_pem`: the CA certificate(s) client certificates must chain to.
  static Result<std::shared_ptr<ClientCertVerifier>> from_pem(const std::string& ca_pem);
  ~ClientCertVerifier();

  // kPermissionDenied with a sentence a person can act on when there is no certificate or it
  // does not chain to the CA (or is expired, or not for client use).
  Result<PeerIdentity> verify(const grpc::AuthContext& auth) const;

 private:
  ClientCertVerifier() = default;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace faultline
