#include "common/dns/dns_message.h"

#include <cstring>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace faultline::dns {
namespace {

using namespace std::string_literals;

// ---- Building queries the way a stub resolver (dig, glibc) sends them.

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

void put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xff));
}

// Presentation form ("ExAmPlE.com", "" for the root) to uncompressed wire labels.
std::string wire_name(std::string_view name) {
  std::string out;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<char>(label.size()));
    out.append(label);
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  out.push_back('\0');
  return out;
}

struct QuerySpec {
  uint16_t id = 0x1234;
  uint16_t flags = kFlagRd;
  std::string name = "example.com";
  uint16_t qtype = kTypeA;
  uint16_t qclass = kClassIn;
  bool opt = false;
  uint16_t udp = 1232;
  std::string opt_rdata;  // EDNS options, already encoded
};

std::string build(const QuerySpec& s, std::string raw_name = "") {
  std::string w;
  put16(w, s.id);
  put16(w, s.flags);
  put16(w, 1);
  put16(w, 0);
  put16(w, 0);
  put16(w, s.opt ? 1 : 0);
  w += raw_name.empty() ? wire_name(s.name) : raw_name;
  put16(w, s.qtype);
  put16(w, s.qclass);
  if (s.opt) {
    w.push_back('\0');
    put16(w, kTypeOpt);
    put16(w, s.udp);
    w += bytes({0, 0, 0, 0});
    put16(w, static_cast<uint16_t>(s.opt_rdata.size()));
    w += s.opt_rdata;
  }
  return w;
}

Query parsed(std::string_view wire) {
  auto q = parse_query(wire);
  EXPECT_TRUE(q.ok()) << q.error().message;
  return q.ok() ? q.value() : Query{};
}

std::string refusal(std::string_view wire) {
  auto q = parse_query(wire);
  EXPECT_FALSE(q.ok()) << "parsed: " << q->question.name;
  return q.ok() ? "" : q.error().message;
}

// ---- A strict reader for responses, independent of the code under test.

struct Rr {
  std::string owner;  // raw wire bytes of the owner name
  uint16_t type = 0, klass = 0;
  uint32_t ttl = 0;
  std::string rdata;
};

struct Response {
  uint16_t id = 0, flags = 0, qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  std::string question;  // raw wire bytes: name, type, class
  std::vector<Rr> answers, authority, additional;

  int rcode() const { return flags & 0xf; }
  int opcode() const { return flags >> 11 & 0xf; }
};

class Reader {
 public:
  explicit Reader(std::string_view w) : w_(w) {}
  bool failed() const { return failed_; }
  bool at_end() const { return at_ == w_.size(); }

  std::string take(size_t n) {
    if (failed_ || n > w_.size() - at_) {
      failed_ = true;
      return "";
    }
    std::string s(w_.substr(at_, n));
    at_ += n;
    return s;
  }
  uint16_t u16() {
    const std::string s = take(2);
    return failed_ ? 0 : static_cast<uint16_t>(static_cast<uint8_t>(s[0]) << 8 | uint8_t(s[1]));
  }
  uint32_t u32() {
    const uint32_t hi = u16();
    return hi << 16 | u16();
  }
  // A name: labels ending in the root, or in a 2-byte pointer. Returned as raw bytes.
  std::string name() {
    std::string out;
    for (int labels = 0; !failed_ && labels < 128; ++labels) {
      const std::string len = take(1);
      if (failed_) break;
      out += len;
      const auto n = static_cast<uint8_t>(len[0]);
      if (n == 0) return out;
      if ((n & 0xc0) == 0xc0) return out + take(1);
      out += take(n);
    }
    failed_ = true;
    return out;
  }
  Rr rr() {
    Rr r;
    r.owner = name();
    r.type = u16();
    r.klass = u16();
    r.ttl = u32();
    r.rdata = take(u16());
    return r;
  }

 private:
  std::string_view w_;
  size_t at_ = 0;
  bool failed_ = false;
};

