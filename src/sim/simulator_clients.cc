// The simulator's workload: clients that run get/put/delete/cas against the servers with timeouts and
// retries, and the history of what they saw.
#include <algorithm>
#include <deque>

#include "base/assert.h"
#include "sim/simulator.h"

namespace synod::sim {
namespace {

check::OpKind op_kind(kv::MapOp op) {
  switch (op) {
    case kv::MapOp::kGet: return check::OpKind::kGet;
    case kv::MapOp::kPut: return check::OpKind::kPut;
    case kv::MapOp::kDelete: return check::OpKind::kDelete;
    case kv::MapOp::kCas: return check::OpKind::kCas;
  }
  return check::OpKind::kGet;
}

std::string describe_command(const kv::MapCommand& command) {
  std::string text = std::string(check::op_kind_name(op_kind(command.op))) + " " + command.key;
  if (command.op == kv::MapOp::kCas) text += " " + command.expect + "->" + command.value;
  if (command.op == kv::MapOp::kPut) text += "=" + command.value;
  return text;
}

}  // namespace

void Simulator::schedule_client(uint64_t at_us, EventKind kind, uint64_t client, uint64_t attempt, NodeId id,
                                std::shared_ptr<ClientResponse> response) {
  Event event;
  event.time_us = at_us;
  event.sequence = sequence_++;
  event.kind = kind;
  event.node = id;
  event.client = client;
  event.attempt = attempt;
  event.response = std::move(response);
  queue_.push(std::move(event));
}

bool Simulator::workload_done() const {
  if (options_.ops == 0 || ops_started_ < options_.ops) return false;
  return std::none_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.busy; });
}

void Simulator::start_operation(Client& client) {
  SYNOD_ASSERT(!client.busy);
  if (options_.ops != 0 && ops_started_ >= options_.ops) return;
  ++ops_started_;
  kv::MapCommand& command = client.command;
  command = kv::MapCommand{};
  command.client = client.id;
  command.sequence = ++client.sequence;
  command.key = "k" + std::to_string(random_.uniform(std::max<size_t>(options_.keys, 1)));
  // Values are unique per operation, so a read names the write it saw.
  std::string fresh = std::to_string(client.id) + "." + std::to_string(client.sequence);
  uint64_t dice = random_.uniform(100);
  if (dice < 40) {
    command.op = kv::MapOp::kGet;
  } else if (dice < 70) {
    command.op = kv::MapOp::kPut;
    command.value = fresh;
  } else if (dice < 90) {
    command.op = kv::MapOp::kCas;
    // Expect one of the last values any client wrote to the key (or this client saw), so that many
    // compares match: a cas that always fails tests little.
    const std::deque<std::string>& recent = recent_writes_[command.key];
    auto seen = client.seen.find(command.key);
    if (!recent.empty() && (seen == client.seen.end() || random_.chance(1, 2))) {
      command.expect = recent[random_.uniform(recent.size())];
    } else {
      command.expect = seen != client.seen.end() ? seen->second : "none";
    }
    command.value = fresh;
  } else {
    command.op = kv::MapOp::kDelete;
  }

  if (!command.value.empty()) {
    std::deque<std::string>& recent = recent_writes_[command.key];
    recent.push_back(command.value);
    if (recent.size() > 3) recent.pop_front();
  }

  check::Operation op;
  op.client = static_cast<int64_t>(client.id);
  op.kind = op_kind(command.op);
  op.key = command.key;
  op.value = command.value;
  op.expect = command.expect;
  op.call = static_cast<int64_t>(now_us_);
  op.status = check::OpStatus::kUnknown;
  client.history_index = result_.history.size();
  result_.history.push_back(std::move(op));
  client.busy = true;
  client.maybe_applied = false;
  client.deadline_us = now_us_ + options_.operation_timeout_us;
  NodeId target = client.leader_hint != kNoNode ? client.leader_hint : ids_[random_.uniform(ids_.size())];
  send_attempt(client, target);
}

