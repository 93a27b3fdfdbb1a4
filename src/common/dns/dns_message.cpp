#include "common/dns/dns_message.h"

#include <arpa/inet.h>

#include <algorithm>

namespace faultline::dns {
namespace {

constexpr size_t kOptSize = 11;  // root name, type, class, ttl, rdlength
constexpr uint32_t kMaxTtl = 0x7fffffff;

uint16_t get16(std::string_view w, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(w[at]) << 8 | static_cast<uint8_t>(w[at + 1]));
}

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v & 0xffff));
}

Error refuse(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

// Walks an uncompressed name starting at `at`, leaving `at` just past its root label; appends the
// lower-cased presentation form to `name` unless it is null. A static reason on failure, so that
// finding a question's end allocates nothing.
const char* read_name(std::string_view w, size_t& at, std::string* name) {
  const size_t start = at;
  for (;;) {
    if (at >= w.size()) return "truncated name";
    const auto len = static_cast<uint8_t>(w[at++]);
    if ((len & 0xc0) == 0xc0) return "compression pointer in the question";
    // 0x40 and 0x80 were the extended label types of RFC 2671, which RFC 6891 retired.
    if (len & 0xc0) return "label longer than 63 bytes";
    if (len == 0) return nullptr;
    // Room must remain for the root label's byte.
    if (at + len - start >= kMaxNameWire) return "name longer than 255 bytes";
    if (len > w.size() - at) return "truncated name";
    const std::string_view label = w.substr(at, len);
    if (label.find('.') != std::string_view::npos) return "label holds a '.'";
    if (name) {
      if (at - 1 != start) name->push_back('.');
      for (char c : label) name->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c);
    }
    at += len;
  }
}

// Where the question of a message ends, or nullopt when it has none that read_name() accepts.
std::optional<size_t> question_end(std::string_view w) {
  size_t at = kHeaderSize;
  if (w.size() < kHeaderSize || read_name(w, at, nullptr) || w.size() - at < 4) return std::nullopt;
  return at + 4;
}

// Only for a Query that did not come from its wire: labels as given, cut to the wire's limits.
void encode_question(std::string& out, const Question& q) {
  std::string_view name = q.name;
  size_t written = 0;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, std::min(dot, kMaxLabel));
    if (!label.empty() && written + 1 + label.size() < kMaxNameWire) {
      out.push_back(static_cast<char>(label.size()));
      out.append(label);
      written += 1 + label.size();
    }
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  out.push_back('\0');
  put16(out, q.qtype);
  put16(out, q.qclass);
}

// inet_pton() reads a C string, so an embedded NUL would hide whatever follows it.
bool parse_address(const std::string& text, int family, unsigned char* out) {
  return text.find('\0') == std::string::npos && inet_pton(family, text.c_str(), out) == 1;
}

}  // namespace

Result<Query> parse_query(std::string_view wire) {
  if (wire.size() < kHeaderSize) return refuse("shorter than a DNS header");
  if (wire.size() > kMaxMessage) return refuse("longer than 65535 bytes");
  Query q;
  q.id = get16(wire, 0);
  q.flags = get16(wire, 2);
  if (q.flags & kFlagQr) return refuse("not a query (QR set)");
  if ((q.flags >> 11 & 0xf) != 0) return refuse("opcode is not QUERY");
  if (get16(wire, 4) != 1) return refuse("QDCOUNT is not 1");
  if (get16(wire, 6) != 0) return refuse("ANCOUNT is not 0");
  if (get16(wire, 8) != 0) return refuse("NSCOUNT is not 0");
  const uint16_t arcount = get16(wire, 10);
  if (arcount > 1) return refuse("more than one additional record");

  size_t at = kHeaderSize;
  if (const char* reason = read_name(wire, at, &q.question.name)) return refuse(reason);
  if (wire.size() - at < 4) return refuse("truncated question");
  q.question.qtype = get16(wire, at);
  q.question.qclass = get16(wire, at + 2);
  at += 4;

  if (arcount == 1) {
    if (wire.size() - at < kOptSize) return refuse("truncated additional record");
    if (wire[at] != 0 || get16(wire, at + 1) != kTypeOpt)
      return refuse("additional record is not an OPT RR");
    q.has_opt = true;
    q.opt_udp_size = get16(wire, at + 3);
    const uint16_t rdlength = get16(wire, at + 9);
    at += kOptSize;
    if (rdlength > wire.size() - at) return refuse("truncated OPT RR");
    at += rdlength;  // the options (cookie, client subnet...) do not change a forged answer
  }
  if (at != wire.size()) return refuse("bytes after the last record");
  return q;
}

std::string forged_answer(const Query& q, std::string_view query_wire, Rcode rcode,
                          const std::vector<std::string>& addresses, uint32_t ttl) {
  std::string out;
  out.reserve(512);
  put16(out, q.id);
  put16(out, static_cast<uint16_t>(kFlagQr | kFlagRa | (q.flags & (kFlagRd | kFlagCd)) |
                                   (static_cast<uint8_t>(rcode) & 0xf)));
  put16(out, 1);                  // QDCOUNT
  put16(out, 0);                  // ANCOUNT, filled in below
  put16(out, 0);                  // NSCOUNT
  put16(out, q.has_opt ? 1 : 0);  // ARCOUNT
  if (const auto end = question_end(query_wire))
    out.append(query_wire.substr(kHeaderSize, *end - kHeaderSize));
  else
    encode_question(out, q.question);

  const bool a = q.question.qtype == kTypeA, aaaa = q.question.qtype == kTypeAaaa;
  if (rcode == Rcode::kNoError && q.question.qclass == kClassIn && (a || aaaa)) {
    const int family = a ? AF_INET : AF_INET6;
    const uint16_t rdlength = a ? 4 : 16;
    const size_t rr_size = 12 + rdlength;
    const size_t reserved = q.has_opt ? kOptSize : 0;
    uint16_t ancount = 0;
    for (const auto& address : addresses) {
      unsigned char rdata[16];
      if (!parse_address(address, family, rdata)) continue;
      if (out.size() + rr_size + reserved > kMaxMessage) break;
      put16(out, static_cast<uint16_t>(0xc000 | kHeaderSize));  // points at the question's name
      put16(out, q.question.qtype);
      put16(out, kClassIn);
      put32(out, std::min(ttl, kMaxTtl));
      put16(out, rdlength);
      out.append(reinterpret_cast<const char*>(rdata), rdlength);
      ++ancount;
    }
    out[6] = static_cast<char>(ancount >> 8);
    out[7] = static_cast<char>(ancount & 0xff);
  }

  if (q.has_opt) {
    out.push_back('\0');  // root
    put16(out, kTypeOpt);
    put16(out, kForgedUdpSize);
    put32(out, 0);  // extended rcode, version 0, no DO bit
    put16(out, 0);  // no options
  }
  return out;
}

std::optional<uint16_t> response_id(std::string_view wire) {
  if (wire.size() < kHeaderSize) return std::nullopt;
  return get16(wire, 0);
}

void set_id(std::string& wire, uint16_t id) {
  if (wire.size() < 2) return;
  wire[0] = static_cast<char>(id >> 8);
  wire[1] = static_cast<char>(id & 0xff);
}

bool valid_address(const std::string& address) {
  unsigned char buf[16];
  return parse_address(address, AF_INET, buf) || parse_address(address, AF_INET6, buf);
}

}  // namespace faultline::dns
