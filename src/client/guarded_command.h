// Running a command only while something (a permit) stays valid: `synodctl sem acquire ... -- COMMAND`.
//
// The command runs as a child in a process group of its own, so that when the permit is lost the whole
// command (a shell and what it started) can be stopped: SIGTERM to the group, SIGKILL after a grace
// period. It is also told to die (SIGKILL) when its parent dies (PR_SET_PDEATHSIG): a supervisor that
// crashed no longer keeps the lease alive, so the command must not run on unprotected. That covers the
// direct child only; processes it started live on unless they are killed with it, which is why a
// command's real guard is the fencing token it is given.
//
// If this process is in the terminal's foreground, the terminal is handed to the command's group while it
// runs (so Ctrl-C and interactive programs reach it) and taken back afterwards; a Ctrl-Z stops both.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace synod::client {

struct GuardedCommand {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH unless it contains a '/'
  std::vector<std::pair<std::string, std::string>> environment;  // added to (or replacing) ours
  std::chrono::milliseconds kill_grace{2000};
  // Polled while the command runs: false once the permit may be gone.
  std::function<bool()> still_valid;
  // Polled while the command runs: a signal this process received, to pass on to the command (0: none).
  std::function<int()> take_signal;
};

struct CommandOutcome {
  // The command's exit status, or 128 + the signal that ended it, as shells report it; 126 when it could
  // not be run, 127 when it was not found.
  int exit_code = 0;
  bool permit_lost = false;  // it was killed because still_valid() turned false
  std::string error;         // why it could not be started
};

// Runs the command to its end. Call it from the main thread: the child's parent-death signal fires when
// the thread that forked it exits.
CommandOutcome run_guarded(const GuardedCommand& command);

}  // namespace synod::client
