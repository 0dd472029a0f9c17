// etcd's Watch service over gRPC, in process: the generated stubs open Watch streams on a real server
// whose FakeBackend applies writes to an MVCC store and its watch hub on a worker thread. Checks created
// and canceled responses, events of puts, deletes and txns, filters and prev_kv, replay from an old
// revision, compaction, progress requests and notifications, fragments, thousands of watchers on one
// member, and a client that stops reading.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "api/proto/watch.grpc.pb.h"
#include "api/server_fixture.h"
#include "kv/watch_hub.h"

namespace synod::api {
namespace {

using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

WatchRequest create_request(const std::string& key, const std::string& range_end = "", int64_t start = 0) {
  WatchRequest request;
  etcdserverpb::WatchCreateRequest& create = *request.mutable_create_request();
  create.set_key(key);
  create.set_range_end(range_end);
  create.set_start_revision(start);
  return request;
}

std::string describe(const mvccpb::Event& event) {
  std::string out = event.type() == mvccpb::Event::PUT ? "PUT " + event.kv().key() + "=" + event.kv().value()
                                                       : "DELETE " + event.kv().key();
  out += "@" + std::to_string(event.kv().mod_revision());
  if (event.has_prev_kv()) out += " prev=" + event.prev_kv().value();
  return out;
}

// Polls `done` every 10 ms for up to `timeout`.
bool eventually(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<std::string> describe(const WatchResponse& response) {
  std::vector<std::string> out;
  for (const mvccpb::Event& event : response.events()) out.push_back(describe(event));
  return out;
}

class WatchServiceTest : public test::ServerFixture {
 protected:
  // A Watch stream that gives up after 20 seconds, so a missing response fails the test, not the run.
  struct Stream {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReaderWriter<WatchRequest, WatchResponse>> rw;

    WatchResponse read() {
      WatchResponse response;
      EXPECT_TRUE(rw->Read(&response)) << "the stream ended";
      return response;
    }
    void write(const WatchRequest& request) { EXPECT_TRUE(rw->Write(request)); }
  };

  void start_with(ServiceOptions options) {
    if (server_) server_->Shutdown();
    server_.reset();
    services_.reset();
    start(options);
    watch_ = etcdserverpb::Watch::NewStub(channel_);
  }
  void SetUp() override {
    start();
    watch_ = etcdserverpb::Watch::NewStub(channel_);
  }

  std::unique_ptr<Stream> open() {
    auto stream = std::make_unique<Stream>();
    stream->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    stream->rw = watch_->Watch(&stream->context);
    return stream;
  }
  // Opens a stream with one watcher and reads its created response.
  std::unique_ptr<Stream> watch(const WatchRequest& create, int64_t* id = nullptr) {
    std::unique_ptr<Stream> stream = open();
    stream->write(create);
    WatchResponse created = stream->read();
    EXPECT_TRUE(created.created());
    EXPECT_FALSE(created.canceled()) << created.cancel_reason();
    if (id != nullptr) *id = created.watch_id();
    return stream;
  }

  void put(const std::string& key, const std::string& value) {
    grpc::ClientContext context;
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    ASSERT_TRUE(kv_->Put(&context, request, &response).ok());
  }
  void del(const std::string& key, const std::string& range_end = "") {
    grpc::ClientContext context;
    etcdserverpb::DeleteRangeRequest request;
    request.set_key(key);
    request.set_range_end(range_end);
    etcdserverpb::DeleteRangeResponse response;
    ASSERT_TRUE(kv_->DeleteRange(&context, request, &response).ok());
  }
  void txn(const std::vector<std::pair<std::string, std::string>>& puts) {
    grpc::ClientContext context;
    etcdserverpb::TxnRequest request;
    for (const auto& [key, value] : puts) {
      etcdserverpb::PutRequest& put = *request.add_success()->mutable_request_put();
      put.set_key(key);
      put.set_value(value);
    }
    etcdserverpb::TxnResponse response;
    ASSERT_TRUE(kv_->Txn(&context, request, &response).ok());
  }

  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

TEST_F(WatchServiceTest, createdThenEventsForPutsAndDeletes) {
  put("before", "x");  // revision 2
  std::unique_ptr<Stream> stream = open();
  stream->write(create_request("foo"));
  WatchResponse created = stream->read();
  EXPECT_TRUE(created.created());
  EXPECT_EQ(created.watch_id(), 0);  // etcd numbers a stream's watchers from 0
  EXPECT_EQ(created.header().revision(), 2);
  EXPECT_EQ(created.header().cluster_id(), test::kClusterId);
  EXPECT_EQ(created.header().member_id(), test::kMemberId);

  put("foo", "bar");  // 3
  put("other", "y");  // 4, not watched
  del("foo");         // 5
  // Revisions applied before the stream's next send share a response (etcd batches them too), so the
  // two events come in one response or two, depending on when the sender runs.
  std::vector<std::string> events;
  std::vector<mvccpb::Event> raw;
  while (events.size() < 2) {
    WatchResponse response = stream->read();
    ASSERT_GT(response.events_size(), 0) << "a response without events";
    EXPECT_EQ(response.watch_id(), 0);
    EXPECT_GE(response.header().revision(), response.events(response.events_size() - 1).kv().mod_revision());
    for (const mvccpb::Event& event : response.events()) raw.push_back(event);
    for (std::string& event : describe(response)) events.push_back(std::move(event));
  }
  EXPECT_EQ(events, (std::vector<std::string>{"PUT foo=bar@3", "DELETE foo@5"}));
  EXPECT_EQ(raw.back().kv().version(), 0);
}

TEST_F(WatchServiceTest, aTxnArrivesAsOneResponse) {
  std::unique_ptr<Stream> stream = watch(create_request("k", "l"));
  txn({{"k1", "a"}, {"k2", "b"}, {"x", "c"}});
  WatchResponse response = stream->read();
  EXPECT_EQ(describe(response), (std::vector<std::string>{"PUT k1=a@2", "PUT k2=b@2"}));
}

TEST_F(WatchServiceTest, filtersAndPrevKv) {
  WatchRequest no_put = create_request("foo");
  no_put.mutable_create_request()->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  no_put.mutable_create_request()->set_prev_kv(true);
  std::unique_ptr<Stream> stream = watch(no_put);
  put("foo", "1");
  put("foo", "2");
  del("foo");
  EXPECT_EQ(describe(stream->read()), (std::vector<std::string>{"DELETE foo@4 prev=2"}));
}

TEST_F(WatchServiceTest, cancelEndsOneWatcherAndAnswers) {
  std::unique_ptr<Stream> stream = open();
  stream->write(create_request("a"));
  stream->write(create_request("b"));
  WatchResponse first = stream->read();
  WatchResponse second = stream->read();
  EXPECT_EQ(first.watch_id(), 0);
  EXPECT_EQ(second.watch_id(), 1);
  WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(0);
  stream->write(cancel);
  WatchResponse canceled = stream->read();
  EXPECT_TRUE(canceled.canceled());
  EXPECT_EQ(canceled.watch_id(), 0);
  put("a", "1");
  put("b", "2");
  WatchResponse event = stream->read();
  EXPECT_EQ(event.watch_id(), 1);
  EXPECT_EQ(describe(event), (std::vector<std::string>{"PUT b=2@3"}));
}

TEST_F(WatchServiceTest, badCreatesAreRefusedLikeEtcd) {
  std::unique_ptr<Stream> stream = open();
  stream->write(create_request("b", "a"));
  WatchResponse empty = stream->read();
  EXPECT_TRUE(empty.created());
  EXPECT_TRUE(empty.canceled());
  EXPECT_EQ(empty.watch_id(), -1);
  EXPECT_EQ(empty.cancel_reason(), "mvcc: watcher range is empty");
  WatchRequest with_id = create_request("a");
  with_id.mutable_create_request()->set_watch_id(7);
  stream->write(with_id);
  EXPECT_EQ(stream->read().watch_id(), 7);
  stream->write(with_id);
  WatchResponse duplicate = stream->read();
  EXPECT_TRUE(duplicate.canceled());
  EXPECT_EQ(duplicate.cancel_reason(), "mvcc: duplicate watch ID provided on the WatchStream");
}

TEST_F(WatchServiceTest, progressRequestReportsTheRevisionReached) {
  std::unique_ptr<Stream> stream = watch(create_request("foo"));
  put("other", "1");  // 2
  put("other", "2");  // 3
  WatchRequest progress;
  progress.mutable_progress_request();
  stream->write(progress);
  WatchResponse response = stream->read();
  EXPECT_EQ(response.watch_id(), -1);
  EXPECT_EQ(response.events_size(), 0);
  EXPECT_EQ(response.header().revision(), 3);
}

TEST_F(WatchServiceTest, anOldStartRevisionReplaysThenGoesLive) {
  put("foo", "1");   // 2
  put("foo2", "2");  // 3
  put("bar", "3");   // 4
  put("foo", "4");   // 5
  WatchRequest create = create_request("foo", "fop", 3);
  create.mutable_create_request()->set_prev_kv(true);
  std::unique_ptr<Stream> stream = watch(create);
  std::vector<std::string> seen;
  while (seen.size() < 2) {
    for (std::string& event : describe(stream->read())) seen.push_back(std::move(event));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"PUT foo2=2@3", "PUT foo=4@5 prev=1"}));
  put("foo3", "5");  // 6
  EXPECT_EQ(describe(stream->read()), (std::vector<std::string>{"PUT foo3=5@6"}));
}

TEST_F(WatchServiceTest, aCompactedStartRevisionIsCanceledWithTheCompactRevision) {
  put("foo", "1");  // 2
  put("foo", "2");  // 3
  {
    grpc::ClientContext context;
    etcdserverpb::CompactionRequest request;
    request.set_revision(3);
    etcdserverpb::CompactionResponse response;
    ASSERT_TRUE(kv_->Compact(&context, request, &response).ok());
  }
  std::unique_ptr<Stream> stream = watch(create_request("foo", "", 2));
  WatchResponse canceled = stream->read();
  EXPECT_TRUE(canceled.canceled());
  EXPECT_EQ(canceled.compact_revision(), 3);
  EXPECT_EQ(canceled.watch_id(), 0);
}

TEST_F(WatchServiceTest, progressNotificationsComeWhileNothingHappens) {
  ServiceOptions options;
  options.watch_progress_interval = std::chrono::milliseconds(100);
  start_with(options);
  put("other", "1");  // 2
  WatchRequest create = create_request("foo");
  create.mutable_create_request()->set_progress_notify(true);
  int64_t id = -1;
  std::unique_ptr<Stream> stream = watch(create, &id);
  WatchResponse notification = stream->read();
  EXPECT_EQ(notification.watch_id(), id);
  EXPECT_EQ(notification.events_size(), 0);
  EXPECT_FALSE(notification.created());
  EXPECT_EQ(notification.header().revision(), 2);
}

TEST_F(WatchServiceTest, aLargeRevisionIsSplitIntoFragmentsWhenAsked) {
  ServiceOptions options;
  options.max_request_bytes = 1024;
  start_with(options);
  std::string value(300, 'v');
  for (int i = 0; i < 8; ++i) put("big/" + std::to_string(i), value);  // 2..9
  WatchRequest create = create_request("big/", "big0");
  create.mutable_create_request()->set_prev_kv(true);
  create.mutable_create_request()->set_fragment(true);
  std::unique_ptr<Stream> fragmented = watch(create);
  create.mutable_create_request()->set_fragment(false);
  std::unique_ptr<Stream> whole = watch(create);
  del("big/", "big0");  // 10: eight deletes, each with a 300-byte prev_kv

  int events = 0;
  int parts = 0;
  while (events < 8) {
    WatchResponse part = fragmented->read();
    EXPECT_LE(part.ByteSizeLong(), 1024u);
    ++parts;
    events += part.events_size();
    EXPECT_EQ(part.fragment(), events < 8);
  }
  EXPECT_GT(parts, 1);
  WatchResponse one = whole->read();
  EXPECT_EQ(one.events_size(), 8);
  EXPECT_FALSE(one.fragment());
}

TEST_F(WatchServiceTest, closingTheStreamRemovesItsWatchers) {
  {
    std::unique_ptr<Stream> stream = watch(create_request("foo"));
    EXPECT_EQ(backend_.watch_hub().watcher_count(), 1u);
    stream->rw->WritesDone();
    WatchResponse none;
    EXPECT_FALSE(stream->rw->Read(&none));
    EXPECT_TRUE(stream->rw->Finish().ok());
  }
  EXPECT_EQ(backend_.watch_hub().watcher_count(), 0u);
}

TEST_F(WatchServiceTest, closeStreamsEndsOpenStreamsAsTheServerStops) {
  std::unique_ptr<Stream> stream = watch(create_request("foo"));
  services_->close_streams();
  WatchResponse none;
  EXPECT_FALSE(stream->rw->Read(&none));
  grpc::Status status = stream->rw->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "etcdserver: server stopped");
  EXPECT_EQ(backend_.watch_hub().watcher_count(), 0u);
}

// Thousands of watchers on one member, over many streams of one connection (as clientv3 multiplexes
// them): every watcher gets its key's event and nobody else's.
TEST_F(WatchServiceTest, thousandsOfWatchersOnOneMemberEachGetTheirOwnEvents) {
  constexpr int kStreams = 40;
  constexpr int kPerStream = 60;  // 2,400 watchers
  std::vector<std::unique_ptr<Stream>> streams;
  for (int s = 0; s < kStreams; ++s) {
    streams.push_back(open());
    for (int w = 0; w < kPerStream; ++w)
      streams.back()->write(create_request("many/" + std::to_string(s * kPerStream + w)));
  }
  for (int s = 0; s < kStreams; ++s) {
    for (int w = 0; w < kPerStream; ++w) {
      WatchResponse created = streams[s]->read();
      ASSERT_TRUE(created.created());
      ASSERT_EQ(created.watch_id(), w);
    }
  }
  EXPECT_EQ(backend_.watch_hub().watcher_count(), static_cast<size_t>(kStreams * kPerStream));
  for (int i = 0; i < kStreams * kPerStream; ++i) put("many/" + std::to_string(i), "v" + std::to_string(i));
  for (int s = 0; s < kStreams; ++s) {
    for (int w = 0; w < kPerStream; ++w) {
      int i = s * kPerStream + w;
      WatchResponse event = streams[s]->read();
      ASSERT_EQ(event.events_size(), 1);
      // Events come in revision order: the stream's watchers' keys were written in watcher order.
      EXPECT_EQ(event.watch_id(), w);
      EXPECT_EQ(describe(event.events(0)),
                "PUT many/" + std::to_string(i) + "=v" + std::to_string(i) + "@" + std::to_string(i + 2));
    }
  }
}

// A client that stops reading: its receive window fills and the response being sent never completes.
// Writes go on meanwhile (the hub holds nothing for it: its watcher falls back to catching up from the
// history), and after the stall timeout the stream is canceled with its watchers.
TEST_F(WatchServiceTest, aClientThatReadsNothingIsCanceledAndNeverHoldsUpWrites) {
  ServiceOptions options;
  options.watch_stall_timeout = std::chrono::seconds(1);
  start_with(options);
  // A receive window of a few kilobytes that never grows, so the server's writes block soon.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4096);
  std::shared_ptr<grpc::Channel> slow =
      grpc::CreateCustomChannel(endpoint(), grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<etcdserverpb::Watch::Stub> stub = etcdserverpb::Watch::NewStub(slow);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  std::unique_ptr<grpc::ClientReaderWriter<WatchRequest, WatchResponse>> rw = stub->Watch(&context);
  ASSERT_TRUE(rw->Write(create_request("stalled")));
  ASSERT_TRUE(eventually([&] { return backend_.watch_hub().watcher_count() == 1; }));

  // Far more than any window: 400 puts of 16 KiB. Each one is answered (the client never reads).
  const std::string value(16 * 1024, 'x');
  for (int i = 0; i < 400; ++i) {
    grpc::ClientContext put_context;
    put_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    etcdserverpb::PutRequest request;
    request.set_key("stalled");
    request.set_value(value);
    etcdserverpb::PutResponse response;
    ASSERT_TRUE(kv_->Put(&put_context, request, &response).ok()) << "put " << i << " was held up";
  }
  EXPECT_TRUE(eventually([&] { return backend_.watch_hub().watcher_count() == 0; }))
      << "the stalled stream's watcher is still there";
  // What the client finds when it reads again: what got through, then the end of the call.
  WatchResponse response;
  int64_t last = 0;
  while (rw->Read(&response)) {
    for (const mvccpb::Event& event : response.events()) {
      EXPECT_GT(event.kv().mod_revision(), last) << "events in order, none twice";
      last = event.kv().mod_revision();
    }
  }
  EXPECT_LT(last, 401) << "it was not sent everything: it was canceled";
  EXPECT_EQ(rw->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace synod::api
