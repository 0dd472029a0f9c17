#include "process/process_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#ifndef SYNOD_BINARY
#error "SYNOD_BINARY must name the synod server binary"
#endif

namespace synod::process_test {

using namespace std::chrono_literals;

namespace {

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

std::string url(uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

}  // namespace

MetricMap parse_metrics(const std::string& text) {
  MetricMap out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == std::string::npos || space == 0) continue;
    std::string value = line.substr(space + 1);
    char* end = nullptr;
    double number = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) continue;
    out[line.substr(0, space)] = number;
  }
  return out;
}

std::optional<HttpReply> http_get(uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno != EINPROGRESS) return std::nullopt;
    pollfd waiting{fd, POLLOUT, 0};
    if (::poll(&waiting, 1, remaining_ms(deadline)) != 1) return std::nullopt;
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) return std::nullopt;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t wrote = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (wrote > 0) {
      sent += static_cast<size_t>(wrote);
      continue;
    }
    if (wrote < 0 && errno != EAGAIN && errno != EINTR) return std::nullopt;
    pollfd waiting{fd, POLLOUT, 0};
    if (::poll(&waiting, 1, remaining_ms(deadline)) != 1) return std::nullopt;
  }
  std::string response;
  char buffer[8192];
  while (true) {
    ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got > 0) {
      response.append(buffer, static_cast<size_t>(got));
      continue;
    }
    if (got == 0) break;
    if (errno != EAGAIN && errno != EINTR) return std::nullopt;
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, remaining_ms(deadline)) != 1) return std::nullopt;
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  size_t head_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return std::nullopt;
  size_t space = response.find(' ');
  HttpReply reply;
  reply.status = std::atoi(response.c_str() + space + 1);
  reply.body = response.substr(head_end + 4);
  return reply;
}

std::string tail_of_file(const std::string& path, size_t lines) {
  std::ifstream in(path);
  if (!in) return "(no log at " + path + ")\n";
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const std::string& kept : last) out += kept + "\n";
  return out;
}

std::string format_ms(Clock::duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) + " ms";
}

ProcessCluster::ProcessCluster(ClusterOptions options) : options_(std::move(options)) {}

ProcessCluster::~ProcessCluster() {
  bool failed = keep_ || ::testing::Test::HasFailure() || std::getenv("SYNOD_PROCESS_KEEP") != nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Member& m : members_) {
      if (m.process.running()) {
        m.process.signal(SIGKILL);
        m.process.wait_for(10s);
      }
    }
  }
  if (root_.empty()) return;
  if (failed) {
    std::cerr << "[process cluster] data and logs kept in " << root_ << "\n";
    print_logs(std::cerr);
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
}

Status ProcessCluster::start() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/synod-process-" +
                        options_.label + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    return Status(ErrorCode::kIoError, "cannot create " + pattern + ": " + std::strerror(errno));
  }
  root_ = buffer.data();

  std::set<uint16_t> taken;
  auto pick = [&taken]() -> Result<uint16_t> {
    for (int attempt = 0; attempt < 50; ++attempt) {
      Result<uint16_t> port = server::free_port();
      if (!port.is_ok()) return port;
      if (taken.insert(port.value()).second) return port;
    }
    return Status(ErrorCode::kUnavailable, "no distinct free port");
  };
  members_.resize(static_cast<size_t>(options_.members));
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& m = members_[i];
    m.name = "m" + std::to_string(i + 1);
    SYNOD_TRY_ASSIGN(m.peer_port, pick());
    SYNOD_TRY_ASSIGN(m.client_port, pick());
    SYNOD_TRY_ASSIGN(m.metrics_port, pick());
    m.data_dir = root_ + "/" + m.name;
    m.log = root_ + "/" + m.name + ".log";
    initial_cluster_ += (initial_cluster_.empty() ? "" : ",") + m.name + "=" + url(m.peer_port);
  }
  for (int id : ids()) SYNOD_TRY(spawn(id));
  for (int id : ids()) SYNOD_TRY(wait_answering(id, 30s));
  return Status::ok();
}

std::vector<int> ProcessCluster::ids() const {
  std::vector<int> out;
  for (int id = 1; id <= options_.members; ++id) out.push_back(id);
  return out;
}

ProcessCluster::Member& ProcessCluster::member(int id) {
  SYNOD_ASSERT(id >= 1 && id <= static_cast<int>(members_.size()));
  return members_[static_cast<size_t>(id - 1)];
}

const ProcessCluster::Member& ProcessCluster::member(int id) const {
  SYNOD_ASSERT(id >= 1 && id <= static_cast<int>(members_.size()));
  return members_[static_cast<size_t>(id - 1)];
}

