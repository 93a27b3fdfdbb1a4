#include "container_fixture.h"

namespace faultline::testing {
namespace {

// Brought up once for the binary, down (and checked clean) after the last test.
class RigEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!container_rig()) return;
    std::string left = container_rig_down();
    EXPECT_EQ(left, "") << "the container rig left something behind";
  }
};
[[maybe_unused]] auto* const kRigEnvironment =
    ::testing::AddGlobalTestEnvironment(new RigEnvironment);

}  // namespace
}  // namespace faultline::testing
