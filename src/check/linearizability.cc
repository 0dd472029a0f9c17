#include "check/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <span>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace synod::check {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();  // the return time of an unknown op
constexpr uint32_t kAbsent = 0;                                  // model state: the key holds no value
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
// The deadline is read once per this many search steps (a power of two).
constexpr uint64_t kStepsPerClockRead = 1024;

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

// One operation of one key, as the search sees it. Values are interned per key: 0 is "absent", every
// distinct string is a positive id, so the model state is one integer.
struct ModelOp {
  size_t history_index = 0;
  OpKind kind = OpKind::kGet;
  bool required = true;  // status ok: must be linearized; otherwise (unknown) it may be left out
  int64_t call = 0;
  int64_t ret = kNever;
  uint32_t value = kAbsent;   // put, cas: written
  uint32_t expect = kAbsent;  // cas: compared (never kAbsent: an absent key fails every compare)
  uint32_t read = kAbsent;    // ok get: read
  bool cas_succeeded = false;
};

// The sequential key-value model for one key: the state after `op`, or nullopt if `op` cannot happen in
// `state`. An unknown cas is linearized only where its compare matches; where it would not, taking effect
// and being left out are the same thing, and the search leaves it out.
std::optional<uint32_t> apply(const ModelOp& op, uint32_t state) {
  switch (op.kind) {
    case OpKind::kGet: return op.read == state ? std::optional<uint32_t>(state) : std::nullopt;
    case OpKind::kPut: return op.value;
    case OpKind::kDelete: return kAbsent;
    case OpKind::kCas:
      if (!op.required || op.cas_succeeded) {
        return state == op.expect ? std::optional<uint32_t>(op.value) : std::nullopt;
      }
      return state != op.expect ? std::optional<uint32_t>(state) : std::nullopt;
  }
  return std::nullopt;
}

// A bitset stored without the leading words that are all ones and the trailing words that are all zeros.
// The search linearizes ops roughly in call order, so a set of 1,000 ops is mostly a prefix of full words
// and a word or two of recent ones: this keeps a cached configuration to a few words.
struct Trimmed {
  uint32_t first = 0;  // words before it are all ones
  uint32_t count = 0;  // stored words; those after them are all zeros
};

Trimmed trim(std::span<const uint64_t> words) {
  size_t first = 0;
  while (first < words.size() && words[first] == ~uint64_t{0}) ++first;
  size_t end = words.size();
  while (end > first && words[end - 1] == 0) --end;
  return Trimmed{static_cast<uint32_t>(first), static_cast<uint32_t>(end - first)};
}

// Configurations already explored: (linearized ok ops, state) -> the sets of linearized unknown ops seen
// with them. A new configuration is covered if one of those sets is a subset of its own.
class ConfigCache {
 public:
  // Rough bytes per cached configuration besides its words: the entry and its share of the index.
  static constexpr size_t kBytesPerEntry = 64;

  // True if (required, unknown, state, must_read) is covered by a configuration already in the cache;
  // otherwise adds it and returns false. A configuration without must_read covers one with it (it is
  // allowed everything the other is), not the other way round.
  bool covered_or_insert(uint64_t hash, uint32_t state, bool must_read, std::span<const uint64_t> required,
                         std::span<const uint64_t> unknown) {
    Trimmed required_trim = trim(required);
    uint32_t& head = head_for(hash);
    for (uint32_t index = head; index != kNone; index = entries_[index].next) {
      const Entry& entry = entries_[index];
      if (entry.state != state || entry.required.first != required_trim.first ||
          entry.required.count != required_trim.count ||
          !std::equal(required.begin() + required_trim.first,
                      required.begin() + required_trim.first + required_trim.count, &words_[entry.offset])) {
        continue;
      }
      if ((!entry.must_read || must_read) && is_subset(entry, unknown)) return true;
    }
    SYNOD_ASSERT(entries_.size() < kNone);
    Trimmed unknown_trim = trim(unknown);
    entries_.push_back(Entry{head, state, must_read, words_.size(), required_trim, unknown_trim});
    head = static_cast<uint32_t>(entries_.size() - 1);
    words_.insert(words_.end(), required.begin() + required_trim.first,
                  required.begin() + required_trim.first + required_trim.count);
    words_.insert(words_.end(), unknown.begin() + unknown_trim.first,
                  unknown.begin() + unknown_trim.first + unknown_trim.count);
    return false;
  }

