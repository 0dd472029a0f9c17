#include "check/timeline_html.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace synod::check {
namespace {

// Geometry of a timeline, in SVG pixels.
constexpr int kLaneLabelWidth = 90;
constexpr int kAxisHeight = 34;
constexpr int kRowHeight = 24;
constexpr int kBarHeight = 18;
constexpr int kLanePadding = 6;
constexpr int kRightMargin = 20;
constexpr double kBarWidthMin = 3;
constexpr int kTicks = 10;

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Times may be any int64_t, so differences and margins are taken without overflow: saturated, or in double.
int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

double span(int64_t from, int64_t to) {
  return static_cast<double>(to) - static_cast<double>(from);
}

// A margin of 1/divisor of [from, to] on each side, at least 1.
int64_t margin(int64_t from, int64_t to, double divisor) {
  double pad = span(from, to) / divisor;
  return pad < 1 ? 1 : pad > 1e18 ? int64_t{1000000000000000000} : static_cast<int64_t>(pad);
}

// How the counterexample marks operations, by history index.
struct Marks {
  std::map<size_t, size_t> step;  // 1-based step in the partial linearization
  std::set<size_t> window;
  std::set<size_t> pending_unknown;
  std::optional<size_t> frontier;
};

std::string bar_label(const Operation& op, const Marks& marks, size_t index) {
  std::string label;
  if (auto step = marks.step.find(index); step != marks.step.end())
    label = "#" + std::to_string(step->second) + " ";
  switch (op.kind) {
    case OpKind::kGet:
      label += "get";
      if (op.status == OpStatus::kOk) label += " -> " + quote_value(op.read);
      break;
    case OpKind::kPut: label += "put " + quote_value(op.value); break;
    case OpKind::kDelete: label += "delete"; break;
    case OpKind::kCas:
      label += "cas " + quote_value(op.expect) + "->" + quote_value(op.value);
      if (op.status == OpStatus::kOk) label += op.cas_succeeded ? " ok" : " failed";
      break;
  }
  if (op.status == OpStatus::kUnknown) label += " ?";
  if (op.status == OpStatus::kFail) label += " (fail)";
  return label;
}

// One SVG timeline of `indexes` (ops of one key) between times `from` and `to`.
class Timeline {
 public:
  Timeline(const History& history, const Marks& marks, int64_t from, int64_t to, int plot_width)
      : history_(history),
        marks_(marks),
        from_(from),
        to_(std::max(to, saturating_add(from, 1))),
        plot_width_(plot_width) {}

  std::string render(const std::vector<size_t>& indexes) const;

 private:
  double x(int64_t time) const {
    double offset = span(from_, std::clamp(time, from_, to_));
    return kLaneLabelWidth + offset * plot_width_ / std::max(1.0, span(from_, to_));
  }
  // The time an op occupies its row until (for stacking ops of one client into rows).
  static int64_t occupied_until(const Operation& op) { return op.return_time.value_or(op.call); }
  std::string bar(size_t index, int y) const;