Response read_response(std::string_view w) {
  Response r;
  Reader in(w);
  r.id = in.u16();
  r.flags = in.u16();
  r.qdcount = in.u16();
  r.ancount = in.u16();
  r.nscount = in.u16();
  r.arcount = in.u16();
  EXPECT_EQ(r.qdcount, 1);
  const std::string qname = in.name();
  r.question = qname + in.take(4);
  for (int i = 0; i < r.ancount; ++i) r.answers.push_back(in.rr());
  for (int i = 0; i < r.nscount; ++i) r.authority.push_back(in.rr());
  for (int i = 0; i < r.arcount; ++i) r.additional.push_back(in.rr());
  EXPECT_FALSE(in.failed()) << "response truncated";
  EXPECT_TRUE(in.at_end()) << "bytes after the last record";
  return r;
}

// The question of a well-formed query: everything from the header up to the OPT RR.
std::string question_of(const std::string& wire, bool opt, size_t opt_rdata = 0) {
  return wire.substr(kHeaderSize, wire.size() - kHeaderSize - (opt ? 11 + opt_rdata : 0));
}

// ---- Parsing.

TEST(DnsMessage, ParsesAPlainAQuery) {
  const Query q = parsed(build({.id = 0xbeef, .name = "api.example.com"}));
  EXPECT_EQ(q.id, 0xbeef);
  EXPECT_EQ(q.flags, kFlagRd);
  EXPECT_EQ(q.question.name, "api.example.com");
  EXPECT_EQ(q.question.qtype, kTypeA);
  EXPECT_EQ(q.question.qclass, kClassIn);
  EXPECT_FALSE(q.has_opt);
}

TEST(DnsMessage, ParsesAaaaAndMxWithAndWithoutEdns) {
  for (bool opt : {false, true}) {
    for (uint16_t type : {kTypeAaaa, kTypeMx}) {
      const Query q = parsed(build({.qtype = type, .opt = opt, .udp = 4096}));
      EXPECT_EQ(q.question.qtype, type);
      EXPECT_EQ(q.has_opt, opt);
      EXPECT_EQ(q.opt_udp_size, opt ? 4096 : 0);
    }
  }
  // Options are skipped whatever they hold: a cookie and a client subnet here.
  const std::string options =
      bytes({0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}) + bytes({0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2});
  const Query q = parsed(build({.opt = true, .udp = 512, .opt_rdata = options}));
  EXPECT_TRUE(q.has_opt);
  EXPECT_EQ(q.opt_udp_size, 512);
}

TEST(DnsMessage, ParsesWhatDigSends) {
  // `dig +qr @127.0.0.1 -p 9 ExAmPlE.CoM AAAA` (DiG 9.18.49) printed: id 2838, flags rd ad,
  // ADDITIONAL 1, EDNS version 0 udp 1232, COOKIE 002da930825a2fb6, QUERY SIZE 52.
  const std::string wire = bytes({0x0b, 0x16, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1}) +
                           "\x07"
                           "ExAmPlE"
                           "\x03"
                           "CoM"s +
                           bytes({0, 0, 28, 0, 1}) +
                           bytes({0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 12}) +
                           bytes({0, 10, 0, 8, 0x00, 0x2d, 0xa9, 0x30, 0x82, 0x5a, 0x2f, 0xb6});
  ASSERT_EQ(wire.size(), 52u);
  const Query q = parsed(wire);
  EXPECT_EQ(q.id, 2838);
  EXPECT_EQ(q.flags, kFlagRd | kFlagAd);
  EXPECT_EQ(q.question.name, "example.com");
  EXPECT_EQ(q.question.qtype, kTypeAaaa);
  EXPECT_TRUE(q.has_opt);
  EXPECT_EQ(q.opt_udp_size, 1232);

  const Response r = read_response(forged_answer(q, wire, Rcode::kNoError, {"2001:db8::7"}, 30));
  EXPECT_EQ(r.id, 2838);
  EXPECT_EQ(r.question,
            "\x07"
            "ExAmPlE"
            "\x03"
            "CoM"s +
                bytes({0, 0, 28, 0, 1}));
  ASSERT_EQ(r.answers.size(), 1u);
  ASSERT_EQ(r.additional.size(), 1u);
  EXPECT_EQ(r.flags & kFlagAd, 0);  // nothing forged is DNSSEC-validated
}

