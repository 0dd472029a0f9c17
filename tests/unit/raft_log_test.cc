// RaftLog (src/raft/log.h): restoring durable state, the term of an index, the election restriction's
// comparison, the follower side of AppendEntries, slicing for Appends, the fast-backtracking helpers,
// compaction and durability tracking.
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "raft/log.h"
#include "raft_test_util.h"

namespace synod::raft {
namespace {

using test::durable_log;
using test::indexes_of;
using test::make_entries;
using test::make_snapshot;

// A log holding entries 1..terms.size() with those terms, all durable, committed up to `commit`.
RaftLog log_with_terms(const std::vector<Term>& terms, Index commit = 0) {
  Term term = terms.empty() ? 0 : terms.back();
  std::optional<RaftLog> log = RaftLog::restore(durable_log(terms, term, commit));
  SYNOD_ASSERT(log.has_value());
  return *log;
}

std::vector<Term> terms_of(const RaftLog& log) {
  std::vector<Term> out;
  for (Index index = log.first_index(); index <= log.last_index(); ++index) out.push_back(*log.term(index));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// restore

TEST(RaftLog, restoreOfNothingIsAnEmptyLog) {
  std::optional<RaftLog> log = RaftLog::restore({});
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->first_index(), 1U);
  EXPECT_EQ(log->last_index(), 0U);
  EXPECT_EQ(log->last_term(), 0U);
  EXPECT_EQ(log->committed(), 0U);
  EXPECT_EQ(log->term(0), 0U);
}

TEST(RaftLog, restoreKeepsEntriesCommitAndMarksThemStable) {
  std::optional<RaftLog> log = RaftLog::restore(durable_log({1, 1, 2}, 3, 2));
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->last_index(), 3U);
  EXPECT_EQ(log->last_term(), 2U);
  EXPECT_EQ(log->committed(), 2U);
  EXPECT_EQ(log->stable(), 3U);
  EXPECT_TRUE(log->unstable_entries().empty());
  EXPECT_EQ(log->applied(), 0U);  // the state machine is rebuilt by applying again
  EXPECT_EQ(indexes_of(log->next_committed()), (std::vector<Index>{1, 2}));
}

TEST(RaftLog, restoreRejectsNonContiguousEntries) {
  DurableState durable = durable_log({1, 1, 1}, 1);
  durable.entries[2].index = 4;
  EXPECT_FALSE(RaftLog::restore(durable).has_value());
}

TEST(RaftLog, restoreRejectsEntriesNotStartingAfterTheSnapshot) {
  DurableState durable = durable_log({}, 2);
  durable.snapshot = make_snapshot(5, 2, {1, 2, 3});
  durable.entries = make_entries(7, {2, 2});  // 6 is missing
  EXPECT_FALSE(RaftLog::restore(durable).has_value());
  durable.entries = make_entries(5, {2, 2});  // 5 is inside the snapshot
  EXPECT_FALSE(RaftLog::restore(durable).has_value());
  durable.entries = make_entries(6, {2, 2});
  EXPECT_TRUE(RaftLog::restore(durable).has_value());
}

TEST(RaftLog, restoreRejectsDecreasingTerms) {
  EXPECT_FALSE(RaftLog::restore(durable_log({1, 3, 2}, 3)).has_value());
  // An entry older than the snapshot's last term is out of order too.
  DurableState durable = durable_log({}, 4);
  durable.snapshot = make_snapshot(5, 3, {1, 2, 3});
  durable.entries = make_entries(6, {2});
  EXPECT_FALSE(RaftLog::restore(durable).has_value());
}

TEST(RaftLog, restoreRejectsCommitPastLastIndex) {
  EXPECT_FALSE(RaftLog::restore(durable_log({1, 1}, 1, 3)).has_value());
  EXPECT_TRUE(RaftLog::restore(durable_log({1, 1}, 1, 2)).has_value());
}

TEST(RaftLog, restoreRejectsEntriesFromATermAfterTheHardState) {
  EXPECT_FALSE(RaftLog::restore(durable_log({1, 2}, 1)).has_value());
}

TEST(RaftLog, restoreFromSnapshotStartsAfterIt) {
  DurableState durable = durable_log({}, 3, 0);
  durable.snapshot = make_snapshot(10, 2, {1, 2, 3});
  durable.entries = make_entries(11, {2, 3});
  std::optional<RaftLog> log = RaftLog::restore(durable);
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->snapshot_index(), 10U);
  EXPECT_EQ(log->first_index(), 11U);
  EXPECT_EQ(log->last_index(), 12U);
  EXPECT_EQ(log->committed(), 10U);  // the snapshot is committed even if the hard state lags
  EXPECT_EQ(log->applied(), 10U);
  EXPECT_TRUE(log->next_committed().empty());
}

