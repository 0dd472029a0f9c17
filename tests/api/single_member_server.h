// A real one-member `synod` Server in process, for tests that need what only the server has (the
// lessor's clock, the node loop): a fresh data dir, free ports, fast timers (heartbeat 10 ms, election
// timeout 100 ms, so the minimum lease TTL is one second). Stopped and its data dir removed when the
// object goes.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "server/process.h"
#include "server/server.h"

namespace synod::server::test {

class SingleMemberServer {
 public:
  // `name` tells data dirs of concurrent tests apart; `tweak` may change the configuration before the
  // server starts. Check started() before using the server.
  explicit SingleMemberServer(const std::string& name, const std::function<void(ServerConfig&)>& tweak = {}) {
    using namespace std::chrono_literals;
    dir_ = std::filesystem::temp_directory_path() / ("synod-" + name + "-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::string peer = "http://127.0.0.1:" + std::to_string(free_port().value());
    ServerConfig config;
    config.name = "a";
    config.data_dir = dir_.string();
    config.listen_peer_urls = parse_urls(peer).value();
    config.listen_client_urls = parse_urls("http://127.0.0.1:" + std::to_string(free_port().value())).value();
    config.initial_cluster = parse_initial_cluster("a=" + peer).value();
    config.heartbeat_interval = 10ms;
    config.election_timeout = 100ms;
    if (tweak) tweak(config);
    status_ = config.validate();
    if (!status_.is_ok()) return;
    Result<std::unique_ptr<Server>> started = Server::start(config);
    status_ = started.status();
    if (!started.is_ok()) return;
    server_ = std::move(started).value();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->client_ports().front()),
                                   grpc::InsecureChannelCredentials());
  }
  ~SingleMemberServer() {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  SingleMemberServer(const SingleMemberServer&) = delete;
  SingleMemberServer& operator=(const SingleMemberServer&) = delete;

  const Status& started() const { return status_; }
  Server& server() { return *server_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::filesystem::path dir_;
  Status status_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace synod::server::test