  size_t size() const { return entries_.size(); }
  size_t bytes() const { return entries_.size() * kBytesPerEntry + words_.size() * sizeof(uint64_t); }

 private:
  struct Entry {
    uint32_t next;  // the previous entry with the same hash, or kNone
    uint32_t state;
    bool must_read;
    size_t offset;  // into words_: the required words, then the unknown words
    Trimmed required;
    Trimmed unknown;
  };

  // Whether the entry's unknown set is a subset of `unknown`.
  bool is_subset(const Entry& entry, std::span<const uint64_t> unknown) const {
    for (uint32_t w = 0; w < entry.unknown.first; ++w) {
      if (unknown[w] != ~uint64_t{0}) return false;
    }
    const uint64_t* stored = &words_[entry.offset + entry.required.count];
    for (uint32_t w = 0; w < entry.unknown.count; ++w) {
      if ((stored[w] & ~unknown[entry.unknown.first + w]) != 0) return false;
    }
    return true;
  }

  // The chain head for `hash` in an open-addressing index (linear probing, at most half full).
  uint32_t& head_for(uint64_t hash) {
    if (hash == 0) hash = 1;  // 0 marks an empty slot
    if ((used_ + 1) * 2 > keys_.size()) grow();
    size_t mask = keys_.size() - 1;
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      if (keys_[slot] == hash) return heads_[slot];
      if (keys_[slot] == 0) {
        keys_[slot] = hash;
        heads_[slot] = kNone;
        ++used_;
        return heads_[slot];
      }
    }
  }

  void grow() {
    std::vector<uint64_t> keys(std::max<size_t>(1024, keys_.size() * 2), 0);
    std::vector<uint32_t> heads(keys.size(), kNone);
    size_t mask = keys.size() - 1;
    for (size_t old = 0; old < keys_.size(); ++old) {
      if (keys_[old] == 0) continue;
      size_t slot = keys_[old] & mask;
      while (keys[slot] != 0) slot = (slot + 1) & mask;
      keys[slot] = keys_[old];
      heads[slot] = heads_[old];
    }
    keys_ = std::move(keys);
    heads_ = std::move(heads);
  }

  std::vector<uint64_t> keys_;  // hash per slot, 0 if empty; the size is a power of two
  std::vector<uint32_t> heads_;
  size_t used_ = 0;
  std::vector<Entry> entries_;
  std::vector<uint64_t> words_;
};

// Where the longest partial linearization got stuck.
struct Stuck {
  size_t required_done = 0;
  std::vector<uint32_t> partial;  // ops, in linearization order
  uint32_t state = kAbsent;
  std::vector<uint32_t> window;  // ok ops that could have gone next, frontier included
  uint32_t frontier = 0;
  std::vector<uint32_t> pending_unknown;
};

enum class SearchOutcome : uint8_t { kLinearizable, kNotLinearizable, kTimedOut, kOutOfMemory };

// Wing-Gong-Lowe search over the operations of one key.
class KeySearch {
 public:
  KeySearch(std::vector<ModelOp> ops, std::optional<Clock::time_point> deadline, size_t memory_bytes_max)
      : ops_(std::move(ops)), deadline_(deadline), memory_bytes_max_(memory_bytes_max), slot_(ops_.size()) {
    // Ops, events and list nodes are numbered with uint32_t; kNone is reserved.
    SYNOD_ASSERT_MSG(ops_.size() < (uint32_t{1} << 30U), "more than 2^30 operations on one key");
    build_lists();
    required_bits_.assign((required_count_ + 63) / 64, 0);
    unknown_bits_.assign((unknown_count_ + 63) / 64, 0);
  }

  SearchOutcome run();

  const Stuck& stuck() const { return stuck_; }
  const ModelOp& op(uint32_t index) const { return ops_[index]; }
  size_t configurations() const { return cache_.size(); }

 private:
  struct Event {
    int64_t time = 0;
    uint32_t op = 0;
    bool is_return = false;
  };
  enum class Phase : uint8_t { kRequired, kUnknown };
  struct Frame {
    uint32_t op;
    uint32_t state_before;
    uint32_t position;  // the op's node in the list its phase walks
    Phase phase;
    int64_t frontier;
    bool forced;  // the configuration it left had nothing else to try (see forced_read)
    bool must_read_before;
  };
  // Where the search is: the configuration (the lists, bitsets and `state`) and the next candidate in it.
  struct Cursor {
    uint32_t state = kAbsent;
    Phase phase = Phase::kRequired;
    uint32_t position = 0;
    int64_t frontier = 0;  // in Phase::kUnknown: the earliest return among the pending ok ops
    // The last op was an unknown write: the next must read what it wrote. Every linearization can be
    // made so: an unknown write followed by another write (or by nothing) can be left out, as nothing
    // saw it. This keeps the search from placing unknown writes where they change nothing.
    bool must_read = false;
  };

