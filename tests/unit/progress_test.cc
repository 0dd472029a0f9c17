// Progress and Inflights (src/consensus/progress.h): the leader's flow control towards one follower.
#include "consensus/progress.h"

#include <gtest/gtest.h>

namespace synod {
namespace {

// ---------------------------------------------------------------------------------------------------
// Inflights

TEST(Inflights, fullByMessageCount) {
  Inflights inflights(3, 1000);
  inflights.add(1, 10);
  inflights.add(2, 10);
  EXPECT_FALSE(inflights.full());
  inflights.add(5, 10);
  EXPECT_TRUE(inflights.full());
  EXPECT_EQ(inflights.count(), 3U);
  EXPECT_EQ(inflights.bytes(), 30U);
}

TEST(Inflights, fullByBytes) {
  Inflights inflights(100, 50);
  inflights.add(1, 20);
  inflights.add(2, 20);
  EXPECT_FALSE(inflights.full());
  inflights.add(3, 10);  // exactly the cap
  EXPECT_TRUE(inflights.full());
}

TEST(Inflights, freeUpToReleasesAcknowledgedMessagesOnly) {
  Inflights inflights(3, 1000);
  inflights.add(2, 10);
  inflights.add(4, 20);
  inflights.add(6, 30);
  ASSERT_TRUE(inflights.full());
  inflights.free_up_to(1);  // acknowledges no whole message
  EXPECT_EQ(inflights.count(), 3U);
  inflights.free_up_to(5);  // messages ending at 2 and 4
  EXPECT_EQ(inflights.count(), 1U);
  EXPECT_EQ(inflights.bytes(), 30U);
  EXPECT_FALSE(inflights.full());
  inflights.free_up_to(100);
  EXPECT_EQ(inflights.count(), 0U);
  EXPECT_EQ(inflights.bytes(), 0U);
}

TEST(Inflights, freeFirstAndResetEmptyTheWindow) {
  Inflights inflights(2, 1000);
  inflights.add(1, 10);
  inflights.add(2, 15);
  inflights.free_first();
  EXPECT_EQ(inflights.count(), 1U);
  EXPECT_EQ(inflights.bytes(), 15U);
  inflights.reset();
  EXPECT_EQ(inflights.count(), 0U);
  EXPECT_EQ(inflights.bytes(), 0U);
  inflights.free_first();  // harmless on an empty window
  EXPECT_EQ(inflights.count(), 0U);
}

// ---------------------------------------------------------------------------------------------------
// Progress

TEST(Progress, probePausesAfterOneSendAndResumes) {
  Progress progress(5, 8, 1000);
  ASSERT_EQ(progress.state(), ProgressState::kProbe);
  EXPECT_FALSE(progress.paused());
  progress.sent_entries(7, 100);  // an Append with entries, in probe: one at a time
  EXPECT_TRUE(progress.paused());
  EXPECT_EQ(progress.next(), 5U);  // probing does not advance next optimistically
  progress.resume_probe();         // a heartbeat answer
  EXPECT_FALSE(progress.paused());
  progress.sent_probe();  // an empty Append
  EXPECT_TRUE(progress.paused());
  EXPECT_TRUE(progress.maybe_update(4));  // the answer
  EXPECT_FALSE(progress.paused());
}

TEST(Progress, probeResumesAfterARejection) {
  Progress progress(5, 8, 1000);
  progress.sent_probe();
  ASSERT_TRUE(progress.paused());
  EXPECT_TRUE(progress.maybe_decrease(4, 3));
  EXPECT_EQ(progress.next(), 3U);
  EXPECT_FALSE(progress.paused());
}

TEST(Progress, replicateAdvancesNextOnSend) {
  Progress progress(5, 8, 1000);
  progress.maybe_update(4);
  progress.become_replicate();
  EXPECT_EQ(progress.next(), 5U);
  progress.sent_entries(7, 100);
  progress.sent_entries(9, 100);
  EXPECT_EQ(progress.next(), 10U);
  EXPECT_EQ(progress.inflights().count(), 2U);
  EXPECT_FALSE(progress.paused());
  EXPECT_TRUE(progress.maybe_update(7));
  EXPECT_EQ(progress.match(), 7U);
  EXPECT_EQ(progress.next(), 10U);
}

TEST(Progress, replicatePausesWhenWindowIsFullByCount) {
  Progress progress(1, 2, 1000000);
  progress.become_replicate();
  progress.sent_entries(1, 10);
  EXPECT_FALSE(progress.paused());
  progress.sent_entries(2, 10);
  EXPECT_TRUE(progress.paused());
  progress.inflights().free_up_to(1);
  EXPECT_FALSE(progress.paused());
}

TEST(Progress, replicatePausesWhenWindowIsFullByBytes) {
  Progress progress(1, 100, 250);
  progress.become_replicate();
  progress.sent_entries(1, 200);
  EXPECT_FALSE(progress.paused());
  progress.sent_entries(2, 50);
  EXPECT_TRUE(progress.paused());
}

TEST(Progress, maybeUpdateIgnoresOldAcknowledgements) {
  Progress progress(1, 8, 1000);
  EXPECT_TRUE(progress.maybe_update(5));
  EXPECT_FALSE(progress.maybe_update(3));
  EXPECT_FALSE(progress.maybe_update(5));
  EXPECT_EQ(progress.match(), 5U);
  EXPECT_EQ(progress.next(), 6U);
}

TEST(Progress, maybeDecreaseIgnoresStaleRejectionInReplicate) {
  Progress progress(1, 8, 1000);
  progress.maybe_update(5);
  progress.become_replicate();
  progress.sent_entries(8, 10);
  // A rejection at or below match answers an Append from before the follower caught up.
  EXPECT_FALSE(progress.maybe_decrease(5, 1));
  EXPECT_FALSE(progress.maybe_decrease(3, 1));
  EXPECT_EQ(progress.next(), 9U);
  // A rejection above match is real: restart right after match.
  EXPECT_TRUE(progress.maybe_decrease(7, 2));
  EXPECT_EQ(progress.next(), 6U);
}

TEST(Progress, maybeDecreaseIgnoresStaleRejectionInProbe) {
  Progress progress(10, 8, 1000);
  progress.maybe_update(3);
  progress.sent_probe();
  // Only a rejection of the Append at next - 1 = 9 counts.
  EXPECT_FALSE(progress.maybe_decrease(7, 4));
  EXPECT_FALSE(progress.maybe_decrease(12, 4));
  EXPECT_EQ(progress.next(), 10U);
  EXPECT_TRUE(progress.paused());
  EXPECT_TRUE(progress.maybe_decrease(9, 6));
  EXPECT_EQ(progress.next(), 6U);
}

TEST(Progress, maybeDecreaseNeverGoesBelowMatchNorAboveTheRejectedIndex) {
  Progress progress(10, 8, 1000);
  progress.maybe_update(3);
  progress.maybe_decrease(9, 1);  // a hint below match
  EXPECT_EQ(progress.next(), 4U);
  Progress other(10, 8, 1000);
  other.maybe_decrease(9, 50);  // a hint past the rejected index
  EXPECT_EQ(other.next(), 9U);
}

TEST(Progress, snapshotPausesUntilProbeResumesAfterTheSnapshot) {
  Progress progress(3, 8, 1000);
  progress.maybe_update(2);
  progress.become_snapshot(20);
  EXPECT_EQ(progress.state(), ProgressState::kSnapshot);
  EXPECT_EQ(progress.pending_snapshot(), 20U);
  EXPECT_TRUE(progress.paused());
  progress.tick_snapshot();
  EXPECT_EQ(progress.snapshot_ticks(), 1);
  // Once the snapshot is in (or given up on), the follower holds at least the snapshot.
  progress.become_probe();
  EXPECT_EQ(progress.state(), ProgressState::kProbe);
  EXPECT_EQ(progress.next(), 21U);
  EXPECT_EQ(progress.pending_snapshot(), 0U);
  EXPECT_FALSE(progress.paused());
}

TEST(Progress, becomeReplicateRestartsAfterMatchWithAnEmptyWindow) {
  Progress progress(1, 2, 1000);
  progress.maybe_update(4);
  progress.become_replicate();
  progress.sent_entries(6, 10);
  progress.sent_entries(8, 10);
  ASSERT_TRUE(progress.paused());
  progress.become_probe();
  EXPECT_EQ(progress.next(), 5U);
  EXPECT_EQ(progress.inflights().count(), 0U);
  progress.become_replicate();
  EXPECT_EQ(progress.next(), 5U);
  EXPECT_FALSE(progress.paused());
}

}  // namespace
}  // namespace synod