  const History& history_;
  const Marks& marks_;
  int64_t from_;
  int64_t to_;
  int plot_width_;
};

std::string Timeline::bar(size_t index, int y) const {
  const Operation& op = history_[index];
  double left = x(op.call);
  double right = std::max(left + kBarWidthMin, x(op.return_time.value_or(op.call)));
  if (op.return_time.value_or(op.call) < from_) right = left;
  std::string css = "ok";
  if (op.status == OpStatus::kFail) css = "fail";
  if (op.status == OpStatus::kUnknown) css = "unknown";
  if (marks_.step.contains(index)) css += " ordered";
  if (marks_.window.contains(index)) css += " stuck";
  if (marks_.pending_unknown.contains(index)) css += " pending";
  if (marks_.frontier == index) css += " frontier";

  std::string tooltip = describe_operation(op);
  if (op.line > 0) tooltip += "\nline " + std::to_string(op.line);
  if (auto step = marks_.step.find(index); step != marks_.step.end()) {
    tooltip += "\nstep " + std::to_string(step->second) + " of the partial linearization";
  }
  if (marks_.window.contains(index)) tooltip += "\ncannot be linearized next";
  if (marks_.frontier == index) tooltip += " (the first pending operation to return)";

  std::ostringstream out;
  out << "<g class=\"" << css << "\"><title>" << escape(tooltip) << "</title>";
  if (op.status == OpStatus::kUnknown) {
    // It may take effect at any time after its call: a dashed tail to the right edge.
    out << "<line class=\"tail\" x1=\"" << right << "\" y1=\"" << y + kBarHeight / 2 << "\" x2=\""
        << kLaneLabelWidth + plot_width_ << "\" y2=\"" << y + kBarHeight / 2 << "\"/>";
  }
  // A bar that ended before this view starts (an unknown op's) shows only its tail.
  if (op.return_time.value_or(op.call) < from_) {
    out << "</g>\n";
    return out.str();
  }
  out << "<rect x=\"" << left << "\" y=\"" << y << "\" width=\"" << right - left << "\" height=\""
      << kBarHeight << "\" rx=\"3\"/>";
  // A nested svg clips the label to its bar.
  out << "<svg x=\"" << left << "\" y=\"" << y << "\" width=\"" << right - left << "\" height=\""
      << kBarHeight << "\"><text x=\"3\" y=\"13\">" << escape(bar_label(op, marks_, index))
      << "</text></svg></g>\n";
  return out.str();
}

std::string Timeline::render(const std::vector<size_t>& indexes) const {
  // Rows: each client gets a lane, split into as many rows as its overlapping operations need.
  std::map<int64_t, std::vector<std::vector<size_t>>> lanes;
  std::vector<size_t> sorted = indexes;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [this](size_t a, size_t b) { return history_[a].call < history_[b].call; });
  for (size_t index : sorted) {
    const Operation& op = history_[index];
    std::vector<std::vector<size_t>>& rows = lanes[op.client];
    auto fits = std::find_if(rows.begin(), rows.end(), [&](const std::vector<size_t>& row) {
      return occupied_until(history_[row.back()]) < op.call;
    });
    if (fits == rows.end()) {
      rows.emplace_back();
      fits = rows.end() - 1;
    }
    fits->push_back(index);
  }
  int height = kAxisHeight;
  for (const auto& [client, rows] : lanes)
    height += static_cast<int>(rows.size()) * kRowHeight + kLanePadding;
  int width = kLaneLabelWidth + plot_width_ + kRightMargin;

  std::ostringstream out;
  out << "<svg width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << ' ' << height
      << "\">\n";
  for (int tick = 0; tick <= kTicks; ++tick) {
    // Clamped inside int64_t's range (2^63 itself is out of it) before the conversion.
    double at_time =
        std::clamp(static_cast<double>(from_) + span(from_, to_) * tick / kTicks, -9.2e18, 9.2e18);
    auto time = static_cast<int64_t>(at_time);
    double at = x(time);
    out << "<line class=\"grid\" x1=\"" << at << "\" y1=\"" << kAxisHeight - 6 << "\" x2=\"" << at
        << "\" y2=\"" << height << "\"/><text class=\"axis\" x=\"" << at << "\" y=\"" << kAxisHeight - 12
        << "\">" << time << "</text>\n";
  }
  if (marks_.frontier) {
    double at = x(*history_[*marks_.frontier].return_time);
    out << "<line class=\"frontier-line\" x1=\"" << at << "\" y1=\"" << kAxisHeight - 6 << "\" x2=\"" << at
        << "\" y2=\"" << height << "\"><title>the first return among the pending operations</title></line>\n";
  }
  int y = kAxisHeight;
  for (const auto& [client, rows] : lanes) {
    int lane_height = static_cast<int>(rows.size()) * kRowHeight;
    out << "<rect class=\"lane\" x=\"0\" y=\"" << y << "\" width=\"" << width << "\" height=\"" << lane_height
        << "\"/><text class=\"client\" x=\"6\" y=\"" << y + 16 << "\">client " << client << "</text>\n";
    for (size_t row = 0; row < rows.size(); ++row) {
      for (size_t index : rows[row]) out << bar(index, y + static_cast<int>(row) * kRowHeight + 3);
    }
    y += lane_height + kLanePadding;
  }
  out << "</svg>\n";
  return out.str();
}

