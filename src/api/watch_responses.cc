#include "api/watch_responses.h"

#include <utility>

namespace synod::api {
namespace {

// What an event adds to a response: its bytes plus the field's tag and length (at most 6 bytes).
size_t encoded_size(const mvccpb::Event& event) {
  return event.ByteSizeLong() + 6;
}

}  // namespace

std::vector<etcdserverpb::WatchResponse> event_responses(int64_t watch_id,
                                                         const etcdserverpb::ResponseHeader& header,
                                                         std::vector<kv::EventBatch> batches, size_t limit,
                                                         bool fragment) {
  std::vector<etcdserverpb::WatchResponse> out;
  etcdserverpb::WatchResponse current;
  size_t current_bytes = 0;
  auto start = [&] {
    current = etcdserverpb::WatchResponse();
    *current.mutable_header() = header;
    current.set_watch_id(watch_id);
    current_bytes = current.ByteSizeLong();
  };
  auto flush = [&] {
    if (current.events_size() > 0) out.push_back(std::move(current));
    start();
  };
  start();
  const size_t base_bytes = current_bytes;  // the header and watch id every response carries
  for (kv::EventBatch& batch : batches) {
    size_t bytes = 0;
    for (const mvccpb::Event& event : batch.events) bytes += encoded_size(event);
    if (fragment && base_bytes + bytes > limit) {
      // Too large even alone: parts of at most `limit`, all marked but the last.
      flush();
      for (mvccpb::Event& event : batch.events) {
        size_t size = encoded_size(event);
        if (current.events_size() > 0 && current_bytes + size > limit) {
          current.set_fragment(true);
          flush();
        }
        *current.add_events() = std::move(event);
        current_bytes += size;
      }
      flush();
      continue;
    }
    if (current.events_size() > 0 && current_bytes + bytes > limit) flush();
    for (mvccpb::Event& event : batch.events) *current.add_events() = std::move(event);
    current_bytes += bytes;
  }
  flush();
  return out;
}

}  // namespace synod::api
