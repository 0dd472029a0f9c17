// The MVCC store's cluster commands (declared in kv/mvcc_store.h): alarms and members' publications,
// kept apart from the key-value commands in kv/mvcc_store.cc. They change no key, so they leave the
// revision alone.
#include "kv/mvcc_store.h"

namespace synod::kv {
namespace {

etcdserverpb::AlarmMember request_member(const etcdserverpb::AlarmRequest& request) {
  etcdserverpb::AlarmMember member;
  member.set_memberid(request.memberid());
  member.set_alarm(request.alarm());
  return member;
}

}  // namespace

etcdserverpb::AlarmResponse MvccStore::alarm(const etcdserverpb::AlarmRequest& request) {
  etcdserverpb::AlarmResponse response;
  response.mutable_header()->set_revision(revision_);
  switch (request.action()) {
    case etcdserverpb::AlarmRequest::GET:
      for (const etcdserverpb::AlarmMember& raised : alarms_.list()) {
        // etcd's GET with alarm NONE lists every alarm, with a type only those of that type.
        if (request.alarm() == etcdserverpb::NONE || request.alarm() == raised.alarm()) {
          *response.add_alarms() = raised;
        }
      }
      break;
    case etcdserverpb::AlarmRequest::ACTIVATE:
      // As etcd: the alarm is reported whether it was new or already up. Only the two known types are
      // kept (the log may hold any number here), and member 0 is nobody.
      if (request.alarm() != etcdserverpb::NOSPACE && request.alarm() != etcdserverpb::CORRUPT) break;
      if (request.memberid() == 0) break;
      alarms_.raise(request.memberid(), request.alarm());
      *response.add_alarms() = request_member(request);
      break;
    case etcdserverpb::AlarmRequest::DEACTIVATE:
      // Only an alarm that was up is reported as cleared.
      if (alarms_.clear(request.memberid(), request.alarm()))
        *response.add_alarms() = request_member(request);
      break;
    default: break;
  }
  return response;
}

synodpb::MemberAttributes MvccStore::publish_member(const synodpb::MemberAttributes& request) {
  if (request.member_id() == 0) return request;  // nobody: the log may hold anything
  PublishedMember member{request.name(), {request.client_urls().begin(), request.client_urls().end()}};
  if (members_.publish(request.member_id(), std::move(member))) {
    std::lock_guard<std::mutex> lock(published_members_mutex_);
    published_members_ = members_.members();
  }
  return request;
}

Status MvccStore::check_alarms(const synodpb::Command& command) const {
  if (alarms_.empty()) return Status::ok();
  if (alarms_.active(etcdserverpb::CORRUPT) && writes(command)) {
    return Status(ErrorCode::kCorruption, "etcdserver: corrupt cluster");
  }
  if (alarms_.active(etcdserverpb::NOSPACE) && adds_data(command)) {
    return Status(ErrorCode::kNoSpace, "etcdserver: mvcc: database space exceeded");
  }
  return Status::ok();
}

}  // namespace synod::kv
