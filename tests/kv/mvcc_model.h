// A reference model of etcd's MVCC semantics for the property tests (mvcc_property_test.cc). It keeps
// the whole key-value map after every revision, copies it to make the next one, and answers each
// request with the plainest code that follows etcd's server step by step (etcdserver/apply.go for
// ranges, puts, deletes, txns and compaction; api/v3rpc/key.go for the request checks; the lessor for
// leases). Slow and obviously right is the point: it shares nothing with the store but the protobuf
// messages, etcd's error texts and its limits.
//
// Where etcd leaves something open, the model says what Synod promises instead:
//  - ties in a sorted range keep key order (etcd's sort is only stable for small results);
//  - a delete with range_end "\0" covers every key from its key on in the duplicate-key check (etcd's
//    interval tree reads "\0" literally there and sees no overlap, against its own rule that a txn may
//    not write one key twice);
//  - a nested txn's header carries the revision its writes see (etcd leaves it empty);
//  - a grant with TTL below 1 gets TTL 1 (etcd raises it to the server's minimum);
//  - a range in a txn at a negative revision reads the newest, as everywhere else.
//
// Deviations: where the store once differed from etcd (both found by these properties, both fixed and
// pinned by tests in mvcc_property_test.cc). Off by default; switched on, the model copies the old
// behaviour, which shows the properties tell the two apart.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/proto/lease.pb.h"
#include "api/proto/rpc.pb.h"
#include "base/status.h"
#include "kv/lease_table.h"
#include "kv/mvcc_errors.h"

namespace synod::kv::model {

// One live key as a read sees it.
struct Kv {
  std::string value;
  int64_t create = 0;
  int64_t mod = 0;
  int64_t version = 0;
  int64_t lease = 0;
  // Where the write stands among the writes of its revision (only Deviations needs it).
  int64_t order = 0;
};
using State = std::map<std::string, Kv>;

// Whether etcd's (key, range_end) pair selects `candidate`: range_end empty is the key alone, "\0" is
// every key from `key` on, anything else the half-open range [key, range_end).
inline bool selects(const std::string& key, const std::string& range_end, const std::string& candidate) {
  if (range_end.empty()) return candidate == key;
  if (range_end == std::string(1, '\0')) return candidate >= key;
  return candidate >= key && candidate < range_end;
}

inline Status lease_not_found() {
  return Status(ErrorCode::kNotFound, std::string(kLeaseNotFoundMessage));
}

struct Deviations {
  // A put outside a txn that names a lease that does not exist and ignores the value (or lease) of a key
  // that does not exist: etcd looks the lease up first (ErrLeaseNotFound), the store the key
  // (ErrKeyNotFound).
  bool put_checks_key_before_lease = false;
  // Keys sorted by MOD that share a mod revision (one txn wrote them): etcd leaves them in key order, as
  // for every other target; the store orders them as the txn wrote them.
  bool mod_ties_in_write_order = false;
};

class Model {
 public:
  explicit Model(size_t max_txn_ops, Deviations deviations = {})
      : max_txn_ops_(static_cast<int64_t>(max_txn_ops)), deviations_(deviations), states_(2) {}

  // A fresh store is at revision 1 with nothing in it; states_[r] is the map after revision r.
  int64_t revision() const { return static_cast<int64_t>(states_.size()) - 1; }
  int64_t compact_revision() const { return compacted_; }
  const State& state(int64_t revision) const { return states_.at(static_cast<size_t>(revision)); }
  const State& current() const { return states_.back(); }
  // Lease id -> granted TTL.
  const std::map<int64_t, int64_t>& leases() const { return leases_; }

  Result<etcdserverpb::RangeResponse> range(const etcdserverpb::RangeRequest& request) const {
    if (Status status = check_range_request(request); !status.is_ok()) return status;
    int64_t at = request.revision();
    if (at > revision()) return future_revision_error();
    if (at <= 0) at = revision();
    if (at < compacted_) return compacted_error();
    return read(state(at), revision(), request);
  }

