// Simulated hardware faults against the real kernel: CPU time measured from /proc, memory
// from /proc/self/status, disk usage from statvfs on a tmpfs made by the test.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "injector/fault_engine.h"
#include "injector/hardware/cpu_stress_backend.h"
#include "injector/hardware/disk_fill_backend.h"
#include "injector/hardware/memory_pressure_backend.h"
#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

// Share of one CPU this process used over `window`.
double measured_load(std::chrono::milliseconds window) {
  double before = cpu_seconds(getpid());
  std::this_thread::sleep_for(window);
  return (cpu_seconds(getpid()) - before) / std::chrono::duration<double>(window).count();
}

uint64_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      uint64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

pb::FaultSpec cpu(uint32_t workers, double load, std::vector<uint32_t> cpus = {}) {
  pb::FaultSpec s;
  s.mutable_cpu_stress()->set_workers(workers);
  s.mutable_cpu_stress()->set_load(load);
  for (auto c : cpus) s.mutable_cpu_stress()->add_cpus(c);
  return s;
}

TEST(CpuStress, ReachesTheTargetLoadOnOneCoreAndStopsOnRevert) {
  CpuStressBackend backend;
  for (double load : {0.5, 0.9}) {
    auto applied = backend.apply("c", cpu(1, load, {0}));
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    std::this_thread::sleep_for(200ms);  // let the duty cycle settle
    double got = measured_load(2000ms);
    EXPECT_NEAR(got, load, 0.10) << "target " << load;
    // What goes to the journal: the load the workers measured themselves.
    std::string achieved = backend.achieved(*applied);
    int reported = 0;
    ASSERT_EQ(std::sscanf(achieved.c_str(), "CPU load %d%% per worker", &reported), 1) << achieved;
    EXPECT_NEAR(reported / 100.0, load, 0.10) << achieved;
    ASSERT_TRUE(backend.revert(*applied).ok());
    EXPECT_LT(measured_load(500ms), 0.05) << "workers still running after revert";
    EXPECT_TRUE(backend.revert(*applied).ok());  // idempotent
  }
}

TEST(CpuStress, RefusesACpuTheNodeDoesNotHave) {
  CpuStressBackend backend;
  auto applied = backend.apply("c", cpu(1, 1.0, {4095}));
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("cpu 4095 does not exist"), std::string::npos);
}

pb::FaultSpec memory(uint64_t bytes, double fraction = 0, uint32_t ramp_ms = 0) {
  pb::FaultSpec s;
  s.mutable_memory_pressure()->set_size_bytes(bytes);
  s.mutable_memory_pressure()->set_fraction(fraction);
  s.mutable_memory_pressure()->set_ramp_ms(ramp_ms);
  return s;
}

TEST(MemoryPressure, HoldsTheSizeAndReleasesIt) {
  MemoryPressureBackend backend;
  uint64_t before = rss_bytes();
  auto applied = backend.apply("m", memory(256ull << 20));
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(applied->state.achieved_bytes(), 256ull << 20);
  EXPECT_GE(rss_bytes(), before + (250ull << 20));
  EXPECT_EQ(backend.achieved(*applied), "held 256.0 MiB");
  ASSERT_TRUE(backend.revert(*applied).ok());
  EXPECT_LT(rss_bytes(), before + (32ull << 20));
}

TEST(MemoryPressure, RampsUpOverTime) {
  MemoryPressureBackend backend;
  auto applied = backend.apply("m", memory(128ull << 20, 0, 1000));
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_LT(backend.held_bytes("m"), 64ull << 20);
  EXPECT_TRUE(wait_until([&] { return backend.held_bytes("m") == (128ull << 20); }, 3000ms));
  ASSERT_TRUE(backend.revert(*applied).ok());
}

TEST(MemoryPressure, RefusesToGoBelowTheFloor) {
  MemoryPressureBackend backend;
  auto applied = backend.apply("m", memory(0, 0.99));
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("would leave less than the floor"), std::string::npos)
      << applied.error().message;
}

pb::FaultSpec fill(const std::string& path, uint64_t bytes, double fraction, uint64_t reserve) {
  pb::FaultSpec s;
  auto* d = s.mutable_disk_fill();
  d->set_path(path);
  d->set_size_bytes(bytes);
  d->set_fraction(fraction);
  d->set_reserve_bytes(reserve);
  return s;
}

TEST(DiskFill, FillsToThePercentAndTheFileGoesOnRevert) {
  TmpfsMount fs("64m");
  ASSERT_TRUE(fs.ok()) << "cannot mount tmpfs (run as root)";
  DiskFillBackend backend;
  auto applied = backend.apply("d1", fill(fs.path(), 0, 0.5, 1 << 20));
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_NEAR(fs.used_fraction(), 0.5, 0.02);
  std::string file = DiskFillBackend::fill_file("d1", fs.path());
  EXPECT_TRUE(std::filesystem::exists(file));
  EXPECT_NE(backend.achieved(*applied).find(" MiB on disk"), std::string::npos);
  ASSERT_TRUE(backend.revert(*applied).ok());
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_LT(fs.used_fraction(), 0.02);
  EXPECT_TRUE(backend.revert(*applied).ok());  // idempotent
}

TEST(DiskFill, NeverEatsTheReserve) {
  TmpfsMount fs("64m");
  ASSERT_TRUE(fs.ok());
  DiskFillBackend backend;
  auto applied = backend.apply("d2", fill(fs.path(), 1ull << 30, 0, 16ull << 20));
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_NE(applied->state.summary().find("capped by the reserve of 16MiB"), std::string::npos)
      << applied->state.summary();
  EXPECT_NEAR(fs.used_fraction(), 0.75, 0.02);
  // Recovery from the id alone (as after a crash mid-apply) also removes the file.
  ASSERT_TRUE(backend.recover_intent("d2", applied->spec).ok());
  EXPECT_LT(fs.used_fraction(), 0.02);
}

TEST(FaultLedger, OrphansOfADeadOwnerAreRevertedOnStart) {
  TempDir state;
  TmpfsMount fs("16m");
  ASSERT_TRUE(fs.ok());
  ChildProcess sleeper({"/bin/sleep", "60"});
  std::string root = state.file("ledger");
  // A forked "injector" applies a pause and a disk fill, then dies without reverting.
  pid_t child = fork();
  if (child == 0) {
    FaultEngine* engine =
        std::move(start_engine(root)).value().release();  // never destroyed: a crash
    pb::FaultSpec pause;
    pause.mutable_process_pause()->mutable_selector()->set_pid(sleeper.pid());
    bool ok = engine->apply("p", pause, 60s).ok() &&
              engine->apply("d", fill(fs.path(), 4 << 20, 0, 1 << 20), 60s).ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(process_state(sleeper.pid()), 'T');
  ASSERT_GT(fs.used_fraction(), 0.2);

  auto engine = std::move(start_engine(root)).value();  // the next start
  EXPECT_TRUE(wait_until([&] { return process_state(sleeper.pid()) != 'T'; }, 2000ms));
  EXPECT_LT(fs.used_fraction(), 0.05);
  EXPECT_TRUE(FaultLedger::orphans(root).empty());
}

}  // namespace
}  // namespace faultline::injector
