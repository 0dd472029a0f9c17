// MvccStore: the replicated state machine behind Synod's etcd v3 KV API: a multi-version key-value
// store with etcd's revisions, ranges, transactions and compaction.
//
// Design. Every write request that changes something (a put, a delete that finds a key, a txn with
// such writes) advances the store's revision by one; the writes inside it are ordered by a sub
// revision. Each key keeps its versions oldest first (kv/mvcc_key_index.h): the revision that wrote
// it, its create revision, its version (writes since creation) and its lease, with the value inline;
// a delete appends a tombstone. A read at revision R sees each key's newest record at or before R, so
// historical reads cost one binary search per key. Compaction at R drops every record no read at R or
// later can see, and reads below R then fail with etcd's ErrCompacted. Writes arrive as committed log
// entries through apply(); reads (range()) never go through the log: the node runs them on its loop
// thread after a read index (linearizable) or at once (serializable). Validation repeats etcd's
// request checks (kv/mvcc_validate.h), since the log may hold any bytes; a write that fails half way
// through a txn is rolled back, so every command takes effect entirely or not at all. Snapshots are a
// deterministic encoding of the whole history: restoring one and snapshotting again gives the same
// bytes.
//
// Memory. Everything lives in memory. A key costs its std::map node (88 bytes: node header, key string,
// records vector) plus its bytes when longer than 15; each record (each revision of a key still held)
// costs sizeof(KeyRecord) = 72 bytes in its vector, which may hold as much again in spare capacity,
// plus the value's bytes when longer than 15. tests/kv/mvcc_memory_test.cc measures it with 16-byte
// keys and 100-byte values: 278 bytes per key written once and 173 per further revision as requested
// from the allocator (288 and 184 as glibc rounds them up), before malloc's own headers (about 8 bytes
// per allocation: 4 for a new key, 1 or 2 per revision). So a million such keys take about 300 MB,
// and each put before the next compaction about 190 bytes more.
// approximate_bytes() estimates the same sum (about 5% below it in that test, which asserts 10%).
//
// Leases (kv/lease_table.h): the store keeps which leases exist, their granted TTLs and the keys each
// holds. A put naming a lease attaches the key (and detaches it from its previous lease); a delete
// detaches it; a revoke deletes every key the lease holds in one revision. Expiry is time, decided by
// the leader's Lessor (server/lessor.h), which proposes a revoke; the store only reports grants,
// renewals and revokes to a LeaseObserver as it applies them.
//
// Alarms (kv/alarm_table.h) are replicated too: while NOSPACE is up the store refuses writes that add
// data. Whether the store is too big is not decided here: a member compares published_bytes() with its
// quota before it proposes a write, and raises the alarm through the log (api/space_quota.h), as etcd does.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/proto/rpc.pb.h"
#include "api/proto/synod_kv.pb.h"
#include "consensus/state_machine.h"
#include "kv/alarm_table.h"
#include "kv/lease_table.h"
#include "kv/member_table.h"
#include "kv/mvcc_key_index.h"
#include "kv/mvcc_validate.h"

namespace synod::kv {

class MvccStore;
class MvccSnapshotWriter;

// Sees the writes the store applies, on the applying thread (the node loop), so it must be quick: watches
// (kv/watch_hub.h).
class WriteObserver {
 public:
  virtual ~WriteObserver() = default;
  // After a write request that changed something: its revision and the keys it wrote, in sub revision
  // order (kv/watch_history.h turns them into events).
  virtual void on_write(const MvccStore& store, int64_t revision, const std::vector<std::string>& keys) = 0;
  // After restore() replaced the whole state.
  virtual void on_restore(const MvccStore& store) = 0;
};

struct MvccOptions {
  // The most compares, or operations in one branch, a txn may have (etcd's --max-txn-ops). Every
  // member must use the same value: it decides whether a committed txn applies.
  size_t max_txn_ops = kDefaultMaxTxnOps;
};

class MvccStore final : public StateMachine {
 public:
  MvccStore() = default;
  explicit MvccStore(MvccOptions options) : options_(options) {}
  ~MvccStore() override;
  MvccStore(const MvccStore&) = delete;
  MvccStore& operator=(const MvccStore&) = delete;

  // `command` is a kv/mvcc_codec.h command; the result is its encoded CommandResult, an error for bytes
  // that are not a command.
  std::string apply(const Entry& entry, std::string_view command) override;
  Index applied_index() const override { return applied_index_; }
  std::string snapshot() const override;
  Status restore(std::string_view data) override;
  // Encoded a slice at a time while writes go on (kv/mvcc_snapshot_writer.h).
  std::unique_ptr<SnapshotWriter> begin_snapshot() override;
  // The same snapshot with another applied index: restoring a backup into a new cluster, whose log
  // starts afresh (server/restore.h). Fails as restore() does on bytes that are not a snapshot.
  static Result<std::string> rebase_snapshot(std::string_view data, Index applied_index);

  // A read of the applied state (the node decides when that is linearizable). Errors carry etcd's
  // messages (kv/mvcc_errors.h).
  Result<etcdserverpb::RangeResponse> range(const etcdserverpb::RangeRequest& request) const;

