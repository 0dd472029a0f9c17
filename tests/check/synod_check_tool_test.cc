// synod-check as a user runs it: exit status for each verdict, messages for bad input and bad flags, and
// the HTML timeline. SYNOD_CHECK_TOOL is the path of the built binary (set by CMake).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/run_tool.h"

namespace {

using synod::testing_support::ToolRun;

class SynodCheckTool : public testing::Test {
 protected:
  void SetUp() override {
    const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
    directory_ = std::filesystem::temp_directory_path() /
                 ("synod-check-test-" + std::to_string(::getpid()) + "-" + info->name());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string write(const std::string& name, const std::string& text) {
    std::filesystem::path path = directory_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  static ToolRun run_tool(const std::string& arguments) {
    return synod::testing_support::run_tool(SYNOD_CHECK_TOOL, arguments);
  }

  std::filesystem::path directory_;
};

constexpr const char* kGood =
    R"({"client":1,"op":"put","key":"x","value":"5","call":100,"return":180,"status":"ok"}
{"client":2,"op":"get","key":"x","call":120,"return":150,"status":"ok","output":"5"}
{"client":3,"op":"cas","key":"x","expect":"5","value":"6","call":130,"return":200,"status":"ok","output":true}
{"client":4,"op":"delete","key":"x","call":140,"return":null,"status":"unknown"}
)";

// A stale read on key "y" (key "x" is fine).
constexpr const char* kStaleRead =
    R"({"client":1,"op":"put","key":"x","value":"1","call":0,"return":10,"status":"ok"}
{"client":1,"op":"put","key":"y","value":"<1>","call":0,"return":10,"status":"ok"}
{"client":1,"op":"put","key":"y","value":"2","call":20,"return":30,"status":"ok"}
{"client":2,"op":"get","key":"y","call":40,"return":50,"status":"ok","output":"<1>"}
{"client":3,"op":"put","key":"y","value":"3","call":45,"return":null,"status":"unknown"}
)";

TEST_F(SynodCheckTool, exitsZeroOnALinearizableHistory) {
  ToolRun run = run_tool(write("good.jsonl", kGood));
  EXPECT_EQ(run.exit_status, 0) << run.output;
  EXPECT_NE(run.output.find("linearizable: 4 operations on 1 key"), std::string::npos) << run.output;
}

TEST_F(SynodCheckTool, exitsOneAndExplainsANonLinearizableHistory) {
  ToolRun run = run_tool(write("stale.jsonl", kStaleRead));
  EXPECT_EQ(run.exit_status, 1) << run.output;
  EXPECT_NE(run.output.find("not linearizable: key \"y\""), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("[40, 50] client 2: get \"y\" -> \"<1>\""), std::string::npos) << run.output;
}

TEST_F(SynodCheckTool, exitsTwoWhenTheTimeoutPassesFirst) {
  std::ostringstream text;
  for (int k = 0; k < 40; ++k) {
    text << R"({"client":)" << k << R"(,"op":"put","key":"x","value":")" << k
         << R"(","call":0,"return":100,"status":"ok"})" << '\n';
  }
  text << R"({"client":99,"op":"get","key":"x","call":0,"return":100,"status":"ok","output":"none"})" << '\n';
  ToolRun run = run_tool(write("hard.jsonl", text.str()) + " --timeout 0.05");
  EXPECT_EQ(run.exit_status, 2) << run.output;
  EXPECT_NE(run.output.find("undecided"), std::string::npos) << run.output;
}

TEST_F(SynodCheckTool, exitsThreeWithTheLineNumberOnMalformedInput) {
  std::string bad = std::string(kGood) +
                    R"({"client":5,"op":"cas","key":"x","value":"6","call":1,"return":2,"status":"ok"})";
  ToolRun run = run_tool(write("bad.jsonl", bad));
  EXPECT_EQ(run.exit_status, 3) << run.output;
  EXPECT_NE(run.output.find("line 5: cas needs \"expect\""), std::string::npos) << run.output;

  std::string binary(
      "\x7f"
      "ELF\x01\x02\x00\xff\xfe garbage\n",
      18);
  run = run_tool(write("binary.jsonl", binary));
  EXPECT_EQ(run.exit_status, 3) << run.output;
  EXPECT_NE(run.output.find("line 1: not valid JSON"), std::string::npos) << run.output;
}

TEST_F(SynodCheckTool, exitsThreeOnAMissingFileOrBadArguments) {
  ToolRun run = run_tool((directory_ / "absent.jsonl").string());
  EXPECT_EQ(run.exit_status, 3);
  EXPECT_NE(run.output.find("cannot read"), std::string::npos) << run.output;
  run = run_tool(directory_.string());
  EXPECT_EQ(run.exit_status, 3);
  EXPECT_NE(run.output.find("is a directory"), std::string::npos) << run.output;
  std::string good = write("good.jsonl", kGood);
  for (const std::string& arguments :
       {std::string(""), good + " --timeout", good + " --timeout abc", good + " --timeout 0",
        good + " --bogus", good + " " + good, good + " --html"}) {
    run = run_tool(arguments);
    EXPECT_EQ(run.exit_status, 3) << arguments << "\n" << run.output;
    EXPECT_NE(run.output.find("synod-check: "), std::string::npos) << arguments << "\n" << run.output;
  }
}

TEST_F(SynodCheckTool, helpDescribesTheExitStatuses) {
  ToolRun run = run_tool("--help");
  EXPECT_EQ(run.exit_status, 0);
  EXPECT_NE(run.output.find("usage: synod-check FILE [--timeout S] [--html OUT]"), std::string::npos);
  EXPECT_NE(run.output.find("Exit status: 0 linearizable, 1 not linearizable, 2 undecided"),
            std::string::npos);
}

TEST_F(SynodCheckTool, writesASelfContainedHtmlTimelineOfTheOffendingKey) {
  std::string html = (directory_ / "timeline.html").string();
  ToolRun run = run_tool(write("stale.jsonl", kStaleRead) + " --html " + html);
  EXPECT_EQ(run.exit_status, 1) << run.output;
  std::ifstream in(html);
  std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0U);
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("class=\"ok stuck frontier\""), std::string::npos);  // the stale get, highlighted
  EXPECT_NE(page.find("<g class=\"unknown\">"), std::string::npos);        // the open-ended unknown put
  EXPECT_NE(page.find("<line class=\"tail\""), std::string::npos);
  EXPECT_NE(page.find("client 3"), std::string::npos);
  EXPECT_EQ(page.find("client 1</text>\n<g class=\"ok\"><title>[0, 10] client 1: put \"x\""),
            std::string::npos)
      << "only key y is drawn";
  EXPECT_NE(page.find("&lt;1&gt;"), std::string::npos) << "values are escaped";
  EXPECT_EQ(page.find("<1>"), std::string::npos);
  // Self-contained: no scripts, links or fetched resources of any kind.
  for (const char* external : {"<script", "<link", "src=", "href=", "url(", "http:", "https:", "@import"}) {
    EXPECT_EQ(page.find(external), std::string::npos) << external;
  }
}

}  // namespace