  Result<etcdserverpb::PutResponse> put(const etcdserverpb::PutRequest& request) {
    if (Status status = check_put_request(request); !status.is_ok()) return status;
    bool ignores = request.ignore_value() || request.ignore_lease();
    if (deviations_.put_checks_key_before_lease && ignores && !current().contains(request.key())) {
      return invalid(kKeyNotFoundMessage);
    }
    // Outside a txn etcd looks the lease up before it opens the write, so before the key checks.
    if (request.lease() != 0 && !leases_.contains(request.lease())) return lease_not_found();
    Write write(current(), revision());
    Result<etcdserverpb::PutResponse> response = put(write, request);
    if (response.is_ok()) commit(write);
    return response;
  }

  Result<etcdserverpb::DeleteRangeResponse> delete_range(const etcdserverpb::DeleteRangeRequest& request) {
    if (request.key().empty()) return invalid(kEmptyKeyMessage);
    Write write(current(), revision());
    etcdserverpb::DeleteRangeResponse response = delete_range(write, request);
    commit(write);
    return response;
  }

  Result<etcdserverpb::TxnResponse> txn(const etcdserverpb::TxnRequest& request) {
    if (Status status = check_txn_request(request, max_txn_ops_); !status.is_ok()) return status;
    Puts ignored_puts;
    Deletes ignored_deletes;
    if (Status status = check_intervals(request.success(), ignored_puts, ignored_deletes); !status.is_ok()) {
      return status;
    }
    ignored_puts.clear();
    ignored_deletes.clear();
    if (Status status = check_intervals(request.failure(), ignored_puts, ignored_deletes); !status.is_ok()) {
      return status;
    }
    // Every compare on the way sees the state before the txn.
    std::vector<bool> path;
    compare_to_path(request, path);
    size_t step = 0;
    if (Status status = check_requests(request, path, step, &Model::check_put); !status.is_ok()) {
      return status;
    }
    step = 0;
    if (Status status = check_requests(request, path, step, &Model::check_range); !status.is_ok()) {
      return status;
    }
    Write write(current(), revision());
    step = 0;
    Result<etcdserverpb::TxnResponse> response = apply_txn(write, request, path, step);
    if (response.is_ok()) commit(write);
    return response;
  }

  Result<etcdserverpb::CompactionResponse> compact(const etcdserverpb::CompactionRequest& request) {
    if (request.revision() <= compacted_) return compacted_error();
    if (request.revision() > revision()) return future_revision_error();
    compacted_ = request.revision();
    etcdserverpb::CompactionResponse response;
    response.mutable_header()->set_revision(revision());
    return response;
  }

  // `chosen` is the id the store picked when the request leaves it to the server (ID 0): any positive
  // id not in use will do, so the model takes the store's word for it and checks only that.
  Result<etcdserverpb::LeaseGrantResponse> grant(const etcdserverpb::LeaseGrantRequest& request,
                                                 int64_t chosen) {
    if (request.ttl() > kMaxLeaseTtl) return invalid(kLeaseTtlTooLargeMessage);
    int64_t id = request.id();
    if (id != 0 && leases_.contains(id)) return invalid(kLeaseExistsMessage);
    if (id == 0) {
      if (chosen <= 0 || leases_.contains(chosen)) return invalid("model: the store chose a bad lease id");
      id = chosen;
    }
    int64_t ttl = std::max<int64_t>(request.ttl(), 1);
    leases_[id] = ttl;
    etcdserverpb::LeaseGrantResponse response;
    response.mutable_header()->set_revision(revision());
    response.set_id(id);
    response.set_ttl(ttl);
    return response;
  }

  // Deletes every key the lease holds, all in one revision, then the lease.
  Result<etcdserverpb::LeaseRevokeResponse> revoke(const etcdserverpb::LeaseRevokeRequest& request) {
    if (!leases_.contains(request.id())) return lease_not_found();
    Write write(current(), revision());
    for (auto it = write.next.begin(); it != write.next.end();) {
      if (it->second.lease == request.id()) {
        it = write.next.erase(it);
        write.changed = true;
      } else {
        ++it;
      }
    }
    commit(write);
    leases_.erase(request.id());
    etcdserverpb::LeaseRevokeResponse response;
    response.mutable_header()->set_revision(revision());
    return response;
  }