void Simulator::send_attempt(Client& client, NodeId target) {
  ++client.attempt;
  client.target = target;
  record("t=" + std::to_string(now_us_) + " client " + std::to_string(client.id) + " " +
         describe_command(client.command) + " -> node " + std::to_string(target) + " (attempt " +
         std::to_string(client.attempt) + ")");
  schedule_client(now_us_ + options_.attempt_timeout_us, EventKind::kClientTimeout, client.id, client.attempt,
                  target);
  // Client traffic crosses no partition (clients sit beside every server) but is lost with the drop
  // fault like any other packet.
  if (faults_on_ && options_.faults.drops && random_.chance(options_.drop_per_million, 1'000'000)) return;
  schedule_client(now_us_ + latency(), EventKind::kRequest, client.id, client.attempt, target);
}

void Simulator::handle_request(const Event& event) {
  SimServer& server = node(event.node);
  if (paused_.count(event.node) > 0) {
    schedule_client(now_us_ + options_.tick_us, EventKind::kRequest, event.client, event.attempt, event.node);
    return;
  }
  if (!server.up()) return;  // the connection is refused; the client times out
  const Client& client = clients_.at(event.client - 1);
  if (client.attempt != event.attempt || !client.busy) return;  // the client stopped waiting
  uint64_t client_id = event.client;
  uint64_t attempt = event.attempt;
  NodeId id = event.node;
  node::Node& n = *server.node;
  auto refused = [&](const Status& status) {
    ClientResponse response;
    response.kind = ClientResponse::Kind::kRejected;
    response.leader_hint = n.status().leader;
    response.why = status.to_string();
    respond(client_id, attempt, id, std::move(response));
  };

  if (client.command.op == kv::MapOp::kGet) {
    std::string key = client.command.key;
    Status status = n.read([this, client_id, attempt, id, key](const Status& done) {
      ClientResponse response;
      if (done.is_ok()) {
        response.kind = ClientResponse::Kind::kOk;
        response.result.value = node(id).map->get(key);
      } else {
        response.kind = ClientResponse::Kind::kRejected;  // a read has no effect either way
        response.why = done.to_string();
      }
      respond(client_id, attempt, id, std::move(response));
    });
    if (!status.is_ok()) refused(status);
  } else {
    Result<Proposal> proposal =
        n.propose(client.command.encode(), [this, client_id, attempt, id](const Result<std::string>& done) {
          ClientResponse response;
          if (done.is_ok()) {
            Result<kv::MapResult> result = kv::MapResult::decode(done.value());
            // A stale outcome cannot answer the current attempt, nor can a result that does not decode
            // (the node glue handed back someone else's); if either ever did, claim nothing.
            if (result.is_ok() && result.value().outcome == kv::MapOutcome::kOk) {
              response.kind = ClientResponse::Kind::kOk;
              response.result = result.value();
            } else {
              response.kind = ClientResponse::Kind::kUnknown;
              response.why = result.is_ok() ? "stale or malformed request" : result.status().to_string();
            }
          } else {
            response.kind = done.status().code() == ErrorCode::kAborted ? ClientResponse::Kind::kRejected
                                                                        : ClientResponse::Kind::kUnknown;
            response.why = done.status().to_string();
          }
          respond(client_id, attempt, id, std::move(response));
        });
    if (!proposal.is_ok()) refused(proposal.status());
  }
  process_ready(server);
  check_event(id, "request from client " + std::to_string(client_id) + " at node " + std::to_string(id));
}

void Simulator::respond(uint64_t client, uint64_t attempt, NodeId from, ClientResponse response) {
  if (faults_on_ && options_.faults.drops && random_.chance(options_.drop_per_million, 1'000'000)) return;
  schedule_client(now_us_ + latency(), EventKind::kResponse, client, attempt, from,
                  std::make_shared<ClientResponse>(std::move(response)));
}

