// A self-contained HTML page (inline CSS and SVG; no scripts, fonts or other external resources) showing a
// checker's verdict and a timeline of one key's history: one lane per client, each operation a bar from
// its call to its return, operations of unknown outcome open-ended to the right, failed ones faded. For a
// history that is not linearizable, the window where the search got stuck is highlighted, the steps of
// the partial linearization are numbered, and a second timeline zooms in on the window.
#pragma once

#include <string>
#include <string_view>

#include "check/history.h"
#include "check/linearizability.h"

namespace synod::check {

// `source` names the history (a file name) in the page's title. The timeline shows result.key: the
// offending key, or the undecided one; a linearizable or malformed result gets the verdict only.
std::string render_timeline_html(const History& history, const CheckResult& result, std::string_view source);

}  // namespace synod::check
