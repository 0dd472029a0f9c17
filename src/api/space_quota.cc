#include "api/space_quota.h"

#include "kv/mvcc_codec.h"

namespace synod::api {

Status SpaceQuota::admit(uint64_t added) {
  if (quota_bytes_ <= 0 || added == 0) return Status::ok();
  uint64_t after = store_.published_bytes() + added;
  if (after <= static_cast<uint64_t>(quota_bytes_)) return Status::ok();
  if (!store_.published_nospace()) raise_alarm();
  return Status(ErrorCode::kNoSpace, "etcdserver: mvcc: database space exceeded");
}

void SpaceQuota::raise_alarm() {
  if (raising_.exchange(true)) return;
  etcdserverpb::AlarmRequest request;
  request.set_action(etcdserverpb::AlarmRequest::ACTIVATE);
  request.set_memberid(backend_.header().member_id);
  request.set_alarm(etcdserverpb::NOSPACE);
  // If this proposal fails (no leader, say), the next refused write tries again.
  backend_.propose(kv::encode_command(request),
                   [this](const Result<std::string>& /*result*/) { raising_.store(false); });
}

}  // namespace synod::api
