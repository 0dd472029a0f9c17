// How one watcher's events are cut into WatchResponses (api/watch_responses.h): revisions packed while
// they fit, never split unless the watcher asked for fragments, fragments within the limit.
#include "api/watch_responses.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace synod::api {
namespace {

kv::EventBatch batch(int64_t revision, int events, size_t value_bytes) {
  kv::EventBatch out{revision, {}};
  for (int i = 0; i < events; ++i) {
    mvccpb::Event event;
    event.mutable_kv()->set_key("key" + std::to_string(i));
    event.mutable_kv()->set_value(std::string(value_bytes, 'v'));
    event.mutable_kv()->set_mod_revision(revision);
    out.events.push_back(std::move(event));
  }
  return out;
}

etcdserverpb::ResponseHeader header() {
  etcdserverpb::ResponseHeader out;
  out.set_revision(99);
  out.set_member_id(1);
  return out;
}

// The revisions of each response's events, e.g. {{2, 2}, {3}}.
std::vector<std::vector<int64_t>> shape(const std::vector<etcdserverpb::WatchResponse>& responses) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& response : responses) {
    out.emplace_back();
    for (const auto& event : response.events()) out.back().push_back(event.kv().mod_revision());
  }
  return out;
}

TEST(WatchResponsesTest, smallRevisionsShareOneResponse) {
  auto responses = event_responses(5, header(), {batch(2, 2, 10), batch(3, 1, 10)}, 1024, false);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(shape(responses), (std::vector<std::vector<int64_t>>{{2, 2, 3}}));
  EXPECT_EQ(responses[0].watch_id(), 5);
  EXPECT_EQ(responses[0].header().revision(), 99);
  EXPECT_FALSE(responses[0].fragment());
}

TEST(WatchResponsesTest, revisionsThatDoNotFitStartANewResponseButAreNeverSplit) {
  auto responses =
      event_responses(1, header(), {batch(2, 3, 200), batch(3, 3, 200), batch(4, 1, 10)}, 1000, false);
  EXPECT_EQ(shape(responses), (std::vector<std::vector<int64_t>>{{2, 2, 2}, {3, 3, 3, 4}}));
  // A revision larger than the limit goes out whole when fragments were not asked for.
  responses = event_responses(1, header(), {batch(2, 10, 200)}, 1000, false);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].events_size(), 10);
}

TEST(WatchResponsesTest, aLargeRevisionIsFragmentedWithinTheLimit) {
  auto responses =
      event_responses(1, header(), {batch(2, 1, 10), batch(3, 10, 200), batch(4, 1, 10)}, 1000, true);
  ASSERT_GE(responses.size(), 4u);
  EXPECT_EQ(shape(responses).front(), (std::vector<int64_t>{2}));
  EXPECT_FALSE(responses.front().fragment());
  int fragmented_events = 0;
  for (size_t i = 1; i + 1 < responses.size(); ++i) {
    EXPECT_LE(responses[i].ByteSizeLong(), 1000u);
    fragmented_events += responses[i].events_size();
    // Every part of revision 3 but its last says more follows.
    EXPECT_EQ(responses[i].fragment(), fragmented_events < 10) << i;
  }
  EXPECT_EQ(fragmented_events, 10);
  EXPECT_EQ(shape(responses).back(), (std::vector<int64_t>{4}));
  EXPECT_FALSE(responses.back().fragment());
}

}  // namespace
}  // namespace synod::api