// ---------------------------------------------------------------------------------------------------
// term, is_up_to_date

TEST(RaftLog, termIsKnownForSnapshotIndexAndHeldEntriesOnly) {
  DurableState durable = durable_log({}, 3);
  durable.snapshot = make_snapshot(4, 2, {1});
  durable.entries = make_entries(5, {2, 3});
  RaftLog log = *RaftLog::restore(durable);
  EXPECT_EQ(log.term(3), std::nullopt);  // compacted
  EXPECT_EQ(log.term(4), 2U);            // the snapshot's last entry
  EXPECT_EQ(log.term(5), 2U);
  EXPECT_EQ(log.term(6), 3U);
  EXPECT_EQ(log.term(7), std::nullopt);  // past the end
  EXPECT_EQ(log.entry(4), nullptr);      // the snapshot's entry itself is gone
  ASSERT_NE(log.entry(6), nullptr);
  EXPECT_EQ(log.entry(6)->term, 3U);
  EXPECT_TRUE(log.match_term(4, 2));
  EXPECT_FALSE(log.match_term(6, 2));
}

// Paper 5.4.1: the log with the later last term is more up to date; with equal last terms, the longer.
TEST(RaftLog, isUpToDateComparesLastTermThenLength) {
  RaftLog log = log_with_terms({1, 2, 2});
  EXPECT_TRUE(log.is_up_to_date(1, 3));   // later last term, shorter log
  EXPECT_TRUE(log.is_up_to_date(3, 2));   // same last term, same length
  EXPECT_TRUE(log.is_up_to_date(4, 2));   // same last term, longer
  EXPECT_FALSE(log.is_up_to_date(2, 2));  // same last term, shorter
  EXPECT_FALSE(log.is_up_to_date(9, 1));  // earlier last term, however long
  EXPECT_TRUE(RaftLog().is_up_to_date(0, 0));
}

// ---------------------------------------------------------------------------------------------------
// maybe_append (paper 5.3, AppendEntries receiver steps 2-4)

TEST(RaftLog, maybeAppendRefusesMismatchedPreviousEntry) {
  RaftLog log = log_with_terms({1, 2, 2});
  bool overwrite = true;
  EXPECT_EQ(log.maybe_append(3, 3, make_entries(4, {3}), &overwrite), std::nullopt);  // wrong term
  EXPECT_FALSE(overwrite);
  EXPECT_EQ(log.maybe_append(4, 2, make_entries(5, {3}), &overwrite), std::nullopt);  // past the end
  EXPECT_EQ(terms_of(log), (std::vector<Term>{1, 2, 2}));
}

TEST(RaftLog, maybeAppendAppendsAfterAMatchingEntry) {
  RaftLog log = log_with_terms({1, 2});
  bool overwrite = false;
  EXPECT_EQ(log.maybe_append(2, 2, make_entries(3, {2, 3}), &overwrite), 4U);
  EXPECT_EQ(terms_of(log), (std::vector<Term>{1, 2, 2, 3}));
  EXPECT_EQ(indexes_of(log.unstable_entries()), (std::vector<Index>{3, 4}));
}

