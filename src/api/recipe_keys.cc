#include "api/recipe_keys.h"

#include <cstdio>

namespace synod::api::recipe {

std::string queue_prefix(const std::string& name) {
  return name + "/";
}

std::string owner_key(const std::string& name, int64_t lease) {
  // Go's %x of a negative int64 is a minus sign and the magnitude's digits; lease ids are positive in
  // practice, but a key must be the one a Go client would compute.
  uint64_t magnitude = lease < 0 ? 0 - static_cast<uint64_t>(lease) : static_cast<uint64_t>(lease);
  char digits[24];
  std::snprintf(digits, sizeof digits, "%llx", static_cast<unsigned long long>(magnitude));
  return queue_prefix(name) + (lease < 0 ? "-" : "") + digits;
}

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every byte was 0xff: the range runs to the end of the keyspace
}

etcdserverpb::RangeRequest first_created(const std::string& prefix) {
  etcdserverpb::RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(prefix_end(prefix));
  request.set_sort_target(etcdserverpb::RangeRequest::CREATE);
  request.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  request.set_limit(1);
  return request;
}

etcdserverpb::RangeRequest last_created_up_to(const std::string& prefix, int64_t max_create_revision) {
  etcdserverpb::RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(prefix_end(prefix));
  request.set_sort_target(etcdserverpb::RangeRequest::CREATE);
  request.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  request.set_limit(1);
  request.set_max_create_revision(max_create_revision);
  request.set_keys_only(true);  // only the key is watched
  return request;
}

etcdserverpb::RequestOp put_op(const std::string& key, const std::string& value, int64_t lease) {
  etcdserverpb::RequestOp op;
  etcdserverpb::PutRequest* put = op.mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  return op;
}

etcdserverpb::RequestOp delete_op(const std::string& key) {
  etcdserverpb::RequestOp op;
  op.mutable_request_delete_range()->set_key(key);
  return op;
}

etcdserverpb::TxnRequest join(const std::string& prefix, const std::string& key, const std::string& value,
                              int64_t lease) {
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* absent = txn.add_compare();
  absent->set_key(key);
  absent->set_target(etcdserverpb::Compare::CREATE);
  absent->set_result(etcdserverpb::Compare::EQUAL);
  absent->set_create_revision(0);
  *txn.add_success() = put_op(key, value, lease);
  etcdserverpb::RequestOp read_key;
  read_key.mutable_request_range()->set_key(key);
  *txn.add_failure() = read_key;
  etcdserverpb::RequestOp holder;
  *holder.mutable_request_range() = first_created(prefix);
  *txn.add_success() = holder;
  *txn.add_failure() = holder;
  return txn;
}

etcdserverpb::TxnRequest if_created_at(const std::string& key, int64_t create_revision,
                                       etcdserverpb::RequestOp then) {
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* same = txn.add_compare();
  same->set_key(key);
  same->set_target(etcdserverpb::Compare::CREATE);
  same->set_result(etcdserverpb::Compare::EQUAL);
  same->set_create_revision(create_revision);
  *txn.add_success() = std::move(then);
  return txn;
}

}  // namespace synod::api::recipe
