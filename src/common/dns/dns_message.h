// DNS queries and forged answers for dns_fault, which sits between a scope's resolver stub and the
// real server. Queries arrive from untrusted clients, so parsing is bounded, linear in the
// message, never reads past it and never throws; anything but a plain one-question query is
// refused with a short reason (the caller then forwards it untouched or drops it). Messages are
// whole: a TCP message's 2-byte length prefix is the caller's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace faultline::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameWire = 255;  // RFC 1035 2.3.4: labels, length bytes and the root
inline constexpr size_t kMaxLabel = 63;
inline constexpr size_t kMaxMessage = 65535;  // the TCP length prefix bounds every message

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeMx = 15;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint16_t kClassIn = 1;

// Header flag bits (RFC 1035 4.1.1, RFC 4035 for AD and CD).
inline constexpr uint16_t kFlagQr = 0x8000;
inline constexpr uint16_t kFlagAa = 0x0400;
inline constexpr uint16_t kFlagTc = 0x0200;
inline constexpr uint16_t kFlagRd = 0x0100;
inline constexpr uint16_t kFlagRa = 0x0080;
inline constexpr uint16_t kFlagAd = 0x0020;
inline constexpr uint16_t kFlagCd = 0x0010;

// What a forged answer advertises in its OPT RR: the DNS flag day 2020 size, which fits any path's
// MTU without fragmentation.
inline constexpr uint16_t kForgedUdpSize = 1232;

struct Question {
  std::string name;  // lower case (ASCII), no trailing dot, "" for the root
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;  // the header's second word, as sent
  Question question;
  bool has_opt = false;       // an EDNS OPT RR in the additional section
  uint16_t opt_udp_size = 0;  // its class: the client's UDP payload size, as sent
};

enum class Rcode : uint8_t { kNoError = 0, kServFail = 2, kNxDomain = 3, kRefused = 5 };

// A standard query: QR=0, opcode QUERY, exactly one question, no answer or authority records, and
// at most one additional record, which must be an OPT RR with the root name. The question's name
// must be plain labels: compression pointers (which a query has no use for) and the obsolete
// extended label types are refused, and so is a label holding a '.', which would read as two
// labels once joined. Other bytes of a label pass through as sent, ASCII letters lower-cased.
// Bytes after the last record are refused too: the message must be consumed exactly.
Result<Query> parse_query(std::string_view wire);

// The response to `q`, which parse_query() read from `query_wire`: same ID, QR, opcode QUERY,
// RD and CD copied, RA set, AA, TC and AD clear, and `rcode`. The question is copied verbatim from
// `query_wire`, so a client's 0x20 case randomisation is echoed as sent. With kNoError and a
// class IN question for A (AAAA), each IPv4 (IPv6) literal in `addresses` becomes an answer
// record with `ttl`, its owner a pointer to the question's name; any other question, or no
// address of the family, gets no answers (NODATA). There is never an authority section: without
// an SOA nothing is cached negatively (RFC 2308 5), so a forged NXDOMAIN ends with the fault. If
// the query had an OPT RR the response has one too (no options, kForgedUdpSize).
// Addresses that are not literals are skipped; the caller checks them earlier with
// valid_address(). A `ttl` over 2^31 - 1 is sent as that (RFC 2181 8 would read it as 0). The
// answers are not cut to the client's UDP size (only to kMaxMessage), so the caller keeps the
// list short: without EDNS, 512 bytes leave room for 15 A or 8 AAAA records behind the longest
// name.
std::string forged_answer(const Query& q, std::string_view query_wire, Rcode rcode,
                          const std::vector<std::string>& addresses, uint32_t ttl);

// The ID of a message, query or response alike (the forwarder reads a client's before giving the
// query one of its own, and the server's to map the answer back); nullopt for something shorter
// than a header, which no peer could mean as DNS.
std::optional<uint16_t> response_id(std::string_view wire);
// Overwrites the ID of a message; a no-op on anything shorter than two bytes.
void set_id(std::string& wire, uint16_t id);

// Whether `address` is an IPv4 literal (dotted quad) or an IPv6 literal (no zone, no brackets).
bool valid_address(const std::string& address);

}  // namespace faultline::dns