TEST(RaftLog, maybeAppendReturnsLastIndexTheMessageCoveredNotTheLogEnd) {
  RaftLog log = log_with_terms({1, 1, 1, 1});
  bool overwrite = false;
  // A heartbeat-like Append matching at 2 covers only up to 2: the follower must not claim 3 and 4.
  EXPECT_EQ(log.maybe_append(2, 1, {}, &overwrite), 2U);
  EXPECT_EQ(log.last_index(), 4U);
}

TEST(RaftLog, maybeAppendTruncatesConflictingSuffix) {
  RaftLog log = log_with_terms({1, 1, 2, 2, 2});
  bool overwrite = false;
  // The leader's entry 4 has term 3: 4 and 5 go, the leader's entries take their place.
  EXPECT_EQ(log.maybe_append(2, 1, make_entries(3, {2, 3}), &overwrite), 4U);
  EXPECT_FALSE(overwrite);
  EXPECT_EQ(terms_of(log), (std::vector<Term>{1, 1, 2, 3}));
  EXPECT_EQ(log.entry(4)->data, "e4");
}

TEST(RaftLog, maybeAppendRefusesToOverwriteCommittedEntries) {
  RaftLog log = log_with_terms({1, 1, 2}, 3);
  bool overwrite = false;
  EXPECT_EQ(log.maybe_append(1, 1, make_entries(2, {3, 3}), &overwrite), std::nullopt);
  EXPECT_TRUE(overwrite);
  EXPECT_EQ(terms_of(log), (std::vector<Term>{1, 1, 2}));
  EXPECT_EQ(log.committed(), 3U);
}

TEST(RaftLog, maybeAppendIsIdempotent) {
  RaftLog log = log_with_terms({1});
  bool overwrite = false;
  std::vector<Entry> entries = make_entries(2, {1, 2, 2});
  EXPECT_EQ(log.maybe_append(1, 1, entries, &overwrite), 4U);
  log.stable_to(4, 2);
  // A duplicate and a stale prefix of it change nothing (no truncation, nothing unstable).
  EXPECT_EQ(log.maybe_append(1, 1, entries, &overwrite), 4U);
  EXPECT_EQ(log.maybe_append(1, 1, make_entries(2, {1}), &overwrite), 2U);
  EXPECT_EQ(terms_of(log), (std::vector<Term>{1, 1, 2, 2}));
  EXPECT_EQ(log.stable(), 4U);
  EXPECT_TRUE(log.unstable_entries().empty());
}

TEST(RaftLog, maybeAppendPullsStableIndexBackOnTruncation) {
  RaftLog log = log_with_terms({1, 1, 1, 1});
  ASSERT_EQ(log.stable(), 4U);
  bool overwrite = false;
  EXPECT_EQ(log.maybe_append(2, 1, make_entries(3, {2}), &overwrite), 3U);
  // Entry 3 was replaced: it must be persisted again (and the stored 4 dropped by the caller).
  EXPECT_EQ(log.stable(), 2U);
  EXPECT_EQ(indexes_of(log.unstable_entries()), (std::vector<Index>{3}));
  EXPECT_EQ(log.last_index(), 3U);
}

TEST(RaftLog, maybeAppendSkipsEntriesCoveredByTheSnapshot) {
  DurableState durable = durable_log({}, 2);
  durable.snapshot = make_snapshot(3, 1, {1});
  durable.entries = make_entries(4, {2});
  RaftLog log = *RaftLog::restore(durable);
  bool overwrite = false;
  EXPECT_EQ(log.maybe_append(3, 1, make_entries(4, {2, 2}), &overwrite), 5U);
  EXPECT_EQ(terms_of(log), (std::vector<Term>{2, 2}));
}

// ---------------------------------------------------------------------------------------------------
// slice