  void build_lists();
  void unlink(uint32_t event);
  void relink(uint32_t event);
  void lift(uint32_t op);
  void unlift(uint32_t op);
  void flip(uint32_t op);
  void note_stuck(uint32_t state);
  uint32_t forced_read(uint32_t state) const;
  // Pushes `frame` and linearizes its op, reaching state `after`, unless the configuration that gives is
  // covered by the cache; returns whether it did.
  bool try_push(const Frame& frame, uint32_t after, bool must_read_after);
  // Undoes ops until a configuration with candidates left; false if there is none (not linearizable).
  bool backtrack(Cursor* cursor);

  std::vector<ModelOp> ops_;
  std::optional<Clock::time_point> deadline_;
  size_t memory_bytes_max_;
  std::vector<uint32_t> slot_;  // op -> bit in required_bits_ or unknown_bits_
  size_t required_count_ = 0;
  size_t unknown_count_ = 0;
  size_t required_done_ = 0;

  // The ok ops' call and return events, sorted, in a circular doubly-linked list whose sentinel is 0.
  // Linearizing an op unlinks its two events; backtracking relinks them (always in reverse order).
  std::vector<Event> events_;
  std::vector<uint32_t> next_;
  std::vector<uint32_t> previous_;
  std::vector<uint32_t> call_event_;    // op -> its call event (ok ops)
  std::vector<uint32_t> return_event_;  // op -> its return event (ok ops)
  // The unknown ops by call time, in the same kind of list (node 0 is the sentinel).
  std::vector<uint32_t> unknown_op_;  // node -> op
  std::vector<uint32_t> unknown_next_;
  std::vector<uint32_t> unknown_previous_;
  std::vector<uint32_t> unknown_node_;  // op -> node

  std::vector<uint64_t> required_bits_;
  std::vector<uint64_t> unknown_bits_;
  uint64_t required_hash_ = 0;  // Zobrist hash of required_bits_
  ConfigCache cache_;
  std::vector<Frame> stack_;
  Stuck stuck_;
  bool stuck_set_ = false;
};

void KeySearch::build_lists() {
  events_.push_back(Event{});  // sentinel
  unknown_op_.push_back(kNone);
  std::vector<uint32_t> unknown_ops;
  for (uint32_t op = 0; op < ops_.size(); ++op) {
    if (ops_[op].required) {
      slot_[op] = static_cast<uint32_t>(required_count_++);
      events_.push_back(Event{ops_[op].call, op, false});
      events_.push_back(Event{ops_[op].ret, op, true});
    } else {
      slot_[op] = static_cast<uint32_t>(unknown_count_++);
      unknown_ops.push_back(op);
    }
  }
  // At equal times calls come first: ops whose return and call coincide overlap.
  std::sort(events_.begin() + 1, events_.end(), [](const Event& a, const Event& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_return != b.is_return) return !a.is_return;
    return a.op < b.op;
  });
  size_t count = events_.size();
  next_.resize(count);
  previous_.resize(count);
  call_event_.assign(ops_.size(), kNone);
  return_event_.assign(ops_.size(), kNone);
  for (size_t e = 0; e < count; ++e) {
    next_[e] = static_cast<uint32_t>((e + 1) % count);
    previous_[e] = static_cast<uint32_t>((e + count - 1) % count);
    if (e == 0) continue;
    std::vector<uint32_t>& position = events_[e].is_return ? return_event_ : call_event_;
    position[events_[e].op] = static_cast<uint32_t>(e);
  }

  std::stable_sort(unknown_ops.begin(), unknown_ops.end(),
                   [this](uint32_t a, uint32_t b) { return ops_[a].call < ops_[b].call; });
  unknown_op_.insert(unknown_op_.end(), unknown_ops.begin(), unknown_ops.end());
  size_t nodes = unknown_op_.size();
  unknown_next_.resize(nodes);
  unknown_previous_.resize(nodes);
  unknown_node_.assign(ops_.size(), kNone);
  for (size_t n = 0; n < nodes; ++n) {
    unknown_next_[n] = static_cast<uint32_t>((n + 1) % nodes);
    unknown_previous_[n] = static_cast<uint32_t>((n + nodes - 1) % nodes);
    if (n > 0) unknown_node_[unknown_op_[n]] = static_cast<uint32_t>(n);
  }
}