std::string ProcessCluster::log_path(int id) const {
  return member(id).log;
}

std::string ProcessCluster::client_endpoint(int id) const {
  return "127.0.0.1:" + std::to_string(member(id).client_port);
}

uint16_t ProcessCluster::metrics_port(int id) const {
  return member(id).metrics_port;
}

std::vector<std::string> ProcessCluster::arguments(const Member& m) const {
  return {"--name",
          m.name,
          "--data-dir",
          m.data_dir,
          "--listen-peer-urls",
          url(m.peer_port),
          "--initial-advertise-peer-urls",
          url(m.peer_port),
          "--listen-client-urls",
          url(m.client_port),
          "--listen-metrics-urls",
          url(m.metrics_port),
          "--initial-cluster",
          initial_cluster_,
          "--initial-cluster-token",
          "synod-process-" + options_.label,
          "--heartbeat-interval",
          std::to_string(options_.heartbeat.count()),
          "--election-timeout",
          std::to_string(options_.election.count()),
          "--snapshot-count",
          std::to_string(options_.snapshot_count),
          "--log-level",
          options_.log_level,
          "--engine",
          options_.engine};
}

Status ProcessCluster::spawn(int id) {
  Member& m = member(id);
  {
    std::ofstream marker(m.log, std::ios::app);
    marker << "----- [process cluster] starting " << m.name << " -----\n";
  }
  Result<server::ChildProcess> child = server::ChildProcess::spawn(SYNOD_BINARY, arguments(m), m.log);
  if (!child.is_ok()) return child.status();
  std::lock_guard<std::mutex> lock(mutex_);
  m.process = std::move(child).value();
  m.paused = false;
  m.starting = true;  // not serving() until it answers
  return Status::ok();
}

Status ProcessCluster::wait_answering(int id, Clock::duration timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  Member& m = member(id);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (std::optional<int> status = m.process.poll()) {
        return Status(ErrorCode::kUnavailable, m.name + " " + server::describe_wait_status(*status) +
                                                   " while starting; its log ends with:\n" +
                                                   tail_of_file(m.log, 15));
      }
    }
    if (std::optional<HttpReply> reply = http_get(m.metrics_port, "/metrics", 300ms)) {
      if (reply->status == 200) {
        std::lock_guard<std::mutex> lock(mutex_);
        m.starting = false;
        return Status::ok();
      }
    }
    if (Clock::now() >= deadline) {
      return Status(ErrorCode::kTimedOut, m.name + " did not answer /metrics in time; its log ends with:\n" +
                                              tail_of_file(m.log, 15));
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::vector<int> ProcessCluster::serving() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int> out;
  for (size_t i = 0; i < members_.size(); ++i) {
    const Member& m = members_[i];
    if (m.process.running() && !m.paused && !m.starting) out.push_back(static_cast<int>(i + 1));
  }
  return out;
}

bool ProcessCluster::running(int id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return member(id).process.running();
}

void ProcessCluster::kill9(int id) {
  std::lock_guard<std::mutex> lock(mutex_);
  Member& m = member(id);
  m.process.signal(SIGKILL);
  std::optional<int> status = m.process.wait_for(10s);
  SYNOD_ASSERT_MSG(status.has_value(), "a SIGKILLed member did not exit");
  m.paused = false;
}

void ProcessCluster::kill9_all() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Member& m : members_) m.process.signal(SIGKILL);
  for (Member& m : members_) {
    if (!m.process.running()) continue;
    std::optional<int> status = m.process.wait_for(10s);
    SYNOD_ASSERT_MSG(status.has_value(), "a SIGKILLed member did not exit");
    m.paused = false;
  }
}

void ProcessCluster::sigstop(int id) {
  std::lock_guard<std::mutex> lock(mutex_);
  Member& m = member(id);
  m.paused = true;
  m.process.signal(SIGSTOP);
}

void ProcessCluster::sigcont(int id) {
  std::lock_guard<std::mutex> lock(mutex_);
  Member& m = member(id);
  m.process.signal(SIGCONT);
  m.paused = false;
}

