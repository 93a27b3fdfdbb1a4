#include "common/peer_certificate.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace faultline {

struct ClientCertVerifier::State {
  X509_STORE* store = nullptr;
  ~State() { X509_STORE_free(store); }
};

ClientCertVerifier::~ClientCertVerifier() = default;

Result<std::shared_ptr<ClientCertVerifier>> ClientCertVerifier::from_pem(const std::string& ca) {
  std::shared_ptr<ClientCertVerifier> v(new ClientCertVerifier());
  v->state_ = std::make_unique<State>();
  v->state_->store = X509_STORE_new();
  BIO* bio = BIO_new_mem_buf(ca.data(), static_cast<int>(ca.size()));
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(v->state_->store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  if (added == 0)
    return make_error(ErrorCode::kInvalidArgument, "no CA certificate in the --tls-ca file");
  return v;
}

namespace {

std::string name_line(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

Result<PeerIdentity> ClientCertVerifier::verify(const grpc::AuthContext& auth) const {
  auto pems = auth.FindPropertyValues("x509_pem_cert");
  if (pems.empty())
    return make_error(ErrorCode::kPermissionDenied,
                      "no client certificate: this controller requires mutual TLS (give the "
                      "CLI --tls-dir, the injector its node certificate)");
  std::string pem(pems.front().data(), pems.front().size());
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert) return make_error(ErrorCode::kPermissionDenied, "unreadable client certificate");
  PeerIdentity id;
  id.subject = name_line(X509_get_subject_name(cert));
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, state_->store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  bool ok = X509_verify_cert(ctx) == 1;
  std::string why = ok ? "" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  if (!ok) {
    X509_free(cert);
    return make_error(
        ErrorCode::kPermissionDenied,
        "client certificate (" + id.subject + ") is not accepted by this controller's CA: " + why);
  }
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
    id.common_name = cn;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    if (g->type != GEN_DNS) continue;
    const auto* s = g->d.dNSName;
    id.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                              static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(sans);
  X509_free(cert);
  return id;
}

}  // namespace faultline