void KeySearch::unlink(uint32_t event) {
  next_[previous_[event]] = next_[event];
  previous_[next_[event]] = previous_[event];
}

void KeySearch::relink(uint32_t event) {
  next_[previous_[event]] = event;
  previous_[next_[event]] = event;
}

void KeySearch::lift(uint32_t op) {
  if (ops_[op].required) {
    unlink(call_event_[op]);
    unlink(return_event_[op]);
    ++required_done_;
  } else {
    uint32_t node = unknown_node_[op];
    unknown_next_[unknown_previous_[node]] = unknown_next_[node];
    unknown_previous_[unknown_next_[node]] = unknown_previous_[node];
  }
  flip(op);
}

// Exactly undoes lift(op), which must be the last op lifted and not yet undone.
void KeySearch::unlift(uint32_t op) {
  flip(op);
  if (ops_[op].required) {
    relink(return_event_[op]);
    relink(call_event_[op]);
    --required_done_;
  } else {
    uint32_t node = unknown_node_[op];
    unknown_next_[unknown_previous_[node]] = node;
    unknown_previous_[unknown_next_[node]] = node;
  }
}

void KeySearch::flip(uint32_t op) {
  uint32_t slot = slot_[op];
  uint64_t bit = uint64_t{1} << (slot % 64);
  if (ops_[op].required) {
    required_bits_[slot / 64] ^= bit;
    required_hash_ ^= mix64(slot);
  } else {
    unknown_bits_[slot / 64] ^= bit;
  }
}

// A read-only op (an ok get, or an ok cas that failed its compare) that may go next and is legal in
// `state`, or kNone. Such an op can go first in any completion of the configuration without loss: moving
// it to the front changes no state, and nothing pending had to precede it (it was called before the first
// pending return). So the search takes it and does not branch.
uint32_t KeySearch::forced_read(uint32_t state) const {
  for (uint32_t e = next_[0]; e != 0 && !events_[e].is_return; e = next_[e]) {
    const ModelOp& op = ops_[events_[e].op];
    bool read_only = op.kind == OpKind::kGet || (op.kind == OpKind::kCas && !op.cas_succeeded);
    if (read_only && apply(op, state)) return events_[e].op;
  }
  return kNone;
}

bool KeySearch::try_push(const Frame& frame, uint32_t after, bool must_read_after) {
  flip(frame.op);
  bool covered = cache_.covered_or_insert(required_hash_ ^ mix64(after ^ 0xa5a5a5a5ULL), after,
                                          must_read_after, required_bits_, unknown_bits_);
  flip(frame.op);
  if (covered) return false;
  stack_.push_back(frame);
  lift(frame.op);
  return true;
}

bool KeySearch::backtrack(Cursor* cursor) {
  for (;;) {
    note_stuck(cursor->state);
    if (stack_.empty()) return false;
    Frame frame = stack_.back();
    stack_.pop_back();
    unlift(frame.op);
    cursor->state = frame.state_before;
    cursor->phase = frame.phase;
    cursor->frontier = frame.frontier;
    cursor->must_read = frame.must_read_before;
    // A forced op was the only thing its configuration had to try: that one is exhausted too.
    if (frame.forced) continue;
    cursor->position =
        frame.phase == Phase::kRequired ? next_[frame.position] : unknown_next_[frame.position];
    return true;
  }
}