TEST(DnsMessage, LowerCasesMixedCaseNames) {
  EXPECT_EQ(parsed(build({.name = "ApI.ExAmPlE.CoM"})).question.name, "api.example.com");
  // Only ASCII folds; other bytes pass through as sent.
  EXPECT_EQ(parsed(build({.name = "\xC3\x89T\xC3\xA9.Example"})).question.name,
            "\xC3\x89t\xC3\xA9.example");
}

TEST(DnsMessage, ParsesTheRootName) {
  const Query q = parsed(build({.name = "", .qtype = 2}));
  EXPECT_EQ(q.question.name, "");
  EXPECT_EQ(q.question.qtype, 2);
}

TEST(DnsMessage, EveryTruncationIsRefused) {
  const std::vector<std::string> queries = {
      build({}),
      build({.name = "", .opt = true}),
      build({.name = "ExAmPlE.CoM",
             .qtype = kTypeAaaa,
             .opt = true,
             .opt_rdata = bytes({0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8})}),
  };
  for (const auto& wire : queries) {
    ASSERT_TRUE(parse_query(wire).ok());
    for (size_t n = 0; n < wire.size(); ++n) {
      // A copy of exactly n bytes, so that AddressSanitizer sees any read past the end.
      const std::unique_ptr<char[]> copy(new char[n == 0 ? 1 : n]);
      std::memcpy(copy.get(), wire.data(), n);
      EXPECT_FALSE(parse_query(std::string_view(copy.get(), n)).ok()) << n;
    }
  }
}

TEST(DnsMessage, TrailingBytesAreRefused) {
  EXPECT_EQ(refusal(build({}) + "x"), "bytes after the last record");
  EXPECT_EQ(refusal(build({.opt = true}) + "\0"s), "bytes after the last record");
}

TEST(DnsMessage, OnlyStandardQueriesAreAccepted) {
  EXPECT_EQ(refusal(build({.flags = kFlagQr | kFlagRd})), "not a query (QR set)");
  for (int opcode : {1, 2, 4, 5, 15})
    EXPECT_EQ(refusal(build({.flags = static_cast<uint16_t>(opcode << 11)})),
              "opcode is not QUERY");

  auto with_count = [](int offset, int value) {
    std::string w = build({});
    w[offset] = static_cast<char>(value >> 8);
    w[offset + 1] = static_cast<char>(value);
    return w;
  };
  EXPECT_EQ(refusal(with_count(4, 0)), "QDCOUNT is not 1");
  EXPECT_EQ(refusal(with_count(4, 2)), "QDCOUNT is not 1");
  EXPECT_EQ(refusal(with_count(6, 1)), "ANCOUNT is not 0");
  EXPECT_EQ(refusal(with_count(8, 1)), "NSCOUNT is not 0");
  EXPECT_EQ(refusal(with_count(10, 2)), "more than one additional record");
  EXPECT_EQ(refusal(with_count(10, 0x100)), "more than one additional record");

  // An additional record that is not OPT, or an OPT with an owner other than the root.
  std::string not_opt = build({.opt = true});
  not_opt[not_opt.size() - 10] = 1;  // type 41 -> 1
  EXPECT_EQ(refusal(not_opt), "additional record is not an OPT RR");
  std::string owned_opt = build({.opt = true});
  owned_opt.insert(owned_opt.size() - 11, bytes({1, 'a'}));
  EXPECT_EQ(refusal(owned_opt), "additional record is not an OPT RR");
  std::string pointer_opt = build({.opt = true});
  pointer_opt.replace(pointer_opt.size() - 11, 1, bytes({0xc0, 12}));
  EXPECT_EQ(refusal(pointer_opt), "additional record is not an OPT RR");

  // OPT rdata longer than what is left.
  std::string long_rdata = build({.opt = true, .opt_rdata = "abcd"});
  long_rdata[long_rdata.size() - 5] = 5;
  EXPECT_EQ(refusal(long_rdata), "truncated OPT RR");
}

