// The history format (docs/history-format.md): what is read, what is written, and that every broken rule
// is refused with its line number and what is wrong. Bad input, random or hostile, never crashes it.
#include "check/history.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "history_builders.h"

namespace synod::check::test {
namespace {

constexpr std::string_view kSpecExample =
    R"({"client":1,"op":"put","key":"x","value":"5","call":100,"return":180,"status":"ok"}
{"client":2,"op":"get","key":"x","call":120,"return":150,"status":"ok","output":"5"}
{"client":3,"op":"cas","key":"x","expect":"5","value":"6","call":130,"return":200,"status":"ok","output":true}
{"client":4,"op":"delete","key":"x","call":140,"return":null,"status":"unknown"}
)";

std::string error_of(std::string_view text) {
  Result<History> history = parse_history(text);
  return history.is_ok() ? "(parsed)" : history.status().message();
}

TEST(HistoryFormat, parsesTheSpecExample) {
  Result<History> parsed = parse_history(kSpecExample);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  const History& history = parsed.value();
  ASSERT_EQ(history.size(), 4U);
  EXPECT_EQ(history[0].kind, OpKind::kPut);
  EXPECT_EQ(history[0].value, "5");
  EXPECT_EQ(history[0].return_time, 180);
  EXPECT_EQ(history[1].read, "5");
  EXPECT_EQ(history[2].expect, "5");
  EXPECT_TRUE(history[2].cas_succeeded);
  EXPECT_EQ(history[3].status, OpStatus::kUnknown);
  EXPECT_FALSE(history[3].return_time.has_value());
  EXPECT_EQ(history[3].line, 4U);
}

TEST(HistoryFormat, writesTheSpecExampleByteForByte) {
  std::ostringstream out;
  write_history(out, parse_history(kSpecExample).value());
  EXPECT_EQ(out.str(), kSpecExample);
}

TEST(HistoryFormat, roundTripsEveryKindAndStatus) {
  History history = {get(1, "k", std::nullopt, 0, 1),
                     get(1, "k", "quote\" back\\slash \x01 \xc3\xa9", 2, 3),
                     put(2, "", "", -5, -5),
                     del(3, "k", 4, 9),
                     cas(4, "k", "a", "b", false, 1, 2),
                     unknown(cas(5, "k", "a", "b", true, 1, 0), 7),
                     failed(put(6, "k", "v", 3, 4)),
                     unknown(get(7, "k", "x", 1, 2))};
  std::ostringstream out;
  write_history(out, history);
  Result<History> parsed = parse_history(out.str());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string() << "\n" << out.str();
  std::ostringstream again;
  write_history(again, parsed.value());
  EXPECT_EQ(again.str(), out.str());
  EXPECT_EQ(parsed.value()[1].read, history[1].read);
  EXPECT_EQ(parsed.value()[2].call, -5);
}

TEST(HistoryFormat, blankLinesAreSkippedButCounted) {
  std::string text = "\n  \r\n" + std::string(kSpecExample.substr(0, kSpecExample.find('\n'))) + "\r\n\n{}\n";
  EXPECT_EQ(error_of(text), "line 5: missing \"op\"");
}

TEST(HistoryFormat, outputIsIgnoredWhereItMeansNothing) {
  // put and delete outputs, and any output of an unknown or failed operation, are ignored.
  EXPECT_EQ(
      error_of(
          R"({"client":1,"op":"put","key":"x","value":"1","call":1,"return":2,"status":"ok","output":[1]})"),
      "(parsed)");
  EXPECT_EQ(
      error_of(R"({"client":1,"op":"get","key":"x","call":1,"return":null,"status":"unknown","output":5})"),
      "(parsed)");
  EXPECT_EQ(
      error_of(
          R"({"client":1,"op":"cas","key":"x","expect":"a","value":"b","call":1,"return":3,"status":"fail"})"),
      "(parsed)");
}

struct BadLine {
  std::string json;
  std::string message;  // the whole message after "line 3: "
};

// Each bad line goes third, after two good ones, so the line number is checked too.
TEST(HistoryFormat, rejectsEachBrokenRuleWithItsLineNumber) {
  const std::vector<BadLine> cases = {
      {R"({"client":1,"op":"cas","key":"x","value":"6","call":1,"return":2,"status":"ok","output":true})",
       "cas needs \"expect\""},
      {R"({"client":1,"op":"put","key":"x","call":1,"return":2,"status":"ok"})", "put needs \"value\""},
      {R"({"client":1,"op":"get","key":"x","value":"1","call":1,"return":2,"status":"ok","output":null})",
       "get takes no \"value\""},
      {R"({"client":1,"op":"delete","key":"x","expect":"1","call":1,"return":2,"status":"ok"})",
       "delete takes no \"expect\""},
      {R"({"client":1,"op":"incr","key":"x","call":1,"return":2,"status":"ok"})",
       "unknown op \"incr\" (expected get, put, delete or cas)"},
      {R"({"client":1,"key":"x","call":1,"return":2,"status":"ok"})", "missing \"op\""},
      {R"({"op":"delete","key":"x","call":1,"return":2,"status":"ok"})", "missing \"client\""},
      {R"({"client":1,"op":"delete","call":1,"return":2,"status":"ok"})", "missing \"key\""},
      {R"({"client":1,"op":"delete","key":"x","return":2,"status":"ok"})", "missing \"call\""},
      {R"({"client":1,"op":"delete","key":"x","call":1,"status":"ok"})",
       "missing \"return\" (use null if it never returned)"},
      {R"({"client":1,"op":"delete","key":"x","call":1,"return":2})", "missing \"status\""},
      {R"({"client":1,"op":"delete","key":"x","call":1,"return":2,"status":"maybe"})",
       "unknown status \"maybe\" (expected ok, fail or unknown)"},
      {R"({"client":1,"op":"delete","key":"x","call":10,"return":9,"status":"ok"})",
       "\"return\" (9) is before \"call\" (10)"},
      {R"({"client":1,"op":"delete","key":"x","call":10,"return":null,"status":"ok"})",
       "an ok operation needs a \"return\" time, not null"},
      {R"({"client":1,"op":"get","key":"x","call":1,"return":2,"status":"ok"})",
       "an ok get needs \"output\" (the value read, or null if the key was absent)"},
      {R"({"client":1,"op":"get","key":"x","call":1,"return":2,"status":"ok","output":5})",
       "a get's \"output\" must be a string or null, got 5"},
      {R"({"client":1,"op":"cas","key":"x","expect":"a","value":"b","call":1,"return":2,"status":"ok"})",
       "an ok cas needs \"output\" (true if it wrote, false if the compare failed)"},
      {R"({"client":1,"op":"cas","key":"x","expect":"a","value":"b","call":1,"return":2,"status":"ok","output":"true"})",
       "a cas's \"output\" must be true or false, got \"true\""},
      {R"({"client":1,"op":"delete","key":"x","call":1.5,"return":2,"status":"ok"})",
       "\"call\" must be an integer (64-bit), got 1.5"},
      {R"({"client":1,"op":"delete","key":"x","call":1,"return":18446744073709551615,"status":"ok"})",
       "\"return\" must be an integer (64-bit) or null, got 18446744073709551615"},
      {R"({"client":"1","op":"delete","key":"x","call":1,"return":2,"status":"ok"})",
       "\"client\" must be an integer (64-bit), got \"1\""},
      {R"({"client":1,"op":"delete","key":7,"call":1,"return":2,"status":"ok"})",
       "\"key\" must be a string, got 7"},
      {R"({"client":1,"op":["get"],"key":"x","call":1,"return":2,"status":"ok"})",
       "\"op\" must be a string, got an array"},
      {R"({"client":1,"op":"delete","key":"x","call":1,"return":2,"status":"ok","retrun":3})",
       "unknown field \"retrun\""},
      {R"([1, 2])", "expected a JSON object, got an array"},
      {R"("put")", "expected a JSON object, got \"put\""},
  };
  std::string good = std::string(kSpecExample.substr(0, kSpecExample.find('\n'))) + "\n";
  for (const BadLine& bad : cases) {
    EXPECT_EQ(error_of(good + good + bad.json + "\n" + good), "line 3: " + bad.message) << bad.json;
  }
}

TEST(HistoryFormat, rejectsTextThatIsNotJsonWithItsLineAndColumn) {
  std::string message = error_of("\n{\"client\":1,\"op\":}\n");
  EXPECT_EQ(message.rfind("line 2: not valid JSON: column 18: syntax error", 0), 0U) << message;
  EXPECT_EQ(error_of("{\"client\":1} {}").rfind("line 1: not valid JSON", 0), 0U);
  EXPECT_EQ(error_of("{\"call\":1e999}").rfind("line 1: not valid JSON", 0), 0U);
}

TEST(HistoryFormat, deeplyNestedInputIsRefusedWithoutCrashing) {
  std::string deep(200000, '[');
  EXPECT_EQ(error_of(deep).rfind("line 1: not valid JSON", 0), 0U);
  std::string closed = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of(closed), "line 1: expected a JSON object, got an array");
  std::string in_field = R"({"client":1,"op":)" + closed + "}";
  EXPECT_EQ(error_of(in_field), "line 1: \"op\" must be a string, got an array");
}

