// Running etcdctl 3.4 (Debian's etcd-client) from the API tests: one command and its output, or a
// long-running one (watch, lock, elect) in the background whose output is read as it comes.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

namespace synod::api::test {

inline constexpr const char* kEtcdctl = "/usr/bin/etcdctl";

inline bool etcdctl_installed() {
  return access(kEtcdctl, X_OK) == 0;
}

// The shell command line for etcdctl against `endpoint`.
inline std::string etcdctl_command(const std::string& endpoint, const std::string& args) {
  return std::string("env ETCDCTL_API=3 ") + kEtcdctl + " --endpoints=" + endpoint +
         " --dial-timeout=5s --command-timeout=20s " + args;
}

// Runs etcdctl with `args` (shell words) and `input` on its stdin, for at most 30 s; returns stdout and
// stderr, followed by "[exit N]" when it did not exit 0.
inline std::string run_etcdctl(const std::string& endpoint, const std::string& args,
                               const std::string& input = "") {
  std::string command =
      "printf '%s' '" + input + "' | timeout 30 " + etcdctl_command(endpoint, args) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  std::string output;
  std::array<char, 4096> buffer{};
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  int status = pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) output += "[exit " + std::to_string(status) + "]";
  return output;
}

// A shell command in its own process group, with stdout and stderr in a pipe.
class Background {
 public:
  explicit Background(const std::string& command) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Background() {
    stop(SIGKILL);
    if (fd_ >= 0) close(fd_);
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Sends `signal` to the command and waits for it; returns its wait status.
  int stop(int signal) {
    if (pid_ <= 0) return status_;
    kill(pid_, signal);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }
  // Waits up to `timeout` for the command to exit by itself; true if it did.
  bool wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      poll(nullptr, 0, 20);
    }
    return pid_ <= 0;
  }
  // Reads for up to `timeout` or until `done(output so far)`; returns the output so far.
  std::string read_until(const std::function<bool(const std::string&)>& done,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(output_) && std::chrono::steady_clock::now() < deadline) {
      pollfd fd{fd_, POLLIN, 0};
      if (poll(&fd, 1, 50) <= 0) continue;
      std::array<char, 4096> buffer{};
      ssize_t n = read(fd_, buffer.data(), buffer.size());
      if (n <= 0) break;
      output_.append(buffer.data(), static_cast<size_t>(n));
    }
    return output_;
  }
  // Reads until the output so far equals `wanted` (or 20 s pass).
  std::string read_until(const std::string& wanted) {
    return read_until(
        [&](const std::string& out) { return out == wanted || out.size() > wanted.size() + 4096; });
  }
  std::string read_for(std::chrono::milliseconds timeout) {
    return read_until([](const std::string&) { return false; }, timeout);
  }
  std::string read_until_contains(const std::string& wanted) {
    return read_until([&](const std::string& out) { return out.find(wanted) != std::string::npos; });
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int status_ = 0;
  std::string output_;
};

// Runs a command to its end; returns stdout and stderr.
inline std::string run(const std::string& command) {
  FILE* pipe = popen(("timeout 30 " + command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  std::string output;
  std::array<char, 4096> buffer{};
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  pclose(pipe);
  return output;
}

}  // namespace synod::api::test