  Result<etcdserverpb::LeaseKeepAliveResponse> renew(
      const etcdserverpb::LeaseKeepAliveRequest& request) const {
    auto found = leases_.find(request.id());
    if (found == leases_.end()) return lease_not_found();
    etcdserverpb::LeaseKeepAliveResponse response;
    response.mutable_header()->set_revision(revision());
    response.set_id(request.id());
    response.set_ttl(found->second);
    return response;
  }

 private:
  // A write request in progress: the map it is building for the next revision. Reads inside it see
  // that map, at the next revision once anything changed.
  struct Write {
    Write(const State& before, int64_t revision) : next(before), begin(revision) {}
    int64_t view() const { return changed ? begin + 1 : begin; }

    State next;
    int64_t begin;
    bool changed = false;
    int64_t writes = 0;
  };

  using Puts = std::vector<std::string>;
  using Deletes = std::vector<std::pair<std::string, std::string>>;  // (key, range_end)
  using Ops = google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>;

  void commit(const Write& write) {
    if (write.changed) states_.push_back(write.next);
  }

  // --- api/v3rpc/key.go: the checks before a request is proposed ---

  static Status check_range_request(const etcdserverpb::RangeRequest& request) {
    if (request.key().empty()) return invalid(kEmptyKeyMessage);
    if (!etcdserverpb::RangeRequest_SortOrder_IsValid(request.sort_order()) ||
        !etcdserverpb::RangeRequest_SortTarget_IsValid(request.sort_target())) {
      return invalid(kInvalidSortMessage);
    }
    return Status::ok();
  }

  static Status check_put_request(const etcdserverpb::PutRequest& request) {
    if (request.key().empty()) return invalid(kEmptyKeyMessage);
    if (request.ignore_value() && !request.value().empty()) return invalid(kValueProvidedMessage);
    if (request.ignore_lease() && request.lease() != 0) return invalid(kLeaseProvidedMessage);
    return Status::ok();
  }

  static Status check_request_op(const etcdserverpb::RequestOp& op, int64_t max_txn_ops) {
    if (op.has_request_range()) return check_range_request(op.request_range());
    if (op.has_request_put()) return check_put_request(op.request_put());
    if (op.has_request_delete_range()) {
      return op.request_delete_range().key().empty() ? invalid(kEmptyKeyMessage) : Status::ok();
    }
    if (op.has_request_txn()) return check_txn_request(op.request_txn(), max_txn_ops);
    return invalid(kKeyNotFoundMessage);
  }

  static Status check_txn_request(const etcdserverpb::TxnRequest& request, int64_t max_txn_ops) {
    int64_t count = std::max({request.compare_size(), request.success_size(), request.failure_size()});
    if (count > max_txn_ops) return invalid(kTooManyOpsMessage);
    for (const etcdserverpb::Compare& compare : request.compare()) {
      if (compare.key().empty()) return invalid(kEmptyKeyMessage);
    }
    for (const etcdserverpb::RequestOp& op : request.success()) {
      if (Status status = check_request_op(op, max_txn_ops - count); !status.is_ok()) return status;
    }
    for (const etcdserverpb::RequestOp& op : request.failure()) {
      if (Status status = check_request_op(op, max_txn_ops - count); !status.is_ok()) return status;
    }
    return Status::ok();
  }

  static bool deleted(const Deletes& deletes, const std::string& key) {
    for (const auto& [begin, end] : deletes) {
      if (selects(begin, end, key)) return true;
    }
    return false;
  }
  static bool contains(const Puts& puts, const std::string& key) {
    return std::find(puts.begin(), puts.end(), key) != puts.end();
  }

