#include "client/guarded_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "client/deadline.h"

extern char** environ;

namespace synod::client {

using namespace std::chrono_literals;

namespace {

// The program's path: as given if it names one, else the first executable file of that name on PATH.
std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = colon + 1;
  }
  return std::nullopt;
}

std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    size_t equals = text.find('=');
    if (equals != std::string::npos) merged[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [name, value] : extra) merged[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : merged) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void write_all(int fd, const char* text) {
  size_t left = std::strlen(text);
  while (left > 0) {
    ssize_t wrote = ::write(fd, text, left);
    if (wrote <= 0) return;
    text += wrote;
    left -= static_cast<size_t>(wrote);
  }
}

// In the child, between fork and exec: only async-signal-safe calls (the parent has other threads).
[[noreturn]] void exec_child(pid_t parent, const char* path, char** argv, char** envp, const char* failure) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);  // the parent died before the line above
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the parent blocks the signals it forwards
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &defaults, nullptr);  // gRPC ignores SIGPIPE; a pipeline in the command must not
  ::execve(path, argv, envp);
  int error = errno;
  write_all(STDERR_FILENO, failure);
  write_all(STDERR_FILENO, std::strerror(error));
  write_all(STDERR_FILENO, "\n");
  ::_exit(error == ENOENT ? 127 : 126);
}

// Hands the terminal's foreground to `group` (or back to ours); SIGTTOU would stop a background
// caller, so it is blocked around the call.
void give_terminal(pid_t group) {
  sigset_t ttou;
  sigset_t before;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::pthread_sigmask(SIG_BLOCK, &ttou, &before);
  ::tcsetpgrp(STDIN_FILENO, group);
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

CommandOutcome run_guarded(const GuardedCommand& command) {
  CommandOutcome outcome;
  if (command.argv.empty()) {
    outcome.exit_code = 126;
    outcome.error = "no command given";
    return outcome;
  }
  std::optional<std::string> path = find_program(command.argv[0]);
  if (!path) {
    outcome.exit_code = 127;
    outcome.error = command.argv[0] + ": command not found";
    return outcome;
  }
  // Everything the child needs is built before fork: after it, the child may not allocate.
  std::vector<std::string> argv_strings = command.argv;
  std::vector<std::string> env_strings = environment_with(command.environment);
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<char*> envp = pointers(env_strings);
  std::string failure = "synodctl: cannot run " + command.argv[0] + ": ";
  bool foreground = ::isatty(STDIN_FILENO) != 0 && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp();

  pid_t parent = ::getpid();
  pid_t child = ::fork();
  if (child < 0) {
    outcome.exit_code = 126;
    outcome.error = std::string("fork: ") + std::strerror(errno);
    return outcome;
  }
  if (child == 0) exec_child(parent, path->c_str(), argv.data(), envp.data(), failure.c_str());
  ::setpgid(child, child);  // also here, so signals to the group cannot race the child's own call
  if (foreground) give_terminal(child);

  int status = 0;
  std::optional<Clock::time_point> kill_at;
  while (true) {
    pid_t reaped = ::waitpid(child, &status, WNOHANG | (foreground ? WUNTRACED : 0));
    if (reaped == child && WIFSTOPPED(status)) {
      // Ctrl-Z reached the command, which has the terminal: stop as one job with it, so the shell sees a
      // stopped job, and carry on together when continued. (Stopped, nothing renews the lease: a long
      // stop loses the permit, as it should.)
      give_terminal(::getpgrp());
      ::raise(SIGSTOP);
      if (::tcgetpgrp(STDIN_FILENO) == ::getpgrp()) give_terminal(child);  // `fg`, not `bg`
      ::kill(-child, SIGCONT);
      continue;
    }
    if (reaped == child || (reaped < 0 && errno != EINTR)) break;
    if (command.take_signal) {
      if (int signal_number = command.take_signal(); signal_number != 0) ::kill(-child, signal_number);
    }
    if (!outcome.permit_lost && command.still_valid && !command.still_valid()) {
      outcome.permit_lost = true;
      ::kill(-child, SIGTERM);
      kill_at = Clock::now() + command.kill_grace;
    }
    if (kill_at && Clock::now() >= *kill_at) {
      ::kill(-child, SIGKILL);
      kill_at.reset();
    }
    // Polling: a lost permit is noticed within this period, which is far below any lease's TTL.
    std::this_thread::sleep_for(20ms);
  }
  // Whatever the command left running in its group has no permit either.
  if (outcome.permit_lost) ::kill(-child, SIGKILL);
  if (foreground) give_terminal(::getpgrp());
  outcome.exit_code = exit_code_of(status);
  return outcome;
}

}  // namespace synod::client
