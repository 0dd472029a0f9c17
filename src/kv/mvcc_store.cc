#include "kv/mvcc_store.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "base/bytes.h"
#include "kv/mvcc_codec.h"
#include "kv/mvcc_errors.h"
#include "kv/mvcc_snapshot_writer.h"

namespace synod::kv {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RangeRequest;
using etcdserverpb::RequestOp;

// Version 3 adds the alarms and the members' publications after the lease table, version 2 the lease table
// after the key index; versions 1 and 2 are still read.
constexpr std::string_view kSnapshotMagic = "synod-mvcc-3";
constexpr std::string_view kSnapshotMagicV2 = "synod-mvcc-2";
constexpr std::string_view kSnapshotMagicV1 = "synod-mvcc-1";

void fill(mvccpb::KeyValue& out, const std::string& key, const KeyRecord& record, bool with_value = true) {
  out.set_key(key);
  out.set_create_revision(record.create_revision);
  out.set_mod_revision(record.revision.main);
  out.set_version(record.version);
  if (with_value) out.set_value(record.value);
  out.set_lease(record.lease);
}

template <typename T>
int three_way(const T& have, const T& want) {
  return have < want ? -1 : (want < have ? 1 : 0);
}

// Compares one key's record (nullptr: the key is absent) with what `compare` names. An absent key
// counts as zero revisions, version and lease, as in etcd.
bool compare_one(const Compare& compare, const KeyRecord* record) {
  int order = 0;
  switch (compare.target()) {
    case Compare::VALUE:
      order = three_way(std::string_view(record != nullptr ? record->value : ""),
                        std::string_view(compare.value()));
      break;
    case Compare::VERSION:
      order = three_way(record != nullptr ? record->version : 0, compare.version());
      break;
    case Compare::CREATE:
      order = three_way(record != nullptr ? record->create_revision : 0, compare.create_revision());
      break;
    case Compare::MOD:
      order = three_way(record != nullptr ? record->revision.main : 0, compare.mod_revision());
      break;
    case Compare::LEASE: order = three_way(record != nullptr ? record->lease : 0, compare.lease()); break;
    default: break;  // an unknown target compares equal, as in etcd
  }
  switch (compare.result()) {
    case Compare::EQUAL: return order == 0;
    case Compare::NOT_EQUAL: return order != 0;
    case Compare::GREATER: return order > 0;
    case Compare::LESS: return order < 0;
    default: return true;  // an unknown comparison holds, as in etcd
  }
}

// Sorts ascending by `target`; ties keep key order.
bool sort_before(RangeRequest::SortTarget target, const KeyView& a, const KeyView& b) {
  const KeyRecord& x = *a.record;
  const KeyRecord& y = *b.record;
  switch (target) {
    case RangeRequest::VERSION: return x.version < y.version;
    case RangeRequest::CREATE: return x.create_revision < y.create_revision;
    // The main revision only: keys one txn wrote share it, and ties keep key order, as in etcd.
    case RangeRequest::MOD: return x.revision.main < y.revision.main;
    case RangeRequest::VALUE: return x.value < y.value;
    default: return *a.key < *b.key;
  }
}

}  // namespace

// A write request in progress. Its changes all share the main revision after the store's, so reads
// inside it (a txn's ranges, a put's previous value) see them; the store's revision moves once it
// completes, and only if something changed.
class MvccStore::Write {
 public:
  explicit Write(int64_t begin) : begin_(begin) {}

  Revision next(const std::string& key) {
    touched_.push_back(key);
    return {begin_ + 1, static_cast<int64_t>(touched_.size()) - 1};
  }
  bool changed() const { return !touched_.empty(); }
  // The revision a read inside the write sees, and the write's revision once it completes.
  int64_t view() const { return changed() ? begin_ + 1 : begin_; }
  const std::vector<std::string>& touched() const { return touched_; }

 private:
  int64_t begin_;
  std::vector<std::string> touched_;
};

std::string MvccStore::apply(const Entry& entry, std::string_view command) {
  SYNOD_ASSERT_MSG(entry.index == applied_index_ + 1, "entries are applied in order, once");
  applied_index_ = entry.index;
  if (command.empty()) return {};
  Result<synodpb::Command> decoded = decode_command(command);
  if (!decoded.is_ok()) return encode_error(decoded.status());
  std::string result = execute(decoded.value(), entry.index);
  publish();
  return result;
}

