#include "process/etcd_client.h"

#include <algorithm>
#include <fstream>
#include <thread>

#include "client/etcd_connection.h"
#include "support/run_tool.h"

#ifndef SYNOD_CHECK
#error "SYNOD_CHECK must name the synod-check binary"
#endif

namespace synod::process_test {

using namespace std::chrono_literals;

EtcdChannels::EtcdChannels(const ProcessCluster& cluster) {
  for (int id : cluster.ids()) {
    grpc::ChannelArguments arguments;
    // Redial a restarted member quickly (gRPC's default backoff starts at 1 s and grows to 120 s).
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
    // A channel per member, never shared with another harness's channel to the same port.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    Member m;
    m.channel =
        grpc::CreateCustomChannel(cluster.client_endpoint(id), grpc::InsecureChannelCredentials(), arguments);
    m.kv = etcdserverpb::KV::NewStub(m.channel);
    m.maintenance = etcdserverpb::Maintenance::NewStub(m.channel);
    members_.push_back(std::move(m));
  }
}

etcdserverpb::KV::Stub& EtcdChannels::kv(int id) {
  return *members_.at(static_cast<size_t>(id - 1)).kv;
}

etcdserverpb::Maintenance::Stub& EtcdChannels::maintenance(int id) {
  return *members_.at(static_cast<size_t>(id - 1)).maintenance;
}

bool definitely_not_applied(const grpc::Status& status) {
  switch (status.error_code()) {
    // Refused as it stood, before anything was proposed: malformed or too large (INVALID_ARGUMENT),
    // back pressure or a full disk (RESOURCE_EXHAUSTED), "etcdserver: not leader" from a member that
    // does not forward (FAILED_PRECONDITION), a compacted revision (OUT_OF_RANGE).
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED: return true;
    default: break;
  }
  // UNAVAILABLE is both definite and not (src/api/etcd_errors.cc): "no leader" is the Raft core
  // refusing the proposal; "leader changed" is a proposal whose log slot was committed with another
  // entry, or one held back by a leader transfer. "request timed out", "server stopped" and the
  // transport's own UNAVAILABLE (connection refused or broken with the request in flight) are not.
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  const std::string& message = status.error_message();
  return message == "etcdserver: no leader" || message == "etcdserver: leader changed";
}

int64_t HistoryRecorder::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
}

void HistoryRecorder::record(check::Operation operation) {
  std::lock_guard<std::mutex> lock(mutex_);
  history_.push_back(std::move(operation));
}

check::History HistoryRecorder::history() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return history_;
}

size_t HistoryRecorder::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return history_.size();
}

void HistoryRecorder::count_error(const std::string& description) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++errors_[description];
}

std::map<std::string, size_t> HistoryRecorder::errors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return errors_;
}

bool HistoryRecorder::check(const std::string& path, std::string& report) const {
  {
    std::ofstream out(path);
    check::write_history(out, history());
    if (!out) {
      report = "cannot write " + path;
      return false;
    }
  }
  testing_support::ToolRun run = testing_support::run_tool(SYNOD_CHECK, "'" + path + "' --timeout 60");
  report = run.output;
  return run.exit_status == 0;
}

std::string OpResult::describe() const {
  std::string out(check::op_status_name(status));
  if (code != grpc::StatusCode::OK) out += " (" + client::code_name(code) + ": " + message + ")";
  return out;
}

std::unique_ptr<grpc::ClientContext> RecordingClient::context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + deadline_);
  return context;
}

void RecordingClient::finish(check::Operation& op, OpResult& result, const grpc::Status& status,
                             bool is_write) {
  op.return_time = history_.now_us();
  result.call_us = op.call;
  result.return_us = *op.return_time;
  result.code = status.error_code();
  result.message = status.error_message();
  if (status.ok()) {
    result.status = check::OpStatus::kOk;
  } else if (!is_write || definitely_not_applied(status)) {
    result.status = check::OpStatus::kFail;
  } else {
    result.status = check::OpStatus::kUnknown;
  }
  op.status = result.status;
  if (!status.ok()) {
    history_.count_error(std::string(check::op_kind_name(op.kind)) + " " + result.describe());
  }
  if (op.status == check::OpStatus::kOk && op.kind == check::OpKind::kGet) op.read = result.value;
  if (op.status == check::OpStatus::kOk && op.kind == check::OpKind::kCas)
    op.cas_succeeded = result.succeeded;
  history_.record(op);
}