  // etcd's checkIntervals: the keys `ops` may put and the ranges it may delete, or ErrDuplicateKey.
  static Status check_intervals(const Ops& ops, Puts& puts, Deletes& deletes) {
    const Status duplicate = invalid(kDuplicateKeyMessage);
    for (const etcdserverpb::RequestOp& op : ops) {
      if (op.has_request_delete_range()) {
        deletes.emplace_back(op.request_delete_range().key(), op.request_delete_range().range_end());
      }
    }
    for (const etcdserverpb::RequestOp& op : ops) {
      if (!op.has_request_txn()) continue;
      Puts puts_then;
      Deletes deletes_then;
      Puts puts_else;
      Deletes deletes_else;
      if (Status status = check_intervals(op.request_txn().success(), puts_then, deletes_then);
          !status.is_ok()) {
        return status;
      }
      if (Status status = check_intervals(op.request_txn().failure(), puts_else, deletes_else);
          !status.is_ok()) {
        return status;
      }
      for (const std::string& key : puts_then) {
        if (contains(puts, key) || deleted(deletes, key)) return duplicate;
        puts.push_back(key);
      }
      for (const std::string& key : puts_else) {
        // Only one branch of a txn runs, so both may put one key.
        if (contains(puts, key) && !contains(puts_then, key)) return duplicate;
        if (deleted(deletes, key)) return duplicate;
        if (!contains(puts, key)) puts.push_back(key);
      }
      deletes.insert(deletes.end(), deletes_then.begin(), deletes_then.end());
      deletes.insert(deletes.end(), deletes_else.begin(), deletes_else.end());
    }
    for (const etcdserverpb::RequestOp& op : ops) {
      if (!op.has_request_put()) continue;
      const std::string& key = op.request_put().key();
      if (contains(puts, key) || deleted(deletes, key)) return duplicate;
      puts.push_back(key);
    }
    return Status::ok();
  }

  // --- etcdserver/apply.go: compares, the checks against the state, and the operations ---

  static bool compare_kv(const etcdserverpb::Compare& compare, const Kv& kv) {
    using etcdserverpb::Compare;
    int result = 0;
    auto order = [](auto have, auto want) { return have < want ? -1 : (have > want ? 1 : 0); };
    switch (compare.target()) {
      case Compare::VALUE:
        result = order(kv.value, compare.target_union_case() == Compare::kValue ? compare.value() : "");
        break;
      case Compare::CREATE:
        result =
            order(kv.create,
                  compare.target_union_case() == Compare::kCreateRevision ? compare.create_revision() : 0);
        break;
      case Compare::MOD:
        result =
            order(kv.mod, compare.target_union_case() == Compare::kModRevision ? compare.mod_revision() : 0);
        break;
      case Compare::VERSION:
        result = order(kv.version, compare.target_union_case() == Compare::kVersion ? compare.version() : 0);
        break;
      case Compare::LEASE:
        result = order(kv.lease, compare.target_union_case() == Compare::kLease ? compare.lease() : 0);
        break;
      default: break;
    }
    switch (compare.result()) {
      case Compare::EQUAL: return result == 0;
      case Compare::NOT_EQUAL: return result != 0;
      case Compare::GREATER: return result > 0;
      case Compare::LESS: return result < 0;
      default: return true;
    }
  }

  bool compare_holds(const etcdserverpb::Compare& compare) const {
    std::vector<const Kv*> found;
    for (const auto& [key, kv] : current()) {
      if (selects(compare.key(), compare.range_end(), key)) found.push_back(&kv);
    }
    // A missing key has no value to compare, not even an empty one.
    if (found.empty()) return compare.target() != etcdserverpb::Compare::VALUE && compare_kv(compare, Kv{});
    return std::all_of(found.begin(), found.end(), [&](const Kv* kv) { return compare_kv(compare, *kv); });
  }

