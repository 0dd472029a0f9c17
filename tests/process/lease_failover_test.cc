// Leases across a real leader failover (kill -9 of the leader of three `synod` processes). Only the
// leader's clock expires leases, so what matters is what the next leader does with them:
//   - a lease nobody keeps alive still expires, about a TTL after the new leader took over (the new
//     leader gives every lease a full TTL plus an election timeout, as etcd does, because it cannot
//     know how much of the old leader's countdown had passed), and never before its TTL since the grant;
//   - a lease kept alive through a surviving member never expires, though the leader died;
//   - the killed leader, restarted, revokes nothing on its own.
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "api/proto/lease.grpc.pb.h"
#include "process/etcd_client.h"
#include "process/process_cluster.h"
#include "process/workload.h"

namespace synod::process_test {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kTtlSeconds = 3;
constexpr std::chrono::milliseconds kElectionTimeout{500};  // ProcessCluster's default

class LeaseClient {
 public:
  explicit LeaseClient(const std::string& endpoint)
      : stub_(
            etcdserverpb::Lease::NewStub(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()))) {
  }

  std::optional<int64_t> grant(int64_t ttl) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse response;
    if (!stub_->LeaseGrant(&context, request, &response).ok()) return std::nullopt;
    return response.id();
  }
  // One keep-alive on its own stream; true if the lease was renewed.
  bool keep_alive(int64_t id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 2s);
    auto stream = stub_->LeaseKeepAlive(&context);
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(id);
    etcdserverpb::LeaseKeepAliveResponse response;
    bool renewed = stream->Write(request) && stream->Read(&response) && response.ttl() > 0;
    stream->WritesDone();
    context.TryCancel();
    stream->Finish();
    return renewed;
  }

 private:
  std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
};

// Whether `key` exists, by a linearizable read at any serving member; nullopt if none answered.
std::optional<bool> exists(EtcdChannels& channels, ProcessCluster& cluster, const std::string& key) {
  std::string end = key + '\0';
  std::optional<std::map<std::string, mvccpb::KeyValue>> found =
      range_all_retrying(channels, cluster, key, end, 10s);
  if (!found) return std::nullopt;
  return !found->empty();
}

TEST(ProcessCluster, leasesSurviveAndExpireCorrectlyAcrossAKilledLeader) {
  ClusterOptions options;
  options.label = "lease-failover";
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  std::optional<ProcessCluster::LeaderFound> leader = cluster.wait_for_leader(20s);
  ASSERT_TRUE(leader);
  int old = leader->id;
  int survivor = old % cluster.size() + 1;
  EtcdChannels channels(cluster);
  LeaseClient via_leader(cluster.client_endpoint(old));
  LeaseClient via_survivor(cluster.client_endpoint(survivor));

  std::optional<int64_t> forgotten = via_leader.grant(kTtlSeconds);
  std::optional<int64_t> kept = via_leader.grant(kTtlSeconds);
  ASSERT_TRUE(forgotten && kept);
  Clock::time_point granted = Clock::now();
  ASSERT_TRUE(put_once(channels, old, "lease/forgotten", "held", 5s, *forgotten).ok());
  ASSERT_TRUE(put_once(channels, old, "lease/kept", "held", 5s, *kept).ok());

  cluster.kill9(old);
  Clock::time_point killed = Clock::now();
  std::optional<ProcessCluster::LeaderFound> next = cluster.wait_for_leader(20s, {old});
  ASSERT_TRUE(next) << "no new leader";
  Clock::time_point elected = Clock::now();
  std::printf("[lease-failover] killed m%d; m%d leads after %s\n", old, next->id,
              format_ms(elected - killed).c_str());

  // Keep `kept` alive through the survivor, once a second, for three TTLs; meanwhile watch `forgotten`.
  std::optional<Clock::time_point> forgotten_gone;
  Clock::time_point until = elected + std::chrono::seconds(3 * kTtlSeconds);
  while (Clock::now() < until) {
    EXPECT_TRUE(eventually(5s, [&] { return via_survivor.keep_alive(*kept); })) << "a keep-alive failed";
    if (!forgotten_gone) {
      std::optional<bool> present = exists(channels, cluster, "lease/forgotten");
      ASSERT_TRUE(present) << "no member answered a read";
      if (!*present) forgotten_gone = Clock::now();
    }
    std::optional<bool> kept_present = exists(channels, cluster, "lease/kept");
    ASSERT_TRUE(kept_present);
    ASSERT_TRUE(*kept_present) << "a lease kept alive through a surviving member expired";
    std::this_thread::sleep_for(1s);
  }
  ASSERT_TRUE(forgotten_gone) << "the forgotten lease never expired after the failover";
  std::printf("[lease-failover] the forgotten lease's key went %s after the grant, %s after the election\n",
              format_ms(*forgotten_gone - granted).c_str(), format_ms(*forgotten_gone - elected).c_str());
  // Never early: not before its TTL since the grant, and (the new leader's full TTL plus one election
  // timeout, as etcd extends) not before that after the new leader was seen (less the polling
  // granularity of wait_for_leader).
  EXPECT_GE(*forgotten_gone - granted, std::chrono::seconds(kTtlSeconds));
  EXPECT_GE(*forgotten_gone - elected, std::chrono::seconds(kTtlSeconds) + kElectionTimeout - 200ms);
  // Nor much later: that, plus the lessor's check interval and a read's round trip.
  EXPECT_LE(*forgotten_gone - elected, std::chrono::seconds(kTtlSeconds) + kElectionTimeout + 2s);

  // The old leader comes back as a follower and revokes nothing by itself.
  Status restarted = cluster.restart(old);
  ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
  ASSERT_TRUE(cluster.wait_caught_up(old, 30s));
  for (int i = 0; i < 2 * kTtlSeconds; ++i) {
    EXPECT_TRUE(eventually(5s, [&] { return via_survivor.keep_alive(*kept); }));
    std::optional<bool> kept_present = exists(channels, cluster, "lease/kept");
    ASSERT_TRUE(kept_present && *kept_present) << "the kept lease expired after the old leader came back";
    std::this_thread::sleep_for(1s);
  }
  EXPECT_TRUE(cluster.unexpected_exits().empty());
}

}  // namespace
}  // namespace synod::process_test
