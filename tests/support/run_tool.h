// Running a built tool from a test: its exit status and everything it printed (stdout and stderr).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace synod::testing_support {

struct ToolRun {
  int exit_status = -1;
  std::string output;
};

inline ToolRun run_tool(const std::string& binary, const std::string& arguments) {
  std::string command = binary + " " + arguments + " 2>&1";
  ToolRun result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, got);
  int status = ::pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace synod::testing_support