SearchOutcome KeySearch::run() {
  if (required_count_ == 0) return SearchOutcome::kLinearizable;
  Cursor cursor;
  bool entering = true;  // at a configuration not looked at yet
  uint64_t steps = 0;
  for (;;) {
    if (++steps % kStepsPerClockRead == 0) {
      if (deadline_ && Clock::now() >= *deadline_) return SearchOutcome::kTimedOut;
      if (cache_.bytes() > memory_bytes_max_) return SearchOutcome::kOutOfMemory;
    }
    if (entering) {
      entering = false;
      cursor.phase = Phase::kRequired;
      cursor.position = next_[0];
      uint32_t read = forced_read(cursor.state);
      if (read == kNone) continue;
      if (try_push(Frame{read, cursor.state, call_event_[read], Phase::kRequired, cursor.frontier, true,
                         cursor.must_read},
                   cursor.state, false)) {
        if (required_done_ == required_count_) return SearchOutcome::kLinearizable;
        cursor.must_read = false;
        entering = true;
      } else if (!backtrack(&cursor)) {
        return SearchOutcome::kNotLinearizable;  // seen before and failed: so does this configuration
      }
      continue;
    }

    // The next candidate of this configuration: ok ops called before the first pending return, then
    // unknown ops called no later than it.
    uint32_t candidate = kNone;
    if (cursor.phase == Phase::kRequired) {
      SYNOD_ASSERT(cursor.position != 0);  // a pending ok op always has its return event in the list
      const Event& event = events_[cursor.position];
      if (event.is_return) {
        cursor.frontier = event.time;
        cursor.phase = Phase::kUnknown;
        cursor.position = unknown_next_[0];
        continue;
      }
      candidate = event.op;
    } else if (cursor.position != 0 && ops_[unknown_op_[cursor.position]].call <= cursor.frontier) {
      candidate = unknown_op_[cursor.position];
    }

    if (candidate != kNone) {
      const ModelOp& op = ops_[candidate];
      bool blind_write = op.kind == OpKind::kPut || op.kind == OpKind::kDelete;
      std::optional<uint32_t> after;
      if (!(cursor.must_read && blind_write)) after = apply(op, cursor.state);
      bool must_read_after = !op.required;  // every unknown op in the search is a write
      if (after && try_push(Frame{candidate, cursor.state, cursor.position, cursor.phase, cursor.frontier,
                                  false, cursor.must_read},
                            *after, must_read_after)) {
        if (required_done_ == required_count_) return SearchOutcome::kLinearizable;
        cursor.state = *after;
        cursor.must_read = must_read_after;
        entering = true;
        continue;
      }
      cursor.position =
          cursor.phase == Phase::kRequired ? next_[cursor.position] : unknown_next_[cursor.position];
      continue;
    }
    // Every candidate of this configuration failed.
    if (!backtrack(&cursor)) return SearchOutcome::kNotLinearizable;
  }
}

// Keeps the configuration with the most ok ops linearized (then the smallest window) as the explanation.
void KeySearch::note_stuck(uint32_t state) {
  if (stuck_set_ && required_done_ < stuck_.required_done) return;
  std::vector<uint32_t> window;
  uint32_t frontier_op = kNone;
  int64_t frontier = 0;
  for (uint32_t e = next_[0]; e != 0; e = next_[e]) {
    if (events_[e].is_return) {
      frontier_op = events_[e].op;
      frontier = events_[e].time;
      break;
    }
    window.push_back(events_[e].op);
  }
  SYNOD_ASSERT(frontier_op != kNone);
  if (stuck_set_ && required_done_ == stuck_.required_done && window.size() >= stuck_.window.size()) return;
  stuck_set_ = true;
  stuck_.required_done = required_done_;
  stuck_.state = state;
  stuck_.window = std::move(window);
  stuck_.frontier = frontier_op;
  stuck_.partial.clear();
  for (const Frame& frame : stack_) stuck_.partial.push_back(frame.op);
  stuck_.pending_unknown.clear();
  for (uint32_t n = unknown_next_[0]; n != 0 && ops_[unknown_op_[n]].call <= frontier; n = unknown_next_[n]) {
    stuck_.pending_unknown.push_back(unknown_op_[n]);
  }
}

// The ops of one key ready for the search, and the interned values to translate states back.
struct KeyModel {
  std::vector<ModelOp> ops;
  std::vector<std::optional<std::string>> values;  // id -> value; values[0] is absent
};