OpResult RecordingClient::put(int member, const std::string& key, const std::string& value) {
  check::Operation op;
  op.client = id_;
  op.kind = check::OpKind::kPut;
  op.key = key;
  op.value = value;
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  etcdserverpb::PutResponse response;
  OpResult result;
  auto ctx = context();
  op.call = history_.now_us();
  grpc::Status status = channels_.kv(member).Put(ctx.get(), request, &response);
  if (status.ok()) result.revision = response.header().revision();
  finish(op, result, status, true);
  return result;
}

OpResult RecordingClient::get(int member, const std::string& key) {
  check::Operation op;
  op.client = id_;
  op.kind = check::OpKind::kGet;
  op.key = key;
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  etcdserverpb::RangeResponse response;
  OpResult result;
  auto ctx = context();
  op.call = history_.now_us();
  grpc::Status status = channels_.kv(member).Range(ctx.get(), request, &response);
  if (status.ok()) {
    result.revision = response.header().revision();
    if (response.kvs_size() > 0) result.value = response.kvs(0).value();
  }
  finish(op, result, status, false);
  return result;
}

OpResult RecordingClient::cas(int member, const std::string& key, const std::string& expect,
                              const std::string& value) {
  check::Operation op;
  op.client = id_;
  op.kind = check::OpKind::kCas;
  op.key = key;
  op.expect = expect;
  op.value = value;
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare* compare = request.add_compare();
  compare->set_result(etcdserverpb::Compare::EQUAL);
  compare->set_target(etcdserverpb::Compare::VALUE);
  compare->set_key(key);
  compare->set_value(expect);
  etcdserverpb::PutRequest* put = request.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  etcdserverpb::TxnResponse response;
  OpResult result;
  auto ctx = context();
  op.call = history_.now_us();
  grpc::Status status = channels_.kv(member).Txn(ctx.get(), request, &response);
  if (status.ok()) {
    result.revision = response.header().revision();
    result.succeeded = response.succeeded();
  }
  finish(op, result, status, true);
  return result;
}

OpResult RecordingClient::del(int member, const std::string& key) {
  check::Operation op;
  op.client = id_;
  op.kind = check::OpKind::kDelete;
  op.key = key;
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(key);
  etcdserverpb::DeleteRangeResponse response;
  OpResult result;
  auto ctx = context();
  op.call = history_.now_us();
  grpc::Status status = channels_.kv(member).DeleteRange(ctx.get(), request, &response);
  if (status.ok()) result.revision = response.header().revision();
  finish(op, result, status, true);
  return result;
}

std::optional<std::map<std::string, mvccpb::KeyValue>> range_all(
    EtcdChannels& channels, int member, const std::string& key, const std::string& range_end,
    bool serializable, std::chrono::milliseconds deadline, std::string* error) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  request.set_serializable(serializable);
  etcdserverpb::RangeResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  grpc::Status status = channels.kv(member).Range(&context, request, &response);
  if (!status.ok()) {
    if (error != nullptr) {
      *error = "member " + std::to_string(member) + ": " + client::code_name(status.error_code()) + ": " +
               status.error_message();
    }
    return std::nullopt;
  }
  std::map<std::string, mvccpb::KeyValue> out;
  for (const mvccpb::KeyValue& kv : response.kvs()) out[kv.key()] = kv;
  if (response.more() && error != nullptr) *error = "the range was cut short (more=true)";
  if (response.more()) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, mvccpb::KeyValue>> range_all_retrying(
    EtcdChannels& channels, ProcessCluster& cluster, const std::string& key, const std::string& range_end,
    Clock::duration timeout, std::string* error) {
  Clock::time_point deadline = Clock::now() + timeout;
  size_t turn = 0;
  while (true) {
    std::vector<int> serving = cluster.serving();
    if (!serving.empty()) {
      int member = serving[turn++ % serving.size()];
      if (auto found = range_all(channels, member, key, range_end, false, 3s, error)) return found;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(50ms);
  }
}

grpc::Status put_once(EtcdChannels& channels, int member, const std::string& key, const std::string& value,
                      std::chrono::milliseconds deadline, int64_t lease,
                      etcdserverpb::PutResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  etcdserverpb::PutResponse ignored;
  return channels.kv(member).Put(&context, request, response != nullptr ? response : &ignored);
}

std::optional<etcdserverpb::StatusResponse> member_status(EtcdChannels& channels, int member,
                                                          std::chrono::milliseconds deadline) {
  etcdserverpb::StatusRequest request;
  etcdserverpb::StatusResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  if (!channels.maintenance(member).Status(&context, request, &response).ok()) return std::nullopt;
  return response;
}

Clock::duration median(std::vector<Clock::duration> values) {
  if (values.empty()) return Clock::duration::zero();
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace synod::process_test