TEST(RaftLog, sliceCapsBytesButReturnsAtLeastOneEntry) {
  RaftLog log = log_with_terms({1, 1, 1, 1});
  size_t one = log.entry(1)->size_bytes();
  EXPECT_EQ(indexes_of(*log.slice(1, 5, 1)), (std::vector<Index>{1}));  // a cap below one entry
  EXPECT_EQ(indexes_of(*log.slice(1, 5, one)), (std::vector<Index>{1}));
  EXPECT_EQ(indexes_of(*log.slice(1, 5, 2 * one + 1)), (std::vector<Index>{1, 2}));
  EXPECT_EQ(indexes_of(*log.slice(2, 5, 100 * one)), (std::vector<Index>{2, 3, 4}));
  EXPECT_TRUE(log.slice(5, 5, 1)->empty());
}

TEST(RaftLog, sliceRefusesCompactedOrMissingRanges) {
  RaftLog log = log_with_terms({1, 1, 1, 1}, 4);
  log.applying_to(4);
  log.applied_to(4);
  log.compact(2);
  EXPECT_EQ(log.slice(2, 4, 1000), std::nullopt);  // 2 is compacted
  EXPECT_EQ(log.slice(3, 6, 1000), std::nullopt);  // 5 does not exist
  EXPECT_EQ(indexes_of(*log.slice(3, 5, 1000)), (std::vector<Index>{3, 4}));
}

// ---------------------------------------------------------------------------------------------------
// Fast backtracking helpers (paper 5.3, last paragraphs)

TEST(RaftLog, firstIndexOfTermAtFindsTheStartOfTheRun) {
  RaftLog log = log_with_terms({1, 2, 2, 2, 4, 4});
  EXPECT_EQ(log.first_index_of_term_at(4), 2U);
  EXPECT_EQ(log.first_index_of_term_at(2), 2U);
  EXPECT_EQ(log.first_index_of_term_at(6), 5U);
  EXPECT_EQ(log.first_index_of_term_at(1), 1U);
  EXPECT_EQ(log.first_index_of_term_at(0), 0U);
}

TEST(RaftLog, firstIndexOfTermAtStopsAtTheSnapshot) {
  DurableState durable = durable_log({}, 2);
  durable.snapshot = make_snapshot(3, 2, {1});
  durable.entries = make_entries(4, {2, 2});
  RaftLog log = *RaftLog::restore(durable);
  EXPECT_EQ(log.first_index_of_term_at(5), 4U);  // term 2 began earlier, but that is compacted
}

TEST(RaftLog, lastIndexOfTermFindsTheEndOfTheRun) {
  RaftLog log = log_with_terms({1, 2, 2, 4, 4});
  EXPECT_EQ(log.last_index_of_term(1), 1U);
  EXPECT_EQ(log.last_index_of_term(2), 3U);
  EXPECT_EQ(log.last_index_of_term(4), 5U);
  EXPECT_EQ(log.last_index_of_term(3), std::nullopt);  // no entry of term 3
  EXPECT_EQ(log.last_index_of_term(5), std::nullopt);
  EXPECT_EQ(log.last_index_of_term(0), std::nullopt);
}

TEST(RaftLog, lastIndexOfTermSeesTheSnapshotsLastEntry) {
  DurableState durable = durable_log({}, 3);
  durable.snapshot = make_snapshot(3, 2, {1});
  durable.entries = make_entries(4, {3});
  RaftLog log = *RaftLog::restore(durable);
  EXPECT_EQ(log.last_index_of_term(2), 3U);
  EXPECT_EQ(log.last_index_of_term(1), std::nullopt);  // compacted away: unknown
}

// ---------------------------------------------------------------------------------------------------
// Commit, apply, durability

TEST(RaftLog, maybeCommitRequiresTheTermToMatch) {
  RaftLog log = log_with_terms({1, 2, 2});
  EXPECT_FALSE(log.maybe_commit(3, 1));
  EXPECT_TRUE(log.maybe_commit(3, 2));
  EXPECT_EQ(log.committed(), 3U);
  EXPECT_FALSE(log.maybe_commit(2, 2));  // never backwards
  EXPECT_EQ(log.committed(), 3U);
}