TEST(DnsMessage, CompressionPointersInTheQuestionAreRefused) {
  const QuerySpec s;
  // To the question itself, after a label, and to past the end: all refused alike.
  EXPECT_EQ(refusal(build(s, bytes({0xc0, 12}))), "compression pointer in the question");
  EXPECT_EQ(refusal(build(s, bytes({3, 'w', 'w', 'w', 0xc0, 12}))),
            "compression pointer in the question");
  EXPECT_EQ(refusal(build(s, bytes({3, 'w', 'w', 'w', 0xff, 0xff}))),
            "compression pointer in the question");
  // A pointer loop to itself must not spin.
  EXPECT_EQ(refusal(build(s, bytes({0xc0, 12, 0}))), "compression pointer in the question");
}

TEST(DnsMessage, LabelAndNameLimits) {
  const std::string l63(63, 'a'), l64(64, 'a');
  EXPECT_EQ(parsed(build({.name = l63 + ".com"})).question.name, l63 + ".com");
  EXPECT_EQ(refusal(build({.name = l64 + ".com"})), "label longer than 63 bytes");
  EXPECT_EQ(refusal(build({}, bytes({0x80, 'a', 0}))), "label longer than 63 bytes");

  // 3 * (1 + 63) + (1 + 61) + 1 = 255 wire bytes: the longest name.
  const std::string longest = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
  EXPECT_EQ(parsed(build({.name = longest})).question.name, longest);
  EXPECT_EQ(refusal(build({.name = longest + "b"})), "name longer than 255 bytes");
  // Many short labels reach the limit too, within bounds.
  std::string dotted;
  for (int i = 0; i < 127; ++i) dotted += i ? ".x" : "x";
  EXPECT_EQ(parsed(build({.name = dotted})).question.name, dotted);  // 127 * 2 + 1 = 255
  EXPECT_EQ(refusal(build({.name = dotted + ".x"})), "name longer than 255 bytes");
}

TEST(DnsMessage, ADotInsideALabelIsRefused) {
  EXPECT_EQ(refusal(build({}, bytes({3, 'a', '.', 'b', 3, 'c', 'o', 'm', 0}))),
            "label holds a '.'");
}

TEST(DnsMessage, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  const std::string base = build({.name = "a.example.com",
                                  .opt = true,
                                  .opt_rdata = bytes({0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8})});
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string w = base;
    // Flip a few bytes, sometimes cut or grow the message.
    for (int k = rng() % 4; k >= 0; --k) w[rng() % w.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) w.resize(rng() % (w.size() + 8));
    const auto q = parse_query(w);
    if (!q.ok()) continue;
    ++accepted;
    const Response r = read_response(forged_answer(*q, w, Rcode::kNoError, {"192.0.2.1"}, 5));
    EXPECT_EQ(r.id, q->id);
    EXPECT_EQ(r.question, w.substr(kHeaderSize, r.question.size()));
  }
  EXPECT_GT(accepted, 100);
}

// ---- Forged answers.

TEST(DnsMessage, ForgesAnAAnswer) {
  const std::string wire = build({.id = 0xa1b2, .name = "api.example.com"});
  const Query q = parsed(wire);
  const Response r = read_response(
      forged_answer(q, wire, Rcode::kNoError, {"192.0.2.1", "2001:db8::1", "198.51.100.7"}, 60));
  EXPECT_EQ(r.id, 0xa1b2);
  EXPECT_EQ(r.flags, kFlagQr | kFlagRd | kFlagRa);  // opcode 0, AA 0, TC 0, NOERROR
  EXPECT_EQ(r.question, question_of(wire, false));
  EXPECT_EQ(r.nscount, 0);
  EXPECT_EQ(r.arcount, 0);
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0].owner, bytes({0xc0, 0x0c}));
  EXPECT_EQ(r.answers[0].type, kTypeA);
  EXPECT_EQ(r.answers[0].klass, kClassIn);
  EXPECT_EQ(r.answers[0].ttl, 60u);
  EXPECT_EQ(r.answers[0].rdata, bytes({192, 0, 2, 1}));
  EXPECT_EQ(r.answers[1].owner, bytes({0xc0, 0x0c}));
  EXPECT_EQ(r.answers[1].ttl, 60u);
  EXPECT_EQ(r.answers[1].rdata, bytes({198, 51, 100, 7}));
}

