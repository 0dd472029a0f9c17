// `synodctl sem acquire|status` against a real one-member server in process: the command runs with its
// token and its exit status comes back; bad usage is 2; no permit (timeout, no cluster, another count
// in force) is 1 with a message.
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "client/etcd_session.h"
#include "client/member_fixture.h"
#include "client/semaphore.h"
#include "support/run_tool.h"

#ifndef SYNODCTL
#error "SYNODCTL must name the synodctl binary"
#endif

namespace synod::client {
namespace {

using namespace std::chrono_literals;
using testing_support::ToolRun;

class SynodctlSemTest : public test::MemberFixture {
 protected:
  SynodctlSemTest() : MemberFixture("synodctl-sem-") {}
  ToolRun sem(const std::string& arguments) {
    return testing_support::run_tool(SYNODCTL, "sem " + arguments + " --endpoints " + endpoint_);
  }
  ToolRun acquire(const std::string& flags, const std::string& command) {
    return testing_support::run_tool(SYNODCTL,
                                     "sem acquire " + flags + " --endpoints " + endpoint_ + " -- " + command);
  }
};

TEST_F(SynodctlSemTest, theCommandRunsWithItsTokenAndItsExitStatusComesBack) {
  ToolRun run =
      acquire("s --permits 2 --ttl 5", "sh -c 'echo token=$SYNOD_SEM_TOKEN key=$SYNOD_SEM_KEY; exit 7'");
  EXPECT_EQ(run.exit_status, 7) << run.output;
  EXPECT_NE(run.output.find("token="), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("token= "), std::string::npos) << "no token given: " << run.output;
  EXPECT_NE(run.output.find("key=s/"), std::string::npos) << run.output;
  // Released on the way out.
  ToolRun status = sem("status s");
  EXPECT_EQ(status.exit_status, 0) << status.output;
  EXPECT_NE(status.output.find("s: 2 permits, 0 held, 0 waiting"), std::string::npos) << status.output;

  EXPECT_EQ(acquire("s --permits 2", "false").exit_status, 1);
  EXPECT_EQ(acquire("s --permits 2", "sh -c 'kill -TERM $$'").exit_status, 128 + 15);
  ToolRun missing = acquire("s --permits 2", "/nonexistent/program");
  EXPECT_EQ(missing.exit_status, 127) << missing.output;
}

TEST_F(SynodctlSemTest, noPermitIsExitOneWithTheReason) {
  auto holder = EtcdSession::open(*connection_, 5s, Clock::now() + 5s);
  ASSERT_TRUE(holder.is_ok());
  Result<Permit> held = Semaphore(*holder.value(), "busy", 1).acquire(Clock::now() + 5s);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();

  ToolRun timed_out = acquire("busy --permits 1 --timeout 0.5", "true");
  EXPECT_EQ(timed_out.exit_status, 1) << timed_out.output;
  EXPECT_NE(timed_out.output.find("in time"), std::string::npos) << timed_out.output;
  ToolRun disagreed = acquire("busy --permits 4", "true");
  EXPECT_EQ(disagreed.exit_status, 1) << disagreed.output;
  EXPECT_NE(disagreed.output.find("has 1 permits"), std::string::npos) << disagreed.output;

  ToolRun status = sem("status busy");
  EXPECT_EQ(status.exit_status, 0) << status.output;
  EXPECT_NE(status.output.find("busy: 1 permits, 1 held, 0 waiting"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("holder busy/" + lease_hex(holder.value()->lease())), std::string::npos)
      << status.output;

  uint16_t nobody = server::free_port().value();
  ToolRun no_cluster = testing_support::run_tool(
      SYNODCTL, "sem acquire x --permits 1 --dial-timeout 1 --endpoints 127.0.0.1:" + std::to_string(nobody) +
                    " -- true");
  EXPECT_EQ(no_cluster.exit_status, 1) << no_cluster.output;
  EXPECT_NE(no_cluster.output.find("cannot get a lease"), std::string::npos) << no_cluster.output;
}

TEST(SynodctlSemUsage, badUsageIsExitTwo) {
  for (const char* arguments :
       {"sem", "sem acquire", "sem acquire s -- true", "sem acquire s --permits 0 -- true",
        "sem acquire s --permits 1", "sem acquire s --permits 1 --ttl 0 -- true", "sem frobnicate s",
        "sem acquire s --permits 1 --endpoints nohost -- true"}) {
    ToolRun run = testing_support::run_tool(SYNODCTL, arguments);
    EXPECT_EQ(run.exit_status, 2) << "synodctl " << arguments << "\n" << run.output;
  }
  EXPECT_EQ(testing_support::run_tool(SYNODCTL, "--help").exit_status, 0);
  EXPECT_EQ(testing_support::run_tool(SYNODCTL, "sem acquire --help").exit_status, 0);
}

}  // namespace
}  // namespace synod::client
