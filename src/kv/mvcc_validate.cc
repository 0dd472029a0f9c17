#include "kv/mvcc_validate.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "kv/mvcc_errors.h"
#include "kv/mvcc_key_index.h"

namespace synod::kv {
namespace {

using etcdserverpb::RequestOp;
using Ops = google::protobuf::RepeatedPtrField<RequestOp>;

Status check_op(const RequestOp& op, int64_t max_txn_ops);

Status check_txn_shape(const etcdserverpb::TxnRequest& request, int64_t max_txn_ops) {
  int64_t ops = std::max({request.compare_size(), request.success_size(), request.failure_size()});
  if (ops > max_txn_ops) return invalid(kTooManyOpsMessage);
  for (const etcdserverpb::Compare& compare : request.compare()) {
    if (compare.key().empty()) return invalid(kEmptyKeyMessage);
  }
  // A nested txn gets what this one left of the budget, as in etcd.
  for (const RequestOp& op : request.success()) {
    if (Status status = check_op(op, max_txn_ops - ops); !status.is_ok()) return status;
  }
  for (const RequestOp& op : request.failure()) {
    if (Status status = check_op(op, max_txn_ops - ops); !status.is_ok()) return status;
  }
  return Status::ok();
}

Status check_op(const RequestOp& op, int64_t max_txn_ops) {
  switch (op.request_case()) {
    case RequestOp::kRequestRange: return check_range(op.request_range());
    case RequestOp::kRequestPut: return check_put(op.request_put());
    case RequestOp::kRequestDeleteRange: return check_delete_range(op.request_delete_range());
    case RequestOp::kRequestTxn: return check_txn_shape(op.request_txn(), max_txn_ops);
    case RequestOp::REQUEST_NOT_SET: break;
  }
  // etcd answers an empty operation this way.
  return invalid(kKeyNotFoundMessage);
}

// The keys a list of operations may put and the ranges it may delete, counting nested txns.
struct Writes {
  std::set<std::string, std::less<>> puts;
  std::vector<KeyRange> deletes;

  bool deleted(std::string_view key) const {
    return std::any_of(deletes.begin(), deletes.end(),
                       [&](const KeyRange& range) { return range.contains(key); });
  }
};

Status collect_writes(const Ops& ops, Writes& out) {
  for (const RequestOp& op : ops) {
    if (!op.has_request_delete_range()) continue;
    out.deletes.push_back(
        KeyRange::of(op.request_delete_range().key(), op.request_delete_range().range_end()));
  }
  for (const RequestOp& op : ops) {
    if (!op.has_request_txn()) continue;
    Writes then;
    Writes otherwise;
    if (Status status = collect_writes(op.request_txn().success(), then); !status.is_ok()) return status;
    if (Status status = collect_writes(op.request_txn().failure(), otherwise); !status.is_ok()) return status;
    for (const std::string& key : then.puts) {
      if (out.puts.contains(key) || out.deleted(key)) return invalid(kDuplicateKeyMessage);
      out.puts.insert(key);
    }
    for (const std::string& key : otherwise.puts) {
      // The same key in both branches of one nested txn is fine: only one of them runs.
      if ((out.puts.contains(key) && !then.puts.contains(key)) || out.deleted(key)) {
        return invalid(kDuplicateKeyMessage);
      }
      out.puts.insert(key);
    }
    out.deletes.insert(out.deletes.end(), then.deletes.begin(), then.deletes.end());
    out.deletes.insert(out.deletes.end(), otherwise.deletes.begin(), otherwise.deletes.end());
  }
  for (const RequestOp& op : ops) {
    if (!op.has_request_put()) continue;
    const std::string& key = op.request_put().key();
    if (out.puts.contains(key) || out.deleted(key)) return invalid(kDuplicateKeyMessage);
    out.puts.insert(key);
  }
  return Status::ok();
}

bool valid_sort(const etcdserverpb::RangeRequest& request) {
  return etcdserverpb::RangeRequest_SortOrder_IsValid(request.sort_order()) &&
         etcdserverpb::RangeRequest_SortTarget_IsValid(request.sort_target());
}

}  // namespace

Status check_range(const etcdserverpb::RangeRequest& request) {
  if (request.key().empty()) return invalid(kEmptyKeyMessage);
  if (!valid_sort(request)) return invalid(kInvalidSortMessage);
  return Status::ok();
}

Status check_put(const etcdserverpb::PutRequest& request) {
  if (request.key().empty()) return invalid(kEmptyKeyMessage);
  if (request.ignore_value() && !request.value().empty()) return invalid(kValueProvidedMessage);
  if (request.ignore_lease() && request.lease() != 0) return invalid(kLeaseProvidedMessage);
  return Status::ok();
}

Status check_delete_range(const etcdserverpb::DeleteRangeRequest& request) {
  if (request.key().empty()) return invalid(kEmptyKeyMessage);
  return Status::ok();
}

Status check_txn(const etcdserverpb::TxnRequest& request, size_t max_txn_ops) {
  int64_t budget = static_cast<int64_t>(std::min<size_t>(max_txn_ops, INT32_MAX));
  if (Status status = check_txn_shape(request, budget); !status.is_ok()) return status;
  // After the shape check, so that a huge request is refused before the quadratic work.
  Writes success;
  if (Status status = collect_writes(request.success(), success); !status.is_ok()) return status;
  Writes failure;
  return collect_writes(request.failure(), failure);
}

}  // namespace synod::kv