TEST(DnsMessage, ForgesAnAaaaAnswerWithEdns) {
  const std::string options = bytes({0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
  const std::string wire =
      build({.id = 7, .qtype = kTypeAaaa, .opt = true, .udp = 4096, .opt_rdata = options});
  const Query q = parsed(wire);
  const Response r = read_response(
      forged_answer(q, wire, Rcode::kNoError, {"192.0.2.1", "2001:db8::1", "::ffff:1.2.3.4"}, 0));
  EXPECT_EQ(r.id, 7);
  EXPECT_EQ(r.question, question_of(wire, true, options.size()));
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0].type, kTypeAaaa);
  EXPECT_EQ(r.answers[0].klass, kClassIn);
  EXPECT_EQ(r.answers[0].ttl, 0u);
  EXPECT_EQ(r.answers[0].rdata,
            bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(r.answers[1].rdata, bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}));
  // One OPT RR, our own size and no options echoed.
  ASSERT_EQ(r.additional.size(), 1u);
  const Rr& opt = r.additional[0];
  EXPECT_EQ(opt.owner, "\0"s);
  EXPECT_EQ(opt.type, kTypeOpt);
  EXPECT_EQ(opt.klass, kForgedUdpSize);
  EXPECT_EQ(opt.ttl, 0u);
  EXPECT_EQ(opt.rdata, "");
}

TEST(DnsMessage, EchoesTheQuestionAsSent) {
  // 0x20 randomisation: the resolver checks that the answer's question has its exact case.
  const std::string wire = build({.name = "wWw.ExAmPLe.cOm", .opt = true});
  const Query q = parsed(wire);
  EXPECT_EQ(q.question.name, "www.example.com");
  const std::string answer = forged_answer(q, wire, Rcode::kNxDomain, {}, 1);
  const Response r = read_response(answer);
  EXPECT_EQ(r.question, wire_name("wWw.ExAmPLe.cOm") + bytes({0, 1, 0, 1}));
  EXPECT_NE(answer.find("wWw"), std::string::npos);
}

TEST(DnsMessage, NoDataForTheOtherFamilyAndOtherTypes) {
  const std::vector<std::string> v6_only = {"2001:db8::1"}, v4_only = {"192.0.2.1"};
  struct Case {
    uint16_t qtype;
    std::vector<std::string> addresses;
  };
  for (const auto& c : {Case{kTypeA, v6_only}, Case{kTypeAaaa, v4_only}, Case{kTypeMx, v4_only},
                        Case{kTypeA, {}}, Case{kTypeA, {"not-an-address", "256.1.1.1"}}}) {
    for (bool opt : {false, true}) {
      const std::string wire = build({.qtype = c.qtype, .opt = opt});
      const Response r =
          read_response(forged_answer(parsed(wire), wire, Rcode::kNoError, c.addresses, 60));
      EXPECT_EQ(r.rcode(), 0);
      EXPECT_EQ(r.ancount, 0);
      EXPECT_EQ(r.nscount, 0);  // no SOA: NODATA is not cached (RFC 2308 5)
      EXPECT_EQ(r.arcount, opt ? 1 : 0);
    }
  }
  // A class other than IN gets no IN records either.
  const std::string chaos = build({.qclass = 3});
  EXPECT_EQ(
      read_response(forged_answer(parsed(chaos), chaos, Rcode::kNoError, v4_only, 60)).ancount, 0);
}

TEST(DnsMessage, ErrorRcodes) {
  for (Rcode rcode : {Rcode::kNxDomain, Rcode::kServFail, Rcode::kRefused}) {
    for (bool opt : {false, true}) {
      const std::string wire = build({.id = 99, .opt = opt});
      const Response r = read_response(forged_answer(parsed(wire), wire, rcode, {"192.0.2.1"}, 60));
      EXPECT_EQ(r.id, 99);
      EXPECT_EQ(r.rcode(), static_cast<int>(rcode));
      EXPECT_EQ(r.flags & ~0xf, kFlagQr | kFlagRd | kFlagRa);
      EXPECT_EQ(r.ancount, 0);  // addresses only go with NOERROR
      EXPECT_EQ(r.nscount, 0);  // no SOA, so no negative caching
      EXPECT_EQ(r.arcount, opt ? 1 : 0);
      EXPECT_EQ(r.question, question_of(wire, opt));
    }
  }
  EXPECT_EQ(static_cast<int>(Rcode::kServFail), 2);
  EXPECT_EQ(static_cast<int>(Rcode::kNxDomain), 3);
  EXPECT_EQ(static_cast<int>(Rcode::kRefused), 5);
}

