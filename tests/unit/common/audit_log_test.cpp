#include "common/audit_log.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "support/child_process.h"

namespace faultline {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::write_file;

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::string text = read_file(path), line;
  for (char c : text) {
    if (c == '\n') {
      out.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  EXPECT_TRUE(line.empty()) << "the log does not end with a newline";
  return out;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_file(path, text);
}

AuditEntry entry(int i) {
  return {"alice",
          "operator",
          "SubmitExperiment",
          "run-" + std::to_string(i),
          "ipv4:127.0.0.1:5555",
          "ok",
          "entry " + std::to_string(i)};
}

class AuditLogTest : public ::testing::Test {
 protected:
  // A log of `n` entries written through AuditLog.
  void write_entries(int n) {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log.ok()) << log.error().message;
    for (int i = 1; i <= n; ++i) ASSERT_TRUE((*log)->append(entry(i)).ok());
  }
  void expect_tampered_at(const std::string& prefix, const std::string& word = "") {
    auto r = verify_audit_log(path_);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.problem.rfind(prefix, 0), 0u) << r.problem;
    if (!word.empty()) {
      EXPECT_NE(r.problem.find(word), std::string::npos) << r.problem;
    }
  }

  TempDir dir_;
  std::string path_ = dir_.file("state/sub/audit.log");  // parents made by open()
};

TEST_F(AuditLogTest, ChainOfSeveralEntriesVerifies) {
  write_entries(5);
  auto r = verify_audit_log(path_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 5u);
  auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 5u);
  auto first = nlohmann::ordered_json::parse(lines[0]);
  std::vector<std::string> keys;
  for (auto it = first.begin(); it != first.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"seq", "time", "unix_ms", "actor", "role", "action", "target",
                                      "peer", "outcome", "detail", "prev", "hash"}));
  EXPECT_EQ(first["prev"], std::string(64, '0'));
  EXPECT_EQ(nlohmann::json::parse(lines[1])["prev"], first["hash"]);
  EXPECT_EQ(read_file(path_ + ".head"),
            "5 " + nlohmann::json::parse(lines[4])["hash"].get<std::string>() + "\n");
}

// The documented hash definition, computed independently of the writer: if this changes,
// every existing log stops verifying.
TEST_F(AuditLogTest, HashIsPrevPlusSortedCompactFields) {
  write_entries(1);
  auto e = nlohmann::json::parse(lines_of(path_)[0]);
  std::string fields =
      "{\"action\":\"SubmitExperiment\",\"actor\":\"alice\",\"detail\":\"entry 1\","
      "\"outcome\":\"ok\",\"peer\":\"ipv4:127.0.0.1:5555\",\"role\":\"operator\","
      "\"seq\":1,\"target\":\"run-1\",\"time\":\"" +
      e["time"].get<std::string>() +
      "\",\"unix_ms\":" + std::to_string(e["unix_ms"].get<int64_t>()) + "}";
  EXPECT_EQ(e["hash"], sha256_hex(std::string(64, '0') + fields));
}

TEST_F(AuditLogTest, ReopeningContinuesTheChain) {
  write_entries(3);
  write_entries(2);
  auto r = verify_audit_log(path_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 5u);
  EXPECT_EQ(nlohmann::json::parse(lines_of(path_)[4])["seq"], 5);
}

TEST_F(AuditLogTest, EditedFieldNamesTheEntry) {
  write_entries(5);
  const auto good = lines_of(path_);
  for (int k = 1; k <= 5; ++k) {
    auto lines = good;
    auto e = nlohmann::ordered_json::parse(lines[k - 1]);
    e["outcome"] = "denied: not really";
    lines[k - 1] = e.dump();
    write_lines(path_, lines);
    std::string at = "entry " + std::to_string(k) + " (line " + std::to_string(k) + "): ";
    expect_tampered_at(at, "edited");
  }
}

TEST_F(AuditLogTest, EditedSeqOrPrevNamesTheEntry) {
  write_entries(4);
  const auto good = lines_of(path_);
  auto lines = good;
  auto e = nlohmann::ordered_json::parse(lines[2]);
  e["seq"] = 9;
  lines[2] = e.dump();
  write_lines(path_, lines);
  expect_tampered_at("entry 3 (line 3): ", "seq edited");

  lines = good;
  e = nlohmann::ordered_json::parse(lines[1]);
  e["prev"] = std::string(64, 'a');
  lines[1] = e.dump();
  write_lines(path_, lines);
  expect_tampered_at("entry 2 (line 2): ", "prev");
}