void MvccStore::publish() {
  published_bytes_.store(index_.approximate_bytes(), std::memory_order_relaxed);
  published_nospace_.store(alarms_.active(etcdserverpb::NOSPACE), std::memory_order_relaxed);
}

std::string MvccStore::execute(const synodpb::Command& command, Index index) {
  if (Status refused = check_alarms(command); !refused.is_ok()) return encode_error(refused);
  Write write(revision_);
  switch (command.op_case()) {
    case synodpb::Command::kPut: {
      if (Status valid = check_put(command.put()); !valid.is_ok()) return encode_error(valid);
      // Outside a txn etcd looks the lease up first, before ignore_value's check that the key exists.
      if (Status lease = check_lease(command.put().lease()); !lease.is_ok()) return encode_error(lease);
      Result<etcdserverpb::PutResponse> response = put(write, command.put());
      finish(write, response.is_ok());
      return encode_result(response);
    }
    case synodpb::Command::kDeleteRange: {
      if (Status valid = check_delete_range(command.delete_range()); !valid.is_ok())
        return encode_error(valid);
      Result<etcdserverpb::DeleteRangeResponse> response = delete_range(write, command.delete_range());
      finish(write, true);
      return encode_result(response);
    }
    case synodpb::Command::kTxn: {
      Result<etcdserverpb::TxnResponse> response = run_txn(write, command.txn());
      finish(write, response.is_ok());
      return encode_result(response);
    }
    case synodpb::Command::kCompaction: return encode_result(compact(command.compaction()));
    case synodpb::Command::kLeaseGrant: return encode_result(grant_lease(command.lease_grant(), index));
    case synodpb::Command::kLeaseRenew: return encode_result(renew_lease(command.lease_renew()));
    case synodpb::Command::kLeaseRevoke: {
      int64_t id = command.lease_revoke().id();
      if (Status status = revoke_lease_keys(write, id); !status.is_ok()) return encode_error(status);
      finish(write, true);
      forget_lease(id);
      etcdserverpb::LeaseRevokeResponse response;
      response.mutable_header()->set_revision(revision_);
      return encode_result(Result<etcdserverpb::LeaseRevokeResponse>(std::move(response)));
    }
    case synodpb::Command::kAlarm:
      return encode_result(Result<etcdserverpb::AlarmResponse>(alarm(command.alarm())));
    case synodpb::Command::kPublishMember:
      return encode_result(Result<synodpb::MemberAttributes>(publish_member(command.publish_member())));
    case synodpb::Command::OP_NOT_SET: break;
  }
  return encode_error(invalid("an MVCC command without an operation"));
}

void MvccStore::finish(const Write& write, bool ok) {
  if (ok) {
    reattach_leases(write);
    revision_ = write.view();
    if (write_observer_ != nullptr && write.changed()) {
      write_observer_->on_write(*this, revision_, write.touched());
    }
    return;
  }
  // All or nothing: take back whatever the failed request wrote before it failed.
  for (const std::string& key : write.touched()) index_.undo(key, revision_ + 1);
}

Result<etcdserverpb::TxnResponse> MvccStore::run_txn(Write& write, const etcdserverpb::TxnRequest& request) {
  if (Status valid = check_txn(request, options_.max_txn_ops); !valid.is_ok()) return valid;
  std::vector<bool> path;
  choose_branches(request, path);
  size_t step = 0;
  if (Status valid = check_puts(request, path, step); !valid.is_ok()) return valid;
  step = 0;
  if (Status valid = check_ranges(request, path, step); !valid.is_ok()) return valid;
  step = 0;
  return txn(write, request, path, step);
}