KeyModel build_key_model(const History& history, const std::vector<size_t>& indexes) {
  KeyModel model;
  model.values.emplace_back(std::nullopt);
  std::unordered_map<std::string, uint32_t> ids;
  auto intern = [&](const std::string& value) {
    auto [it, inserted] = ids.try_emplace(value, static_cast<uint32_t>(model.values.size()));
    if (inserted) model.values.emplace_back(value);
    return it->second;
  };
  for (size_t index : indexes) {
    const Operation& source = history[index];
    // Failed ops took no effect; unknown gets neither changed nor observed anything.
    if (source.status == OpStatus::kFail) continue;
    if (source.status == OpStatus::kUnknown && source.kind == OpKind::kGet) continue;
    ModelOp op;
    op.history_index = index;
    op.kind = source.kind;
    op.required = source.status == OpStatus::kOk;
    op.call = source.call;
    op.ret = op.required ? *source.return_time : kNever;
    if (source.kind == OpKind::kPut || source.kind == OpKind::kCas) op.value = intern(source.value);
    if (source.kind == OpKind::kCas) op.expect = intern(source.expect);
    if (source.kind == OpKind::kGet) op.read = source.read ? intern(*source.read) : kAbsent;
    op.cas_succeeded = source.cas_succeeded;
    model.ops.push_back(op);
  }

  // An unknown write whose value nothing could observe can be left out of every linearization: no get
  // reads its value and no cas expects it, so whatever follows it until the next write is not a get or
  // a successful cas; and if no cas failed in this key's history, nothing else reads the state. Dropping
  // it removes a source of branching without changing the verdict.
  std::unordered_set<uint32_t> observed;
  bool any_failed_cas = false;
  for (const ModelOp& op : model.ops) {
    if (op.kind == OpKind::kGet) observed.insert(op.read);
    if (op.kind == OpKind::kCas && (!op.required || op.cas_succeeded)) observed.insert(op.expect);
    if (op.kind == OpKind::kCas && op.required && !op.cas_succeeded) any_failed_cas = true;
  }
  if (!any_failed_cas) {
    std::erase_if(model.ops, [&](const ModelOp& op) {
      uint32_t written = op.kind == OpKind::kDelete ? kAbsent : op.value;
      return !op.required && op.kind != OpKind::kGet && !observed.contains(written);
    });
  }
  return model;
}

std::string why_not(const ModelOp& op, const Operation& source, const std::optional<std::string>& value) {
  std::string now = value ? "it is " + quote_value(value) : "it is absent";
  switch (op.kind) {
    case OpKind::kGet: return "read " + quote_value(source.read) + ", but " + now;
    case OpKind::kCas:
      if (op.cas_succeeded)
        return "succeeded, so the value was " + quote_value(source.expect) + ", but " + now;
      return "failed its compare, but " + now;
    case OpKind::kPut:
    case OpKind::kDelete: break;
  }
  return "could go here, but no order of the rest works";
}

std::string padded(const std::string& text, size_t width) {
  return text.size() >= width ? text + "  " : text + std::string(width - text.size(), ' ');
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable: return "linearizable";
    case Verdict::kNotLinearizable: return "not linearizable";
    case Verdict::kUndecided: return "undecided";
    case Verdict::kMalformed: return "malformed";
  }
  return "?";
}

CheckResult check_linearizability(const History& history, const CheckOptions& options) {
  Clock::time_point start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (options.timeout) deadline = start + *options.timeout;
  CheckResult result;
  result.stats.operations = history.size();
  auto finish = [&]() -> CheckResult {
    result.stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  };

  std::map<std::string, std::vector<size_t>> by_key;
  for (size_t index = 0; index < history.size(); ++index) {
    const Operation& operation = history[index];
    Status valid = validate_operation(operation);
    if (!valid.is_ok()) {
      result.verdict = Verdict::kMalformed;
      result.message = (operation.line > 0 ? "line " + std::to_string(operation.line)
                                           : "operation " + std::to_string(index)) +
                       ": " + valid.message();
      return finish();
    }
    by_key[operation.key].push_back(index);
  }
  result.stats.keys = by_key.size();

  // Small keys first: they decide quickly, so a bad one is found before a hard one uses up the time.
  std::vector<const std::pair<const std::string, std::vector<size_t>>*> order;
  for (const auto& entry : by_key) order.push_back(&entry);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->second.size() < b->second.size(); });

  for (const auto* entry : order) {
    KeyModel model = build_key_model(history, entry->second);
    KeySearch search(std::move(model.ops), deadline, options.memory_bytes_max);
    SearchOutcome outcome = search.run();
    result.stats.configurations += search.configurations();
    if (outcome == SearchOutcome::kTimedOut || outcome == SearchOutcome::kOutOfMemory) {
      result.verdict = Verdict::kUndecided;
      result.key = entry->first;
      result.message = outcome == SearchOutcome::kTimedOut
                           ? "ran out of time"
                           : "the search outgrew its memory budget (" +
                                 std::to_string(search.configurations()) + " configurations cached)";
      return finish();
    }
    ++result.stats.keys_checked;
    if (outcome == SearchOutcome::kNotLinearizable) {
      const Stuck& stuck = search.stuck();
      Counterexample counterexample;
      counterexample.key = entry->first;
      for (uint32_t op : stuck.partial) counterexample.partial.push_back(search.op(op).history_index);
      counterexample.stuck_value = model.values[stuck.state];
      for (uint32_t op : stuck.window) counterexample.window.push_back(search.op(op).history_index);
      counterexample.frontier = search.op(stuck.frontier).history_index;
      for (uint32_t op : stuck.pending_unknown) {
        counterexample.pending_unknown.push_back(search.op(op).history_index);
      }
      result.verdict = Verdict::kNotLinearizable;
      result.key = entry->first;
      result.counterexample = std::move(counterexample);
      return finish();
    }
  }
  return finish();
}

