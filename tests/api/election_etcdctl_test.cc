// etcdctl 3.4's elect against Synod: `elect NAME PROPOSAL` campaigns (etcd's client-side Election
// recipe over KV, Lease and Watch) and leads until killed; `elect -l NAME` observes. The server-side
// Election service sees the same leader. Skipped when etcdctl is not installed.
#include "api/etcdctl_runner.h"
#include "api/lock_test_util.h"

namespace synod::api::test {
namespace {

using namespace std::chrono_literals;

class ElectionEtcdctlTest : public RecipeFixture {
 protected:
  void SetUp() override {
    if (access(kEtcdctl, X_OK) != 0) GTEST_SKIP() << kEtcdctl << " is not installed";
    RecipeFixture::SetUp();
  }
  std::string command(const std::string& args) const { return etcdctl_command(endpoint(), args); }
  std::string leader_value(const std::string& name) {
    grpc::ClientContext context;
    v3electionpb::LeaderRequest request;
    request.set_name(name);
    v3electionpb::LeaderResponse response;
    grpc::Status status = election_->Leader(&context, request, &response);
    return status.ok() ? response.kv().value() : status.error_message();
  }
};

TEST_F(ElectionEtcdctlTest, electLeadsUntilKilledAndTheObserverSeesEachLeader) {
  Background observer(command("elect -l myelection"));
  ASSERT_TRUE(wait_for_watchers(1));  // etcdctl's Observe watches the prefix: nobody leads yet

  Background alice(command("elect myelection alice"));
  std::string elected = alice.read_until_contains("alice\n");
  ASSERT_EQ(elected.rfind("myelection/", 0), 0u) << elected;
  EXPECT_TRUE(elected.ends_with("\nalice\n")) << elected;
  std::string alice_key = elected.substr(0, elected.find('\n'));
  EXPECT_EQ(observer.read_until_contains("alice\n"), alice_key + "\nalice\n");
  EXPECT_EQ(leader_value("myelection"), "alice");

  Background bob(command("elect myelection bob"));
  ASSERT_TRUE(wait_for_keys("myelection/", 2));
  EXPECT_EQ(bob.read_for(300ms), "") << "bob leads while alice does";

  alice.stop(SIGTERM);  // etcdctl resigns (ends its session's lease) when stopped
  std::string bob_elected = bob.read_until_contains("bob\n");
  ASSERT_EQ(bob_elected.rfind("myelection/", 0), 0u) << bob_elected;
  std::string bob_key = bob_elected.substr(0, bob_elected.find('\n'));
  EXPECT_NE(bob_key, alice_key);
  std::string seen = observer.read_until_contains("bob\n");
  EXPECT_EQ(seen, alice_key + "\nalice\n" + bob_key + "\nbob\n");
  EXPECT_EQ(leader_value("myelection"), "bob");
  bob.stop(SIGTERM);
  observer.stop(SIGTERM);
}

TEST_F(ElectionEtcdctlTest, etcdctlObservesAServerSideCampaign) {
  Background observer(command("elect -l served"));
  ASSERT_TRUE(wait_for_watchers(1));
  int64_t lease = grant();
  grpc::ClientContext context;
  v3electionpb::CampaignRequest request;
  request.set_name("served");
  request.set_lease(lease);
  request.set_value("from-grpc");
  v3electionpb::CampaignResponse response;
  ASSERT_TRUE(election_->Campaign(&context, request, &response).ok());
  EXPECT_EQ(observer.read_until_contains("from-grpc\n"), owner_key("served", lease) + "\nfrom-grpc\n");
  observer.stop(SIGTERM);
}

}  // namespace
}  // namespace synod::api::test