Status ProcessCluster::restore_from(const std::string& backup) {
  for (int id : ids()) {
    Member& m = member(id);
    if (running(id)) return Status(ErrorCode::kInvalidArgument, m.name + " is running");
    std::filesystem::remove_all(m.data_dir);
    std::vector<std::string> args = {"snapshot", "restore", backup};
    std::vector<std::string> flags = arguments(m);
    args.insert(args.end(), flags.begin(), flags.end());
    {
      std::ofstream marker(m.log, std::ios::app);
      marker << "----- [process cluster] restoring " << m.name << " from " << backup << " -----\n";
    }
    SYNOD_TRY_ASSIGN(server::ChildProcess restore, server::ChildProcess::spawn(SYNOD_BINARY, args, m.log));
    std::optional<int> status = restore.wait_for(std::chrono::seconds(60));
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      return Status(ErrorCode::kUnavailable,
                    "restoring " + m.name + " failed; its log ends with:\n" + tail_of_file(m.log, 10));
    }
  }
  return Status::ok();
}

Status ProcessCluster::restart(int id) {
  if (running(id)) return Status(ErrorCode::kInvalidArgument, member(id).name + " is running");
  Status last;
  for (int attempt = 0; attempt < 6; ++attempt) {
    SYNOD_TRY(spawn(id));
    last = wait_answering(id, 30s);
    if (last.is_ok()) return last;
    if (running(id)) return last;  // it runs but does not answer: no point starting another
    // It exited at once: most likely a port of the killed process is not free yet.
    std::this_thread::sleep_for(500ms);
  }
  return last;
}

int ProcessCluster::terminate(int id, std::chrono::milliseconds grace) {
  server::ChildProcess process;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Member& m = member(id);
    if (!m.process.running()) return -1;
    process = std::move(m.process);
    m.paused = false;
  }
  return process.stop(grace);
}

std::vector<int> ProcessCluster::stop_all(std::chrono::milliseconds grace) {
  std::vector<server::ChildProcess> stopping(members_.size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < members_.size(); ++i) {
      stopping[i] = std::move(members_[i].process);
      members_[i].paused = false;
      stopping[i].signal(SIGCONT);
      stopping[i].signal(SIGTERM);
    }
  }
  std::vector<int> statuses(members_.size(), -1);
  for (size_t i = 0; i < members_.size(); ++i) {
    if (stopping[i].running()) statuses[i] = stopping[i].stop(grace);
  }
  return statuses;
}

std::optional<MetricMap> ProcessCluster::metrics(int id, std::chrono::milliseconds timeout) {
  std::optional<HttpReply> reply = http_get(member(id).metrics_port, "/metrics", timeout);
  if (!reply || reply->status != 200) return std::nullopt;
  return parse_metrics(reply->body);
}

std::optional<double> ProcessCluster::metric(int id, const std::string& name,
                                             std::chrono::milliseconds timeout) {
  std::optional<MetricMap> all = metrics(id, timeout);
  if (!all) return std::nullopt;
  auto it = all->find(name);
  if (it == all->end()) return std::nullopt;
  return it->second;
}

std::optional<int> ProcessCluster::leader(const std::set<int>& exclude) {
  std::optional<int> best;
  double best_term = -1;
  for (int id : serving()) {
    if (exclude.count(id) != 0) continue;
    std::optional<MetricMap> m = metrics(id, 300ms);
    if (!m) continue;
    auto is_leader = m->find("etcd_server_is_leader");
    auto term = m->find("synod_server_term");
    if (is_leader == m->end() || is_leader->second != 1.0) continue;
    double t = term == m->end() ? 0 : term->second;
    if (t > best_term) {
      best = id;
      best_term = t;
    }
  }
  return best;
}

std::optional<ProcessCluster::LeaderFound> ProcessCluster::wait_for_leader(Clock::duration timeout,
                                                                           const std::set<int>& exclude) {
  Clock::time_point start = Clock::now();
  while (true) {
    if (std::optional<int> id = leader(exclude)) return LeaderFound{*id, Clock::now() - start};
    if (Clock::now() - start >= timeout) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

bool ProcessCluster::wait_caught_up(int id, Clock::duration timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::optional<double> target;
  while (!target) {
    if (std::optional<int> lead = leader()) target = metric(*lead, "synod_server_commit_index");
    if (Clock::now() >= deadline) return false;
    if (!target) std::this_thread::sleep_for(20ms);
  }
  while (true) {
    std::optional<double> applied = metric(id, "synod_server_apply_index");
    if (applied && *applied >= *target) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::vector<std::string> ProcessCluster::unexpected_exits() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Member& m : members_) {
    if (std::optional<int> status = m.process.poll()) {
      exits_.push_back(m.name + " " + server::describe_wait_status(*status));
    }
  }
  std::vector<std::string> out;
  out.swap(exits_);
  return out;
}

void ProcessCluster::print_logs(std::ostream& out, size_t lines) const {
  for (const Member& m : members_) {
    out << "----- last " << lines << " lines of " << m.log << " -----\n" << tail_of_file(m.log, lines);
  }
}

}  // namespace synod::process_test
