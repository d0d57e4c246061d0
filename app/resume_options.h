#pragma once
// `heed train --resume DIR` continues the training DIR's checkpoint holds, with that training's
// options: an option not given now takes its stored value; an option given now must equal the
// stored one, unless it is one that may change between sessions (when to stop, how often to
// validate, how much to log). Anything else would train a different model under the old one's
// name, so it is refused, naming every option that differs.

#include <CLI/CLI.hpp>

#include <string>

namespace heed::app {

// `stored`: the "key=value" lines of the checkpoint's metadata; `checkpoint`: its path, for messages.
void adopt_stored_options(CLI::App& train, const std::string& stored, const std::string& checkpoint);

}  // namespace heed::app
