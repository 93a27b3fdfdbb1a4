#include "common/transport_security.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/grpc_channel.h"
#include "common/log.h"

namespace faultline {
namespace {

Result<std::string> read_pem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(ErrorCode::kInvalidArgument, std::string("cannot read ") + what + " " + path);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN") == std::string::npos)
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(what) + " " + path + " is not a PEM file");
  return text.str();
}

struct Pems {
  std::string ca, cert, key;
};

Result<Pems> read_all(const TransportSecurity& t) {
  auto ca = read_pem(t.ca_file, "CA certificate");
  if (!ca) return ca.error();
  auto cert = read_pem(t.cert_file, "certificate");
  if (!cert) return cert.error();
  auto key = read_pem(t.key_file, "private key");
  if (!key) return key.error();
  return Pems{*ca, *cert, *key};
}

}  // namespace

void TransportSecurity::use_dir(const std::string& dir, const std::string& name) {
  ca_file = dir + "/ca.crt";
  cert_file = dir + "/" + name + ".crt";
  key_file = dir + "/" + name + ".key";
}

Status check_transport(const TransportSecurity& t, const std::string& who) {
  if (t.has_tls() && t.insecure)
    return make_error(ErrorCode::kInvalidArgument,
                      who + ": --insecure and TLS certificates exclude each other");
  if (t.insecure) return Ok{};
  if (!t.has_tls())
    return make_error(ErrorCode::kInvalidArgument,
                      who +
                          ": no TLS certificates: pass --tls-dir DIR (make one with "
                          "scripts/gen-certs.sh) or --tls-ca/--tls-cert/--tls-key; plaintext "
                          "only with --insecure");
  if (t.ca_file.empty() || t.cert_file.empty() || t.key_file.empty())
    return make_error(ErrorCode::kInvalidArgument,
                      who + ": mutual TLS needs all three of --tls-ca, --tls-cert and --tls-key");
  return Ok{};
}

Result<std::shared_ptr<grpc::ServerCredentials>> server_credentials(const TransportSecurity& t) {
  if (t.insecure) return grpc::InsecureServerCredentials();
  auto pems = read_all(t);
  if (!pems) return pems.error();
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  opts.pem_root_certs = pems->ca;
  opts.pem_key_cert_pairs.push_back({pems->key, pems->cert});
  return grpc::SslServerCredentials(opts);
}

Result<std::shared_ptr<ClientCertVerifier>> client_verifier(const TransportSecurity& t) {
  if (t.insecure) return std::shared_ptr<ClientCertVerifier>();
  auto ca = read_pem(t.ca_file, "CA certificate");
  if (!ca) return ca.error();
  return ClientCertVerifier::from_pem(*ca);
}

Result<std::shared_ptr<grpc::Channel>> secure_client_channel(const std::string& address,
                                                             const TransportSecurity& t) {
  grpc::ChannelArguments args = fast_reconnect_args();
  if (t.insecure)
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  auto pems = read_all(t);
  if (!pems) return pems.error();
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = pems->ca;
  opts.pem_cert_chain = pems->cert;
  opts.pem_private_key = pems->key;
  if (!t.server_name.empty()) args.SetSslTargetNameOverride(t.server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(opts), args);
}

void warn_plaintext(const std::string& who) {
  std::fprintf(stderr,
               "%s: WARNING: --insecure: plaintext gRPC, no peer authentication. Anyone who "
               "can reach this port can %s. Use mutual TLS (scripts/gen-certs.sh) outside a "
               "lab.\n",
               who.c_str(),
               who == "faultline-injector" ? "impersonate the controller to this injector"
                                           : "register injectors and read the traffic");
  spdlog::warn("transport=plaintext who={} reason=--insecure", who);
}

}  // namespace faultline
