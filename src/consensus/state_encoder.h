// StateEncoder: the canonical byte form of a core's state, for the model checker (check/mc), which keeps
// one fingerprint per distinct state it has seen. Two states that behave the same from here on must
// encode the same; two that can behave differently must not.
//
// Node ids go through rename() so that the checker can look at a state under each permutation of ids
// (symmetry reduction): an engine writes every id it holds through node(), and lists keyed by node id
// in renamed order (sorted_by_node()).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consensus/message.h"
#include "consensus/types.h"

namespace synod {

class StateEncoder {
 public:
  StateEncoder() = default;
  // `renaming[id]` is the id to write for `id`; ids outside it (and kNoNode) are written unchanged.
  explicit StateEncoder(std::vector<NodeId> renaming) : renaming_(std::move(renaming)) {}

  // An empty encoder with the same renaming and time mode (for parts sorted before they are written,
  // like a network).
  StateEncoder blank() const {
    StateEncoder out(renaming_);
    out.timed_ = timed_;
    return out;
  }

  // Whether time is part of the state. Off (the model checker's default) a core leaves out its timers,
  // clocks and random generator: time is the checker's choice, a timeout fires whenever it says so. On
  // (equal-rate clocks: every node ticks together), a core writes them all, since when it next acts,
  // and what its leases allow, then depend on them.
  bool timed() const { return timed_; }
  void set_timed(bool timed) { timed_ = timed; }

  NodeId rename(NodeId id) const { return id < renaming_.size() ? renaming_[id] : id; }

  void u64(uint64_t value) {
    char bytes[sizeof value];
    std::memcpy(bytes, &value, sizeof value);
    out_.append(bytes, sizeof value);
  }
  void flag(bool value) { out_.push_back(value ? '\1' : '\0'); }
  void node(NodeId id) { u64(rename(id)); }
  void bytes(std::string_view data) {
    u64(data.size());
    out_.append(data);
  }
  void optional_bytes(const std::optional<std::string>& data) {
    flag(data.has_value());
    if (data) bytes(*data);
  }
  void entry(const Entry& entry) {
    u64(entry.term);
    u64(entry.index);
    u64(static_cast<uint64_t>(entry.type));
    bytes(entry.data);
  }

  void snapshot_meta(const SnapshotMeta& meta) {
    u64(meta.index);
    u64(meta.term);
    voters(meta.conf.voters);
  }
  // A set of node ids, in renamed order.
  void voters(const std::vector<NodeId>& ids) {
    std::vector<NodeId> renamed;
    renamed.reserve(ids.size());
    for (NodeId id : ids) renamed.push_back(rename(id));
    std::sort(renamed.begin(), renamed.end());
    u64(renamed.size());
    for (NodeId id : renamed) u64(id);
  }
  // Everything a message carries; a snapshot by its meta and a hash of its data.
  void message(const Message& m) {
    u64(static_cast<uint64_t>(m.type));
    node(m.from);
    node(m.to);
    u64(m.term);
    u64(m.log_term);
    u64(m.index);
    u64(m.commit);
    flag(m.reject);
    u64(m.hint_index);
    u64(m.hint_term);
    u64(m.entries.size());
    for (const Entry& e : m.entries) entry(e);
    flag(m.snapshot != nullptr);
    if (m.snapshot) {
      snapshot_meta(m.snapshot->meta);
      bytes(m.snapshot->data);
    }
    bytes(m.context);
  }

  // A multiset (the messages in flight): each item encoded on its own by `encode(item, encoder)`, the
  // encodings sorted, so that the order the items are held in does not matter.
  template <typename Items, typename Encode>
  void multiset(const Items& items, Encode&& encode) {
    std::vector<std::string> parts;
    parts.reserve(items.size());
    for (const auto& item : items) {
      StateEncoder one = blank();
      encode(item, one);
      parts.push_back(one.take());
    }
    std::sort(parts.begin(), parts.end());
    u64(parts.size());
    for (const std::string& part : parts) bytes(part);
  }

  // Encodes one record per id in `ids`, in the order of their renamed ids: `encode(id)` writes the
  // record for `id` into this encoder.
  template <typename Encode>
  void sorted_by_node(const std::vector<NodeId>& ids, Encode&& encode) {
    std::vector<std::pair<NodeId, NodeId>> order;  // (renamed, original)
    order.reserve(ids.size());
    for (NodeId id : ids) order.emplace_back(rename(id), id);
    std::sort(order.begin(), order.end());
    u64(order.size());
    for (const auto& [renamed, original] : order) {
      u64(renamed);
      encode(original);
    }
  }

  const std::string& data() const { return out_; }
  std::string take() { return std::move(out_); }
  void clear() { out_.clear(); }

 private:
  std::vector<NodeId> renaming_;
  bool timed_ = false;
  std::string out_;
};

}  // namespace synod
