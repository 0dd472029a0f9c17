// The Lessor (server/lessor.h) with a hand-driven clock and leadership: only a leader revokes, once per
// expired lease until the revoke settles, again if it failed; a promotion gives every lease its full
// TTL (plus the extension etcd gives: one election timeout); renewals applied push deadlines back; restores
// keep what the lessor already timed.
#include <gtest/gtest.h>

#include "kv/mvcc_codec.h"
#include "kv/mvcc_errors.h"
#include "server/lessor.h"

namespace synod::server {
namespace {

using namespace std::chrono_literals;

class LessorTest : public ::testing::Test {
 protected:
  LessorTest() {
    LessorOptions& options = options_;
    options.now = [this] { return now_; };
    options.leading_term = [this] { return term_; };
    options.propose = [this](std::string command, LessorOptions::Done done) {
      Result<synodpb::Command> decoded = kv::decode_command(command);
      ASSERT_TRUE(decoded.is_ok());
      ASSERT_TRUE(decoded.value().has_lease_revoke());
      proposed_.push_back(decoded.value().lease_revoke().id());
      pending_.push_back(std::move(done));
    };
    options.max_revokes_per_check = 3;
    lessor_ = std::make_unique<Lessor>(options);
  }

  // Answers the oldest pending revoke: applied (the store tells the lessor first, as the node does),
  // or failed with `error`.
  void settle(std::optional<Status> error = std::nullopt) {
    ASSERT_FALSE(pending_.empty());
    LessorOptions::Done done = std::move(pending_.front());
    pending_.erase(pending_.begin());
    if (error) {
      done(*error);
      return;
    }
    int64_t id = proposed_[proposed_.size() - pending_.size() - 1];
    lessor_->lease_revoked(id);
    etcdserverpb::LeaseRevokeResponse response;
    done(kv::encode_result(Result<etcdserverpb::LeaseRevokeResponse>(response)));
  }