Result<etcdserverpb::PutResponse> MvccStore::put(Write& write, const etcdserverpb::PutRequest& request) {
  const KeyRecord* previous = index_.get(request.key(), write.view());
  if ((request.ignore_value() || request.ignore_lease()) && previous == nullptr) {
    return invalid(kKeyNotFoundMessage);
  }
  if (Status status = check_lease(request.lease()); !status.is_ok()) return status;
  etcdserverpb::PutResponse response;
  if (request.prev_kv() && previous != nullptr) fill(*response.mutable_prev_kv(), request.key(), *previous);
  // Copied out before the put: it may move the records `previous` points into.
  std::string value = request.ignore_value() ? previous->value : request.value();
  int64_t lease = request.ignore_lease() ? previous->lease : request.lease();
  Revision revision = write.next(request.key());
  index_.put(request.key(), revision, std::move(value), lease);
  response.mutable_header()->set_revision(revision.main);
  return response;
}

etcdserverpb::DeleteRangeResponse MvccStore::delete_range(Write& write,
                                                          const etcdserverpb::DeleteRangeRequest& request) {
  etcdserverpb::DeleteRangeResponse response;
  std::vector<std::string> keys;
  for (const KeyView& live : index_.range(KeyRange::of(request.key(), request.range_end()), write.view())) {
    keys.push_back(*live.key);
    if (request.prev_kv()) fill(*response.add_prev_kvs(), *live.key, *live.record);
  }
  for (const std::string& key : keys) {
    bool removed = index_.remove(key, write.next(key));
    SYNOD_ASSERT_MSG(removed, "the range saw the key live");
  }
  response.set_deleted(static_cast<int64_t>(keys.size()));
  response.mutable_header()->set_revision(write.view());
  return response;
}

Result<etcdserverpb::TxnResponse> MvccStore::txn(Write& write, const etcdserverpb::TxnRequest& request,
                                                 const std::vector<bool>& path, size_t& step) {
  SYNOD_ASSERT(step < path.size());
  bool succeeded = path[step++];
  etcdserverpb::TxnResponse response;
  response.set_succeeded(succeeded);
  for (const RequestOp& op : succeeded ? request.success() : request.failure()) {
    etcdserverpb::ResponseOp& out = *response.add_responses();
    switch (op.request_case()) {
      case RequestOp::kRequestRange:
        *out.mutable_response_range() = read(op.request_range(), write.view());
        break;
      case RequestOp::kRequestPut: {
        SYNOD_TRY_ASSIGN(*out.mutable_response_put(), put(write, op.request_put()));
        break;
      }
      case RequestOp::kRequestDeleteRange:
        *out.mutable_response_delete_range() = delete_range(write, op.request_delete_range());
        break;
      case RequestOp::kRequestTxn: {
        SYNOD_TRY_ASSIGN(*out.mutable_response_txn(), txn(write, op.request_txn(), path, step));
        break;
      }
      case RequestOp::REQUEST_NOT_SET: return invalid(kKeyNotFoundMessage);
    }
  }
  response.mutable_header()->set_revision(write.view());
  return response;
}

Result<etcdserverpb::CompactionResponse> MvccStore::compact(const etcdserverpb::CompactionRequest& request) {
  if (request.revision() <= compact_revision_) return compacted_error();
  if (request.revision() > revision_) return future_revision_error();
  finish_snapshot_writer();
  index_.compact(request.revision());
  compact_revision_ = request.revision();
  etcdserverpb::CompactionResponse response;
  response.mutable_header()->set_revision(revision_);
  return response;
}

Result<etcdserverpb::RangeResponse> MvccStore::range(const etcdserverpb::RangeRequest& request) const {
  if (Status status = check_range(request); !status.is_ok()) return status;
  if (Status status = check_read_revision(request.revision()); !status.is_ok()) return status;
  return read(request, revision_);
}

Status MvccStore::check_read_revision(int64_t revision) const {
  if (revision > revision_) return future_revision_error();
  if (revision > 0 && revision < compact_revision_) return compacted_error();
  return Status::ok();
}

