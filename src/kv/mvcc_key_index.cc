#include "kv/mvcc_key_index.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

#include "base/assert.h"

namespace synod::kv {
namespace {

// The first record newer than `at`.
template <typename History>
auto first_after(History& history, int64_t at) {
  return std::upper_bound(history.begin(), history.end(), at, [](int64_t revision, const KeyRecord& record) {
    return revision < record.revision.main;
  });
}

// A std::map node holding a key and its history: the node header (parent, children, colour), the key
// string and the vector, as libstdc++ lays them out.
constexpr size_t kKeyOverheadBytes = 32 + sizeof(std::string) + sizeof(std::vector<KeyRecord>);

Status bad_snapshot(const std::string& why) {
  return Status(ErrorCode::kCorruption, why);
}

}  // namespace

KeyRange KeyRange::of(std::string_view key, std::string_view range_end) {
  KeyRange range;
  range.begin = std::string(key);
  if (range_end.empty()) {
    range.kind = Kind::kSingle;
  } else if (range_end == std::string_view("\0", 1)) {
    range.kind = Kind::kFromKey;
  } else {
    range.kind = Kind::kRange;
    range.end = std::string(range_end);
  }
  return range;
}

bool KeyRange::contains(std::string_view key) const {
  switch (kind) {
    case Kind::kSingle: return key == begin;
    case Kind::kFromKey: return key >= begin;
    case Kind::kRange: return key >= begin && key < end;
  }
  return false;
}

const KeyRecord* KeyIndex::get(std::string_view key, int64_t at) const {
  auto found = keys_.find(key);
  if (found == keys_.end()) return nullptr;
  const History& history = found->second;
  auto after = first_after(history, at);
  if (after == history.begin()) return nullptr;
  const KeyRecord& record = *std::prev(after);
  return record.tombstone() ? nullptr : &record;
}

std::span<const KeyRecord> KeyIndex::history(std::string_view key) const {
  auto found = keys_.find(key);
  if (found == keys_.end()) return {};
  return found->second;
}

std::vector<KeyView> KeyIndex::range(const KeyRange& range, int64_t at) const {
  std::vector<KeyView> out;
  if (range.kind == KeyRange::Kind::kSingle) {
    auto found = keys_.find(range.begin);
    if (found == keys_.end()) return out;
    if (const KeyRecord* record = get(range.begin, at)) out.push_back({&found->first, record});
    return out;
  }
  for (auto it = keys_.lower_bound(range.begin); it != keys_.end() && range.contains(it->first); ++it) {
    auto after = first_after(it->second, at);
    if (after == it->second.begin()) continue;
    const KeyRecord& record = *std::prev(after);
    if (!record.tombstone()) out.push_back({&it->first, &record});
  }
  return out;
}

const KeyRecord& KeyIndex::put(std::string_view key, Revision revision, std::string value, int64_t lease) {
  auto found = keys_.find(key);
  if (found == keys_.end()) {
    found = keys_.emplace(std::string(key), History{}).first;
    payload_bytes_ += key.size();
  }
  History& history = found->second;
  SYNOD_ASSERT_MSG(history.empty() || history.back().revision < revision,
                   "a key's records only move forward");
  KeyRecord record{revision, revision.main, 1, lease, std::move(value)};
  if (!history.empty() && !history.back().tombstone()) {
    record.create_revision = history.back().create_revision;
    record.version = history.back().version + 1;
  }
  payload_bytes_ += record.value.size();
  ++record_count_;
  history.push_back(std::move(record));
  return history.back();
}

bool KeyIndex::remove(std::string_view key, Revision revision) {
  auto found = keys_.find(key);
  if (found == keys_.end()) return false;
  History& history = found->second;
  SYNOD_ASSERT(!history.empty());
  if (history.back().tombstone()) return false;
  SYNOD_ASSERT_MSG(history.back().revision < revision, "a key's records only move forward");
  history.push_back(KeyRecord{revision, 0, 0, 0, {}});
  ++record_count_;
  return true;
}

void KeyIndex::undo(std::string_view key, int64_t main) {
  auto found = keys_.find(key);
  if (found == keys_.end()) return;
  History& history = found->second;
  while (!history.empty() && history.back().revision.main == main) {
    payload_bytes_ -= history.back().value.size();
    --record_count_;
    history.pop_back();
  }
  if (history.empty()) {
    payload_bytes_ -= found->first.size();
    keys_.erase(found);
  }
}

void KeyIndex::compact(int64_t at) {
  for (auto it = keys_.begin(); it != keys_.end();) {
    History& history = it->second;
    auto after = first_after(history, at);
    if (after == history.begin()) {
      ++it;
      continue;
    }
    // The newest record at or before `at` is what reads at `at` see: it stays, unless it is a
    // tombstone (reads see nothing either way).
    auto keep = std::prev(after);
    if (keep->tombstone()) keep = after;
    for (auto dropped = history.begin(); dropped != keep; ++dropped) payload_bytes_ -= dropped->value.size();
    record_count_ -= static_cast<size_t>(keep - history.begin());
    history.erase(history.begin(), keep);
    if (history.empty()) {
      payload_bytes_ -= it->first.size();
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t KeyIndex::approximate_bytes() const {
  return payload_bytes_ + record_count_ * sizeof(KeyRecord) + keys_.size() * kKeyOverheadBytes;
}

void KeyIndex::encode(ByteWriter& out) const {
  encode_key_count(out);
  EncodeCursor cursor;
  encode_slice(out, std::numeric_limits<int64_t>::max(), cursor, std::numeric_limits<size_t>::max());
  SYNOD_ASSERT(cursor.done);
}

void KeyIndex::encode_slice(ByteWriter& out, int64_t upto, EncodeCursor& cursor, size_t budget) const {
  SYNOD_ASSERT(!cursor.done);
  // By key, not by iterator: later writes insert keys, and a position by key survives them.
  auto it = cursor.started ? keys_.upper_bound(cursor.last_key) : keys_.begin();
  size_t start = out.size();
  for (; it != keys_.end(); ++it) {
    const History& history = it->second;
    auto end = std::partition_point(history.begin(), history.end(),
                                    [upto](const KeyRecord& record) { return record.revision.main <= upto; });
    if (end == history.begin()) continue;  // created after `upto`
    out.put_string(it->first);
    out.put_varint(static_cast<uint64_t>(end - history.begin()));
    for (auto record = history.begin(); record != end; ++record) {
      out.put_varint(static_cast<uint64_t>(record->revision.main));
      out.put_varint(static_cast<uint64_t>(record->revision.sub));
      out.put_varint(static_cast<uint64_t>(record->create_revision));
      out.put_varint(static_cast<uint64_t>(record->version));
      out.put_varint(static_cast<uint64_t>(record->lease));
      out.put_string(record->value);
    }
    if (out.size() - start >= budget) {
      cursor.last_key = it->first;
      cursor.started = true;
      if (std::next(it) == keys_.end()) cursor.done = true;
      return;
    }
  }
  cursor.done = true;
}

Status KeyIndex::decode(ByteReader& in, int64_t max_revision) {
  SYNOD_ASSERT(keys_.empty());
  SYNOD_TRY_ASSIGN(uint64_t key_count, in.varint());
  for (uint64_t k = 0; k < key_count; ++k) {
    SYNOD_TRY_ASSIGN(std::string_view key, in.string());
    if (key.empty()) return bad_snapshot("an empty key");
    if (!keys_.empty() && !(keys_.rbegin()->first < key)) return bad_snapshot("keys out of order");
    SYNOD_TRY_ASSIGN(uint64_t record_count, in.varint());
    // Every record takes at least 7 bytes, so a count beyond what is left is a lie (and no reason to
    // reserve memory for it).
    if (record_count == 0 || record_count > in.rest().size()) return bad_snapshot("a bad record count");
    History history;
    for (uint64_t r = 0; r < record_count; ++r) {
      KeyRecord record;
      SYNOD_TRY_ASSIGN(uint64_t main, in.varint());
      SYNOD_TRY_ASSIGN(uint64_t sub, in.varint());
      SYNOD_TRY_ASSIGN(uint64_t create, in.varint());
      SYNOD_TRY_ASSIGN(uint64_t version, in.varint());
      SYNOD_TRY_ASSIGN(uint64_t lease, in.varint());
      SYNOD_TRY_ASSIGN(std::string_view value, in.string());
      record.revision = {static_cast<int64_t>(main), static_cast<int64_t>(sub)};
      record.create_revision = static_cast<int64_t>(create);
      record.version = static_cast<int64_t>(version);
      record.lease = static_cast<int64_t>(lease);
      record.value = std::string(value);

      if (record.revision.main < 1 || record.revision.main > max_revision || record.revision.sub < 0) {
        return bad_snapshot("a revision out of range in the history of a key");
      }
      if (!history.empty() && !(history.back().revision < record.revision)) {
        return bad_snapshot("records out of order in the history of a key");
      }
      const KeyRecord* previous = history.empty() ? nullptr : &history.back();
      if (record.tombstone()) {
        if (previous == nullptr || previous->tombstone())
          return bad_snapshot("a misplaced tombstone in the history of a key");
        if (record.create_revision != 0 || record.lease != 0 || !record.value.empty()) {
          return bad_snapshot("a tombstone with contents in the history of a key");
        }
      } else {
        bool consistent = record.version >= 1 && record.create_revision >= 1 &&
                          record.create_revision <= record.revision.main;
        if (previous == nullptr) {
          // Compaction may have dropped the key's earlier versions: any version will do.
        } else if (previous->tombstone()) {
          consistent = consistent && record.version == 1 && record.create_revision == record.revision.main;
        } else {
          consistent = consistent && record.version - 1 == previous->version &&
                       record.create_revision == previous->create_revision;
        }
        if (!consistent) return bad_snapshot("a bad version or create revision in the history of a key");
      }
      payload_bytes_ += record.value.size();
      history.push_back(std::move(record));
    }
    record_count_ += history.size();
    payload_bytes_ += key.size();
    keys_.emplace_hint(keys_.end(), std::string(key), std::move(history));
  }
  return Status::ok();
}

}  // namespace synod::kv
