#include "raft/read_only.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::raft {

uint64_t ReadOnly::add(Index index, std::string context, NodeId from) {
  uint64_t round = next_round_++;
  SYNOD_ASSERT(queue_.empty() || queue_.back().round < round);
  queue_.push_back({round, index, std::move(context), from});
  return round;
}

void ReadOnly::acknowledge(NodeId peer, uint64_t round) {
  if (round == 0 || round >= next_round_) return;  // not a round this leader sent
  uint64_t& acked = acked_[peer];
  acked = std::max(acked, round);
}

std::vector<PendingRead> ReadOnly::release(const QuorumConfig& quorum, NodeId self) {
  std::vector<PendingRead> released;
  if (queue_.empty()) return released;
  // The same arithmetic as the commit index: the largest round a quorum has acknowledged.
  Index confirmed = quorum.committed_index([&](NodeId id) -> std::optional<Index> {
    if (id == self) return last_round();
    auto it = acked_.find(id);
    if (it == acked_.end()) return std::nullopt;
    return it->second;
  });
  while (!queue_.empty() && queue_.front().round <= confirmed) {
    released.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return released;
}

void ReadOnly::clear() {
  queue_.clear();
  acked_.clear();
}

std::string ReadOnly::encode_round(uint64_t round) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((round >> (8 * i)) & 0xffU);
  return out;
}

uint64_t ReadOnly::decode_round(const std::string& context) {
  if (context.size() != 8) return 0;
  uint64_t round = 0;
  for (int i = 0; i < 8; ++i)
    round |= static_cast<uint64_t>(static_cast<unsigned char>(context[i])) << (8 * i);
  return round;
}

void ReadOnly::encode(StateEncoder& out) const {
  out.u64(next_round_);
  out.u64(queue_.size());
  for (const PendingRead& read : queue_) {
    out.u64(read.round);
    out.u64(read.index);
    out.bytes(read.context);
    out.node(read.from);
  }
  std::vector<NodeId> acked;
  for (const auto& [id, round] : acked_) acked.push_back(id);
  out.sorted_by_node(acked, [&](NodeId id) { out.u64(acked_.at(id)); });
}

}  // namespace synod::raft