TEST_F(AuditLogTest, DeletedMiddleLineNamesTheEntry) {
  write_entries(5);
  auto lines = lines_of(path_);
  lines.erase(lines.begin() + 2);
  write_lines(path_, lines);
  expect_tampered_at("entry 3 (line 3): ", "deleted");
}

TEST_F(AuditLogTest, DeletedFirstLineNamesTheEntry) {
  write_entries(3);
  auto lines = lines_of(path_);
  lines.erase(lines.begin());
  write_lines(path_, lines);
  expect_tampered_at("entry 1 (line 1): ", "deleted");
}

TEST_F(AuditLogTest, DeletedLastLinesAreDetected) {
  write_entries(5);
  auto lines = lines_of(path_);
  lines.pop_back();
  write_lines(path_, lines);
  expect_tampered_at("entry 5 (line 5): ", "cut off the end");

  lines.pop_back();
  write_lines(path_, lines);
  expect_tampered_at("entry 4 (line 4): ", "cut off the end");

  write_file(path_, "");  // truncated to nothing
  expect_tampered_at("entry 1 (line 1): ", "cut off the end");
}

TEST_F(AuditLogTest, DeletedHeadFileIsReported) {
  write_entries(2);
  std::filesystem::remove(path_ + ".head");
  expect_tampered_at("after entry 2: ", "missing");
}

TEST_F(AuditLogTest, SwappedLinesAreDetected) {
  write_entries(5);
  auto lines = lines_of(path_);
  std::swap(lines[1], lines[2]);
  write_lines(path_, lines);
  expect_tampered_at("entry 2 (line 2): ", "reordered");
}

TEST_F(AuditLogTest, LineThatIsNotJsonIsNamed) {
  write_entries(5);
  auto lines = lines_of(path_);
  lines[3] = lines[3].substr(0, lines[3].size() / 2);
  write_lines(path_, lines);
  expect_tampered_at("entry 4 (line 4): ", "not valid JSON");
}

TEST_F(AuditLogTest, OpenRefusesALastLineThatIsNotAnEntry) {
  write_entries(2);
  write_file(path_, read_file(path_) + "{\"seq\": 3, \"torn");
  auto log = AuditLog::open(path_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().message.find("last line is not an entry"), std::string::npos)
      << log.error().message;
}

TEST_F(AuditLogTest, InvalidUtf8AndLongFieldsKeepTheChain) {
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok());
  AuditEntry e = entry(1);
  e.detail = "bad \xff\xfe bytes, \"quotes\", newline\n, tab\t";
  ASSERT_TRUE((*log)->append(e).ok());
  e.detail = std::string(20000, 'x');  // longer than one backwards read of the tail
  ASSERT_TRUE((*log)->append(e).ok());
  ASSERT_TRUE((*log)->append(entry(3)).ok());
  auto r = verify_audit_log(path_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 3u);
}

TEST_F(AuditLogTest, ConcurrentAppendsFromFourThreadsFormOneChain) {
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE((*log)->append(entry(t * 100 + i)).ok());
    });
  for (auto& th : threads) th.join();
  auto r = verify_audit_log(path_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 100u);
}

// Like the controller and the CLI: separate AuditLog objects, each with its own file handle.
TEST_F(AuditLogTest, TwoInstancesOnOneFileKeepOneLinearChain) {
  auto a = AuditLog::open(path_);
  auto b = AuditLog::open(path_);
  ASSERT_TRUE(a.ok() && b.ok());
  std::thread ta([&] {
    for (int i = 0; i < 40; ++i) EXPECT_TRUE((*a)->append(entry(i)).ok());
  });
  std::thread tb([&] {
    for (int i = 0; i < 40; ++i) EXPECT_TRUE((*b)->append(entry(1000 + i)).ok());
  });
  ta.join();
  tb.join();
  auto r = verify_audit_log(path_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 80u);
}

TEST_F(AuditLogTest, TwoProcessesKeepOneLinearChain) {
  write_entries(1);  // makes the file; each process opens its own AuditLog below
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto log = AuditLog::open(path_);
    int failures = log.ok() ? 0 : 1;
    for (int i = 0; log.ok() && i < 40; ++i) failures += !(*log)->append(entry(i)).ok();
    _exit(failures ? 1 : 0);
  }
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 40; ++i) EXPECT_TRUE((*log)->append(entry(500 + i)).ok());
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto r = verify_audit_log(path_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 81u);
}

TEST_F(AuditLogTest, MissingFileIsNotOk) {
  auto r = verify_audit_log(dir_.file("nope.log"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("cannot read"), std::string::npos) << r.problem;
}

}  // namespace
}  // namespace faultline
