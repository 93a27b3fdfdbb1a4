// A DNS query as dig 9.18 sends one, for bench/dns_query_client.cpp and
// bench/dns_decision_bench.cpp (header only, no project libraries): one question, RD and AD
// set, and an EDNS OPT record (UDP size 1232) carrying an 8-byte client COOKIE.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dnsbench {

inline void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

// `name` is dotted, without the trailing dot; its labels must be 1-63 bytes (the caller's
// names are fixed strings). `cookie` fills the 8-byte client cookie.
inline std::string query_wire(std::string_view name, uint16_t id, uint16_t qtype, uint64_t cookie) {
  std::string out;
  out.reserve(64 + name.size());
  put16(out, id);
  put16(out, 0x0100 | 0x0020);  // RD, AD (dig's default flags)
  put16(out, 1);                // QDCOUNT
  put16(out, 0);                // ANCOUNT
  put16(out, 0);                // NSCOUNT
  put16(out, 1);                // ARCOUNT: the OPT record
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    out.push_back(static_cast<char>(dot - start));
    out.append(name.substr(start, dot - start));
    start = dot + 1;
  }
  out.push_back('\0');
  put16(out, qtype);
  put16(out, 1);  // class IN
  // OPT RR (RFC 6891): root name, type 41, class = UDP payload size, TTL = ext-rcode/version/DO,
  // then RDATA with one option, COOKIE (10) of 8 bytes.
  out.push_back('\0');
  put16(out, 41);
  put16(out, 1232);
  put16(out, 0);
  put16(out, 0);
  put16(out, 12);  // RDLENGTH: option code, option length, 8 bytes
  put16(out, 10);
  put16(out, 8);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((cookie >> (8 * i)) & 0xFF));
  return out;
}

}  // namespace dnsbench
