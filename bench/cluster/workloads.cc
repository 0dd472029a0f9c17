#include "bench/cluster/workloads.h"

#include <cstdio>
#include <random>

#include <grpcpp/alarm.h>

#include "base/assert.h"

namespace synod::bench {

namespace {

std::chrono::system_clock::time_point wall_time_of(Clock::time_point when) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(when - Clock::now());
}

// What every client shares: taking a ticket, waiting for its intended time in open loop, recording.
class PacedClient : public LoadClient {
 public:
  PacedClient(Driver& driver, Connection& connection, uint64_t seed)
      : driver_(driver), connection_(connection), random_(seed) {}

  void begin() override {
    driver_.client_started();
    next();
  }

 protected:
  // Sends the operation of ticket_; its completion must come back through proceed() with state_ set.
  virtual void issue() = 0;
  // Closes whatever the client holds open (a stream) and then calls driver_.client_finished().
  virtual void finish() { driver_.client_finished(); }

  void next() {
    std::optional<Ticket> ticket = driver_.take();
    if (!ticket) {
      finish();
      return;
    }
    ticket_ = *ticket;
    if (driver_.open_loop()) {
      started_ = ticket_.intended;
      if (ticket_.intended > Clock::now()) {
        waiting_ = true;
        alarm_.Set(connection_.cq, wall_time_of(ticket_.intended), this);
        return;
      }
    } else {
      started_ = Clock::now();
    }
    issue();
  }

  // True when the event was the open-loop alarm, which has now been turned into the operation.
  bool alarm_fired() {
    if (!waiting_) return false;
    waiting_ = false;
    issue();
    return true;
  }

  grpc::ClientContext& fresh_context() {
    context_.emplace();
    context_->set_deadline(std::chrono::system_clock::now() +
                           std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               std::chrono::duration<double>(driver_.options().timeout_s)));
    return *context_;
  }

  void succeeded() { driver_.record_ok(connection_.thread, started_, Clock::now()); }
  void failed(const grpc::Status& status) { driver_.record_error(connection_.thread, error_kind(status)); }

  uint64_t random_key() {
    return std::uniform_int_distribution<uint64_t>(0, driver_.options().key_space - 1)(random_);
  }

  Driver& driver_;
  Connection& connection_;
  std::mt19937_64 random_;
  Ticket ticket_;
  Clock::time_point started_;
  std::optional<grpc::ClientContext> context_;
  grpc::Status status_;

 private:
  grpc::Alarm alarm_;
  bool waiting_ = false;
};

// put, range, txn-cas and mixed: one unary request at a time. The watch workload's putters too.
class UnaryClient : public PacedClient {
 public:
  UnaryClient(Driver& driver, Connection& connection, uint64_t seed)
      : PacedClient(driver, connection, seed),
        value_(static_cast<size_t>(driver.options().value_size), 'v'),
        known_revisions_(static_cast<size_t>(driver.options().hot_keys), 0) {}

  void proceed(bool /*ok*/) override {
    if (alarm_fired()) return;
    complete();
    next();
  }

 private:
  enum class Op { kPut, kRange, kTxn };

  void issue() override {
    const BenchOptions& o = driver_.options();
    fresh_context();  // the call below runs on context_
    switch (o.workload) {
      case Workload::kPut: return put(key_for(o, random_key()), value_);
      case Workload::kRange: return range(key_for(o, random_key()));
      case Workload::kTxnCas: return cas();
      case Workload::kMixed: {
        bool read = std::bernoulli_distribution(o.read_ratio)(random_);
        return read ? range(key_for(o, random_key())) : put(key_for(o, random_key()), value_);
      }
      case Workload::kWatch: {
        std::string key = o.prefix + "w/" + std::to_string(random_key());
        return put(key, stamped_value(started_, value_.size()));
      }
      case Workload::kLease:
      case Workload::kFsync: break;  // never a UnaryClient's (make_clients)
    }
    SYNOD_ASSERT_MSG(false, "a UnaryClient was made for a workload it does not run");
  }

