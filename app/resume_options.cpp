#include "resume_options.h"

#include <charconv>
#include <set>
#include <vector>

#include "config_file.h"
#include "heed/core/error.h"

namespace heed::app {
namespace {

// What a resumed training may change: stopping, validation frequency, logging. Not given again,
// they keep their stored values too (a run validated every 300 updates goes on doing so).
const std::set<std::string> kMayChange = {
    "max-epochs", "max-updates", "max-time", "patience", "validate-every", "valid-bleu-sentences",
    "valid-beam", "progress-seconds", "keep-last"};
// The options that name this very run, never taken from the checkpoint.
const std::set<std::string> kThisRun = {"output", "resume", "config", "overwrite"};

std::string joined(const std::vector<std::string>& values) {
  std::string s;
  for (const std::string& v : values) s += (s.empty() ? "" : " ") + v;
  return s;
}

// "0.1" and "0.10" are the same learning rate: numbers compare as numbers, the rest as text.
bool same_value(const std::string& a, const std::string& b) {
  if (a == b) return true;
  double x = 0, y = 0;
  const auto [pa, ea] = std::from_chars(a.data(), a.data() + a.size(), x);
  const auto [pb, eb] = std::from_chars(b.data(), b.data() + b.size(), y);
  return ea == std::errc() && eb == std::errc() && pa == a.data() + a.size() && pb == b.data() + b.size() && x == y;
}

}  // namespace

void adopt_stored_options(CLI::App& train, const std::string& stored, const std::string& checkpoint) {
  std::vector<CLI::ConfigItem> items;
  try {
    items = read_config_items(stored);
  } catch (const CLI::Error& e) {
    fail("{}: cannot read the options it was trained with: {}", checkpoint, e.what());
  }
  std::vector<std::string> differences;
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--" || kThisRun.count(item.name)) continue;
    CLI::Option* option = train.get_option_no_throw("--" + item.name);
    if (option == nullptr) continue;  // an option this heed no longer has
    if (option->count() == 0) {
      option->add_result(item.inputs);
      option->run_callback();
      continue;
    }
    if (kMayChange.count(item.name)) continue;  // given anew: the new value wins
    const std::vector<std::string>& given = option->results();
    const bool same = given.size() == item.inputs.size() &&
                      std::equal(given.begin(), given.end(), item.inputs.begin(), same_value);
    if (!same)
      differences.push_back(fmt::format("--{} is {} now but {} in the checkpoint", item.name, joined(given),
                                        joined(item.inputs)));
  }
  if (differences.empty()) return;
  std::string list;
  for (const std::string& d : differences) list += "; " + d;
  fail("cannot resume {} with other options{} (only stopping, validation and logging options may change on resume: "
       "leave the others out to keep the stored ones, or start a new training with --output)", checkpoint, list);
}

}  // namespace heed::app
