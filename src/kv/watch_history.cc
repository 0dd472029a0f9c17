#include "kv/watch_history.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::kv {
namespace {

void fill(mvccpb::KeyValue& out, const std::string& key, const KeyRecord& record) {
  out.set_key(key);
  out.set_create_revision(record.create_revision);
  out.set_mod_revision(record.revision.main);
  out.set_version(record.version);
  out.set_value(record.value);
  out.set_lease(record.lease);
}

// The event a record makes; `records` is its key's history and `at` its position there.
mvccpb::Event make_event(const std::string& key, std::span<const KeyRecord> records, size_t at) {
  const KeyRecord& record = records[at];
  mvccpb::Event event;
  if (record.tombstone()) {
    event.set_type(mvccpb::Event::DELETE);
    event.mutable_kv()->set_key(key);
    event.mutable_kv()->set_mod_revision(record.revision.main);
  } else {
    event.set_type(mvccpb::Event::PUT);
    fill(*event.mutable_kv(), key, record);
  }
  if (at > 0 && !records[at - 1].tombstone()) fill(*event.mutable_prev_kv(), key, records[at - 1]);
  return event;
}

}  // namespace

EventBatch write_events(const KeyIndex& index, int64_t revision, const std::vector<std::string>& keys) {
  EventBatch batch;
  batch.revision = revision;
  batch.events.reserve(keys.size());
  for (size_t sub = 0; sub < keys.size(); ++sub) {
    std::span<const KeyRecord> records = index.history(keys[sub]);
    Revision wanted{revision, static_cast<int64_t>(sub)};
    auto found = std::lower_bound(records.begin(), records.end(), wanted,
                                  [](const KeyRecord& record, Revision r) { return record.revision < r; });
    SYNOD_ASSERT_MSG(found != records.end() && found->revision == wanted,
                     "a completed write has its records");
    batch.events.push_back(make_event(keys[sub], records, static_cast<size_t>(found - records.begin())));
  }
  return batch;
}

std::vector<EventBatch> history_events(const KeyIndex& index, const KeyRange& range, int64_t after,
                                       int64_t upto) {
  struct Found {
    Revision revision;
    const std::string* key;
    std::span<const KeyRecord> records;
    size_t at;
  };
  std::vector<Found> found;
  if (upto <= after) return {};
  index.for_each_history(range, [&](const std::string& key, std::span<const KeyRecord> records) {
    auto first =
        std::upper_bound(records.begin(), records.end(), after,
                         [](int64_t r, const KeyRecord& record) { return r < record.revision.main; });
    for (auto it = first; it != records.end() && it->revision.main <= upto; ++it) {
      found.push_back({it->revision, &key, records, static_cast<size_t>(it - records.begin())});
    }
  });
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.revision < b.revision; });

  std::vector<EventBatch> batches;
  for (const Found& f : found) {
    if (batches.empty() || batches.back().revision != f.revision.main) {
      batches.push_back(EventBatch{f.revision.main, {}});
    }
    batches.back().events.push_back(make_event(*f.key, f.records, f.at));
  }
  return batches;
}

}  // namespace synod::kv
