// synod-check: decides whether a client history (JSON Lines, docs/history-format.md) is linearizable
// against a key-value map, and explains why not.
//
// Exit status: 0 linearizable, 1 not linearizable, 2 undecided (the timeout passed first), 3 malformed
// input, unreadable file or bad arguments.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "check/history.h"
#include "check/linearizability.h"
#include "check/timeline_html.h"

namespace {

constexpr int kExitLinearizable = 0;
constexpr int kExitNotLinearizable = 1;
constexpr int kExitUndecided = 2;
constexpr int kExitBadInput = 3;
// Longer timeouts are taken as this (a century), which also keeps the conversion in range.
constexpr double kTimeoutSecondsMax = 3.2e9;

void usage(std::ostream& out) {
  out << "usage: synod-check FILE [--timeout S] [--html OUT]\n"
         "\n"
         "Checks that the key-value history in FILE (JSON Lines, one operation per line; see\n"
         "docs/history-format.md; '-' reads standard input) is linearizable. Each key is checked on its\n"
         "own; operations of unknown outcome may take effect at any time after their call, or never.\n"
         "\n"
         "  --timeout S   give up after S seconds (a decimal number) and answer 'undecided';\n"
         "                default: no limit\n"
         "  --html OUT    also write a self-contained HTML page to OUT: the verdict and a timeline of\n"
         "                the offending key's history with the operations that cannot be ordered\n"
         "  --help        this text\n"
         "\n"
         "Exit status: 0 linearizable, 1 not linearizable, 2 undecided within the timeout,\n"
         "3 malformed history (the message names the line), unreadable file or bad arguments.\n";
}

int bad_usage(const std::string& message) {
  std::cerr << "synod-check: " << message << "\n(synod-check --help for usage)\n";
  return kExitBadInput;
}

struct Arguments {
  std::string file;
  std::optional<std::chrono::steady_clock::duration> timeout;
  std::string html;
};

std::optional<std::chrono::steady_clock::duration> parse_timeout(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double seconds = std::strtod(text.c_str(), &end);
  if (errno != 0 || end == nullptr || *end != '\0' || !std::isfinite(seconds) || seconds <= 0)
    return std::nullopt;
  seconds = std::min(seconds, kTimeoutSecondsMax);
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

// Returns an exit status if the arguments end the run (help, errors), nullopt to go on.
std::optional<int> parse_arguments(int argc, char** argv, Arguments* arguments) {
  bool have_file = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string option = arg;
    std::optional<std::string> inline_value;
    if (arg.starts_with("--") && arg.find('=') != std::string::npos) {
      option = arg.substr(0, arg.find('='));
      inline_value = arg.substr(arg.find('=') + 1);
    }
    if (option == "--help" || option == "-h") {
      usage(std::cout);
      return kExitLinearizable;
    }
    if (option == "--timeout" || option == "--html") {
      std::string value;
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return bad_usage(option + " needs a value");
      }
      if (option == "--timeout") {
        arguments->timeout = parse_timeout(value);
        if (!arguments->timeout)
          return bad_usage("--timeout needs a positive number of seconds, got '" + value + "'");
      } else {
        if (value.empty()) return bad_usage("--html needs a file name");
        arguments->html = value;
      }
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') return bad_usage("unknown option '" + arg + "'");
    if (have_file)
      return bad_usage("one history file only (got '" + arguments->file + "' and '" + arg + "')");
    arguments->file = arg;
    have_file = true;
  }
  if (!have_file) return bad_usage("no history file given");
  return std::nullopt;
}

std::optional<std::string> read_input(const std::string& file) {
  if (file == "-") {
    std::ostringstream text;
    text << std::cin.rdbuf();
    return text.str();
  }
  std::error_code error;
  if (std::filesystem::is_directory(file, error)) {
    std::cerr << "synod-check: '" << file << "' is a directory, not a history file\n";
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "synod-check: cannot read '" << file << "': " << std::strerror(errno) << '\n';
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    std::cerr << "synod-check: error while reading '" << file << "'\n";
    return std::nullopt;
  }
  return text;
}

bool write_html(const std::string& path, const std::string& page) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << page;
  out.close();
  if (!out) {
    std::cerr << "synod-check: cannot write '" << path << "': " << std::strerror(errno) << '\n';
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments arguments;
  if (std::optional<int> done = parse_arguments(argc, argv, &arguments)) return *done;
  std::optional<std::string> text = read_input(arguments.file);
  if (!text) return kExitBadInput;

  synod::Result<synod::check::History> history = synod::check::parse_history(*text);
  if (!history.is_ok()) {
    std::cerr << "synod-check: " << arguments.file << ": " << history.status().message() << '\n';
    return kExitBadInput;
  }
  synod::check::CheckOptions options;
  options.timeout = arguments.timeout;
  synod::check::CheckResult result = synod::check::check_linearizability(history.value(), options);
  std::cout << synod::check::describe_result(result, history.value());

  if (!arguments.html.empty()) {
    if (!write_html(arguments.html,
                    synod::check::render_timeline_html(history.value(), result, arguments.file))) {
      return kExitBadInput;
    }
    std::cout << "timeline: " << arguments.html << '\n';
  }
  switch (result.verdict) {
    case synod::check::Verdict::kLinearizable: return kExitLinearizable;
    case synod::check::Verdict::kNotLinearizable: return kExitNotLinearizable;
    case synod::check::Verdict::kUndecided: return kExitUndecided;
    case synod::check::Verdict::kMalformed: break;
  }
  std::cerr << "synod-check: " << arguments.file << ": " << result.message << '\n';
  return kExitBadInput;
}
