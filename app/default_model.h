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

// A -m argument as a path: the file when one is there, else, for a bare name such as "de-en",
// the model of that name installed beside the default one (share/heed/de-en.heed); otherwise
// the argument unchanged, so that loading it fails naming what was given.
std::string resolve_model(const std::string& given);

}  // namespace heed::app