etcdserverpb::RangeResponse MvccStore::read(const etcdserverpb::RangeRequest& request, int64_t view) const {
  int64_t at = request.revision() > 0 ? request.revision() : view;
  std::vector<KeyView> found = index_.range(KeyRange::of(request.key(), request.range_end()), at);
  etcdserverpb::RangeResponse response;
  response.mutable_header()->set_revision(view);
  // The count ignores limit and filters, as etcd's does.
  response.set_count(static_cast<int64_t>(found.size()));
  if (request.count_only()) return response;

  std::erase_if(found, [&](const KeyView& kv) {
    int64_t mod = kv.record->revision.main;
    int64_t create = kv.record->create_revision;
    return (request.min_mod_revision() != 0 && mod < request.min_mod_revision()) ||
           (request.max_mod_revision() != 0 && mod > request.max_mod_revision()) ||
           (request.min_create_revision() != 0 && create < request.min_create_revision()) ||
           (request.max_create_revision() != 0 && create > request.max_create_revision());
  });
  RangeRequest::SortOrder order = request.sort_order();
  RangeRequest::SortTarget target = request.sort_target();
  // Keys come out in key order already; any other target sorts ascending unless told otherwise.
  if (order == RangeRequest::NONE && target != RangeRequest::KEY) order = RangeRequest::ASCEND;
  if (order == RangeRequest::ASCEND) {
    std::stable_sort(found.begin(), found.end(),
                     [&](const KeyView& a, const KeyView& b) { return sort_before(target, a, b); });
  } else if (order == RangeRequest::DESCEND) {
    std::stable_sort(found.begin(), found.end(),
                     [&](const KeyView& a, const KeyView& b) { return sort_before(target, b, a); });
  }
  if (request.limit() > 0 && found.size() > static_cast<uint64_t>(request.limit())) {
    found.resize(static_cast<size_t>(request.limit()));
    response.set_more(true);
  }
  for (const KeyView& kv : found) fill(*response.add_kvs(), *kv.key, *kv.record, !request.keys_only());
  return response;
}

void MvccStore::choose_branches(const etcdserverpb::TxnRequest& request, std::vector<bool>& path) const {
  bool succeeded = std::all_of(request.compare().begin(), request.compare().end(),
                               [&](const Compare& compare) { return holds(compare); });
  path.push_back(succeeded);
  for (const RequestOp& op : succeeded ? request.success() : request.failure()) {
    if (op.has_request_txn()) choose_branches(op.request_txn(), path);
  }
}

bool MvccStore::holds(const Compare& compare) const {
  std::vector<KeyView> found = index_.range(KeyRange::of(compare.key(), compare.range_end()), revision_);
  // No value can be compared with a key that does not exist.
  if (found.empty()) return compare.target() != Compare::VALUE && compare_one(compare, nullptr);
  return std::all_of(found.begin(), found.end(),
                     [&](const KeyView& kv) { return compare_one(compare, kv.record); });
}

Status MvccStore::check_puts(const etcdserverpb::TxnRequest& request, const std::vector<bool>& path,
                             size_t& step) const {
  SYNOD_ASSERT(step < path.size());
  for (const RequestOp& op : path[step++] ? request.success() : request.failure()) {
    if (op.has_request_txn()) {
      if (Status status = check_puts(op.request_txn(), path, step); !status.is_ok()) return status;
    } else if (op.has_request_put()) {
      const etcdserverpb::PutRequest& put = op.request_put();
      if ((put.ignore_value() || put.ignore_lease()) && index_.get(put.key(), revision_) == nullptr) {
        return invalid(kKeyNotFoundMessage);
      }
      if (Status status = check_lease(put.lease()); !status.is_ok()) return status;
    }
  }
  return Status::ok();
}

Status MvccStore::check_ranges(const etcdserverpb::TxnRequest& request, const std::vector<bool>& path,
                               size_t& step) const {
  SYNOD_ASSERT(step < path.size());
  for (const RequestOp& op : path[step++] ? request.success() : request.failure()) {
    if (op.has_request_txn()) {
      if (Status status = check_ranges(op.request_txn(), path, step); !status.is_ok()) return status;
    } else if (op.has_request_range()) {
      if (Status status = check_read_revision(op.request_range().revision()); !status.is_ok()) return status;
    }
  }
  return Status::ok();
}

Status MvccStore::check_lease(int64_t lease) const {
  if (lease == 0 || leases_.contains(lease)) return Status::ok();
  return Status(ErrorCode::kNotFound, std::string(kLeaseNotFoundMessage));
}

