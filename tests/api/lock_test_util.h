// Helpers for the Lock and Election service tests: the fake-backend server fixture with the stubs
// they use, and small blocking calls.
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "api/proto/lease.grpc.pb.h"
#include "api/proto/v3election.grpc.pb.h"
#include "api/proto/v3lock.grpc.pb.h"
#include "api/server_fixture.h"

namespace synod::api::test {

class RecipeFixture : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    lock_ = v3lockpb::Lock::NewStub(channel_);
    election_ = v3electionpb::Election::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
  }

  int64_t grant(int64_t ttl = 60) {
    grpc::ClientContext context;
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse response;
    EXPECT_TRUE(lease_->LeaseGrant(&context, request, &response).ok());
    return response.id();
  }
  grpc::Status revoke(int64_t lease) {
    grpc::ClientContext context;
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(lease);
    etcdserverpb::LeaseRevokeResponse response;
    return lease_->LeaseRevoke(&context, request, &response);
  }
  grpc::Status lock(const std::string& name, int64_t lease, v3lockpb::LockResponse& response,
                    std::chrono::seconds timeout = std::chrono::seconds(20)) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    v3lockpb::LockRequest request;
    request.set_name(name);
    request.set_lease(lease);
    return lock_->Lock(&context, request, &response);
  }
  grpc::Status unlock(const std::string& key) {
    grpc::ClientContext context;
    v3lockpb::UnlockRequest request;
    request.set_key(key);
    v3lockpb::UnlockResponse response;
    return lock_->Unlock(&context, request, &response);
  }
  // The keys under `prefix`, oldest create revision first.
  etcdserverpb::RangeResponse keys(const std::string& prefix) {
    grpc::ClientContext context;
    etcdserverpb::RangeRequest request;
    request.set_key(prefix);
    std::string end = prefix;
    end.back() = static_cast<char>(end.back() + 1);
    request.set_range_end(end);
    request.set_sort_target(etcdserverpb::RangeRequest::CREATE);
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(&context, request, &response).ok());
    return response;
  }
  // Waits up to ten seconds for `prefix` to hold `count` keys.
  bool wait_for_keys(const std::string& prefix, int64_t count) {
    for (int i = 0; i < 1000; ++i) {
      if (keys(prefix).count() == count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Waits up to ten seconds for the hub to hold `count` watchers (a waiter watches its predecessor).
  bool wait_for_watchers(size_t count) {
    for (int i = 0; i < 1000; ++i) {
      if (backend_.watch_hub().watcher_count() == count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<v3lockpb::Lock::Stub> lock_;
  std::unique_ptr<v3electionpb::Election::Stub> election_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

// etcd's owner key for `lease` under `name`.
inline std::string owner_key(const std::string& name, int64_t lease) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%llx", static_cast<unsigned long long>(lease));
  return name + "/" + digits;
}

}  // namespace synod::api::test
