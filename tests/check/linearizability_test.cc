// The linearizability checker on hand-built histories: each classic anomaly is rejected, and histories
// that some order explains (concurrency, unknown outcomes, failures) are accepted. Each test is named
// after what it proves.
#include "check/linearizability.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "history_builders.h"

namespace synod::check::test {
namespace {

Verdict verdict_of(const History& history) {
  return check_linearizability(history).verdict;
}

// ---- anomalies are rejected ------------------------------------------------------------------------

TEST(Linearizability, staleReadOfAnOverwrittenValueIsRejected) {
  History history = {put(1, "x", "1", 0, 10), put(1, "x", "2", 20, 30), get(2, "x", "1", 40, 50)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, lostWriteIsRejected) {
  // The put was acknowledged, yet a read that starts after it still sees the key absent.
  History history = {put(1, "x", "1", 0, 10), get(2, "x", std::nullopt, 20, 30)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, lostWriteAmongConcurrentWritesIsRejected) {
  // Both puts overlap, so either may win, but the reads see "2" and then "1": the second write cannot
  // come both before and after the first.
  History history = {put(1, "x", "1", 0, 10), put(2, "x", "2", 5, 15), get(3, "x", "2", 20, 25),
                     get(3, "x", "1", 30, 35)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, twoSuccessfulCasFromTheSameExpectedValueAreRejected) {
  History history = {put(1, "x", "0", 0, 10), cas(2, "x", "0", "1", true, 20, 40),
                     cas(3, "x", "0", "2", true, 25, 45)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, readOfAValueNeverWrittenIsRejected) {
  History history = {put(1, "x", "1", 0, 10), get(2, "x", "7", 0, 20)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, readYourWritesViolationIsRejected) {
  // Client 1 writes "b" and then reads back the older "a".
  History history = {put(2, "x", "a", 0, 5), put(1, "x", "b", 6, 10), get(1, "x", "a", 11, 12)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, readsThatSeeTwoWritesInOppositeOrdersAreRejected) {
  History history = {put(1, "x", "a", 0, 10), put(2, "x", "b", 0, 10), get(3, "x", "a", 20, 30),
                     get(4, "x", "b", 31, 40), get(3, "x", "a", 41, 50)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, casOnAnAbsentKeyFailsItsCompare) {
  EXPECT_EQ(verdict_of({cas(1, "x", "", "1", true, 0, 10)}), Verdict::kNotLinearizable);
  EXPECT_EQ(verdict_of({cas(1, "x", "", "1", false, 0, 10)}), Verdict::kLinearizable);
}

TEST(Linearizability, casThatFailedWhileTheValueMatchedIsRejected) {
  History history = {put(1, "x", "0", 0, 10), cas(2, "x", "0", "1", false, 20, 30)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, readOfADeletedValueAfterTheDeleteReturnedIsRejected) {
  History history = {put(1, "x", "a", 0, 10), del(1, "x", 20, 30), get(2, "x", "a", 40, 50)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
  history.back().read.reset();
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

TEST(Linearizability, operationsThatTouchAtOneInstantOverlap) {
  // A return at 10 and a call at 10 are concurrent; a call at 11 comes after.
  EXPECT_EQ(verdict_of({put(1, "x", "a", 0, 10), get(1, "x", std::nullopt, 10, 20)}), Verdict::kLinearizable);
  EXPECT_EQ(verdict_of({put(1, "x", "a", 0, 10), get(1, "x", std::nullopt, 11, 20)}),
            Verdict::kNotLinearizable);
}

// ---- histories some order explains are accepted ------------------------------------------------------

TEST(Linearizability, emptyHistoryIsLinearizable) {
  EXPECT_EQ(verdict_of({}), Verdict::kLinearizable);
}

TEST(Linearizability, theFormatSpecExampleIsLinearizable) {
  History history = {put(1, "x", "5", 100, 180), get(2, "x", "5", 120, 150),
                     cas(3, "x", "5", "6", true, 130, 200), unknown(del(4, "x", 140, 0))};
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

TEST(Linearizability, concurrentOperationsThatCanBeOrderedAreAccepted) {
  // put a, get a, put b, get b is an order inside every interval, though the calls come in another order.
  History history = {put(1, "x", "b", 0, 20),
                     put(2, "x", "a", 1, 10),
                     get(3, "x", "a", 2, 12),
                     get(4, "x", "b", 15, 25),
                     cas(5, "x", "b", "c", true, 16, 30),
                     get(3, "x", "c", 31, 32)};
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

TEST(Linearizability, readsMayReturnEitherValueOfAConcurrentWrite) {
  History history = {put(1, "x", "a", 0, 5), put(2, "x", "b", 10, 40), get(3, "x", "a", 12, 14),
                     get(4, "x", "b", 15, 20), get(5, "x", "b", 21, 22)};
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

TEST(Linearizability, unknownWriteThatTookEffectExplainsALaterRead) {
  History history = {put(1, "x", "a", 0, 10), unknown(put(2, "x", "b", 20, 0)), get(3, "x", "b", 50, 60)};
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

TEST(Linearizability, unknownWriteThatNeverTookEffectIsLeftOut) {
  History history = {put(1, "x", "a", 0, 10), unknown(put(2, "x", "b", 20, 0)), get(3, "x", "a", 50, 60),
                     get(3, "x", "a", 70, 80)};
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

TEST(Linearizability, unknownWriteMayTakeEffectAfterItsClientGaveUp) {
  // The client recorded a timeout at 30; the write still lands between the two reads.
  History history = {put(1, "x", "a", 0, 10), unknown(put(2, "x", "b", 20, 0), 30), get(3, "x", "a", 40, 50),
                     get(3, "x", "b", 60, 70)};
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

TEST(Linearizability, unknownCasMayTakeEffectWhenItsCompareMatches) {
  History history = {put(1, "x", "a", 0, 10), unknown(cas(2, "x", "a", "b", false, 20, 0)),
                     get(3, "x", "b", 50, 60)};
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
  history[0].value = "z";  // now its compare never matches, so it can never write "b"
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, unknownWriteTakesEffectAtMostOnce) {
  History history = {put(1, "x", "a", 0, 1),  unknown(put(2, "x", "b", 2, 0)), put(1, "x", "c", 3, 4),
                     get(1, "x", "b", 5, 6),  put(1, "x", "c", 7, 8),          get(1, "x", "c", 9, 10),
                     get(1, "x", "b", 11, 12)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, unknownWriteCannotTakeEffectBeforeItsCall) {
  History history = {get(1, "x", "b", 0, 5), unknown(put(2, "x", "b", 10, 0))};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, failedOperationsAreIgnored) {
  History history = {put(1, "x", "a", 0, 10), failed(put(2, "x", "b", 20, 30)), failed(del(3, "x", 20, 30)),
                     get(4, "x", "a", 40, 50)};
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

TEST(Linearizability, readOfAFailedWriteIsRejected) {
  History history = {put(1, "x", "a", 0, 10), failed(put(2, "x", "b", 20, 30)), get(4, "x", "b", 40, 50)};
  EXPECT_EQ(verdict_of(history), Verdict::kNotLinearizable);
}

TEST(Linearizability, unknownReadsConstrainNothing) {
  History history = {put(1, "x", "a", 0, 10), unknown(get(2, "x", std::nullopt, 0, 5))};
  history[1].read = "never written";  // an unknown get's output is not an observation
  EXPECT_EQ(verdict_of(history), Verdict::kLinearizable);
}

// ---- keys, reports, limits ---------------------------------------------------------------------------

TEST(Linearizability, keysAreCheckedIndependentlyAndTheBadOneIsNamed) {
  History history = {put(1, "x", "1", 0, 10), put(1, "y", "1", 0, 10), get(2, "x", "1", 20, 30),
                     get(2, "y", std::nullopt, 20, 30)};
  CheckResult result = check_linearizability(history);
  ASSERT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(result.key, "y");
  EXPECT_EQ(result.stats.keys, 2U);
}

TEST(Linearizability, counterexampleHoldsTheLongestPartialLinearizationAndItsStuckWindow) {
  History history = {put(1, "x", "1", 0, 10), put(1, "x", "2", 20, 30), get(2, "x", "1", 40, 50),
                     put(3, "x", "3", 60, 70)};
  CheckResult result = check_linearizability(history);
  ASSERT_EQ(result.verdict, Verdict::kNotLinearizable);
  ASSERT_TRUE(result.counterexample.has_value());
  const Counterexample& example = *result.counterexample;
  EXPECT_EQ(example.key, "x");
  EXPECT_EQ(example.partial, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(example.stuck_value, "2");
  EXPECT_EQ(example.window, (std::vector<size_t>{2}));
  EXPECT_EQ(example.frontier, 2U);

  std::string report = describe_result(result, history);
  EXPECT_NE(report.find("not linearizable: key \"x\""), std::string::npos) << report;
  EXPECT_NE(report.find("[40, 50] client 2: get \"x\" -> \"1\""), std::string::npos) << report;
  EXPECT_NE(report.find("read \"1\", but it is \"2\""), std::string::npos) << report;
  EXPECT_NE(report.find("2.    [20, 30] client 1: put \"x\" = \"2\""), std::string::npos) << report;
}

TEST(Linearizability, windowHoldsEveryOperationThatCouldHaveGoneNext) {
  // After put "1" the search is stuck: both reads overlap the point and neither sees "1".
  History history = {put(1, "x", "1", 0, 10), get(2, "x", "2", 20, 40), get(3, "x", "3", 25, 35)};
  CheckResult result = check_linearizability(history);
  ASSERT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(result.counterexample->window, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(result.counterexample->frontier, 2U);  // returns first, at 35
}

TEST(Linearizability, deadlineGivesUndecided) {
  // 40 overlapping writes and a read of a value none of them wrote: proving that takes 2^40 steps.
  History history;
  for (int k = 0; k < 40; ++k) history.push_back(put(k, "x", std::to_string(k), 0, 100));
  history.push_back(get(99, "x", "none", 0, 100));
  CheckOptions options;
  options.timeout = std::chrono::milliseconds(50);
  CheckResult result = check_linearizability(history, options);
  EXPECT_EQ(result.verdict, Verdict::kUndecided);
  EXPECT_EQ(result.key, "x");
  EXPECT_NE(describe_result(result, history).find("undecided"), std::string::npos);
}

TEST(Linearizability, memoryBudgetGivesUndecided) {
  History history;
  for (int k = 0; k < 40; ++k) history.push_back(put(k, "x", std::to_string(k), 0, 100));
  history.push_back(get(99, "x", "none", 0, 100));
  CheckOptions options;
  options.memory_bytes_max = 1 << 20;
  CheckResult result = check_linearizability(history, options);
  EXPECT_EQ(result.verdict, Verdict::kUndecided);
  EXPECT_NE(result.message.find("memory budget"), std::string::npos) << result.message;
}

TEST(Linearizability, malformedOperationBuiltInCodeIsReportedNotChecked) {
  History history = {put(1, "x", "1", 50, 10)};
  CheckResult result = check_linearizability(history);
  EXPECT_EQ(result.verdict, Verdict::kMalformed);
  EXPECT_EQ(result.message, "operation 0: \"return\" (10) is before \"call\" (50)");
  history[0].line = 7;
  EXPECT_EQ(check_linearizability(history).message, "line 7: \"return\" (10) is before \"call\" (50)");
}

}  // namespace
}  // namespace synod::check::test
