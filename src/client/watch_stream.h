// WatchStream: one etcd Watch call with one watcher, read synchronously until a deadline.
//
// The synchronous gRPC API has no timeout per read, so the whole stream gets one: it ends at `until` at
// the latest, and a Cancellation ends it earlier. Callers that wait longer open a new stream from the
// revision they reached. A stream that breaks marks its endpoint as failed so the next one goes to
// another member.
#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include "api/proto/watch.grpc.pb.h"
#include "base/status.h"
#include "client/cancellation.h"
#include "client/deadline.h"
#include "client/etcd_connection.h"

namespace synod::client {

class WatchStream {
 public:
  WatchStream(EtcdConnection& connection, const etcdserverpb::WatchCreateRequest& create, Deadline until,
              Cancellation* cancel);
  // Ends the call if it still runs.
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // The next response (the creation answer first); false once the stream has ended.
  bool next(etcdserverpb::WatchResponse& response);
  // Once next() returned false: ok if the stream reached its deadline or was cancelled, else why it
  // broke.
  const Status& ended() const { return ended_; }

 private:
  void finish();

  EtcdConnection& connection_;
  size_t endpoint_ = 0;
  grpc::ClientContext context_;
  Cancellation::Registration registration_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>> stream_;
  bool finished_ = false;
  Status ended_;
};

}  // namespace synod::client
