// Fills the parts of an etcd ResponseHeader that come from the member rather than the store.
#pragma once

#include "api/backend.h"
#include "api/proto/rpc.pb.h"

namespace synod::api {

inline void fill_header(etcdserverpb::ResponseHeader& header, const HeaderInfo& info) {
  header.set_cluster_id(info.cluster_id);
  header.set_member_id(info.member_id);
  header.set_raft_term(info.raft_term);
}

}  // namespace synod::api