  void put(const std::string& key, const std::string& value) {
    op_ = Op::kPut;
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    put_call_ = connection_.kv->PrepareAsyncPut(&*context_, request, connection_.cq);
    put_call_->StartCall();
    put_call_->Finish(&put_response_, &status_, this);
  }

  void range(const std::string& key) {
    op_ = Op::kRange;
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    request.set_serializable(driver_.options().serializable);
    range_call_ = connection_.kv->PrepareAsyncRange(&*context_, request, connection_.cq);
    range_call_->StartCall();
    range_call_->Finish(&range_response_, &status_, this);
  }

  // Compare-and-swap on a hot key: swap if its mod revision is still the one this client last saw,
  // otherwise read it to learn the new one. Both outcomes are one operation.
  void cas() {
    op_ = Op::kTxn;
    cas_key_ = std::uniform_int_distribution<size_t>(0, known_revisions_.size() - 1)(random_);
    std::string key = driver_.options().prefix + "hot/" + std::to_string(cas_key_);
    etcdserverpb::TxnRequest request;
    etcdserverpb::Compare* compare = request.add_compare();
    compare->set_key(key);
    compare->set_target(etcdserverpb::Compare::MOD);
    compare->set_result(etcdserverpb::Compare::EQUAL);
    compare->set_mod_revision(known_revisions_[cas_key_]);
    etcdserverpb::PutRequest* put = request.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(value_);
    request.add_failure()->mutable_request_range()->set_key(key);
    txn_call_ = connection_.kv->PrepareAsyncTxn(&*context_, request, connection_.cq);
    txn_call_->StartCall();
    txn_call_->Finish(&txn_response_, &status_, this);
  }

  void complete() {
    if (!status_.ok()) return failed(status_);
    bool watch = driver_.options().workload == Workload::kWatch;
    if (watch) {
      driver_.watch_puts.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    succeeded();
    if (op_ != Op::kTxn) return;
    if (txn_response_.succeeded()) {
      driver_.cas_won.fetch_add(1, std::memory_order_relaxed);
      known_revisions_[cas_key_] = txn_response_.header().revision();
    } else {
      driver_.cas_lost.fetch_add(1, std::memory_order_relaxed);
      const auto& kvs = txn_response_.responses(0).response_range().kvs();
      known_revisions_[cas_key_] = kvs.empty() ? 0 : kvs[0].mod_revision();
    }
  }

  std::string value_;
  std::vector<int64_t> known_revisions_;
  size_t cas_key_ = 0;
  Op op_ = Op::kPut;
  etcdserverpb::PutResponse put_response_;
  etcdserverpb::RangeResponse range_response_;
  etcdserverpb::TxnResponse txn_response_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> put_call_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::RangeResponse>> range_call_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::TxnResponse>> txn_call_;
};

// lease: one operation is a LeaseGrant and then one keep-alive of that lease on the client's
// LeaseKeepAlive stream (opened on first use, as clientv3 does), timed together.
class LeaseClient : public PacedClient {
 public:
  using PacedClient::PacedClient;

  void proceed(bool ok) override {
    if (alarm_fired()) return;
    switch (state_) {
      case State::kGrant:
        if (!status_.ok()) {
          failed(status_);
          return next();
        }
        lease_id_ = grant_response_.id();
        if (stream_) return write();
        state_ = State::kStreamStart;
        stream_context_.emplace();
        stream_ = connection_.lease->PrepareAsyncLeaseKeepAlive(&*stream_context_, connection_.cq);
        stream_->StartCall(this);
        return;
      case State::kStreamStart:
        if (!ok) return broken();
        return write();
      case State::kWrite:
        if (!ok) return broken();
        state_ = State::kRead;
        stream_->Read(&keepalive_response_, this);
        return;
      case State::kRead:
        if (!ok) return broken();
        if (keepalive_response_.id() != lease_id_ || keepalive_response_.ttl() <= 0) {
          driver_.record_error(connection_.thread, "keep-alive answered for another lease or with TTL <= 0");
        } else {
          succeeded();
        }
        return next();
      case State::kBroken:
        failed(status_);
        stream_.reset();
        return next();
      case State::kClosing:
        state_ = State::kClosed;
        stream_->Finish(&status_, this);
        return;
      case State::kClosed: driver_.client_finished(); return;
    }
  }