void Simulator::handle_response(const Event& event) {
  Client& client = clients_.at(event.client - 1);
  if (!client.busy || client.attempt != event.attempt) return;
  const ClientResponse& response = *event.response;
  record("t=" + std::to_string(now_us_) + " client " + std::to_string(client.id) + " answer from node " +
         std::to_string(event.node) + ": " +
         (response.kind == ClientResponse::Kind::kOk         ? std::string("ok")
          : response.kind == ClientResponse::Kind::kRejected ? "rejected (" + response.why + ")"
                                                             : "unknown (" + response.why + ")"));
  switch (response.kind) {
    case ClientResponse::Kind::kOk: finish(client, check::OpStatus::kOk, &response.result); return;
    case ClientResponse::Kind::kUnknown: client.maybe_applied = client.command.op != kv::MapOp::kGet; break;
    case ClientResponse::Kind::kRejected: break;
  }
  client.leader_hint = response.leader_hint != event.node ? response.leader_hint : kNoNode;
  retry_or_give_up(client);
}

void Simulator::handle_client_timeout(const Event& event) {
  Client& client = clients_.at(event.client - 1);
  if (!client.busy || client.attempt != event.attempt) return;
  record("t=" + std::to_string(now_us_) + " client " + std::to_string(client.id) + " timed out on node " +
         std::to_string(event.node));
  if (client.command.op != kv::MapOp::kGet) client.maybe_applied = true;
  client.leader_hint = kNoNode;
  retry_or_give_up(client);
}

void Simulator::retry_or_give_up(Client& client) {
  if (now_us_ >= client.deadline_us) {
    finish(client, client.maybe_applied ? check::OpStatus::kUnknown : check::OpStatus::kFail, nullptr);
    return;
  }
  NodeId target = client.leader_hint;
  if (target == kNoNode || target == client.target) {
    // Anyone but the server that just failed us, if there is anyone else.
    target = ids_[random_.uniform(ids_.size())];
    if (target == client.target && ids_.size() > 1) target = ids_[(target % ids_.size())];
  }
  send_attempt(client, target);
}

void Simulator::finish(Client& client, check::OpStatus status, const kv::MapResult* result) {
  check::Operation& op = result_.history.at(client.history_index);
  op.status = status;
  if (status != check::OpStatus::kUnknown) op.return_time = static_cast<int64_t>(now_us_);
  if (status == check::OpStatus::kOk) {
    SYNOD_ASSERT(result != nullptr);
    ++result_.ops_ok;
    switch (client.command.op) {
      case kv::MapOp::kGet:
        op.read = result->value;
        if (result->value) {
          client.seen[op.key] = *result->value;
        } else {
          client.seen.erase(op.key);
        }
        break;
      case kv::MapOp::kCas:
        op.cas_succeeded = result->succeeded;
        if (result->succeeded) client.seen[op.key] = op.value;
        break;
      case kv::MapOp::kPut: client.seen[op.key] = op.value; break;
      case kv::MapOp::kDelete: client.seen.erase(op.key); break;
    }
  }
  record("t=" + std::to_string(now_us_) + " client " + std::to_string(client.id) +
         " done: " + check::describe_operation(op));
  client.busy = false;
  // The next call comes strictly after this return: the checker treats equal times as overlapping.
  schedule_client(now_us_ + 1 + random_.uniform(options_.think_us_max + 1), EventKind::kClientStart,
                  client.id, 0, kNoNode);
}

void Simulator::close_history() {
  // Operations still waiting at the end: a write may yet take effect, a read observed nothing.
  for (Client& client : clients_) {
    if (!client.busy) continue;
    check::Operation& op = result_.history.at(client.history_index);
    op.status = op.kind == check::OpKind::kGet ? check::OpStatus::kFail : check::OpStatus::kUnknown;
    if (op.status == check::OpStatus::kFail) op.return_time = static_cast<int64_t>(now_us_);
    client.busy = false;
  }
}

}  // namespace synod::sim