  // The revision of the newest write; 1 in an empty store, as in etcd.
  int64_t revision() const { return revision_; }
  // Reads below this revision fail with ErrCompacted.
  int64_t compact_revision() const { return compact_revision_; }
  size_t approximate_bytes() const { return index_.approximate_bytes(); }
  // approximate_bytes() and whether NOSPACE is up, as of the last command applied: for any thread.
  size_t published_bytes() const { return published_bytes_.load(std::memory_order_relaxed); }
  bool published_nospace() const { return published_nospace_.load(std::memory_order_relaxed); }
  const KeyIndex& index() const { return index_; }
  // The applied leases; read on the applying thread only (as range()).
  const LeaseTable& leases() const { return leases_; }
  // What each member published about itself (kv/member_table.h), as of the last command applied: for
  // any thread.
  std::map<uint64_t, PublishedMember> published_members() const {
    std::lock_guard<std::mutex> lock(published_members_mutex_);
    return published_members_;
  }
  // The raised alarms; read on the applying thread only.
  const AlarmTable& alarms() const { return alarms_; }
  // Told of every lease grant, renewal and revoke this store applies, and of restores (nullptr: none).
  // Set before the node starts applying.
  void set_lease_observer(LeaseObserver* observer) { lease_observer_ = observer; }
  // Told of every write and restore (nullptr: none). Set before the node starts applying.
  void set_write_observer(WriteObserver* observer) { write_observer_ = observer; }
  // Fixed at construction (restore() keeps them), so any thread may read them.
  const MvccOptions& options() const { return options_; }

 private:
  class Write;

  std::string execute(const synodpb::Command& command, Index index);
  // Completes a write request: its revision becomes the store's, or, if it failed, its changes are
  // taken back.
  void finish(const Write& write, bool ok);
  // A whole txn request: the checks, then the operations of the branches its compares chose.
  Result<etcdserverpb::TxnResponse> run_txn(Write& write, const etcdserverpb::TxnRequest& request);
  Result<etcdserverpb::PutResponse> put(Write& write, const etcdserverpb::PutRequest& request);
  etcdserverpb::DeleteRangeResponse delete_range(Write& write,
                                                 const etcdserverpb::DeleteRangeRequest& request);
  Result<etcdserverpb::TxnResponse> txn(Write& write, const etcdserverpb::TxnRequest& request,
                                        const std::vector<bool>& path, size_t& step);
  Result<etcdserverpb::CompactionResponse> compact(const etcdserverpb::CompactionRequest& request);

  // A range over the state a write in progress sees at revision `view`.
  etcdserverpb::RangeResponse read(const etcdserverpb::RangeRequest& request, int64_t view) const;
  Status check_read_revision(int64_t revision) const;
  // Which branch each txn on the way runs, in the order the txns run: compares see the state before
  // the txn, as in etcd.
  void choose_branches(const etcdserverpb::TxnRequest& request, std::vector<bool>& path) const;
  bool holds(const etcdserverpb::Compare& compare) const;
  // etcd's checks against the state before the txn, all puts first, then all ranges.
  Status check_puts(const etcdserverpb::TxnRequest& request, const std::vector<bool>& path,
                    size_t& step) const;
  Status check_ranges(const etcdserverpb::TxnRequest& request, const std::vector<bool>& path,
                      size_t& step) const;
  // A put naming a lease that does not exist fails with kLeaseNotFoundMessage.
  Status check_lease(int64_t lease) const;

  // The lease commands (kv/lease_commands.cc). A grant with ID 0 gets an id derived from `index`.
  Result<etcdserverpb::LeaseGrantResponse> grant_lease(const etcdserverpb::LeaseGrantRequest& request,
                                                       Index index);
  Result<etcdserverpb::LeaseKeepAliveResponse> renew_lease(
      const etcdserverpb::LeaseKeepAliveRequest& request);
  // Deletes the lease's keys inside `write`; the lease itself goes once the write is finished.
  Status revoke_lease_keys(Write& write, int64_t id);
  void forget_lease(int64_t id);
  // Moves each key a completed write touched from the lease it had to the lease it has now.
  void reattach_leases(const Write& write);
  // After a restore: every live key attached to its lease.
  void rebuild_lease_keys();

  // Raise, clear or list alarms; record a member's publication (kv/cluster_commands.cc).
  etcdserverpb::AlarmResponse alarm(const etcdserverpb::AlarmRequest& request);
  // Why the raised alarms refuse `command`; ok if they do not.
  Status check_alarms(const synodpb::Command& command) const;
  void publish();
  synodpb::MemberAttributes publish_member(const synodpb::MemberAttributes& request);

  // A snapshot is its head (magic, applied index, revisions), the key index, then its tail (leases,
  // alarms, members).
  void encode_snapshot_head(ByteWriter& out) const;
  void encode_snapshot_tail(ByteWriter& out) const;
  Status decode_snapshot(std::string_view data);
  // Before a change a snapshot in progress could not skip (a compaction, a restore).
  void finish_snapshot_writer();

  const MvccOptions options_;
  Index applied_index_ = 0;
  int64_t revision_ = 1;
  int64_t compact_revision_ = 0;
  KeyIndex index_;
  LeaseTable leases_;
  AlarmTable alarms_;
  MemberTable members_;
  mutable std::mutex published_members_mutex_;
  std::map<uint64_t, PublishedMember> published_members_;
  std::atomic<size_t> published_bytes_{0};
  std::atomic<bool> published_nospace_{false};
  LeaseObserver* lease_observer_ = nullptr;
  WriteObserver* write_observer_ = nullptr;
  friend class MvccSnapshotWriter;
  MvccSnapshotWriter* writer_ = nullptr;  // the snapshot in progress, if any
};

}  // namespace synod::kv
