#include <doctest/doctest.h>

#include <string>

#include "heed/core/file_io.h"
#include "heed/train/metrics_log.h"
#include "heed/train/training_report.h"
#include "support.h"

using namespace heed;
using heed::test::TempDir;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the training report draws loss and validation curves from metrics.tsv, self-contained") {
  const std::string metrics =
      "kind\tupdate\tepoch\tseconds\tloss\tperplexity\tlearning_rate\tgrad_norm\ttokens_per_second\tvalid_cross_entropy\tvalid_bleu\n"
      "train\t10\t1\t30.0\t7.5\t1800\t1e-4\t2.0\t4000\t\t\n"
      "train\t20\t1\t60.0\t6.1\t450\t2e-4\t1.5\t4100\t\t\n"
      "valid\t20\t1\t65.0\t\t\t\t\t\t5.9\t1.25\n"
      "train\t30\t1\t90.0\t5.2\t180\t3e-4\t1.2\t4200\t\t\n"
      "valid\t30\t1\t95.0\t\t\t\t\t\t5.1\t4.50\n"
      "garbage row\n";
  const std::string html = training_report_html(metrics, "run <1>");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(count(html, "<svg") == 5);              // loss and BLEU by updates and minutes, cross-entropy
  CHECK(count(html, "<polyline") == 5);
  CHECK(count(html, "<circle") == 3 + 3 + 2 + 2 + 2);  // a point per row of each curve
  CHECK(html.find("run &lt;1&gt;") != std::string::npos);  // the title, escaped
  CHECK(html.find("best BLEU 4.50, last 4.50") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("https:") == std::string::npos);  // nothing fetched from the network
  // No data yet: the page still renders, saying so.
  CHECK(count(training_report_html("", "empty"), "no data yet") == 5);
}

TEST_CASE("a resumed training's metrics.tsv drops the rows after its checkpoint and a cut line, then appends") {
  TempDir dir;
  const std::string path = dir.file("metrics.tsv");
  {
    MetricsLog log(path);
    for (int64_t u : {10, 20, 30}) log.add(TrainingRow{.update = u, .epoch = 1});
    log.add(ValidationRow{.update = 20, .epoch = 1, .cross_entropy = 3.0, .bleu = 5.0});
  }
  // Killed with kill -9 after update 30, in the middle of a line; the checkpoint is at update 20.
  write_file_atomically(path, read_file(path) + "train\t40\t1\t0.");
  {
    MetricsLog resumed(path, 20);
    resumed.add(TrainingRow{.update = 30, .epoch = 1});
  }
  const std::string text = read_file(path);
  CHECK(count(text, "\ntrain\t10\t") == 1);
  CHECK(count(text, "\ntrain\t20\t") == 1);
  CHECK(count(text, "\nvalid\t20\t") == 1);
  CHECK(count(text, "\ntrain\t30\t") == 1);  // once: the row from before the kill is gone
  CHECK(count(text, "\t40\t") == 0);
  CHECK(text.rfind("kind\tupdate\t", 0) == 0);
  CHECK(count(text, "kind\t") == 1);
}