constexpr std::string_view kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
.verdict-bad { color: #b02a1f; } .verdict-good { color: #22792e; } .verdict-other { color: #8a5a00; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
.scroll { overflow-x: auto; border: 1px solid #ddd; }
.legend span { display: inline-block; margin-right: 16px; }
.swatch { display: inline-block; width: 22px; height: 12px; border-radius: 3px; vertical-align: middle;
          margin-right: 4px; border: 1px solid #4a7fb5; background: #cfe3f7; }
svg text { font: 11px system-ui, sans-serif; fill: #222; }
svg .axis { fill: #666; text-anchor: middle; }
svg .client { font-weight: bold; }
svg .grid { stroke: #e4e4e4; }
svg .lane { fill: #fafafa; }
svg .frontier-line { stroke: #c0392b; stroke-dasharray: 4 3; }
g rect { fill: #cfe3f7; stroke: #4a7fb5; stroke-width: 1; }
g.fail rect, .swatch.fail { fill: #eeeeee; stroke: #aaaaaa; border-color: #aaaaaa; background: #eeeeee;
                            stroke-dasharray: 3 2; }
g.fail text { fill: #888; }
g.unknown rect, .swatch.unknown { fill: #fbe3c2; stroke: #d08a2e; border-color: #d08a2e; background: #fbe3c2;
                                  stroke-dasharray: 4 2; }
g .tail { stroke: #d08a2e; stroke-dasharray: 2 4; stroke-width: 2; }
g.ordered rect, .swatch.ordered { fill: #d4efd4; stroke: #3c8c46; border-color: #3c8c46; background: #d4efd4; }
g.stuck rect, .swatch.stuck { fill: #f9c9c9; stroke: #c0392b; border-color: #c0392b; background: #f9c9c9;
                              stroke-width: 2; }
g.pending rect, .swatch.pending { stroke: #c0392b; border-color: #c0392b; }
g.frontier rect { stroke-width: 3; }
)";

std::string legend() {
  return "<p class=\"legend\"><span><i class=\"swatch\"></i>ok</span>"
         "<span><i class=\"swatch ordered\"></i>#n: step n of the longest partial linearization</span>"
         "<span><i class=\"swatch stuck\"></i>cannot go next (thick: returned first)</span>"
         "<span><i class=\"swatch unknown\"></i>outcome unknown (may take effect later: dotted tail)</span>"
         "<span><i class=\"swatch fail\"></i>failed (no effect)</span></p>\n"
         "<p>Hover over an operation for its details. Times are the history's own units.</p>\n";
}

}  // namespace

std::string render_timeline_html(const History& history, const CheckResult& result, std::string_view source) {
  std::ostringstream out;
  std::string title = "synod-check: " + std::string(source);
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << escape(title)
      << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n<h1>" << escape(title) << "</h1>\n";
  const char* verdict_class = result.verdict == Verdict::kNotLinearizable ? "verdict-bad"
                              : result.verdict == Verdict::kLinearizable  ? "verdict-good"
                                                                          : "verdict-other";
  out << "<h2 class=\"" << verdict_class << "\">" << escape(verdict_name(result.verdict)) << "</h2>\n";
  out << "<pre>" << escape(describe_result(result, history)) << "</pre>\n";

  bool has_key = result.verdict == Verdict::kNotLinearizable || result.verdict == Verdict::kUndecided;
  if (has_key) {
    std::vector<size_t> indexes;
    int64_t first = 0;
    int64_t last = 0;
    for (size_t index = 0; index < history.size(); ++index) {
      const Operation& op = history[index];
      if (op.key != result.key) continue;
      if (indexes.empty()) first = last = op.call;
      indexes.push_back(index);
      first = std::min(first, op.call);
      last = std::max({last, op.call, op.return_time.value_or(op.call)});
    }
    Marks marks;
    if (result.counterexample) {
      const Counterexample& example = *result.counterexample;
      for (size_t step = 0; step < example.partial.size(); ++step)
        marks.step[example.partial[step]] = step + 1;
      marks.window.insert(example.window.begin(), example.window.end());
      marks.pending_unknown.insert(example.pending_unknown.begin(), example.pending_unknown.end());
      marks.frontier = example.frontier;

      // The window, zoomed: from the earliest call among the stuck ops to the latest return among them.
      int64_t from = history[example.frontier].call;
      int64_t to = *history[example.frontier].return_time;
      for (size_t index : example.window) {
        from = std::min(from, history[index].call);
        to = std::max(to, history[index].return_time.value_or(history[index].call));
      }
      int64_t pad = margin(from, to, 4);
      from = saturating_add(from, -pad);
      to = saturating_add(to, pad);
      std::vector<size_t> near;
      for (size_t index : indexes) {
        const Operation& op = history[index];
        bool open = op.status == OpStatus::kUnknown;
        if (op.call <= to && (open || op.return_time.value_or(op.call) >= from)) near.push_back(index);
      }
      out << "<h2>Where the search got stuck: key " << escape(quote_value(result.key)) << ", times " << from
          << " to " << to << "</h2>\n"
          << legend() << "<div class=\"scroll\">" << Timeline(history, marks, from, to, 1000).render(near)
          << "</div>\n";
    }
    int plot_width = std::clamp(static_cast<int>(indexes.size()) * 8, 1000, 16000);
    int64_t pad = margin(first, last, 50);
    out << "<h2>The whole history of key " << escape(quote_value(result.key)) << " (" << indexes.size()
        << " operations)</h2>\n";
    if (!result.counterexample) out << legend();
    out << "<div class=\"scroll\">"
        << Timeline(history, marks, saturating_add(first, -pad), saturating_add(last, pad), plot_width)
               .render(indexes)
        << "</div>\n";
  }
  out << "</body>\n</html>\n";
  return out.str();
}

}  // namespace synod::check
