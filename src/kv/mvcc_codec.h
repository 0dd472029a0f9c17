// The bytes that go through the log for the MVCC store and the bytes that come back: a command is a
// serialized synodpb.Command (one etcd write request), a result a serialized synodpb.CommandResult
// (the etcd response, or the error with etcd's message). Range results use the same encoding to come
// back from the node loop.
#pragma once

#include <string>
#include <string_view>

#include "api/proto/lease.pb.h"
#include "api/proto/rpc.pb.h"
#include "api/proto/synod_kv.pb.h"
#include "base/status.h"

namespace synod::kv {

std::string encode_command(const etcdserverpb::PutRequest& request);
std::string encode_command(const etcdserverpb::DeleteRangeRequest& request);
std::string encode_command(const etcdserverpb::TxnRequest& request);
std::string encode_command(const etcdserverpb::CompactionRequest& request);
std::string encode_command(const etcdserverpb::LeaseGrantRequest& request);
std::string encode_command(const etcdserverpb::LeaseRevokeRequest& request);
// A keepalive (synodpb.Command.lease_renew).
std::string encode_command(const etcdserverpb::LeaseKeepAliveRequest& request);
std::string encode_command(const etcdserverpb::AlarmRequest& request);
std::string encode_command(const synodpb::MemberAttributes& request);
Result<synodpb::Command> decode_command(std::string_view bytes);

// A result that is an error, of whatever kind of command.
std::string encode_error(const Status& error);
// Response is one of RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse, CompactionResponse,
// LeaseGrantResponse, LeaseRevokeResponse, LeaseKeepAliveResponse, AlarmResponse, synodpb::MemberAttributes.
template <typename Response>
std::string encode_result(const Result<Response>& result);
// The response, the error it carries, or kCorruption for bytes that are not a result of this kind.
template <typename Response>
Result<Response> decode_result(std::string_view bytes);

}  // namespace synod::kv
