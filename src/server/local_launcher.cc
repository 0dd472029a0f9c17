#include "server/local_launcher.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "server/process.h"

namespace synod::server {

namespace {

std::atomic<bool> g_stop{false};

void on_stop_signal(int /*signal*/) {
  g_stop = true;
}

struct LocalMember {
  std::string name;
  uint16_t peer_port = 0;
  uint16_t client_port = 0;
  uint16_t metrics_port = 0;
  ChildProcess process;
  std::chrono::steady_clock::time_point restart_at{};
  int restarts = 0;
};

// Reuses the ports of an earlier run (the members' data records their peer URLs), or picks free ones.
bool assign_ports(const std::string& path, std::vector<LocalMember>& members) {
  std::ifstream in(path);
  if (in) {
    std::string name;
    size_t index = 0;
    while (index < members.size() && (in >> name >> members[index].peer_port >> members[index].client_port >>
                                      members[index].metrics_port)) {
      if (name != members[index].name) break;
      ++index;
    }
    if (index == members.size()) return true;
    std::cerr << "synod local: " << path << " does not match --nodes " << members.size()
              << "; use another --data directory\n";
    return false;
  }
  // free_port() lets its port go at once, so the kernel may hand the same one out again: a port already
  // picked here is picked again, or one member's listener would take another's.
  std::set<uint16_t> picked;
  for (LocalMember& member : members) {
    for (uint16_t* port : {&member.peer_port, &member.client_port, &member.metrics_port}) {
      for (int attempt = 0; attempt < 100 && (*port == 0 || picked.count(*port) > 0); ++attempt) {
        Result<uint16_t> free = free_port();
        if (!free.is_ok()) {
          std::cerr << "synod local: " << free.status().message() << "\n";
          return false;
        }
        *port = free.value();
      }
      if (!picked.insert(*port).second) {
        std::cerr << "synod local: could not find " << 3 * members.size() << " distinct free ports\n";
        return false;
      }
    }
  }
  std::ofstream out(path);
  for (const LocalMember& member : members) {
    out << member.name << ' ' << member.peer_port << ' ' << member.client_port << ' ' << member.metrics_port
        << '\n';
  }
  return static_cast<bool>(out);
}

std::string url(uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

}  // namespace

int run_local_cluster(const LocalOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.data, error);
  if (error) {
    std::cerr << "synod local: cannot create " << options.data << ": " << error.message() << "\n";
    return 1;
  }
  std::string data = std::filesystem::absolute(options.data).string();
  std::vector<LocalMember> members(static_cast<size_t>(options.nodes));
  for (size_t i = 0; i < members.size(); ++i) members[i].name = "node" + std::to_string(i + 1);
  if (!assign_ports(data + "/ports", members)) return 1;

  std::string initial_cluster;
  std::string endpoints;
  for (const LocalMember& member : members) {
    initial_cluster += (initial_cluster.empty() ? "" : ",") + member.name + "=" + url(member.peer_port);
    endpoints +=
        (endpoints.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(member.client_port);
  }

  std::string program = self_executable();
  auto start = [&](LocalMember& member) -> bool {
    std::vector<std::string> args = {"--name",
                                     member.name,
                                     "--data-dir",
                                     data + "/" + member.name,
                                     "--listen-peer-urls",
                                     url(member.peer_port),
                                     "--initial-advertise-peer-urls",
                                     url(member.peer_port),
                                     "--listen-client-urls",
                                     url(member.client_port),
                                     "--listen-metrics-urls",
                                     url(member.metrics_port),
                                     "--initial-cluster",
                                     initial_cluster,
                                     "--initial-cluster-token",
                                     "synod-local",
                                     "--heartbeat-interval",
                                     "50",
                                     "--election-timeout",
                                     "500",
                                     "--snapshot-count",
                                     std::to_string(options.snapshot_count),
                                     "--log-level",
                                     options.log_level,
                                     "--engine",
                                     options.engine};
    Result<ChildProcess> spawned = ChildProcess::spawn(program, args, data + "/" + member.name + ".log");
    if (!spawned.is_ok()) {
      std::cerr << "synod local: cannot start " << member.name << ": " << spawned.status().message() << "\n";
      return false;
    }
    member.process = std::move(spawned).value();
    std::ofstream(data + "/" + member.name + ".pid") << member.process.pid() << '\n';
    return true;
  };

  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  for (LocalMember& member : members) {
    if (!start(member)) return 1;
  }
  std::cout << "synod local: " << members.size() << " members running, data in " << data << "\n";
  for (const LocalMember& member : members) {
    std::cout << "  " << member.name << "  pid " << member.process.pid()
              << "  client 127.0.0.1:" << member.client_port << "  metrics " << url(member.metrics_port)
              << "/metrics  log " << data << "/" << member.name << ".log\n";
  }
  std::cout << "try:\n  ETCDCTL_API=3 etcdctl --endpoints=" << endpoints << " put hello world\n"
            << "  ETCDCTL_API=3 etcdctl --endpoints=" << endpoints << " get hello\n"
            << "Ctrl-C stops the cluster; a member that dies is restarted.\n"
            << std::flush;

  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now = std::chrono::steady_clock::now();
    for (LocalMember& member : members) {
      if (member.process.running()) {
        if (std::optional<int> status = member.process.poll()) {
          // Back off a little more each time, so a member that cannot start does not spin.
          auto delay = std::chrono::milliseconds(500) * std::min(member.restarts + 1, 10);
          std::cout << "synod local: " << member.name << " " << describe_wait_status(*status)
                    << "; restarting in " << delay.count() << " ms" << std::endl;
          member.restart_at = now + delay;
          ++member.restarts;
        }
      } else if (now >= member.restart_at) {
        if (start(member)) {
          std::cout << "synod local: restarted " << member.name << " (pid " << member.process.pid() << ")"
                    << std::endl;
        }
      }
    }
  }
  std::cout << "synod local: stopping" << std::endl;
  for (LocalMember& member : members) member.process.signal(SIGTERM);
  int failures = 0;
  for (LocalMember& member : members) {
    int status = member.process.stop(std::chrono::seconds(10));
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!clean) ++failures;
    std::cout << "  " << member.name << " " << describe_wait_status(status) << std::endl;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace synod::server