void MvccStore::reattach_leases(const Write& write) {
  // Before the revision moves: revision_ still shows each key as it was, write.view() as it is now.
  for (const std::string& key : write.touched()) {
    const KeyRecord* before = index_.get(key, revision_);
    const KeyRecord* after = index_.get(key, write.view());
    int64_t had = before != nullptr ? before->lease : 0;
    int64_t has = after != nullptr ? after->lease : 0;
    if (had == has) continue;
    leases_.detach(had, key);
    leases_.attach(has, key);
  }
}

MvccStore::~MvccStore() {
  if (writer_ != nullptr) writer_->store_ = nullptr;
}

std::string MvccStore::snapshot() const {
  ByteWriter out;
  // The key index's estimate (its in-memory size) bounds its encoding; leases and the rest are small.
  out.reserve(index_.approximate_bytes() + 4096);
  encode_snapshot_head(out);
  index_.encode(out);
  encode_snapshot_tail(out);
  return std::move(out).take();
}

std::unique_ptr<SnapshotWriter> MvccStore::begin_snapshot() {
  return std::make_unique<MvccSnapshotWriter>(*this);
}

void MvccStore::encode_snapshot_head(ByteWriter& out) const {
  out.put_string(kSnapshotMagic);
  out.put_varint(applied_index_);
  out.put_varint(static_cast<uint64_t>(revision_));
  out.put_varint(static_cast<uint64_t>(compact_revision_));
}

void MvccStore::encode_snapshot_tail(ByteWriter& out) const {
  leases_.encode(out);
  alarms_.encode(out);
  members_.encode(out);
}

void MvccStore::finish_snapshot_writer() {
  if (writer_ != nullptr) writer_->finish();
}

Status MvccStore::restore(std::string_view data) {
  MvccStore restored(options_);
  Status status = restored.decode_snapshot(data);
  if (!status.is_ok()) return Status(ErrorCode::kCorruption, "mvcc snapshot: " + status.message());
  finish_snapshot_writer();
  // Field by field: the options stay as configured (and other threads may read them).
  applied_index_ = restored.applied_index_;
  revision_ = restored.revision_;
  compact_revision_ = restored.compact_revision_;
  index_ = std::move(restored.index_);
  leases_ = std::move(restored.leases_);
  alarms_ = std::move(restored.alarms_);
  members_ = std::move(restored.members_);
  {
    std::lock_guard<std::mutex> lock(published_members_mutex_);
    published_members_ = members_.members();
  }
  publish();
  if (lease_observer_ != nullptr) lease_observer_->leases_reset(leases_);
  if (write_observer_ != nullptr) write_observer_->on_restore(*this);
  return Status::ok();
}

Result<std::string> MvccStore::rebase_snapshot(std::string_view data, Index applied_index) {
  MvccStore store;
  SYNOD_TRY(store.restore(data));
  store.applied_index_ = applied_index;
  return store.snapshot();
}

Status MvccStore::decode_snapshot(std::string_view data) {
  ByteReader in(data);
  SYNOD_TRY_ASSIGN(std::string_view magic, in.string());
  if (magic != kSnapshotMagic && magic != kSnapshotMagicV2 && magic != kSnapshotMagicV1) {
    return Status(ErrorCode::kCorruption, "not an MVCC snapshot");
  }
  SYNOD_TRY_ASSIGN(applied_index_, in.varint());
  SYNOD_TRY_ASSIGN(uint64_t revision, in.varint());
  SYNOD_TRY_ASSIGN(uint64_t compact_revision, in.varint());
  if (revision < 1 || revision > static_cast<uint64_t>(INT64_MAX) || compact_revision > revision) {
    return Status(ErrorCode::kCorruption, "bad revisions");
  }
  revision_ = static_cast<int64_t>(revision);
  compact_revision_ = static_cast<int64_t>(compact_revision);
  if (Status status = index_.decode(in, revision_); !status.is_ok()) return status;
  if (magic != kSnapshotMagicV1) {
    if (Status status = leases_.decode(in); !status.is_ok()) return status;
    rebuild_lease_keys();
  }
  if (magic == kSnapshotMagic) {
    if (Status status = alarms_.decode(in); !status.is_ok()) return status;
    if (Status status = members_.decode(in); !status.is_ok()) return status;
  }
  if (!in.done()) return Status(ErrorCode::kCorruption, "unexpected bytes at the end");
  return Status::ok();
}

}  // namespace synod::kv
