// How one watcher's events become WatchResponses: the events of one revision (one write, a whole txn)
// always travel together, and several revisions share a response while it stays within the limit (the
// server's max request size, as in etcd). A single revision larger than the limit goes out whole, or, if
// the watcher asked for fragments, in parts of at most the limit (at least one event each) with
// fragment=true on every part but the last, which clients reassemble.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "api/proto/watch.pb.h"
#include "kv/watch_history.h"

namespace synod::api {

std::vector<etcdserverpb::WatchResponse> event_responses(int64_t watch_id,
                                                         const etcdserverpb::ResponseHeader& header,
                                                         std::vector<kv::EventBatch> batches, size_t limit,
                                                         bool fragment);

}  // namespace synod::api
