// io_fault through a FUSE passthrough mounted over a directory the test made: a reader sees
// the injected errors and latency, the files underneath are untouched, revert (and crash
// recovery of a dead mount) gives the directory back.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "injector/fault_engine.h"
#include "injector/hardware/io_fault_backend.h"
#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

pb::FaultSpec io(const std::string& path, const std::string& error, uint64_t latency_us,
                 double fraction, const std::string& ops = "all") {
  pb::FaultSpec s;
  auto* f = s.mutable_io_fault();
  f->add_paths(path);
  f->set_error(error);
  f->set_latency_us(latency_us);
  f->set_fraction(fraction);
  f->set_operations(ops);
  return s;
}

// Reads the whole file with one read(); the errno on failure (0 on success).
int read_errno(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) return errno;
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof buf);
  int e = n < 0 ? errno : 0;
  ::close(fd);
  return e;
}

class IoFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    file_ = dir_.file("data.txt");
    write_file(file_, "hello from underneath\n");
  }
  TempDir dir_;
  std::string file_;
};

TEST_F(IoFault, EveryReadFailsWithTheInjectedErrorUntilReverted) {
  FaultEngine engine(default_backends());
  auto applied = engine.apply("io", io(dir_.path(), "EIO", 0, 1.0), 30s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(read_errno(file_), EIO);
  // Metadata still works: the directory is there, only reads fail.
  EXPECT_TRUE(std::filesystem::exists(file_));
  ASSERT_TRUE(engine.revert("io").ok());
  EXPECT_EQ(read_errno(file_), 0);
  EXPECT_EQ(read_file(file_), "hello from underneath\n");
}

TEST_F(IoFault, TheErrorRateIsTheRequestedFraction) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("io", io(dir_.path(), "EIO", 0, 0.3), 30s).ok());
  int failed = 0, total = 1000;
  for (int i = 0; i < total; ++i) failed += read_errno(file_) == EIO;
  EXPECT_NEAR(static_cast<double>(failed) / total, 0.3, 0.06);
  ASSERT_TRUE(engine.revert("io").ok());
}

TEST_F(IoFault, LatencyIsAddedToReadsOnly) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("io", io(dir_.path(), "none", 50000, 1.0, "read"), 30s).ok());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_errno(file_), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
  // Writes pass untouched.
  t0 = std::chrono::steady_clock::now();
  write_file(dir_.file("out.txt"), "w");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 40ms);
  ASSERT_TRUE(engine.revert("io").ok());
  EXPECT_EQ(read_file(dir_.file("out.txt")), "w");  // written through to the real directory
}

TEST_F(IoFault, ADeadInjectorsMountIsLiftedByTheNextStart) {
  TempDir state;
  std::string root = state.file("ledger");
  pid_t child = fork();
  if (child == 0) {
    FaultEngine* engine =
        std::move(start_engine(root)).value().release();  // never destroyed: a crash
    _exit(engine->apply("io", io(dir_.path(), "EIO", 0, 1.0), 60s).ok() ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The FUSE server died with its process: the directory now answers ENOTCONN.
  EXPECT_EQ(read_errno(file_), ENOTCONN);
  auto engine = std::move(start_engine(root)).value();
  EXPECT_EQ(read_errno(file_), 0);
  EXPECT_EQ(read_file(file_), "hello from underneath\n");
}

}  // namespace
}  // namespace faultline::injector
