// Process selection against real child processes, including the guard rails.
#include "injector/process/process_selector.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "injector/process/signal_sender.h"
#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

pb::ProcessSelection all() {
  pb::ProcessSelection s;
  s.set_mode(pb::PROCESS_MODE_ALL);
  return s;
}
pb::ProcessSelection one() {
  return {};
}

// A sleeper with a name nobody else on the machine has.
class Sleeper {
 public:
  explicit Sleeper(const TempDir& dir)
      : name_("flsleep" + std::to_string(getpid() % 100000)), path_(dir.file(name_)) {
    std::filesystem::copy_file("/bin/sleep", path_);
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all);
    child_ = std::make_unique<ChildProcess>(std::vector<std::string>{path_, "60"});
    wait_until([&] { return read_process(child_->pid()).value_or(ProcessInfo{}).comm == name_; },
               2000ms);
  }
  pid_t pid() const { return child_->pid(); }
  const std::string& name() const { return name_; }
  ChildProcess& child() { return *child_; }

 private:
  std::string name_, path_;
  std::unique_ptr<ChildProcess> child_;
};

TEST(ProcessSelector, ByNameFindsTheChild) {
  TempDir dir;
  Sleeper s(dir);
  pb::ProcessSelector sel;
  sel.set_name(s.name());
  auto r = resolve_processes(sel, all(), SelectorGuard::for_this_process());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].pid, s.pid());
  EXPECT_GT((*r)[0].start_time_ticks, 0u);
}

TEST(ProcessSelector, ByPidfileAndCmdline) {
  TempDir dir;
  Sleeper s(dir);
  write_file(dir.file("x.pid"), std::to_string(s.pid()) + "\n");
  pb::ProcessSelector by_file;
  by_file.set_pidfile(dir.file("x.pid"));
  auto r = resolve_processes(by_file, one(), SelectorGuard::for_this_process());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)[0].pid, s.pid());

  pb::ProcessSelector by_cmd;
  by_cmd.set_cmdline_regex(s.name() + " 60$");
  r = resolve_processes(by_cmd, all(), SelectorGuard::for_this_process());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)[0].pid, s.pid());
}

TEST(ProcessSelector, RefusesPidOneAndItself) {
  pb::ProcessSelector one;
  one.set_pid(1);
  auto r = resolve_processes(one, all(), SelectorGuard::for_this_process());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(r.error().message.find("PID 1 is never touched"), std::string::npos);

  pb::ProcessSelector self;
  self.set_pid(getpid());
  r = resolve_processes(self, all(), SelectorGuard::for_this_process());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(r.error().message.find("never touches itself"), std::string::npos);
}

TEST(ProcessSelector, EmptySelectionIsAnError) {
  pb::ProcessSelector sel;
  sel.set_name("no-such-process-anywhere");
  auto r = resolve_processes(sel, all(), SelectorGuard::for_this_process());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "no process matches name=no-such-process-anywhere");

  pb::ProcessSelector missing;
  missing.set_pidfile("/nonexistent/x.pid");
  r = resolve_processes(missing, all(), SelectorGuard::for_this_process());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot read pidfile /nonexistent/x.pid"), std::string::npos);
}

TEST(SignalSender, RefusesAProcessWhoseStartTimeChanged) {
  TempDir dir;
  Sleeper s(dir);
  auto info = read_process(s.pid());
  ASSERT_TRUE(info);
  // A different start time stands for "this PID now names another process".
  Status st = send_signal_exact(s.pid(), info->start_time_ticks + 1, SIGKILL);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(s.child().running());
  ASSERT_TRUE(send_signal_exact(s.pid(), info->start_time_ticks, SIGKILL).ok());
  EXPECT_EQ(s.child().wait(2000ms), 128 + SIGKILL);
}

// A PID namespace with a shell as its PID 1 and a sleeper as its PID 2; the whole namespace
// dies with its init at the end.
class PidNamespace {
 public:
  PidNamespace()
      : unshare_({"/usr/bin/unshare", "--pid", "--fork", "/bin/sh", "-c", "sleep 60 & wait"}) {
    wait_until(
        [&] {
          std::string kids = read_file("/proc/" + std::to_string(unshare_.pid()) + "/task/" +
                                       std::to_string(unshare_.pid()) + "/children");
          init_ = kids.empty() ? 0 : std::stoi(kids);
          return init_ != 0 && !read_file("/proc/" + std::to_string(init_) + "/task/" +
                                          std::to_string(init_) + "/children")
                                    .empty();
        },
        3000ms);
  }
  ~PidNamespace() {
    if (init_ > 0) ::kill(init_, SIGKILL);
  }
  pid_t init() const { return init_; }
  std::string ns() const { return "/proc/" + std::to_string(init_) + "/ns/pid"; }

 private:
  ChildProcess unshare_;
  pid_t init_ = 0;
};

TEST(ProcessSelector, PidsAreReadInsideTheGivenPidNamespace) {
  PidNamespace pns;
  ASSERT_GT(pns.init(), 0) << "unshare --pid did not start";
  pb::ProcessSelector sel;
  sel.set_pid(2);
  sel.set_pid_namespace(pns.ns());
  auto r = resolve_processes(sel, all(), SelectorGuard::for_this_process());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].comm, "sleep");
  EXPECT_NE((*r)[0].pid, 2);  // the host PID, not the namespace's

  // By name, only the namespace's own sleeper: not the ones the rest of the machine runs.
  ChildProcess outside({"/bin/sleep", "60"});
  pb::ProcessSelector by_name;
  by_name.set_name("sleep");
  by_name.set_pid_namespace(pns.ns());
  auto named = resolve_processes(by_name, all(), SelectorGuard::for_this_process());
  ASSERT_TRUE(named.ok()) << named.error().message;
  ASSERT_EQ(named->size(), 1u);
  EXPECT_EQ((*named)[0].pid, (*r)[0].pid);
}

TEST(ProcessSelector, ThePid1OfANamespaceIsNeverTouched) {
  PidNamespace pns;
  ASSERT_GT(pns.init(), 0);
  pb::ProcessSelector sel;
  sel.set_pid(1);
  sel.set_pid_namespace(pns.ns());
  auto r = resolve_processes(sel, all(), SelectorGuard::for_this_process());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(r.error().message.find("PID 1 of its PID namespace"), std::string::npos)
      << r.error().message;
}

TEST(ProcessSelector, OnEmptySkipAppliesToNothing) {
  pb::ProcessSelector sel;
  sel.set_name("no-such-process-" + std::to_string(getpid()));
  EXPECT_EQ(resolve_processes(sel, all(), SelectorGuard::for_this_process()).error().code,
            ErrorCode::kNotFound);
  sel.set_skip_if_empty(true);
  auto r = resolve_processes(sel, all(), SelectorGuard::for_this_process());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace faultline::injector
