// etcdctl 3.4's lease commands against Synod's Lease service in process (the fake backend: no lessor,
// so remaining TTLs read as granted): grant, put --lease, timetolive --keys, keep-alive --once, revoke
// (the key goes with it), list, and etcd's errors. Skipped when etcdctl is not installed.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <string>

#include <gtest/gtest.h>

#include "api/etcdctl_runner.h"
#include "api/server_fixture.h"

namespace synod::api {
namespace {

class LeaseEtcdctlTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    if (!test::etcdctl_installed()) GTEST_SKIP() << test::kEtcdctl << " is not installed";
    start();
  }

  std::string etcdctl(const std::string& args) { return test::run_etcdctl(endpoint(), args); }

  // `lease grant` and the id it printed (16 hex digits), or "" if it printed something else.
  std::string grant(int ttl) {
    std::string out = etcdctl("lease grant " + std::to_string(ttl));
    std::string id = out.size() > 22 ? out.substr(6, 16) : "";
    bool hex = id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
    EXPECT_TRUE(hex && out == "lease " + id + " granted with TTL(" + std::to_string(ttl) + "s)\n") << out;
    return hex ? id : "";
  }
};

TEST_F(LeaseEtcdctlTest, grantPutTimeToLiveKeepAliveRevokeAndList) {
  std::string id = grant(5);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(etcdctl("put --lease=" + id + " k v"), "OK\n");
  EXPECT_EQ(etcdctl("get k"), "k\nv\n");
  EXPECT_EQ(etcdctl("lease timetolive " + id + " --keys"),
            "lease " + id + " granted with TTL(5s), remaining(5s), attached keys([k])\n");
  EXPECT_EQ(etcdctl("lease keep-alive --once " + id), "lease " + id + " keepalived with TTL(5)\n");

  std::string other = grant(60);
  std::string list = etcdctl("lease list");
  EXPECT_NE(list.find("found 2 leases\n"), std::string::npos) << list;
  EXPECT_NE(list.find(id + "\n"), std::string::npos) << list;
  EXPECT_NE(list.find(other + "\n"), std::string::npos) << list;

  EXPECT_EQ(etcdctl("lease revoke " + id), "lease " + id + " revoked\n");
  EXPECT_EQ(etcdctl("get k"), "");
  EXPECT_EQ(etcdctl("lease timetolive " + id), "lease " + id + " already expired\n");
  EXPECT_EQ(etcdctl("lease list"), "found 1 leases\n" + other + "\n");
}

TEST_F(LeaseEtcdctlTest, errorsReadLikeEtcds) {
  std::string revoke = etcdctl("lease revoke 1234");
  EXPECT_NE(revoke.find("etcdserver: requested lease not found"), std::string::npos) << revoke;
  std::string too_large = etcdctl("lease grant 10000000000");
  EXPECT_NE(too_large.find("etcdserver: too large lease TTL"), std::string::npos) << too_large;
  std::string put = etcdctl("put --lease=1234 k v");
  EXPECT_NE(put.find("etcdserver: requested lease not found"), std::string::npos) << put;
}

}  // namespace
}  // namespace synod::api
