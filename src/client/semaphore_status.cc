#include "client/semaphore_status.h"

#include "client/semaphore_keys.h"

namespace synod::client {

namespace keys = semaphore_keys;

Result<SemaphoreStatus> read_semaphore_status(EtcdConnection& connection, const std::string& name,
                                              Deadline deadline) {
  // One Txn, so the count and the queue are read at the same revision.
  etcdserverpb::TxnRequest request;
  request.add_success()->mutable_request_range()->set_key(name);
  *request.add_success()->mutable_request_range() = keys::contenders(name);
  Result<etcdserverpb::TxnResponse> read = connection.txn(request, deadline);
  if (!read.is_ok()) return read.status();
  const etcdserverpb::TxnResponse& response = read.value();
  if (response.responses_size() != 2) {
    return Status(ErrorCode::kUnavailable, "the status read of " + name + " came back malformed");
  }
  SemaphoreStatus status;
  status.revision = response.header().revision();
  const etcdserverpb::RangeResponse& count = response.responses(0).response_range();
  if (count.kvs_size() > 0) status.permits = keys::parse_permits(count.kvs(0).value());
  for (const mvccpb::KeyValue& kv : response.responses(1).response_range().kvs()) {
    if (!keys::is_contender(name, kv)) continue;
    SemaphoreStatus::Contender contender{kv.key(), kv.create_revision(), kv.lease()};
    bool holds = status.permits && status.holders.size() < static_cast<size_t>(*status.permits);
    (holds ? status.holders : status.waiters).push_back(contender);
  }
  return status;
}

}  // namespace synod::client