std::string describe_result(const CheckResult& result, const History& history, size_t partial_lines_max) {
  std::ostringstream out;
  const CheckStats& stats = result.stats;
  switch (result.verdict) {
    case Verdict::kLinearizable:
      out << "linearizable: " << stats.operations << " operations on " << stats.keys
          << (stats.keys == 1 ? " key (" : " keys (") << stats.configurations
          << " configurations searched in " << stats.seconds << " s)\n";
      return out.str();
    case Verdict::kUndecided:
      out << "undecided: " << result.message << " on key " << quote_value(result.key) << " after "
          << stats.seconds << " s; " << stats.keys_checked << " of " << stats.keys
          << " keys were linearizable before it, the rest are unchecked\n";
      return out.str();
    case Verdict::kMalformed: out << "malformed history: " << result.message << '\n'; return out.str();
    case Verdict::kNotLinearizable: break;
  }
  SYNOD_ASSERT(result.counterexample.has_value());
  const Counterexample& example = *result.counterexample;
  // The same model as the search, to show the state after each step of the partial linearization.
  auto value_after = [](const Operation& op, const std::optional<std::string>& before) {
    switch (op.kind) {
      case OpKind::kGet: return before;
      case OpKind::kPut: return std::optional<std::string>(op.value);
      case OpKind::kDelete: return std::optional<std::string>();
      case OpKind::kCas:
        return (before && *before == op.expect && (op.status != OpStatus::kOk || op.cas_succeeded))
                   ? std::optional<std::string>(op.value)
                   : before;
    }
    return before;
  };

  size_t key_ops = 0;
  for (const Operation& op : history) key_ops += op.key == example.key ? 1 : 0;
  out << "not linearizable: key " << quote_value(example.key) << " (" << key_ops << " operations)\n\n";

  const Operation& frontier = history[example.frontier];
  out << "The longest partial linearization found orders " << example.partial.size()
      << " of them and leaves the key " << (example.stuck_value ? quote_value(example.stuck_value) : "absent")
      << ".\n"
      << "None of the operations that could go next (called by " << *frontier.return_time
      << ", when the first pending one returned) is possible then:\n";
  for (size_t index : example.window) {
    const Operation& op = history[index];
    ModelOp model_op;
    model_op.kind = op.kind;
    model_op.cas_succeeded = op.cas_succeeded;
    out << "  " << padded(describe_operation(op), 56) << why_not(model_op, op, example.stuck_value)
        << (index == example.frontier ? "  (returned first)" : "") << '\n';
  }
  if (!example.pending_unknown.empty()) {
    out << "Pending operations of unknown outcome, which could go there but do not help:\n";
    for (size_t index : example.pending_unknown) out << "  " << describe_operation(history[index]) << '\n';
  }

  out << "\nThe partial linearization";
  size_t skip = example.partial.size() > partial_lines_max ? example.partial.size() - partial_lines_max : 0;
  if (skip > 0) out << " (its last " << partial_lines_max << " steps)";
  out << ", with the value after each step:\n";
  std::optional<std::string> value;
  for (size_t step = 0; step < example.partial.size(); ++step) {
    const Operation& op = history[example.partial[step]];
    value = value_after(op, value);
    if (step < skip) continue;
    out << "  " << padded(std::to_string(step + 1) + ".", 6) << padded(describe_operation(op), 56) << "=> "
        << quote_value(value) << '\n';
  }
  if (example.partial.empty()) out << "  (empty: the key starts absent)\n";
  return out.str();
}

}  // namespace synod::check
