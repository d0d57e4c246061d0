#pragma once
// DIR/report.html: a training's curves on one self-contained page (inline SVG: no script, no
// network, opens anywhere): loss and validation BLEU against updates and against wall time,
// drawn from metrics.tsv (metrics_log.h). The trainer rewrites it atomically at each validation.

#include <string>
#include <string_view>

namespace heed {

// `metrics` is the text of a metrics.tsv; `title` names the run (its output directory).
std::string training_report_html(std::string_view metrics, const std::string& title);

}  // namespace heed
