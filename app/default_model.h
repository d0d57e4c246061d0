#pragma once
// Where `heed translate` finds its default model when no -m is given: beside the executable, in
// the install layout's share/heed/ (P/bin/heed reads P/share/heed/en-de.heed). The build tree
// copies data/en-de.heed to the same relative place (build/share/heed/, with the binary in
// build/app/), so a build, an install and a .deb behave alike and no source path is compiled in.

#include <filesystem>

namespace heed::app {

// The folder that holds the running executable (/proc/self/exe, symlinks resolved).
std::filesystem::path executable_dir();

// executable_dir()/../share/heed/en-de.heed; HEED_DEFAULT_MODEL in the environment overrides it.
std::filesystem::path default_model_path();

}  // namespace heed::app
