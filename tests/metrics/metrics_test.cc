// The metrics registry: the exact Prometheus text (0.0.4) each kind of metric renders to, labels and
// their escaping, numbers as the Prometheus clients format them, and updates from many threads adding up.
#include "metrics/metrics.h"

#include <atomic>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace synod::metrics {
namespace {

TEST(Metrics, CounterRendersHelpTypeAndValue) {
  Registry registry;
  Counter& proposals = registry.counter("synod_proposals_total", "Proposals accepted.");
  proposals.inc();
  proposals.inc(41);
  EXPECT_EQ(proposals.value(), 42U);
  EXPECT_EQ(registry.render(),
            "# HELP synod_proposals_total Proposals accepted.\n"
            "# TYPE synod_proposals_total counter\n"
            "synod_proposals_total 42\n");
}

TEST(Metrics, OneFamilyRendersItsLabelledMetricsTogetherSortedByLabels) {
  Registry registry;
  registry.counter("synod_sent_total", "Messages sent.", {{"peer", "2"}}).inc(3);
  registry.counter("synod_sent_total", "Messages sent.", {{"peer", "10"}}).inc();
  registry.counter("synod_sent_total", "Messages sent.");
  EXPECT_EQ(registry.render(),
            "# HELP synod_sent_total Messages sent.\n"
            "# TYPE synod_sent_total counter\n"
            "synod_sent_total 0\n"
            "synod_sent_total{peer=\"10\"} 1\n"
            "synod_sent_total{peer=\"2\"} 3\n");
}

TEST(Metrics, FamiliesRenderSortedByName) {
  Registry registry;
  registry.gauge("synod_b", "B.").set(2);
  registry.counter("synod_a_total", "A.").inc();
  EXPECT_EQ(registry.render(),
            "# HELP synod_a_total A.\n"
            "# TYPE synod_a_total counter\n"
            "synod_a_total 1\n"
            "# HELP synod_b B.\n"
            "# TYPE synod_b gauge\n"
            "synod_b 2\n");
}

TEST(Metrics, LabelsRenderSortedByNameWithValuesEscaped) {
  Registry registry;
  registry.gauge("g", "x", {{"zone", "a\\b\"c\nd"}, {"app", "synod"}}).set(1);
  EXPECT_EQ(registry.render(),
            "# HELP g x\n"
            "# TYPE g gauge\n"
            "g{app=\"synod\",zone=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(Metrics, HelpEscapesBackslashAndNewlineButNotQuotes) {
  Registry registry;
  registry.counter("c", "first line\nsecond \\ \"quoted\"");
  EXPECT_EQ(registry.render(),
            "# HELP c first line\\nsecond \\\\ \"quoted\"\n"
            "# TYPE c counter\n"
            "c 0\n");
}

TEST(Metrics, RegisteringAgainReturnsTheSameMetricWhateverTheLabelOrder) {
  Registry registry;
  Counter& a = registry.counter("c", "x", {{"a", "1"}, {"b", "2"}});
  Counter& b = registry.counter("c", "x", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(&a, &b);
  Histogram& h1 = registry.histogram("h", "x", {1, 2});
  Histogram& h2 = registry.histogram("h", "x", {1, 2});
  EXPECT_EQ(&h1, &h2);
}

TEST(Metrics, GaugeSetAndAdd) {
  Registry registry;
  Gauge& gauge = registry.gauge("synod_queue_bytes", "Bytes queued.", {{"peer", "3"}});
  gauge.set(1.5);
  gauge.add(-0.25);
  EXPECT_EQ(gauge.value(), 1.25);
  EXPECT_EQ(registry.render(),
            "# HELP synod_queue_bytes Bytes queued.\n"
            "# TYPE synod_queue_bytes gauge\n"
            "synod_queue_bytes{peer=\"3\"} 1.25\n");
}

TEST(Metrics, CallbackGaugeIsReadAtRenderTimeAndSharesAFamilyWithPlainGauges) {
  Registry registry;
  double term = 3;
  registry.gauge_fn("synod_term", "Current term.", {{"member", "b"}}, [&term] { return term; });
  registry.gauge("synod_term", "Current term.", {{"member", "a"}}).set(2);
  term = 7;
  EXPECT_EQ(registry.render(),
            "# HELP synod_term Current term.\n"
            "# TYPE synod_term gauge\n"
            "synod_term{member=\"a\"} 2\n"
            "synod_term{member=\"b\"} 7\n");
  // Registering it again replaces the callback (a restarted component re-registers).
  registry.gauge_fn("synod_term", "Current term.", {{"member", "b"}}, [] { return 9.0; });
  EXPECT_NE(registry.render().find("synod_term{member=\"b\"} 9\n"), std::string::npos);
}

TEST(Metrics, NumbersRenderAsTheGoClientsFormatThem) {
  auto rendered = [](double v) {
    Registry registry;
    registry.gauge("g", "x").set(v);
    std::string text = registry.render();
    std::string prefix = "# HELP g x\n# TYPE g gauge\ng ";
    EXPECT_TRUE(text.starts_with(prefix)) << text;
    return text.substr(prefix.size(), text.size() - prefix.size() - 1);
  };
  EXPECT_EQ(rendered(0), "0");
  EXPECT_EQ(rendered(-2), "-2");
  EXPECT_EQ(rendered(0.1), "0.1");
  EXPECT_EQ(rendered(0.0001), "0.0001");
  EXPECT_EQ(rendered(0.00001), "1e-05");
  EXPECT_EQ(rendered(100000), "100000");
  EXPECT_EQ(rendered(1234567), "1.234567e+06");
  EXPECT_EQ(rendered(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(rendered(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(rendered(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(rendered(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
  Registry registry;
  Histogram& h = registry.histogram("synod_apply_seconds", "Apply latency.", {0.25, 0.5, 1}, {{"op", "put"}});
  for (double v : {0.125, 0.25, 0.75, 4.0}) h.observe(v);  // a bound is inclusive (le)
  EXPECT_EQ(h.count(), 4U);
  EXPECT_EQ(h.sum(), 5.125);
  EXPECT_EQ(registry.render(),
            "# HELP synod_apply_seconds Apply latency.\n"
            "# TYPE synod_apply_seconds histogram\n"
            "synod_apply_seconds_bucket{op=\"put\",le=\"0.25\"} 2\n"
            "synod_apply_seconds_bucket{op=\"put\",le=\"0.5\"} 2\n"
            "synod_apply_seconds_bucket{op=\"put\",le=\"1\"} 3\n"
            "synod_apply_seconds_bucket{op=\"put\",le=\"+Inf\"} 4\n"
            "synod_apply_seconds_sum{op=\"put\"} 5.125\n"
            "synod_apply_seconds_count{op=\"put\"} 4\n");
}

TEST(Metrics, HistogramWithoutLabelsAndNaNLandsInInf) {
  Registry registry;
  Histogram& h = registry.histogram("h", "x", {1});
  h.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(registry.render(),
            "# HELP h x\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_sum NaN\n"
            "h_count 1\n");
}

TEST(Metrics, DurationBucketsDoubleFrom100MicrosecondsToAbout3Seconds) {
  std::vector<double> bounds = duration_buckets();
  ASSERT_EQ(bounds.size(), 16U);
  EXPECT_EQ(bounds.front(), 0.0001);
  EXPECT_EQ(bounds.back(), 3.2768);
  Registry registry;
  registry.histogram("synod_wal_fsync_duration_seconds", "x", bounds);
  std::string text = registry.render();
  for (const char* le : {"0.0001", "0.0002", "0.0512", "0.1024", "3.2768"}) {
    EXPECT_NE(text.find(std::string("le=\"") + le + "\""), std::string::npos) << le;
  }
  EXPECT_EQ(exponential_buckets(1, 10, 3), (std::vector<double>{1, 10, 100}));
}

TEST(MetricsDeathTest, MisuseIsAnAssertion) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry registry;
  registry.counter("c", "x");
  EXPECT_DEATH(registry.gauge("c", "x"), "two kinds");
  EXPECT_DEATH(registry.counter("c", "other help"), "help");
  EXPECT_DEATH(registry.counter("1bad", "x"), "metric name");
  EXPECT_DEATH(registry.counter("d", "x", {{"a-b", "1"}}), "label name");
  EXPECT_DEATH(registry.counter("d", "x", {{"a", "1"}, {"a", "2"}}), "duplicate");
  EXPECT_DEATH(registry.histogram("h", "x", {1}, {{"le", "1"}}), "le");
  EXPECT_DEATH(registry.histogram("h", "x", {2, 1}), "increase");
  registry.histogram("h1", "x", {1});
  EXPECT_DEATH(registry.histogram("h1", "x", {2}), "two sets of bounds");
}

TEST(Metrics, ConcurrentUpdatesAllCount) {
  Registry registry;
  Counter& counter = registry.counter("c", "x");
  Gauge& gauge = registry.gauge("g", "x");
  Histogram& histogram = registry.histogram("h", "x", {0.5, 1.5});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50'000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.inc();
        gauge.add(1);
        histogram.observe(t % 2 == 0 ? 1.0 : 2.0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  constexpr uint64_t kTotal = uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(counter.value(), kTotal);
  EXPECT_EQ(gauge.value(), static_cast<double>(kTotal));
  EXPECT_EQ(histogram.count(), kTotal);
  EXPECT_EQ(histogram.bucket_count(0), 0U);
  EXPECT_EQ(histogram.bucket_count(1), kTotal / 2);
  EXPECT_EQ(histogram.bucket_count(2), kTotal / 2);
  EXPECT_EQ(histogram.sum(), 1.5 * kTotal);
}

// Scrapes race registrations and updates; every scrape must still be a consistent histogram.
TEST(Metrics, RenderRacesUpdatesAndRegistrations) {
  Registry registry;
  Histogram& histogram = registry.histogram("h", "x", {1});
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  writers.reserve(4);
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        histogram.observe(i % 3);
        if (i % 1000 == 0)
          registry.counter("c", "x", {{"t", std::to_string(t)}, {"i", std::to_string(i)}}).inc();
      }
    });
  }
  std::thread scraper([&] {
    while (!done) {
      std::istringstream lines(registry.render());
      std::string line;
      std::string inf;
      std::string count;
      while (std::getline(lines, line)) {
        if (line.starts_with("h_bucket{le=\"+Inf\"} ")) inf = line.substr(line.find(' ') + 1);
        if (line.starts_with("h_count ")) count = line.substr(line.find(' ') + 1);
      }
      ASSERT_EQ(inf, count);
    }
  });
  for (auto& writer : writers) writer.join();
  done = true;
  scraper.join();
  EXPECT_EQ(histogram.count(), 80'000U);
  std::string text = registry.render();
  EXPECT_NE(text.find("c{i=\"19000\",t=\"3\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace synod::metrics
