// Real multi-process clusters on loopback: `synod` members started as processes, killed with SIGKILL,
// frozen with SIGSTOP, stopped with SIGTERM and restarted from their disks, under concurrent clients of
// the etcd v3 gRPC API. Every client call is recorded and the history checked with synod-check; every
// acknowledged write is read back afterwards.
//
// Timing: heartbeat 50 ms and election timeout 500 ms (ProcessCluster's defaults), so a follower
// campaigns after a randomized 500..1000 ms without hearing from its leader.
#include "process/process_cluster.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "api/etcdctl_runner.h"
#include "api/proto/lease.grpc.pb.h"
#include "process/etcd_client.h"
#include "process/workload.h"

namespace synod::process_test {
namespace {

using namespace std::chrono_literals;

bool exited_cleanly(int status) {
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void expect_no_crashes(ProcessCluster& cluster) {
  for (const std::string& exit : cluster.unexpected_exits()) ADD_FAILURE() << "member " << exit;
}

void expect_clean_stop(ProcessCluster& cluster) {
  Clock::time_point start = Clock::now();
  std::vector<int> statuses = cluster.stop_all();
  for (size_t i = 0; i < statuses.size(); ++i) {
    EXPECT_TRUE(exited_cleanly(statuses[i]))
        << "m" << i + 1 << " "
        << (statuses[i] == -1 ? "was not running" : server::describe_wait_status(statuses[i]))
        << " after SIGTERM";
  }
  std::printf("[stop] SIGTERM stopped %zu members in %s\n", statuses.size(),
              format_ms(Clock::now() - start).c_str());
}

// How every loaded run ends: acknowledged writes intact, the history linearizable, no member died
// unexpectedly, and every member stops cleanly on SIGTERM.
void expect_sound_end(EtcdChannels& channels, ProcessCluster& cluster, Outcomes& outcomes,
                      const HistoryRecorder& history, const std::string& label) {
  expect_writes_intact(channels, cluster, outcomes);
  expect_linearizable(history, cluster, label);
  expect_no_crashes(cluster);
  expect_clean_stop(cluster);
}

// The bound on the median time from SIGKILL of the leader to a put acknowledged by its successor.
//
// Two election timeouts cover the election itself: each follower campaigns after a timeout drawn from
// [election, 2 * election) counted from the last heartbeat it took, which came before the kill, so the
// first of them campaigns less than 2 * election after the kill (the median of the earlier of two draws
// is about 1.3 * election).
//
// The slack, 250 ms (five heartbeat intervals), covers what follows the timeout: the timer runs in
// heartbeat ticks (up to one tick, 50 ms, late); a pre-vote and a vote round on loopback, each with
// the vote persisted (fsync); the new leader's empty entry committed (a round and an fsync) before it
// serves; this test's polling of /metrics every few ms to find it; and the put's own round trip and
// fsync. Under ASan on a loaded machine each of the fsyncs and rounds takes a few to a few tens of ms.
Clock::duration failover_bound(const ClusterOptions& options) {
  return 2 * options.election + 250ms;
}

// Kills the leader `rounds` times under `load` and measures the failover each time.
void kill_leader_rounds(ProcessCluster& cluster, EtcdChannels& channels, HistoryRecorder& history,
                        Outcomes& outcomes, Workload& load, int rounds, std::vector<Clock::duration>& times) {
  for (int round = 1; round <= rounds; ++round) {
    std::optional<ProcessCluster::LeaderFound> found = cluster.wait_for_leader(20s);
    ASSERT_TRUE(found) << "no leader before round " << round;
    int old = found->id;
    uint64_t before = load.answered();

    Clock::time_point killed = Clock::now();
    cluster.kill9(old);
    // A new leader serves once a put sent straight to it is acknowledged.
    RecordingClient probe(channels, history, 1000 + round, 1000ms);
    std::optional<Clock::duration> took;
    int next = 0;
    for (int n = 0; !took && Clock::now() - killed < 20s; ++n) {
      std::optional<int> leader = cluster.leader({old});
      if (!leader) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      std::string key = "w/probe/r" + std::to_string(round) + "/" + std::to_string(n);
      std::string value = "p" + std::to_string(round) + "." + std::to_string(n);
      OpResult put = probe.put(*leader, key, value);
      outcomes.unique_put(key, value, put);
      if (put.ok()) {
        took = Clock::now() - killed;
        next = *leader;
      } else {
        std::this_thread::sleep_for(5ms);
      }
    }
    ASSERT_TRUE(took) << "no new leader served a put within 20 s of killing m" << old;
    times.push_back(*took);
    std::printf("[failover] round %d: killed leader m%d; m%d acknowledged a put %s later\n", round, old, next,
                format_ms(*took).c_str());

    Clock::time_point restarting = Clock::now();
    Status restarted = cluster.restart(old);
    ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
    ASSERT_TRUE(cluster.wait_caught_up(old, 30s)) << "m" << old << " did not catch up after its restart";
    std::printf("[failover] round %d: m%d restarted and caught up in %s\n", round, old,
                format_ms(Clock::now() - restarting).c_str());
    ASSERT_TRUE(eventually(20s, [&] { return load.answered() >= before + 20; }))
        << "the clients made no progress after the failover";
  }
}

void run_failover_test(int members, int rounds, const std::string& label) {
  ClusterOptions options;
  options.members = members;
  options.label = label;
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  ASSERT_TRUE(cluster.wait_for_leader(20s)) << "no first leader";

  EtcdChannels channels(cluster);
  HistoryRecorder history;
  Outcomes outcomes;
  ASSERT_TRUE(init_shared_keys(channels, cluster, history, 2, 20s));
  WorkloadOptions load_options;
  load_options.clients = 4;
  Workload load(cluster, channels, history, outcomes, load_options);
  load.start();
  ASSERT_TRUE(eventually(20s, [&] { return load.answered() >= 40; })) << "the clients made no progress";

  std::vector<Clock::duration> times;
  kill_leader_rounds(cluster, channels, history, outcomes, load, rounds, times);
  load.stop();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  std::string all;
  for (Clock::duration took : times) all += " " + format_ms(took);
  Clock::duration middle = median(times);
  std::printf(
      "[failover] %d members, %d kills: kill -> put acknowledged by the new leader:%s; median %s "
      "(bound %s)\n",
      members, rounds, all.c_str(), format_ms(middle).c_str(), format_ms(failover_bound(options)).c_str());
  EXPECT_LE(middle, failover_bound(options)) << "failover times:" << all;

  expect_sound_end(channels, cluster, outcomes, history, label);
}

// (a) The leader is killed with SIGKILL five times while four clients write unique keys through every
// member; each time a new leader serves within two election timeouts (median), the killed member comes
// back from its disk, and in the end no acknowledged write is lost and the history is linearizable.
TEST(ProcessCluster, killNineLeaderRepeatedlyUnderLoadLosesNoAcknowledgedWrite) {
  run_failover_test(3, 5, "kill-leader");
}

// (e) The same with five members and three kills.
TEST(ProcessCluster, fiveMembersKillNineLeaderUnderLoadLosesNoAcknowledgedWrite) {
  run_failover_test(5, 3, "kill-leader-5");
}

// (b) A follower that was down while the leader compacted its log past it comes back through a snapshot
// and then serves the same data as the leader.
TEST(ProcessCluster, restartedFollowerCatchesUpThroughASnapshot) {
  ClusterOptions options;
  options.label = "snapshot";
  options.snapshot_count = 100;
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  std::optional<ProcessCluster::LeaderFound> first = cluster.wait_for_leader(20s);
  ASSERT_TRUE(first);
  int follower = first->id == 1 ? 2 : 1;
  EtcdChannels channels(cluster);
  HistoryRecorder history;
  Outcomes outcomes;

  // Some writes the follower takes while it is up, then it is killed and many more are written.
  auto write = [&](const std::string& prefix, int count, int threads) {
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&, t] {
        RecordingClient client(channels, history, t + 1);
        size_t turn = static_cast<size_t>(t);
        for (int i = t; i < count; i += threads) {
          std::string key = prefix + std::to_string(i);
          std::string value = "v" + std::to_string(i);
          Clock::time_point deadline = Clock::now() + 20s;
          // A key is written once; should its put be of unknown outcome, the next index is tried.
          OpResult put;
          do {
            std::vector<int> serving = cluster.serving();
            if (serving.empty()) break;  // the test fails on the missing writes
            put = client.put(serving[turn++ % serving.size()], key, value);
            outcomes.unique_put(key, value, put);
            if (!put.ok()) std::this_thread::sleep_for(20ms);
          } while (put.status == check::OpStatus::kFail && Clock::now() < deadline);
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
  };
  write("w/before/", 30, 2);
  ASSERT_TRUE(cluster.wait_caught_up(follower, 20s));
  std::optional<double> follower_applied = cluster.metric(follower, "synod_server_apply_index");
  ASSERT_TRUE(follower_applied);
  cluster.kill9(follower);

  // More entries than the leader keeps in flight to the dead follower (raft::Config's 256 unacknowledged
  // appends, which wait in the transport's queue and reach the follower when it returns): the entries
  // past them are compacted away, so only a snapshot can bring the follower back.
  write("w/after/", 2000, 8);
  std::optional<int> leader = cluster.leader();
  ASSERT_TRUE(leader);
  std::optional<double> leader_snapshot = cluster.metric(*leader, "synod_server_snapshot_index");
  std::optional<double> leader_commit = cluster.metric(*leader, "synod_server_commit_index");
  ASSERT_TRUE(leader_snapshot && leader_commit);
  std::printf(
      "[snapshot] follower m%d was killed at apply index %.0f; the leader m%d has commit index %.0f "
      "and snapshot index %.0f\n",
      follower, *follower_applied, *leader, *leader_commit, *leader_snapshot);
  // The leader's log now starts past everything the follower has: only a snapshot can bring it back.
  ASSERT_GT(*leader_snapshot, *follower_applied + 100) << "the leader did not compact its log";

  Clock::time_point restarting = Clock::now();
  Status restarted = cluster.restart(follower);
  ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
  std::optional<double> applied;
  std::optional<double> snapshot;
  bool caught_up = eventually(30s, [&] {
    applied = cluster.metric(follower, "synod_server_apply_index");
    snapshot = cluster.metric(follower, "synod_server_snapshot_index");
    return applied && snapshot && *applied >= *leader_commit && *snapshot >= *leader_snapshot;
  });
  ASSERT_TRUE(caught_up) << "m" << follower << " apply index " << applied.value_or(-1) << ", snapshot index "
                         << snapshot.value_or(-1) << "; the leader's commit index " << *leader_commit
                         << ", snapshot index " << *leader_snapshot;
  std::printf("[snapshot] m%d restarted and caught up in %s: apply index %.0f, snapshot index %.0f\n",
              follower, format_ms(Clock::now() - restarting).c_str(), *applied, *snapshot);

  // Its serializable (local) reads now give what the leader's linearizable ones do.
  std::string error;
  auto at_leader = range_all(channels, *leader, kUniquePrefix, kUniqueEnd, false, 5s, &error);
  ASSERT_TRUE(at_leader) << error;
  auto at_follower = range_all(channels, follower, kUniquePrefix, kUniqueEnd, true, 5s, &error);
  ASSERT_TRUE(at_follower) << error;
  EXPECT_EQ(at_follower->size(), at_leader->size());
  size_t differ = 0;
  for (const auto& [key, kv] : *at_leader) {
    auto it = at_follower->find(key);
    bool same = it != at_follower->end() && it->second.value() == kv.value() &&
                it->second.mod_revision() == kv.mod_revision() && it->second.version() == kv.version();
    if (!same && ++differ <= 10) ADD_FAILURE() << "m" << follower << " differs from the leader at " << key;
  }
  EXPECT_EQ(differ, 0U);

  expect_sound_end(channels, cluster, outcomes, history, "snapshot");
}

// (c) The leader is frozen with SIGSTOP while clients have requests in flight to it. The others elect a
// new leader and go on; after SIGCONT the old leader steps down within a few seconds. Requests it held
// were each applied at most once (unique keys have version 1, the counter's version is within bounds),
// and the whole history, including whatever it answered after it woke, is linearizable.
TEST(ProcessCluster, sigstoppedLeaderStepsDownAndItsRequestsApplyAtMostOnce) {
  ClusterOptions options;
  options.label = "sigstop";
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  std::optional<ProcessCluster::LeaderFound> first = cluster.wait_for_leader(20s);
  ASSERT_TRUE(first);
  int old = first->id;

  EtcdChannels channels(cluster);
  HistoryRecorder history;
  Outcomes outcomes;
  ASSERT_TRUE(init_shared_keys(channels, cluster, history, 2, 20s));
  WorkloadOptions everywhere;
  everywhere.clients = 3;
  Workload load(cluster, channels, history, outcomes, everywhere);
  // Clients that only talk to the leader, with deadlines long enough to outlast the freeze, so their
  // requests are answered by a member that has just woken up.
  WorkloadOptions at_old;
  at_old.clients = 3;
  at_old.first_client_id = 11;
  at_old.pinned = old;
  at_old.deadline = 20s;
  at_old.prefix = "w/pinned/";
  Workload pinned(cluster, channels, history, outcomes, at_old);
  load.start();
  pinned.start();
  ASSERT_TRUE(eventually(20s, [&] { return load.answered() >= 30 && pinned.answered() >= 15; }))
      << "the clients made no progress";

  Clock::time_point stopped = Clock::now();
  cluster.sigstop(old);
  std::optional<ProcessCluster::LeaderFound> next = cluster.wait_for_leader(20s, {old});
  ASSERT_TRUE(next) << "no new leader while m" << old << " is stopped";
  std::printf("[sigstop] m%d stopped; m%d leads %s later\n", old, next->id,
              format_ms(Clock::now() - stopped).c_str());
  uint64_t mark = load.answered();
  ASSERT_TRUE(eventually(20s, [&] { return load.answered() >= mark + 30; }))
      << "the new leader does not serve";
  uint64_t pinned_before = pinned.answered();

  Clock::time_point resumed = Clock::now();
  cluster.sigcont(old);
  int64_t resumed_us = history.now_us();
  std::optional<double> is_leader;
  ASSERT_TRUE(eventually(5s,
                         [&] {
                           is_leader = cluster.metric(old, "etcd_server_is_leader");
                           return is_leader && *is_leader == 0;
                         }))
      << "m" << old << " still says it leads 5 s after SIGCONT";
  std::printf("[sigstop] m%d continued; it stepped down %s later\n", old,
              format_ms(Clock::now() - resumed).c_str());
  std::optional<etcdserverpb::StatusResponse> status;
  ASSERT_TRUE(eventually(5s,
                         [&] {
                           status = member_status(channels, old, 1s);
                           return status && status->leader() != 0 &&
                                  status->leader() != static_cast<uint64_t>(old);
                         }))
      << "m" << old << " does not follow the new leader";
  // The clients that talk only to the old leader are served again (as a follower it forwards).
  ASSERT_TRUE(eventually(20s, [&] { return pinned.answered() >= pinned_before + 10; }))
      << "m" << old << " does not serve clients after SIGCONT";
  load.stop();
  pinned.stop();

  // The requests the frozen leader held: sent to it before SIGCONT (before SIGSTOP, or while it was
  // stopped: the kernel still takes them in), finished (or given up) after SIGCONT.
  size_t held = 0;
  for (const check::Operation& op : history.history()) {
    if (op.client < at_old.first_client_id || op.call >= resumed_us) continue;
    if (op.return_time && *op.return_time < resumed_us) continue;
    ++held;
    std::printf("[sigstop] held across the freeze: %s\n", check::describe_operation(op).c_str());
  }
  EXPECT_GE(held, 1U) << "no request was in flight to m" << old << " while it was stopped";

  expect_sound_end(channels, cluster, outcomes, history, "sigstop");
}

// (d) Every member is killed with SIGKILL at once, under load, and restarted: every acknowledged write
// is still there.
TEST(ProcessCluster, killNineEveryMemberAtOnceKeepsAcknowledgedWrites) {
  ClusterOptions options;
  options.label = "kill-all";
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  ASSERT_TRUE(cluster.wait_for_leader(20s));

  EtcdChannels channels(cluster);
  HistoryRecorder history;
  Outcomes outcomes;
  ASSERT_TRUE(init_shared_keys(channels, cluster, history, 2, 20s));
  WorkloadOptions load_options;
  load_options.clients = 4;
  Workload load(cluster, channels, history, outcomes, load_options);
  load.start();
  for (int crash = 1; crash <= 2; ++crash) {
    uint64_t before = load.answered();
    ASSERT_TRUE(eventually(20s, [&] { return load.answered() >= before + 100; }))
        << "the clients made no progress";
    cluster.kill9_all();
    size_t acked = outcomes.acked_count();
    std::printf("[kill-all] crash %d: every member killed with %zu acknowledged unique puts so far\n", crash,
                acked);
    for (int id : cluster.ids()) {
      Status restarted = cluster.restart(id);
      ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
    }
    std::optional<ProcessCluster::LeaderFound> leader = cluster.wait_for_leader(20s);
    ASSERT_TRUE(leader) << "no leader after restarting every member";
    std::printf("[kill-all] crash %d: all restarted; m%d leads\n", crash, leader->id);
  }
  uint64_t after = load.answered();
  ASSERT_TRUE(eventually(20s, [&] { return load.answered() >= after + 20; }))
      << "the clients made no progress after the last restart";
  load.stop();

  expect_sound_end(channels, cluster, outcomes, history, "kill-all");
}

// (f) SIGTERM stops each member cleanly (exit status 0), one at a time under load and then all at
// once, and each restart recovers its data from disk.
TEST(ProcessCluster, sigtermStopsEachMemberCleanlyAndRestartRecovers) {
  ClusterOptions options;
  options.label = "sigterm";
  options.snapshot_count = 200;  // some members restart from a snapshot, some from the log alone
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  ASSERT_TRUE(cluster.wait_for_leader(20s));

  EtcdChannels channels(cluster);
  HistoryRecorder history;
  Outcomes outcomes;
  ASSERT_TRUE(init_shared_keys(channels, cluster, history, 2, 20s));
  WorkloadOptions load_options;
  load_options.clients = 3;
  Workload load(cluster, channels, history, outcomes, load_options);
  load.start();
  for (int id : cluster.ids()) {
    uint64_t before = load.answered();
    ASSERT_TRUE(eventually(20s, [&] { return load.answered() >= before + 30; }))
        << "the clients made no progress";
    Clock::time_point stopping = Clock::now();
    int status = cluster.terminate(id);
    EXPECT_TRUE(exited_cleanly(status)) << "m" << id << " " << server::describe_wait_status(status);
    std::printf("[sigterm] m%d %s in %s\n", id, server::describe_wait_status(status).c_str(),
                format_ms(Clock::now() - stopping).c_str());
    Status restarted = cluster.restart(id);
    ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
    ASSERT_TRUE(cluster.wait_caught_up(id, 30s)) << "m" << id << " did not catch up after its restart";
  }
  load.stop();
  expect_writes_intact(channels, cluster, outcomes);

  expect_clean_stop(cluster);
  for (int id : cluster.ids()) {
    Status restarted = cluster.restart(id);
    ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
  }
  ASSERT_TRUE(cluster.wait_for_leader(20s)) << "no leader after restarting every member";
  expect_sound_end(channels, cluster, outcomes, history, "sigterm");
}

// A backup saved by `etcdctl snapshot save` (Maintenance.Snapshot) restored with `synod snapshot
// restore` into every member's empty data dir: the new cluster starts with every key as it was (values,
// versions, create and mod revisions), the same revision and compaction point, the leases, and takes
// new writes after them; its members agree (HashKV).
TEST(ProcessCluster, backupRestoresIntoANewClusterWithEveryKeyRevisionAndLease) {
  ClusterOptions options;
  options.label = "restore";
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  std::optional<ProcessCluster::LeaderFound> leader = cluster.wait_for_leader(20s);
  ASSERT_TRUE(leader);
  EtcdChannels channels(cluster);
  auto deadline_of = [](grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + 10s);
  };
  auto put = [&](const std::string& key, const std::string& value, int64_t lease = 0) {
    etcdserverpb::PutResponse response;
    grpc::Status status = put_once(channels, leader->id, key, value, 10s, lease, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.header().revision();
  };
  for (int i = 0; i < 120; ++i) put("restore/k" + std::to_string(i % 40), "v" + std::to_string(i));
  {
    grpc::ClientContext context;
    deadline_of(context);
    etcdserverpb::CompactionRequest request;
    request.set_revision(60);
    etcdserverpb::CompactionResponse response;
    ASSERT_TRUE(channels.kv(leader->id).Compact(&context, request, &response).ok());
  }
  auto lease_stub = etcdserverpb::Lease::NewStub(
      grpc::CreateChannel(cluster.client_endpoint(leader->id), grpc::InsecureChannelCredentials()));
  etcdserverpb::LeaseGrantResponse granted;
  {
    grpc::ClientContext context;
    deadline_of(context);
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(600);
    ASSERT_TRUE(lease_stub->LeaseGrant(&context, request, &granted).ok());
  }
  int64_t last = put("restore/leased", "x", granted.id());

  // The backup is what etcd's own client saves, so an etcd user's backup routine works unchanged.
  std::string backup_path = cluster.root() + "/backup.db";
  ASSERT_TRUE(api::test::etcdctl_installed()) << "scripts/bootstrap installs etcd-client";
  std::string saved =
      api::test::run_etcdctl(cluster.client_endpoint(leader->id), "snapshot save " + backup_path);
  ASSERT_NE(saved.find("Snapshot saved at " + backup_path), std::string::npos) << saved;
  std::optional<std::map<std::string, mvccpb::KeyValue>> before =
      range_all(channels, leader->id, "restore/", "restore0", false, 10s);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->size(), 41U);

  expect_clean_stop(cluster);
  Status restored = cluster.restore_from(backup_path);
  ASSERT_TRUE(restored.is_ok()) << restored.to_string();
  for (int id : cluster.ids()) {
    Status restarted = cluster.restart(id);
    ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
  }
  leader = cluster.wait_for_leader(20s);
  ASSERT_TRUE(leader) << "no leader in the restored cluster";

  std::optional<std::map<std::string, mvccpb::KeyValue>> after =
      range_all_retrying(channels, cluster, "restore/", "restore0", 20s);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), before->size());
  for (const auto& [key, kv] : *before) {
    ASSERT_TRUE(after->contains(key)) << key;
    EXPECT_EQ(after->at(key).SerializeAsString(), kv.SerializeAsString()) << key;
  }
  // The history below the compaction point stays compacted; the newest revision is where it was.
  std::optional<etcdserverpb::StatusResponse> status = member_status(channels, leader->id, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->header().revision(), last);
  {
    grpc::ClientContext context;
    deadline_of(context);
    etcdserverpb::RangeRequest request;
    request.set_key("restore/k1");
    request.set_revision(50);
    etcdserverpb::RangeResponse response;
    grpc::Status old = channels.kv(leader->id).Range(&context, request, &response);
    EXPECT_EQ(old.error_code(), grpc::StatusCode::OUT_OF_RANGE) << old.error_message();
  }
  // The lease came back, still holding its key.
  {
    auto stub = etcdserverpb::Lease::NewStub(
        grpc::CreateChannel(cluster.client_endpoint(leader->id), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    deadline_of(context);
    etcdserverpb::LeaseTimeToLiveRequest request;
    request.set_id(granted.id());
    request.set_keys(true);
    etcdserverpb::LeaseTimeToLiveResponse response;
    ASSERT_TRUE(stub->LeaseTimeToLive(&context, request, &response).ok());
    EXPECT_GT(response.ttl(), 0);
    ASSERT_EQ(response.keys_size(), 1);
    EXPECT_EQ(response.keys(0), "restore/leased");
  }
  EXPECT_EQ(put("restore/new", "y"), last + 1) << "new writes continue from the backup's revision";

  // Every member restored the same store: equal HashKV at the same revision.
  std::optional<uint32_t> first_hash;
  for (int id : cluster.ids()) {
    ASSERT_TRUE(cluster.wait_caught_up(id, 20s));
    grpc::ClientContext context;
    deadline_of(context);
    etcdserverpb::HashKVRequest request;
    request.set_revision(last + 1);
    etcdserverpb::HashKVResponse response;
    grpc::Status hashed = channels.maintenance(id).HashKV(&context, request, &response);
    ASSERT_TRUE(hashed.ok()) << "m" << id << ": " << hashed.error_message();
    if (!first_hash) first_hash = response.hash();
    EXPECT_EQ(response.hash(), *first_hash) << "m" << id << " differs";
  }
  expect_no_crashes(cluster);
}

// Every member's client URLs reach every member through the log, so `member list` on any member (and
// what clients dial from it, such as etcdctl's --cluster) names them all, as etcd's does.
TEST(ProcessCluster, memberListOnAnyMemberNamesEveryMembersClientUrl) {
  ClusterOptions options;
  options.label = "members";
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  ASSERT_TRUE(cluster.wait_for_leader(20s));
  auto lists_everyone = [&](int at) {
    auto stub = etcdserverpb::Cluster::NewStub(
        grpc::CreateChannel(cluster.client_endpoint(at), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 2s);
    etcdserverpb::MemberListResponse response;
    if (!stub->MemberList(&context, etcdserverpb::MemberListRequest(), &response).ok()) return false;
    if (response.members_size() != cluster.size()) return false;
    for (const etcdserverpb::Member& member : response.members()) {
      int id = static_cast<int>(member.id());
      if (member.clienturls_size() != 1 || member.clienturls(0) != "http://" + cluster.client_endpoint(id)) {
        return false;
      }
    }
    return true;
  };
  for (int id : cluster.ids()) {
    EXPECT_TRUE(eventually(10s, [&] { return lists_everyone(id); }))
        << "m" << id << "'s member list lacks some member's client URL";
  }
  expect_no_crashes(cluster);
}

// A member cut off from its quorum answers with etcd's errors, which clientv3 maps to its typed ones
// (rpctypes.ErrTimeout, ErrNoLeader): a put the leader took just before its followers froze cannot
// commit and ends with "etcdserver: request timed out" (UNAVAILABLE) after etcd's request timeout
// (5 s + 2 election timeouts); once the leader has stepped down (check-quorum), puts and linearizable
// reads are refused at once with "etcdserver: no leader" (UNAVAILABLE). Thawed, the cluster serves again.
TEST(ProcessCluster, aMemberCutOffFromItsQuorumAnswersEtcdsTimeoutAndNoLeaderErrors) {
  ClusterOptions options;
  options.label = "errors";
  ProcessCluster cluster(options);
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  std::optional<ProcessCluster::LeaderFound> found = cluster.wait_for_leader(20s);
  ASSERT_TRUE(found);
  int leader = found->id;
  EtcdChannels channels(cluster);
  auto put = [&](const std::string& key, std::chrono::seconds deadline) {
    return put_once(channels, leader, key, "v", deadline);
  };
  ASSERT_TRUE(eventually(10s, [&] { return put("errors/warm", 2s).ok(); }));

  for (int id : cluster.ids()) {
    if (id != leader) cluster.sigstop(id);
  }
  Clock::time_point sent = Clock::now();
  grpc::Status timed_out = put("errors/stuck", 20s);
  Clock::duration took = Clock::now() - sent;
  EXPECT_EQ(timed_out.error_code(), grpc::StatusCode::UNAVAILABLE) << timed_out.error_message();
  EXPECT_EQ(timed_out.error_message(), "etcdserver: request timed out");
  EXPECT_GE(took, 5s) << "answered before etcd's request timeout";

  grpc::Status no_leader = put("errors/refused", 5s);
  EXPECT_EQ(no_leader.error_code(), grpc::StatusCode::UNAVAILABLE) << no_leader.error_message();
  EXPECT_EQ(no_leader.error_message(), "etcdserver: no leader");
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    etcdserverpb::RangeRequest request;
    request.set_key("errors/warm");
    etcdserverpb::RangeResponse response;
    grpc::Status read = channels.kv(leader).Range(&context, request, &response);
    EXPECT_EQ(read.error_code(), grpc::StatusCode::UNAVAILABLE) << read.error_message();
    EXPECT_EQ(read.error_message(), "etcdserver: no leader");
  }

  for (int id : cluster.ids()) {
    if (id != leader) cluster.sigcont(id);
  }
  ASSERT_TRUE(cluster.wait_for_leader(20s)) << "no leader after the thaw";
  EXPECT_TRUE(eventually(20s, [&] {
    for (int id : cluster.ids()) {
      if (put_once(channels, id, "errors/after", "v", 2s).ok()) return true;
    }
    return false;
  })) << "the thawed cluster takes no writes";
  expect_no_crashes(cluster);
}

}  // namespace
}  // namespace synod::process_test