 private:
  enum class State { kGrant, kStreamStart, kWrite, kRead, kBroken, kClosing, kClosed };

  void issue() override {
    state_ = State::kGrant;
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(driver_.options().lease_ttl);
    grant_call_ = connection_.lease->PrepareAsyncLeaseGrant(&fresh_context(), request, connection_.cq);
    grant_call_->StartCall();
    grant_call_->Finish(&grant_response_, &status_, this);
  }

  void write() {
    state_ = State::kWrite;
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(lease_id_);
    stream_->Write(request, this);
  }

  // The stream failed: collect its status (the error to count), then carry on with a new stream.
  void broken() {
    state_ = State::kBroken;
    stream_->Finish(&status_, this);
  }

  void finish() override {
    if (!stream_) return driver_.client_finished();
    state_ = State::kClosing;
    stream_->WritesDone(this);
  }

  State state_ = State::kGrant;
  int64_t lease_id_ = 0;
  etcdserverpb::LeaseGrantResponse grant_response_;
  etcdserverpb::LeaseKeepAliveResponse keepalive_response_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::LeaseGrantResponse>> grant_call_;
  std::optional<grpc::ClientContext> stream_context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                                etcdserverpb::LeaseKeepAliveResponse>>
      stream_;
};

}  // namespace

std::string stamped_value(Clock::time_point sent, size_t size) {
  std::string value = std::to_string(sent.time_since_epoch().count());
  value.push_back('/');
  if (value.size() < size) value.resize(size, 'v');
  return value;
}

bool read_stamp(const std::string& value, Clock::time_point& sent) {
  size_t slash = value.find('/');
  if (slash == std::string::npos || slash == 0) return false;
  Clock::rep ticks = 0;
  for (size_t i = 0; i < slash; ++i) {
    if (value[i] < '0' || value[i] > '9') return false;
    ticks = ticks * 10 + (value[i] - '0');
  }
  sent = Clock::time_point(Clock::duration(ticks));
  return true;
}

std::string server_version(Driver& driver) {
  auto stub = etcdserverpb::Maintenance::NewStub(driver.connections().front().channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  etcdserverpb::StatusResponse response;
  grpc::Status status = stub->Status(&context, etcdserverpb::StatusRequest{}, &response);
  return status.ok() ? response.version() : "";
}

std::vector<std::unique_ptr<LoadClient>> make_clients(Driver& driver) {
  const BenchOptions& o = driver.options();
  std::vector<std::unique_ptr<LoadClient>> clients;
  uint64_t seed = o.seed != 0 ? o.seed : static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  for (int i = 0; i < o.clients; ++i) {
    Connection& connection = driver.connection_for(static_cast<size_t>(i));
    uint64_t client_seed = seed + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL;
    if (o.workload == Workload::kLease) {
      clients.push_back(std::make_unique<LeaseClient>(driver, connection, client_seed));
    } else {
      clients.push_back(std::make_unique<UnaryClient>(driver, connection, client_seed));
    }
  }
  return clients;
}

bool run_workload(Driver& driver) {
  std::vector<std::unique_ptr<LoadClient>> clients = make_clients(driver);
  driver.start();
  for (auto& client : clients) client->begin();
  driver.wait_for_clients();
  // Every client is done, so nothing is outstanding: the queues drain and the clients can go.
  driver.shutdown();
  return true;
}

}  // namespace synod::bench