TEST(DnsMessage, FlagsOfTheAnswer) {
  // RD and CD are copied; AA, TC and AD never set; RA always; Z clear.
  const uint16_t all = kFlagAa | kFlagTc | kFlagRd | kFlagAd | kFlagCd | 0x0040 | 0x000f;
  for (uint16_t flags : {uint16_t{0}, kFlagRd, kFlagCd, all}) {
    const std::string wire = build({.flags = flags});
    const Response r =
        read_response(forged_answer(parsed(wire), wire, Rcode::kNoError, {"192.0.2.1"}, 60));
    EXPECT_EQ(r.opcode(), 0);
    EXPECT_EQ(r.flags, kFlagQr | kFlagRa | (flags & (kFlagRd | kFlagCd))) << flags;
  }
}

TEST(DnsMessage, TtlIsCappedAt31Bits) {
  const std::string wire = build({});
  const Response r =
      read_response(forged_answer(parsed(wire), wire, Rcode::kNoError, {"192.0.2.1"}, 0xffffffff));
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].ttl, 0x7fffffffu);
}

TEST(DnsMessage, ManyAddressesStayWithinAMessage) {
  const std::string wire = build({.opt = true});
  const std::vector<std::string> addresses(10000, "192.0.2.1");
  const std::string answer = forged_answer(parsed(wire), wire, Rcode::kNoError, addresses, 60);
  EXPECT_LE(answer.size(), kMaxMessage);
  const Response r = read_response(answer);
  EXPECT_GT(r.ancount, 4000);
  EXPECT_EQ(r.arcount, 1);
}

TEST(DnsMessage, QuestionFromTheQueryWhenTheWireIsUnusable) {
  Query q;
  q.id = 5;
  q.question = {"api.example.com", kTypeA, kClassIn};
  const Response r = read_response(forged_answer(q, "", Rcode::kNoError, {"192.0.2.1"}, 60));
  EXPECT_EQ(r.question, wire_name("api.example.com") + bytes({0, 1, 0, 1}));
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].owner, bytes({0xc0, 0x0c}));
}

// ---- Helpers for the forwarder.

TEST(DnsMessage, ResponseIdAndSetId) {
  const std::string wire = build({.id = 0x0102});
  std::string answer = forged_answer(parsed(wire), wire, Rcode::kNoError, {}, 60);
  EXPECT_EQ(response_id(answer), 0x0102);
  set_id(answer, 0xfedc);
  EXPECT_EQ(response_id(answer), 0xfedc);
  EXPECT_EQ(read_response(answer).id, 0xfedc);

  EXPECT_EQ(response_id(wire), 0x0102);  // a query's too: the forwarder reads the client's
  EXPECT_EQ(response_id(answer.substr(0, 11)), std::nullopt);
  EXPECT_EQ(response_id(""), std::nullopt);

  std::string query = wire;
  set_id(query, 0xabcd);
  EXPECT_EQ(parsed(query).id, 0xabcd);
  std::string tiny = "x";
  set_id(tiny, 1);
  EXPECT_EQ(tiny, "x");
}

TEST(DnsMessage, ValidAddress) {
  for (const char* good : {"192.0.2.1", "0.0.0.0", "255.255.255.255", "::", "::1", "2001:db8::1",
                           "::ffff:192.0.2.1", "fe80::1:2:3:4"})
    EXPECT_TRUE(valid_address(good)) << good;
  for (const char* bad : {"", "192.0.2", "192.0.2.256", "192.0.2.1.", " 192.0.2.1", "1.2.3.4/24",
                          "example.com", "2001:db8::1::2", "fe80::1%eth0", "[::1]", "::g"})
    EXPECT_FALSE(valid_address(bad)) << bad;
  EXPECT_FALSE(valid_address("192.0.2.1\0junk"s));
}

}  // namespace
}  // namespace faultline::dns
