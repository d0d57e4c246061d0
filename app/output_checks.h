#pragma once
// An output that is one of the command's inputs (the same file by another path, through a link,
// or as a shell redirection of standard output) would be truncated or replaced before, or while,
// it is read: a corpus becomes links, a model becomes text. Every command that writes a file
// refuses that before it opens anything.

#include <string>
#include <vector>

namespace heed::app {

struct NamedInput {
  std::string option;  // how the user gave it: "-i", "--src", "-m"
  std::string path;    // "-": standard input
};

// Throws heed::Error naming the output, the input and its option when they are one file.
// `output` "-" is standard output (a redirection to an input file is caught too).
void check_output_is_not_input(const std::string& output, const std::vector<NamedInput>& inputs);

}  // namespace heed::app
