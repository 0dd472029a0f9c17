// `synodctl sem acquire` as real processes against a real three-member cluster (ProcessCluster): many
// contenders, each running a shell command that appends "start <id> <pid> <token>" and "end <id>" to a
// shared file (O_APPEND, one write per line, so the file's order is the order of the writes), never hold
// more than N permits at once, and every one of them runs. A holder killed with SIGKILL (with its
// command, as a crashed machine would be) keeps its permit until its lease expires, and no longer; a
// holder frozen past its TTL finds its permit gone when it wakes, kills its command and exits 3.
//
// Timing: TTL 2 s, so a holder renews every 2/3 s; the cluster's election timeout is 500 ms (so its
// shortest lease TTL is 1 s) and its lessor checks for expired leases every 100 ms.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "client/etcd_connection.h"
#include "client/semaphore_status.h"
#include "process/process_cluster.h"

#ifndef SYNODCTL
#error "SYNODCTL must name the synodctl binary"
#endif

namespace synod::process_test {
namespace {

using namespace std::chrono_literals;

constexpr auto kTtl = 2s;
// A holder renews every TTL/3 (client/lease_keeper.h).
constexpr auto kRenewInterval = std::chrono::duration_cast<std::chrono::milliseconds>(kTtl) / 3;

// One `synodctl sem acquire` in a process group of its own, its output in a log file.
class Contender {
 public:
  Contender(std::string id, const std::vector<std::string>& arguments, const std::string& log)
      : id_(std::move(id)), log_(log) {
    std::vector<std::string> strings = {SYNODCTL};
    strings.insert(strings.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (std::string& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      ::execv(SYNODCTL, argv.data());
      ::_exit(126);
    }
    if (pid_ > 0) ::setpgid(pid_, pid_);
  }
  ~Contender() {
    if (status_) return;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Contender(const Contender&) = delete;
  Contender& operator=(const Contender&) = delete;

  const std::string& id() const { return id_; }
  pid_t pid() const { return pid_; }
  // The exit status once it has exited (-1 for a signal), nullopt while it runs.
  std::optional<int> poll() {
    if (!status_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return status_;
  }
  std::optional<int> wait(Clock::duration timeout) {
    Clock::time_point deadline = Clock::now() + timeout;
    while (!poll() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return status_;
  }
  std::string output() const { return tail_of_file(log_, 20); }

 private:
  std::string id_;
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct Line {
  std::string what;  // start, end, killed
  std::string id;
  pid_t pid = 0;
  int64_t token = 0;
};

std::vector<Line> read_lines(const std::string& path) {
  std::vector<Line> lines;
  std::ifstream in(path);
  std::string text;
  while (std::getline(in, text)) {
    std::istringstream fields(text);
    Line line;
    fields >> line.what >> line.id;
    if (line.what == "start") fields >> line.pid >> line.token;
    lines.push_back(line);
  }
  return lines;
}

const Line* find_line(const std::vector<Line>& lines, const std::string& what, const std::string& id) {
  for (const Line& line : lines) {
    if (line.what == what && line.id == id) return &line;
  }
  return nullptr;
}

// Walks the file in order: the most commands inside at once (a "killed" line ends a holder as "end"
// does); records anything malformed in `errors`.
int most_inside(const std::vector<Line>& lines, std::vector<std::string>& errors) {
  std::set<std::string> inside;
  std::set<int64_t> tokens;
  size_t most = 0;
  for (const Line& line : lines) {
    if (line.what == "start") {
      if (!inside.insert(line.id).second) errors.push_back(line.id + " started twice");
      if (!tokens.insert(line.token).second)
        errors.push_back("token " + std::to_string(line.token) + " twice");
      most = std::max(most, inside.size());
    } else if (line.what == "end" || line.what == "killed") {
      if (inside.erase(line.id) == 0 && line.what == "end")
        errors.push_back(line.id + " ended without starting");
    } else {
      errors.push_back("unreadable line: " + line.what + " " + line.id);
    }
  }
  return static_cast<int>(most);
}

// The shell command of contender `id`: a start line, `seconds` of work, an end line.
std::string work(const std::string& file, double seconds) {
  return "echo \"start $0 $$ $SYNOD_SEM_TOKEN\" >> '" + file + "'; sleep " + std::to_string(seconds) +
         "; echo \"end $0\" >> '" + file + "'";
}

class SemaphoreProcessTest : public ::testing::Test {
 protected:
  void start(const std::string& label) {
    ClusterOptions options;
    options.label = label;
    cluster_ = std::make_unique<ProcessCluster>(options);
    Status started = cluster_->start();
    ASSERT_TRUE(started.is_ok()) << started.to_string();
    ASSERT_TRUE(cluster_->wait_for_leader(20s)) << "no first leader";
    for (int id : cluster_->ids()) endpoints_.push_back(cluster_->client_endpoint(id));
    connection_ = std::make_unique<client::EtcdConnection>(client::ConnectionOptions{endpoints_});
    file_ = cluster_->root() + "/holders.txt";
  }
  void TearDown() override {
    if (HasFailure() && cluster_) {
      std::printf("holders file %s:\n%s\n", file_.c_str(), tail_of_file(file_, 60).c_str());
      for (const auto& contender : contenders_) {
        std::printf("--- %s:\n%s\n", contender->id().c_str(), contender->output().c_str());
      }
    }
    contenders_.clear();
    connection_.reset();
    cluster_.reset();
  }

  // Contender `id` (its number picks the member it talks to first) running `command` under sh.
  Contender& contend(const std::string& id, int permits, const std::string& command, size_t first_member) {
    std::string endpoints;
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      endpoints += (i == 0 ? "" : ",") + endpoints_[(first_member + i) % endpoints_.size()];
    }
    std::vector<std::string> arguments = {"sem",
                                          "acquire",
                                          "s",
                                          "--permits",
                                          std::to_string(permits),
                                          "--ttl",
                                          std::to_string(kTtl.count()),
                                          "--endpoints",
                                          endpoints,
                                          "--timeout",
                                          "120",
                                          "--kill-grace",
                                          "1",
                                          "--",
                                          "sh",
                                          "-c",
                                          command,
                                          id};
    contenders_.push_back(std::make_unique<Contender>(id, arguments, cluster_->root() + "/" + id + ".log"));
    return *contenders_.back();
  }
  std::optional<client::SemaphoreStatus> status() {
    Result<client::SemaphoreStatus> read =
        client::read_semaphore_status(*connection_, "s", Clock::now() + 5s);
    if (!read.is_ok()) return std::nullopt;
    return read.value();
  }
  // Polls the holders file until a line satisfying `match` appears; when it was first seen.
  template <typename Match>
  std::optional<Clock::time_point> wait_for_line(Clock::duration timeout, Match match) {
    Clock::time_point deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      for (const Line& line : read_lines(file_)) {
        if (match(line)) return Clock::now();
      }
      std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
  }
  template <typename Condition>
  bool eventually(Clock::duration timeout, Condition condition) {
    Clock::time_point deadline = Clock::now() + timeout;
    while (!condition()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
  void append(const std::string& text) {
    int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  }

  std::unique_ptr<ProcessCluster> cluster_;
  std::vector<std::string> endpoints_;
  std::unique_ptr<client::EtcdConnection> connection_;
  std::string file_;
  std::vector<std::unique_ptr<Contender>> contenders_;
};

// Twelve contenders for three permits, started at once through different members: never more than three
// commands run at once, every one runs, and the semaphore is empty afterwards.
TEST_F(SemaphoreProcessTest, manyContendersNeverHoldMoreThanThePermits) {
  start("sem-many");
  ASSERT_FALSE(HasFatalFailure());
  constexpr int kContenders = 12;
  constexpr int kPermits = 3;
  Clock::time_point began = Clock::now();
  for (int i = 0; i < kContenders; ++i) contend("c" + std::to_string(i), kPermits, work(file_, 0.4), i);
  for (auto& contender : contenders_) {
    std::optional<int> status = contender->wait(120s);
    ASSERT_TRUE(status) << contender->id() << " did not finish";
    EXPECT_EQ(*status, 0) << contender->id() << ":\n" << contender->output();
  }
  std::vector<Line> lines = read_lines(file_);
  std::vector<std::string> errors;
  int most = most_inside(lines, errors);
  for (const std::string& error : errors) ADD_FAILURE() << error;
  for (int i = 0; i < kContenders; ++i) {
    std::string id = "c" + std::to_string(i);
    EXPECT_TRUE(find_line(lines, "start", id) && find_line(lines, "end", id)) << id << " never ran";
  }
  EXPECT_LE(most, kPermits);
  EXPECT_GE(most, 2) << "the commands never overlapped: the test proves nothing";
  std::printf("[sem] %d contenders, %d permits: at most %d commands at once; all done in %s\n", kContenders,
              kPermits, most, format_ms(Clock::now() - began).c_str());
  std::optional<client::SemaphoreStatus> after = status();
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->holders.empty() && after->waiters.empty()) << "a contender left its key behind";
  EXPECT_EQ(after->permits, kPermits);
}

// A holder and its command die with SIGKILL while three wait: its permit passes to a waiter when its
// lease expires (a TTL after its last renewal, so no sooner than TTL - one renewal interval after the
// kill, and not much later than a TTL after it), the other holder keeps its permit meanwhile, and never
// more than N hold. That other holder is then stopped with SIGTERM, which synodctl passes on to its
// command, and it exits with the command's status.
TEST_F(SemaphoreProcessTest, aHolderKilledWithItsCommandKeepsItsPermitUntilItsLeaseExpires) {
  start("sem-kill");
  ASSERT_FALSE(HasFatalFailure());
  constexpr int kPermits = 2;
  Contender& steady = contend("steady", kPermits, work(file_, 120), 0);
  ASSERT_TRUE(
      wait_for_line(30s, [](const Line& line) { return line.what == "start" && line.id == "steady"; }));
  Contender& victim = contend("victim", kPermits, work(file_, 120), 1);
  ASSERT_TRUE(
      wait_for_line(30s, [](const Line& line) { return line.what == "start" && line.id == "victim"; }));
  for (int i = 0; i < 3; ++i) contend("w" + std::to_string(i), kPermits, work(file_, 0.3), i);
  ASSERT_TRUE(eventually(30s, [&] {
    std::optional<client::SemaphoreStatus> now = status();
    return now && now->holders.size() == 2 && now->waiters.size() == 3;
  })) << "the waiters never queued";
  std::vector<Line> before = read_lines(file_);
  const Line* victim_start = find_line(before, "start", "victim");
  ASSERT_NE(victim_start, nullptr);
  pid_t victim_command = victim_start->pid;

  Clock::time_point kill_time = Clock::now();
  ::kill(-victim.pid(), SIGKILL);
  ::kill(-victim_command, SIGKILL);  // the command's own process group (synodctl gives it one)
  append("killed victim\n");
  std::optional<Clock::time_point> taken = wait_for_line(
      kTtl + 10s, [](const Line& line) { return line.what == "start" && line.id.rfind("w", 0) == 0; });
  ASSERT_TRUE(taken) << "no waiter got the dead holder's permit";
  Clock::duration handover = *taken - kill_time;
  std::printf("[sem] SIGKILL of a holder -> a waiter runs %s later (TTL %s, renewals every %s)\n",
              format_ms(handover).c_str(), format_ms(kTtl).c_str(), format_ms(kRenewInterval).c_str());
  // The victim's last renewal went out at most one interval before the kill, and the cluster keeps a
  // lease a TTL after applying its last renewal.
  EXPECT_GE(handover, kTtl - kRenewInterval - 50ms) << "the permit passed on before the lease could expire";
  // The lessor checks every 100 ms; the revoke commits, the waiter's watch fires, it confirms with a
  // read, and synodctl starts sh, all on a loaded two-core machine with sanitizers.
  EXPECT_LE(handover, kTtl + 1500ms);

  // The waiters take turns at the one free permit while the steady holder keeps the other.
  for (auto& contender : contenders_) {
    if (contender.get() == &steady || contender.get() == &victim) continue;
    std::optional<int> status = contender->wait(60s);
    ASSERT_TRUE(status) << contender->id() << " did not finish";
    EXPECT_EQ(*status, 0) << contender->id() << ":\n" << contender->output();
  }
  EXPECT_FALSE(steady.poll()) << "the steady holder stopped early: " << steady.output();
  ::kill(steady.pid(), SIGTERM);
  std::optional<int> stopped = steady.wait(30s);
  ASSERT_TRUE(stopped) << "SIGTERM did not end the steady holder";
  EXPECT_EQ(*stopped, 128 + SIGTERM) << steady.output();

  std::vector<Line> lines = read_lines(file_);
  std::vector<std::string> errors;
  int most = most_inside(lines, errors);
  for (const std::string& error : errors) ADD_FAILURE() << error;
  EXPECT_LE(most, kPermits);
  EXPECT_EQ(find_line(lines, "end", "victim"), nullptr);
  EXPECT_EQ(find_line(lines, "end", "steady"), nullptr) << "the steady holder's command was not stopped";
  for (const char* id : {"w0", "w1", "w2"})
    EXPECT_TRUE(find_line(lines, "end", id)) << id << " never finished";
  std::optional<client::SemaphoreStatus> after = status();
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->holders.empty() && after->waiters.empty());
}

// A holder frozen (SIGSTOP) past its TTL loses its permit to a waiter; when it wakes it notices, kills
// its command (which had run on unprotected meanwhile: the limit of any lease, which the token exposes)
// and exits 3.
TEST_F(SemaphoreProcessTest, aFrozenHolderFindsItsPermitGoneKillsItsCommandAndExitsThree) {
  start("sem-freeze");
  ASSERT_FALSE(HasFatalFailure());
  Contender& frozen = contend("frozen", 1, work(file_, 60), 0);
  ASSERT_TRUE(
      wait_for_line(30s, [](const Line& line) { return line.what == "start" && line.id == "frozen"; }));
  Contender& next = contend("next", 1, work(file_, 0.2), 1);
  ASSERT_TRUE(eventually(30s, [&] {
    std::optional<client::SemaphoreStatus> now = status();
    return now && now->waiters.size() == 1;
  }));
  ::kill(frozen.pid(), SIGSTOP);
  ASSERT_TRUE(wait_for_line(kTtl + 10s, [](const Line& line) {
    return line.what == "start" && line.id == "next";
  })) << "the frozen holder's lease never expired";
  Clock::time_point woken = Clock::now();
  ::kill(frozen.pid(), SIGCONT);
  std::optional<int> status = frozen.wait(10s);
  ASSERT_TRUE(status) << "the woken holder did not give up";
  EXPECT_EQ(*status, 3) << frozen.output();
  EXPECT_NE(frozen.output().find("lost the permit"), std::string::npos) << frozen.output();
  std::printf("[sem] woken holder exited %d after %s\n", *status, format_ms(Clock::now() - woken).c_str());
  std::optional<int> next_status = next.wait(30s);
  ASSERT_TRUE(next_status);
  EXPECT_EQ(*next_status, 0) << next.output();

  std::vector<Line> lines = read_lines(file_);
  EXPECT_EQ(find_line(lines, "end", "frozen"), nullptr) << "the command went on after its permit was lost";
  const Line* old_holder = find_line(lines, "start", "frozen");
  const Line* new_holder = find_line(lines, "start", "next");
  ASSERT_TRUE(old_holder && new_holder);
  EXPECT_GT(new_holder->token, old_holder->token) << "a fenced resource could not tell the two apart";
  EXPECT_NE(::kill(old_holder->pid, 0), 0) << "the frozen holder's command still runs";
}

}  // namespace
}  // namespace synod::process_test