  std::chrono::steady_clock::time_point now_{std::chrono::hours(1)};
  std::optional<uint64_t> term_;
  std::vector<int64_t> proposed_;
  std::vector<LessorOptions::Done> pending_;
  LessorOptions options_;
  std::unique_ptr<Lessor> lessor_;
};

TEST_F(LessorTest, aFollowerNeverRevokes) {
  lessor_->lease_renewed(5, 1);
  now_ += 1h;
  lessor_->check();
  EXPECT_TRUE(proposed_.empty());
  EXPECT_EQ(lessor_->remaining(5), 0ms);  // it still knows the lease ran out on its clock
}

TEST_F(LessorTest, theLeaderRevokesAnExpiredLeaseOnceUntilTheRevokeSettles) {
  term_ = 2;
  lessor_->check();  // leads from here
  lessor_->lease_renewed(5, 2);
  lessor_->lease_renewed(6, 10);
  now_ += 1999ms;
  lessor_->check();
  EXPECT_TRUE(proposed_.empty());
  now_ += 1ms;
  lessor_->check();
  lessor_->check();
  EXPECT_EQ(proposed_, std::vector<int64_t>{5});
  EXPECT_EQ(lessor_->revokes_in_flight(), 1U);
  settle();
  EXPECT_EQ(lessor_->remaining(5), std::nullopt);
  lessor_->check();
  EXPECT_EQ(proposed_, std::vector<int64_t>{5});
}

TEST_F(LessorTest, aFailedRevokeIsProposedAgainWhileStillLeading) {
  term_ = 1;
  lessor_->check();
  lessor_->lease_renewed(5, 1);
  now_ += 2s;
  lessor_->check();
  settle(Status(ErrorCode::kTimedOut, "timed out"));
  EXPECT_EQ(lessor_->revokes_in_flight(), 0U);
  lessor_->check();
  EXPECT_EQ(proposed_, (std::vector<int64_t>{5, 5}));
  settle(Status(ErrorCode::kNoLeader, "no leader"));
  term_.reset();  // lost leadership: no more tries
  lessor_->check();
  EXPECT_EQ(proposed_.size(), 2U);
}

TEST_F(LessorTest, aRevokeFindingNoLeaseForgetsIt) {
  term_ = 1;
  lessor_->check();
  lessor_->lease_renewed(5, 1);
  now_ += 2s;
  lessor_->check();
  Status not_found(ErrorCode::kNotFound, std::string(kv::kLeaseNotFoundMessage));
  settle(Status(not_found));
  EXPECT_EQ(lessor_->remaining(5), std::nullopt);
}

TEST_F(LessorTest, promotionGivesEveryLeaseItsFullTtl) {
  lessor_->lease_renewed(7, 3);
  lessor_->lease_renewed(8, 30);
  now_ += 1h;  // long past on this member's clock while it followed
  term_ = 4;
  lessor_->check();
  EXPECT_TRUE(proposed_.empty());
  EXPECT_EQ(lessor_->remaining(7), 3000ms);
  EXPECT_EQ(lessor_->remaining(8), 30000ms);
  now_ += 3s;
  lessor_->check();
  EXPECT_EQ(proposed_, std::vector<int64_t>{7});
}

TEST_F(LessorTest, promotionAddsTheExtensionToEveryFullTtl) {
  LessorOptions options = options_;
  options.promotion_extension = 1500ms;  // etcd's: one election timeout
  Lessor lessor(options);
  lessor.lease_renewed(7, 3);
  now_ += 1h;
  term_ = 4;
  lessor.check();
  EXPECT_EQ(lessor.remaining(7), 4500ms);
  now_ += 3s;
  lessor.check();
  EXPECT_TRUE(proposed_.empty()) << "the extension still runs";
  now_ += 1500ms;
  lessor.check();
  EXPECT_EQ(proposed_, std::vector<int64_t>{7});
}

TEST_F(LessorTest, leadingAgainInANewTermIsAPromotionToo) {
  term_ = 4;
  lessor_->check();
  lessor_->lease_renewed(7, 3);
  now_ += 2s;
  term_ = 6;  // lost and won leadership between two checks
  lessor_->check();
  EXPECT_EQ(lessor_->remaining(7), 3000ms);
}

TEST_F(LessorTest, anAppliedRenewalPushesTheDeadlineBack) {
  term_ = 1;
  lessor_->check();
  lessor_->lease_renewed(5, 2);
  now_ += 1500ms;
  lessor_->lease_renewed(5, 2);  // a keepalive applied
  now_ += 1500ms;
  lessor_->check();
  EXPECT_TRUE(proposed_.empty());
  EXPECT_EQ(lessor_->remaining(5), 500ms);
  now_ += 500ms;
  lessor_->check();
  EXPECT_EQ(proposed_, std::vector<int64_t>{5});
}

TEST_F(LessorTest, aMassExpiryIsRevokedAFewAtATime) {
  term_ = 1;
  lessor_->check();
  for (int64_t id = 1; id <= 5; ++id) lessor_->lease_renewed(id, 1);
  now_ += 1s;
  lessor_->check();
  EXPECT_EQ(proposed_, (std::vector<int64_t>{1, 2, 3}));
  lessor_->check();
  EXPECT_EQ(proposed_, (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

TEST_F(LessorTest, aRestoreKeepsKnownDeadlinesAndGivesNewLeasesAFullTtl) {
  lessor_->lease_renewed(1, 10);
  lessor_->lease_renewed(2, 10);
  now_ += 4s;
  kv::LeaseTable table;
  table.grant(1, 10, 0).value();
  table.grant(3, 20, 0).value();
  lessor_->leases_reset(table);
  EXPECT_EQ(lessor_->remaining(1), 6000ms);
  EXPECT_EQ(lessor_->remaining(2), std::nullopt);  // not in the snapshot: revoked meanwhile
  EXPECT_EQ(lessor_->remaining(3), 20000ms);
}

TEST_F(LessorTest, theThreadChecksOnItsOwn) {
  term_ = 1;
  lessor_->lease_renewed(5, 1);
  now_ += 1h;
  // The thread's first check is a promotion (a full TTL), so nothing is revoked yet.
  lessor_->start();
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(proposed_.empty());
  lessor_->stop();
  now_ += 2s;
  lessor_->start();
  for (int i = 0; i < 100 && lessor_->revokes_in_flight() == 0; ++i) std::this_thread::sleep_for(20ms);
  lessor_->stop();
  EXPECT_EQ(lessor_->revokes_in_flight(), 1U);
}

}  // namespace
}  // namespace synod::server