  // The branch each txn on the way takes, depth first, in the order they would run.
  void compare_to_path(const etcdserverpb::TxnRequest& request, std::vector<bool>& path) const {
    bool succeeded = true;
    for (const etcdserverpb::Compare& compare : request.compare())
      succeeded = succeeded && compare_holds(compare);
    path.push_back(succeeded);
    for (const etcdserverpb::RequestOp& op : succeeded ? request.success() : request.failure()) {
      if (op.has_request_txn()) compare_to_path(op.request_txn(), path);
    }
  }

  Status check_put(const etcdserverpb::RequestOp& op) const {
    if (!op.has_request_put()) return Status::ok();
    const etcdserverpb::PutRequest& put = op.request_put();
    if ((put.ignore_value() || put.ignore_lease()) && !current().contains(put.key())) {
      return invalid(kKeyNotFoundMessage);
    }
    if (put.lease() != 0 && !leases_.contains(put.lease())) return lease_not_found();
    return Status::ok();
  }

  Status check_range(const etcdserverpb::RequestOp& op) const {
    if (!op.has_request_range()) return Status::ok();
    int64_t at = op.request_range().revision();
    // etcd tests only for 0 here, and so refuses a negative revision once anything is compacted; the
    // API (and every other read) takes any revision <= 0 as the newest.
    if (at <= 0) return Status::ok();
    if (at > revision()) return future_revision_error();
    if (at < compacted_) return compacted_error();
    return Status::ok();
  }

  using Check = Status (Model::*)(const etcdserverpb::RequestOp&) const;
  Status check_requests(const etcdserverpb::TxnRequest& request, const std::vector<bool>& path, size_t& step,
                        Check check) const {
    for (const etcdserverpb::RequestOp& op : path.at(step++) ? request.success() : request.failure()) {
      Status status =
          op.has_request_txn() ? check_requests(op.request_txn(), path, step, check) : (this->*check)(op);
      if (!status.is_ok()) return status;
    }
    return Status::ok();
  }

  static void fill(mvccpb::KeyValue& out, const std::string& key, const Kv& kv, bool with_value = true) {
    out.set_key(key);
    out.set_create_revision(kv.create);
    out.set_mod_revision(kv.mod);
    out.set_version(kv.version);
    if (with_value) out.set_value(kv.value);
    out.set_lease(kv.lease);
  }

  // A range over `state`, answered with `header` as the store's revision.
  etcdserverpb::RangeResponse read(const State& state, int64_t header,
                                   const etcdserverpb::RangeRequest& request) const {
    using etcdserverpb::RangeRequest;
    std::vector<std::pair<std::string, Kv>> found;
    for (const auto& [key, kv] : state) {
      if (selects(request.key(), request.range_end(), key)) found.emplace_back(key, kv);
    }
    etcdserverpb::RangeResponse response;
    response.mutable_header()->set_revision(header);
    // Counted before any filter or limit.
    response.set_count(static_cast<int64_t>(found.size()));
    if (request.count_only()) return response;

    std::erase_if(found, [&](const auto& entry) {
      const Kv& kv = entry.second;
      return (request.max_mod_revision() != 0 && kv.mod > request.max_mod_revision()) ||
             (request.min_mod_revision() != 0 && kv.mod < request.min_mod_revision()) ||
             (request.max_create_revision() != 0 && kv.create > request.max_create_revision()) ||
             (request.min_create_revision() != 0 && kv.create < request.min_create_revision());
    });
    RangeRequest::SortOrder order = request.sort_order();
    if (request.sort_target() != RangeRequest::KEY && order == RangeRequest::NONE)
      order = RangeRequest::ASCEND;
    auto before = [&](const std::pair<std::string, Kv>& a, const std::pair<std::string, Kv>& b) {
      switch (request.sort_target()) {
        case RangeRequest::VERSION: return a.second.version < b.second.version;
        case RangeRequest::CREATE: return a.second.create < b.second.create;
        case RangeRequest::MOD:
          if (deviations_.mod_ties_in_write_order && a.second.mod == b.second.mod) {
            return a.second.order < b.second.order;
          }
          return a.second.mod < b.second.mod;
        case RangeRequest::VALUE: return a.second.value < b.second.value;
        default: return a.first < b.first;
      }
    };
    // Stable: ties keep key order either way.
    if (order == RangeRequest::ASCEND) std::stable_sort(found.begin(), found.end(), before);
    if (order == RangeRequest::DESCEND) {
      std::stable_sort(found.begin(), found.end(),
                       [&](const auto& a, const auto& b) { return before(b, a); });
    }
    if (request.limit() > 0 && static_cast<int64_t>(found.size()) > request.limit()) {
      found.resize(static_cast<size_t>(request.limit()));
      response.set_more(true);
    }
    for (const auto& [key, kv] : found) fill(*response.add_kvs(), key, kv, !request.keys_only());
    return response;
  }

