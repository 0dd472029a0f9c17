#include "server/server_config.h"

#include <gtest/gtest.h>

namespace synod::server {
namespace {

TEST(ServerConfigTest, ParsesUrls) {
  Result<Url> url = parse_url("http://127.0.0.1:2379");
  ASSERT_TRUE(url.is_ok()) << url.status().to_string();
  EXPECT_EQ(url.value().host, "127.0.0.1");
  EXPECT_EQ(url.value().port, 2379);
  EXPECT_EQ(url.value().text(), "http://127.0.0.1:2379");
  Result<Url> v6 = parse_url("http://[::1]:2380/");
  ASSERT_TRUE(v6.is_ok()) << v6.status().to_string();
  EXPECT_EQ(v6.value().host, "::1");
  EXPECT_EQ(v6.value().text(), "http://[::1]:2380");
  Result<std::vector<Url>> list = parse_urls("http://a:1,http://b:2");
  ASSERT_TRUE(list.is_ok());
  EXPECT_EQ(list.value().size(), 2U);
}

TEST(ServerConfigTest, RefusesBadUrlsWithTheReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (Case c : {Case{"https://a:1", "TLS is not supported"}, Case{"a:1", "must look like"},
                 Case{"http://a", "no port"}, Case{"http://a:99999", "port must be"},
                 Case{"http://:1", "no host"}, Case{"http://a:1/path", "port must be"},
                 Case{"http://a:x", "port must be"}, Case{"", "must look like"}}) {
    Result<Url> url = parse_url(c.text);
    ASSERT_FALSE(url.is_ok()) << c.text;
    EXPECT_NE(url.status().message().find(c.why), std::string::npos)
        << c.text << ": " << url.status().message();
  }
}

TEST(ServerConfigTest, InitialClusterIsNumberedByName) {
  Result<std::vector<ClusterMember>> members =
      parse_initial_cluster("c=http://h:3,a=http://h:1,b=http://h:2,a=http://h2:1");
  ASSERT_TRUE(members.is_ok()) << members.status().to_string();
  ASSERT_EQ(members.value().size(), 3U);
  EXPECT_EQ(members.value()[0].name, "a");
  EXPECT_EQ(members.value()[0].id, 1U);
  EXPECT_EQ(members.value()[0].peer_urls.size(), 2U);
  EXPECT_EQ(members.value()[2].name, "c");
  EXPECT_EQ(members.value()[2].id, 3U);
  EXPECT_FALSE(parse_initial_cluster("a").is_ok());
  EXPECT_FALSE(parse_initial_cluster("=http://h:1").is_ok());
  EXPECT_FALSE(parse_initial_cluster("a=https://h:1").is_ok());
}

TEST(ServerConfigTest, ClusterIdDependsOnTokenAndMembers) {
  auto members = parse_initial_cluster("a=http://h:1,b=http://h:2").value();
  auto other = parse_initial_cluster("a=http://h:1,b=http://h:3").value();
  EXPECT_EQ(cluster_id_of("t", members), cluster_id_of("t", members));
  EXPECT_NE(cluster_id_of("t", members), cluster_id_of("u", members));
  EXPECT_NE(cluster_id_of("t", members), cluster_id_of("t", other));
  EXPECT_NE(cluster_id_of("t", members), 0U);
}

ServerConfig valid_config() {
  ServerConfig config;
  config.name = "b";
  config.data_dir = "/tmp/x";
  config.listen_peer_urls = parse_urls("http://127.0.0.1:2").value();
  config.listen_client_urls = parse_urls("http://127.0.0.1:12").value();
  config.initial_cluster = parse_initial_cluster("a=http://127.0.0.1:1,b=http://127.0.0.1:2").value();
  return config;
}

TEST(ServerConfigTest, ValidatesTheFlagsTogether) {
  ServerConfig config = valid_config();
  ASSERT_TRUE(config.validate().is_ok()) << config.validate().to_string();
  EXPECT_EQ(config.self().id, 2U);
  EXPECT_EQ(config.election_ticks(), 10);

  auto refused = [](const ServerConfig& c, const char* why) {
    Status status = c.validate();
    EXPECT_FALSE(status.is_ok()) << why;
    EXPECT_NE(status.message().find(why), std::string::npos) << status.message();
  };
  ServerConfig stranger = valid_config();
  stranger.name = "z";
  refused(stranger, "not one of the members");
  ServerConfig hasty = valid_config();
  hasty.election_timeout = std::chrono::milliseconds(400);
  refused(hasty, "at least 5 times");
  ServerConfig wrong_advertise = valid_config();
  wrong_advertise.initial_advertise_peer_urls = parse_urls("http://127.0.0.1:9").value();
  refused(wrong_advertise, "is not listed");
  ServerConfig huge = valid_config();
  huge.max_request_bytes = uint64_t{1} << 30U;
  refused(huge, "--max-request-bytes");
  ServerConfig noisy = valid_config();
  noisy.log_level = "chatty";
  refused(noisy, "--log-level");
}

TEST(ServerConfigTest, ParsesEngines) {
  EXPECT_EQ(parse_engine("raft").value(), EngineKind::kRaft);
  EXPECT_EQ(parse_engine("paxos").value(), EngineKind::kPaxos);
  EXPECT_FALSE(parse_engine("pbft").is_ok());
}

}  // namespace
}  // namespace synod::server