// A parse either succeeds or names a line; random bytes and damaged valid lines never crash it.
TEST(HistoryFormat, randomBytesAndDamagedLinesNeverCrashTheParser) {
  Random random(20240611);
  std::string valid(kSpecExample);
  size_t accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    if (round % 3 == 0) {
      size_t length = random.between(0, 200);
      for (size_t k = 0; k < length; ++k) text += static_cast<char>(random.uniform(256));
    } else {
      text = valid;
      size_t damage = random.between(1, 4);
      for (size_t k = 0; k < damage; ++k) {
        size_t at = random.uniform(text.size());
        switch (random.uniform(3)) {
          case 0: text[at] = static_cast<char>(random.uniform(256)); break;
          case 1: text.erase(at, random.between(1, 10)); break;
          default: text.insert(at, 1, "{}[]\",:0-e\n\\"[random.uniform(12)]); break;
        }
      }
    }
    Result<History> parsed = parse_history(text);
    if (parsed.is_ok()) {
      ++accepted;
      continue;
    }
    EXPECT_EQ(parsed.status().message().rfind("line ", 0), 0U) << parsed.status().message();
  }
  // Most damage breaks something; a little (a digit changed in a time) does not.
  EXPECT_LT(accepted, 1500U);
}

}  // namespace
}  // namespace synod::check::test
