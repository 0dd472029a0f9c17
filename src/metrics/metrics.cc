#include "metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <variant>

#include "base/assert.h"

namespace synod::metrics {

static_assert(std::atomic<double>::is_always_lock_free, "the hot path must not lock");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "the hot path must not lock");

enum class Registry::Kind : uint8_t { kCounter, kGauge, kHistogram };

struct Registry::Family {
  using Metric = std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>,
                              std::function<double()>>;
  Kind kind;
  std::string help;
  std::map<Labels, Metric> metrics;
};

namespace {

bool is_name(std::string_view name, bool allow_colon) {
  auto first = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
  };
  auto rest = [&](char c) { return first(c) || (c >= '0' && c <= '9'); };
  return !name.empty() && first(name[0]) && std::all_of(name.begin() + 1, name.end(), rest);
}

// Sorted by name so that one label set has one spelling, whatever order the caller wrote it in.
Labels canonical(Labels labels, Registry::Kind kind) {
  std::sort(labels.begin(), labels.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& name = labels[i].first;
    SYNOD_ASSERT_MSG(is_name(name, false), "malformed label name");
    SYNOD_ASSERT_MSG(!name.starts_with("__"), "label names starting with __ are reserved");
    SYNOD_ASSERT_MSG(i == 0 || labels[i - 1].first != name, "duplicate label name");
    SYNOD_ASSERT_MSG(kind != Registry::Kind::kHistogram || name != "le", "a histogram owns the label le");
  }
  return labels;
}

// Go's strconv.FormatFloat(v, 'g', -1, 64), which the Prometheus clients use, so that the same bucket
// bound renders as the same `le` string as other exporters' (histogram_quantile groups by that string).
void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[64];
  auto sci = std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::scientific);
  std::string_view text(buffer, sci.ptr - buffer);
  size_t e = text.find('e');
  int exponent = 0;
  std::string_view digits = text.substr(e + 2);
  std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
  if (text[e + 1] == '-') exponent = -exponent;
  if (exponent < -4 || exponent >= 6) {
    out += text;
    return;
  }
  auto fixed = std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::fixed);
  out.append(buffer, fixed.ptr);
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `{a="1",b="2"}`, with `le` last for a bucket; nothing when there are no labels.
void append_labels(std::string& out, const Labels& labels, const std::string* le = nullptr) {
  if (labels.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix, const Labels& labels,
                   const std::string* le = nullptr) {
  out += name;
  out += suffix;
  append_labels(out, labels, le);
  out += ' ';
}

void render_histogram(std::string& out, std::string_view name, const Labels& labels, const Histogram& h) {
  // Buckets are read once each and _count is their total, so a scrape racing observe() still renders a
  // consistent histogram (+Inf == _count); only _sum may be an observation ahead or behind.
  uint64_t cumulative = 0;
  std::string le;
  for (size_t i = 0; i <= h.bounds().size(); ++i) {
    cumulative += h.bucket_count(i);
    le.clear();
    if (i < h.bounds().size()) {
      append_double(le, h.bounds()[i]);
    } else {
      le = "+Inf";
    }
    append_sample(out, name, "_bucket", labels, &le);
    out += std::to_string(cumulative);
    out += '\n';
  }
  append_sample(out, name, "_sum", labels);
  append_double(out, h.sum());
  out += '\n';
  append_sample(out, name, "_count", labels);
  out += std::to_string(cumulative);
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    SYNOD_ASSERT_MSG(std::isfinite(bounds_[i]), "histogram bounds must be finite (+Inf is implicit)");
    SYNOD_ASSERT_MSG(i == 0 || bounds_[i - 1] < bounds_[i], "histogram bounds must increase");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // NaN compares false with every bound; like the Prometheus clients it lands in +Inf.
  size_t i = std::isnan(value) ? bounds_.size()
                               : std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) total += bucket_count(i);
  return total;
}

std::vector<double> exponential_buckets(double start, double factor, size_t count) {
  SYNOD_ASSERT(start > 0 && factor > 1);
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (size_t i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

std::vector<double> duration_buckets() {
  return exponential_buckets(0.0001, 2, 16);
}

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help, Kind kind) {
  SYNOD_ASSERT_MSG(is_name(name, true), "malformed metric name");
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto created = std::make_unique<Family>(Family{kind, std::string(help), {}});
    it = families_.emplace(std::string(name), std::move(created)).first;
  }
  Family& f = *it->second;
  SYNOD_ASSERT_MSG(f.kind == kind, "one metric name registered as two kinds");
  SYNOD_ASSERT_MSG(f.help == help, "one metric name registered with two help texts");
  return f;
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, Kind::kCounter);
  auto [it, inserted] = f.metrics.try_emplace(canonical(std::move(labels), Kind::kCounter));
  if (inserted) it->second = std::make_unique<Counter>();
  return *std::get<std::unique_ptr<Counter>>(it->second);
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, Kind::kGauge);
  auto [it, inserted] = f.metrics.try_emplace(canonical(std::move(labels), Kind::kGauge));
  if (inserted) it->second = std::make_unique<Gauge>();
  SYNOD_ASSERT_MSG(std::holds_alternative<std::unique_ptr<Gauge>>(it->second),
                   "a gauge with these labels is already a callback");
  return *std::get<std::unique_ptr<Gauge>>(it->second);
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                               Labels labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, Kind::kHistogram);
  auto [it, inserted] = f.metrics.try_emplace(canonical(std::move(labels), Kind::kHistogram));
  if (inserted) {
    it->second = std::make_unique<Histogram>(std::move(bounds));
  } else {
    SYNOD_ASSERT_MSG(std::get<std::unique_ptr<Histogram>>(it->second)->bounds() == bounds,
                     "one histogram registered with two sets of bounds");
  }
  return *std::get<std::unique_ptr<Histogram>>(it->second);
}

void Registry::gauge_fn(std::string_view name, std::string_view help, Labels labels,
                        std::function<double()> read) {
  SYNOD_ASSERT(read != nullptr);
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, Kind::kGauge);
  auto [it, inserted] = f.metrics.try_emplace(canonical(std::move(labels), Kind::kGauge));
  SYNOD_ASSERT_MSG(inserted || std::holds_alternative<std::function<double()>>(it->second),
                   "a gauge with these labels is already a plain gauge");
  // Registering again replaces the callback: a restarted component points it at its new self.
  it->second = std::move(read);
}

std::string Registry::render() const {
  static constexpr std::string_view kTypes[] = {"counter", "gauge", "histogram"};
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, f->help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += kTypes[static_cast<size_t>(f->kind)];
    out += '\n';
    for (const auto& [labels, metric] : f->metrics) {
      if (const auto* counter = std::get_if<std::unique_ptr<Counter>>(&metric)) {
        append_sample(out, name, "", labels);
        out += std::to_string((*counter)->value());
      } else if (const auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&metric)) {
        append_sample(out, name, "", labels);
        append_double(out, (*gauge)->value());
      } else if (const auto* read = std::get_if<std::function<double()>>(&metric)) {
        append_sample(out, name, "", labels);
        append_double(out, (*read)());
      } else {
        render_histogram(out, name, labels, *std::get<std::unique_ptr<Histogram>>(metric));
        continue;
      }
      out += '\n';
    }
  }
  return out;
}

}  // namespace synod::metrics
