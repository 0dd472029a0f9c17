// Helpers for the MVCC store tests: build etcd requests in one line and run them through apply() as
// the next log entry, the way the node does.
#pragma once

#include <string>
#include <vector>

#include "kv/mvcc_codec.h"
#include "kv/mvcc_store.h"

namespace synod::kv::test {

inline etcdserverpb::PutRequest put_request(const std::string& key, const std::string& value,
                                            int64_t lease = 0) {
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  return request;
}

inline etcdserverpb::DeleteRangeRequest delete_request(const std::string& key,
                                                       const std::string& range_end = "") {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  return request;
}

inline etcdserverpb::RangeRequest range_request(const std::string& key, const std::string& range_end = "",
                                                int64_t revision = 0) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  request.set_revision(revision);
  return request;
}

inline etcdserverpb::RequestOp op(const etcdserverpb::PutRequest& request) {
  etcdserverpb::RequestOp out;
  *out.mutable_request_put() = request;
  return out;
}
inline etcdserverpb::RequestOp op(const etcdserverpb::DeleteRangeRequest& request) {
  etcdserverpb::RequestOp out;
  *out.mutable_request_delete_range() = request;
  return out;
}
inline etcdserverpb::RequestOp op(const etcdserverpb::RangeRequest& request) {
  etcdserverpb::RequestOp out;
  *out.mutable_request_range() = request;
  return out;
}
inline etcdserverpb::RequestOp op(const etcdserverpb::TxnRequest& request) {
  etcdserverpb::RequestOp out;
  *out.mutable_request_txn() = request;
  return out;
}

inline etcdserverpb::Compare compare_version(const std::string& key,
                                             etcdserverpb::Compare::CompareResult result, int64_t version) {
  etcdserverpb::Compare compare;
  compare.set_key(key);
  compare.set_target(etcdserverpb::Compare::VERSION);
  compare.set_result(result);
  compare.set_version(version);
  return compare;
}
inline etcdserverpb::Compare compare_value(const std::string& key,
                                           etcdserverpb::Compare::CompareResult result,
                                           const std::string& value) {
  etcdserverpb::Compare compare;
  compare.set_key(key);
  compare.set_target(etcdserverpb::Compare::VALUE);
  compare.set_result(result);
  compare.set_value(value);
  return compare;
}

inline etcdserverpb::TxnRequest txn_request(std::vector<etcdserverpb::Compare> compares,
                                            std::vector<etcdserverpb::RequestOp> success,
                                            std::vector<etcdserverpb::RequestOp> failure = {}) {
  etcdserverpb::TxnRequest request;
  for (auto& compare : compares) *request.add_compare() = compare;
  for (auto& o : success) *request.add_success() = o;
  for (auto& o : failure) *request.add_failure() = o;
  return request;
}

// The store and the log position, as one node would apply it.
class Harness {
 public:
  Harness() = default;
  explicit Harness(MvccOptions options) : store(options) {}

  std::string apply_bytes(const std::string& command) {
    Entry entry{1, store.applied_index() + 1, EntryType::kNormal, command};
    return store.apply(entry, command);
  }
  Result<etcdserverpb::PutResponse> put(const etcdserverpb::PutRequest& request) {
    return decode_result<etcdserverpb::PutResponse>(apply_bytes(encode_command(request)));
  }
  Result<etcdserverpb::PutResponse> put(const std::string& key, const std::string& value) {
    return put(put_request(key, value));
  }
  Result<etcdserverpb::DeleteRangeResponse> del(const etcdserverpb::DeleteRangeRequest& request) {
    return decode_result<etcdserverpb::DeleteRangeResponse>(apply_bytes(encode_command(request)));
  }
  Result<etcdserverpb::TxnResponse> txn(const etcdserverpb::TxnRequest& request) {
    return decode_result<etcdserverpb::TxnResponse>(apply_bytes(encode_command(request)));
  }
  Result<etcdserverpb::CompactionResponse> compact(int64_t revision) {
    etcdserverpb::CompactionRequest request;
    request.set_revision(revision);
    return decode_result<etcdserverpb::CompactionResponse>(apply_bytes(encode_command(request)));
  }
  Result<etcdserverpb::RangeResponse> range(const etcdserverpb::RangeRequest& request) const {
    return store.range(request);
  }
  // The keys and values a range returns, as "k=v" strings, or the error message.
  std::vector<std::string> kvs(const etcdserverpb::RangeRequest& request) const {
    Result<etcdserverpb::RangeResponse> response = store.range(request);
    if (!response.is_ok()) return {"error: " + response.status().message()};
    std::vector<std::string> out;
    for (const auto& kv : response.value().kvs()) out.push_back(kv.key() + "=" + kv.value());
    return out;
  }
  std::vector<std::string> kvs(const std::string& key, const std::string& range_end = "",
                               int64_t revision = 0) const {
    return kvs(range_request(key, range_end, revision));
  }

  MvccStore store;
};

}  // namespace synod::kv::test