  static Result<etcdserverpb::PutResponse> put(Write& write, const etcdserverpb::PutRequest& request) {
    auto previous = write.next.find(request.key());
    bool existed = previous != write.next.end();
    if ((request.ignore_value() || request.ignore_lease()) && !existed) return invalid(kKeyNotFoundMessage);
    etcdserverpb::PutResponse response;
    if (request.prev_kv() && existed) fill(*response.mutable_prev_kv(), request.key(), previous->second);
    Kv kv;
    kv.value = request.ignore_value() ? previous->second.value : request.value();
    kv.lease = request.ignore_lease() ? previous->second.lease : request.lease();
    kv.create = existed ? previous->second.create : write.begin + 1;
    kv.version = existed ? previous->second.version + 1 : 1;
    kv.mod = write.begin + 1;
    kv.order = write.writes++;
    write.next[request.key()] = kv;
    write.changed = true;
    response.mutable_header()->set_revision(write.begin + 1);
    return response;
  }

  static etcdserverpb::DeleteRangeResponse delete_range(Write& write,
                                                        const etcdserverpb::DeleteRangeRequest& request) {
    etcdserverpb::DeleteRangeResponse response;
    int64_t deleted = 0;
    for (auto it = write.next.begin(); it != write.next.end();) {
      if (!selects(request.key(), request.range_end(), it->first)) {
        ++it;
        continue;
      }
      if (request.prev_kv()) fill(*response.add_prev_kvs(), it->first, it->second);
      it = write.next.erase(it);
      ++write.writes;
      ++deleted;
    }
    if (deleted > 0) write.changed = true;
    response.set_deleted(deleted);
    response.mutable_header()->set_revision(write.view());
    return response;
  }

  Result<etcdserverpb::TxnResponse> apply_txn(Write& write, const etcdserverpb::TxnRequest& request,
                                              const std::vector<bool>& path, size_t& step) const {
    bool succeeded = path.at(step++);
    etcdserverpb::TxnResponse response;
    response.set_succeeded(succeeded);
    for (const etcdserverpb::RequestOp& op : succeeded ? request.success() : request.failure()) {
      etcdserverpb::ResponseOp& out = *response.add_responses();
      if (op.has_request_range()) {
        const etcdserverpb::RangeRequest& range = op.request_range();
        const State& at = range.revision() > 0 ? state(range.revision()) : write.next;
        *out.mutable_response_range() = read(at, write.view(), range);
      } else if (op.has_request_put()) {
        Result<etcdserverpb::PutResponse> put_response = put(write, op.request_put());
        if (!put_response.is_ok()) return put_response.status();
        *out.mutable_response_put() = put_response.value();
      } else if (op.has_request_delete_range()) {
        *out.mutable_response_delete_range() = delete_range(write, op.request_delete_range());
      } else if (op.has_request_txn()) {
        Result<etcdserverpb::TxnResponse> nested = apply_txn(write, op.request_txn(), path, step);
        if (!nested.is_ok()) return nested.status();
        *out.mutable_response_txn() = nested.value();
      }
    }
    response.mutable_header()->set_revision(write.view());
    return response;
  }

  int64_t max_txn_ops_;
  Deviations deviations_;
  std::vector<State> states_;
  int64_t compacted_ = 0;
  std::map<int64_t, int64_t> leases_;
};

}  // namespace synod::kv::model