TEST(RaftLog, commitToNeverMovesBackwards) {
  RaftLog log = log_with_terms({1, 1, 1}, 2);
  log.commit_to(1);
  EXPECT_EQ(log.committed(), 2U);
  log.commit_to(3);
  EXPECT_EQ(log.committed(), 3U);
}

TEST(RaftLog, committedEntriesAreHandedOutOnce) {
  RaftLog log = log_with_terms({1, 1, 1}, 2);
  EXPECT_EQ(indexes_of(log.next_committed()), (std::vector<Index>{1, 2}));
  log.applying_to(2);
  EXPECT_TRUE(log.next_committed().empty());
  log.commit_to(3);
  EXPECT_EQ(indexes_of(log.next_committed()), (std::vector<Index>{3}));
  log.applied_to(2);
  EXPECT_EQ(log.applied(), 2U);
}

TEST(RaftLog, appendedEntriesAreUnstableUntilStableTo) {
  RaftLog log = log_with_terms({1});
  for (Entry& entry : make_entries(2, {2, 2})) log.append(std::move(entry));
  EXPECT_EQ(indexes_of(log.unstable_entries()), (std::vector<Index>{2, 3}));
  log.stable_to(2, 2);
  EXPECT_EQ(indexes_of(log.unstable_entries()), (std::vector<Index>{3}));
  log.stable_to(3, 2);
  EXPECT_TRUE(log.unstable_entries().empty());
}

TEST(RaftLog, stableToIgnoresAStaleIndexAndTerm) {
  RaftLog log = log_with_terms({1, 1});
  bool overwrite = false;
  ASSERT_EQ(log.maybe_append(1, 1, make_entries(2, {2, 2}), &overwrite), 3U);  // 2 and 3 are new
  // The caller persisted (3, 1) from an older Ready; the log has (3, 2) now, which is not durable.
  log.stable_to(3, 1);
  EXPECT_EQ(log.stable(), 1U);
  log.stable_to(4, 2);  // beyond the end
  EXPECT_EQ(log.stable(), 1U);
  log.stable_to(3, 2);
  EXPECT_EQ(log.stable(), 3U);
  log.stable_to(2, 2);  // never backwards
  EXPECT_EQ(log.stable(), 3U);
}

// ---------------------------------------------------------------------------------------------------
// Compaction and snapshots

TEST(RaftLog, compactDiscardsThePrefixAndKeepsItsLastTerm) {
  RaftLog log = log_with_terms({1, 1, 2, 2, 3}, 4);
  log.applying_to(4);
  log.applied_to(4);
  log.compact(3);
  EXPECT_EQ(log.snapshot_index(), 3U);
  EXPECT_EQ(log.snapshot_term(), 2U);
  EXPECT_EQ(log.first_index(), 4U);
  EXPECT_EQ(log.last_index(), 5U);
  EXPECT_EQ(log.entry_count(), 2U);
  EXPECT_EQ(log.term(3), 2U);
  EXPECT_EQ(log.term(2), std::nullopt);
  EXPECT_EQ(log.committed(), 4U);
  EXPECT_TRUE(log.is_up_to_date(5, 3));
}

TEST(RaftLog, restoreSnapshotReplacesTheWholeLog) {
  RaftLog log = log_with_terms({1, 1, 2}, 1);
  log.restore_snapshot(SnapshotMeta{10, 4, ConfState{{1, 2, 3}}});
  EXPECT_EQ(log.snapshot_index(), 10U);
  EXPECT_EQ(log.last_index(), 10U);
  EXPECT_EQ(log.last_term(), 4U);
  EXPECT_EQ(log.committed(), 10U);
  EXPECT_EQ(log.applied(), 10U);
  EXPECT_EQ(log.stable(), 10U);
  EXPECT_EQ(log.entry_count(), 0U);
  EXPECT_TRUE(log.next_committed().empty());
  EXPECT_TRUE(log.unstable_entries().empty());
  bool overwrite = false;
  EXPECT_EQ(log.maybe_append(10, 4, make_entries(11, {4}), &overwrite), 11U);
}

}  // namespace
}  // namespace synod::raft
