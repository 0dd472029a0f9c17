// The HTML timeline: what it highlights, that it escapes what it shows, and that any times (the whole
// int64_t range) give a page.
#include "check/timeline_html.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "history_builders.h"

namespace synod::check::test {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t found = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++found;
  return found;
}

TEST(TimelineHtml, highlightsTheStuckWindowAndNumbersThePartialLinearization) {
  History history = {put(1, "x", "1", 0, 10), put(1, "x", "2", 20, 30), get(2, "x", "1", 40, 50),
                     put(1, "unrelated-key", "z", 0, 10)};
  CheckResult result = check_linearizability(history);
  ASSERT_EQ(result.verdict, Verdict::kNotLinearizable);
  std::string page = render_timeline_html(history, result, "h.jsonl");
  // Drawn twice: in the zoomed window and in the whole history.
  EXPECT_EQ(count(page, "<g class=\"ok stuck frontier\">"), 2U) << page;
  EXPECT_NE(page.find(">#2 put &quot;2&quot;</text>"), std::string::npos) << page;
  EXPECT_EQ(page.find("unrelated-key"), std::string::npos) << "only the offending key is drawn";
}

TEST(TimelineHtml, linearizablePageHasTheVerdictAndNoTimeline) {
  History history = {put(1, "x", "1", 0, 10)};
  std::string page = render_timeline_html(history, check_linearizability(history), "<file>");
  EXPECT_NE(page.find("<h2 class=\"verdict-good\">linearizable</h2>"), std::string::npos) << page;
  EXPECT_NE(page.find("synod-check: &lt;file&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<svg"), std::string::npos);
}

TEST(TimelineHtml, escapesKeysAndValues) {
  History history = {put(1, "<k&>", "</svg><script>", 0, 10), get(2, "<k&>", "'\"", 20, 30)};
  std::string page = render_timeline_html(history, check_linearizability(history), "h");
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<k&>"), std::string::npos);
  EXPECT_NE(page.find("&lt;k&amp;&gt;"), std::string::npos);
}

TEST(TimelineHtml, rendersTimesAtTheEndsOfTheInt64Range) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  History history = {put(1, "x", "1", kMin, kMin + 1), unknown(put(3, "x", "3", kMin, 0)),
                     put(1, "x", "2", 0, kMax - 1), get(2, "x", "1", kMax, kMax)};
  CheckResult result = check_linearizability(history);
  ASSERT_EQ(result.verdict, Verdict::kNotLinearizable);
  std::string page = render_timeline_html(history, result, "h");
  EXPECT_EQ(count(page, "<svg"), count(page, "</svg>"));
  EXPECT_NE(page.find("stuck"), std::string::npos);
}

}  // namespace
}  // namespace synod::check::test
