// ChildProcess: a program started with fork+exec, its output sent to a file, that can be signalled
// and reaped. `synod local` runs its members this way, and the real-process tests use it to kill -9,
// SIGSTOP and restart members.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace synod::server {

class ChildProcess {
 public:
  // Starts `program` with `args` (not including argv[0]); stdout and stderr are appended to
  // `output_file` (or inherited when it is empty).
  static Result<ChildProcess> spawn(const std::string& program, const std::vector<std::string>& args,
                                    const std::string& output_file);

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();  // kills (SIGKILL) and reaps a child still running

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  void signal(int number) const;
  // Reaps the child if it has exited; returns its wait status then (see WIFEXITED...).
  std::optional<int> poll();
  // Waits up to `limit` for it to exit; nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  // SIGTERM, then SIGKILL if it has not exited after `grace`. Returns its wait status.
  int stop(std::chrono::milliseconds grace);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// "exited with status 2", "killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

// The path of the running executable (/proc/self/exe).
std::string self_executable();

// Finds a free TCP port on `host` by binding port 0 (another process may take it before it is used;
// callers that need certainty retry).
Result<uint16_t> free_port(const std::string& host = "127.0.0.1");

}  // namespace synod::server
