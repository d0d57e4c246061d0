// heed: neural machine translation on the command line.
// main() owns the CLI11 root, the global options, logging set-up, and the one place where a
// heed::Error becomes a one-line message and a non-zero exit code.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "heed/devices/devices.h"
#include "heed/backend/onednn/runtime_info.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/system_memory.h"
#include "heed/core/threads.h"
#include "heed/dist/communicator.h"
#include "heed/core/version.h"
#include "logging.h"
#include "option_checks.h"
#include "wait_policy.h"

namespace {

// Speed depends on the CPU and on which of oneDNN's kernels it runs, so the version says both.
std::string version_text() {
  const heed::RuntimeInfo info = heed::runtime_info();
  return fmt::format("heed {}\noneDNN {}, {} threading\nCPU: {}, {} hardware threads\nkernels: {}\nint8: {}\nOpenMP threads wait: {}\n"
                     "MPI: {}\nCUDA: {}",
                     heed::kVersion, info.onednn_version, info.cpu_runtime, info.cpu_model, info.hardware_threads, info.isa, info.int8,
                     heed::app::openmp_wait_policy_description(),
                     heed::built_with_mpi() ? "built in (mpirun -np N heed train)" : "not built in (no libopenmpi-dev)",
                     heed::cuda_summary());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App root{"heed: neural machine translation for the command line (Transformer, oneDNN on the CPU)"};
  root.set_version_flag("--version", version_text, "Print heed's and oneDNN's versions, the CPU and the kernels oneDNN chose, and exit");
  root.require_subcommand(1);

  std::string log_level = "info";
  bool quiet = false;
  int threads = 0;
  root.add_option("--log-level", log_level, "Log level on stderr: trace, debug, info, warn, error, off")
      ->capture_default_str();
  root.add_flag("-q,--quiet", quiet, "Log warnings and errors only");
  root.add_option("--threads", threads, "Compute threads (0: all cores)")->capture_default_str()->check(heed::app::number_in(0, 1024));
  std::string device = "cpu";
  root.add_option("--device", device, "Where to compute: cpu, or cuda[:N] in a build with the CUDA backend")->capture_default_str();
  bool tf32 = false;
  root.add_flag("--tf32", tf32, "On cuda: f32 matmuls may use TF32 tensor cores (operands rounded to 10-bit mantissas; faster)");
  double memory_limit_mb = 0;
  root.add_option("--memory-limit", memory_limit_mb,
                  "MB of memory heed's tensors may hold; beyond it a batch fails with its size (0: what the machine has free)")
      ->capture_default_str()
      ->check(heed::app::number_in(0, 1e9));

  heed::app::Action chosen;
  heed::DeviceSpec device_spec;  // from --device, once parsed; read by the commands that compute
  heed::app::add_vocab_command(root, chosen);
  heed::app::add_train_command(root, chosen, device_spec);
  heed::app::add_translate_command(root, chosen, device_spec);
  heed::app::add_align_command(root, chosen, device_spec);
  heed::app::add_bench_command(root, chosen, device_spec);
  heed::app::add_info_command(root, chosen);
  heed::app::add_convert_command(root, chosen);
  heed::app::add_average_command(root, chosen);
  heed::app::add_score_command(root, chosen);

  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // `heed bogus`: CLI11 would say "A subcommand is required", as if none had been given.
    const std::vector<std::string> unparsed = root.remaining();
    if (root.get_subcommands().empty() && !unparsed.empty() && unparsed.front().rfind('-', 0) != 0) {
      std::vector<std::string> names;
      for (const CLI::App* command : root.get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(command->get_name());
      fmt::print(stderr, "'{}' is not a heed command; the commands are {}\nRun with --help for more information.\n",
                 unparsed.front(), fmt::join(names, ", "));
      return e.get_exit_code();
    }
    return root.exit(e);
  }

  try {
    heed::app::setup_logging(log_level, quiet);
    heed::set_threads(threads);
    device_spec = heed::parse_device(device);
    device_spec.tf32 = tf32;
    heed::set_tensor_memory_limit(memory_limit_mb > 0 ? static_cast<size_t>(memory_limit_mb * 1048576.0)
                                                      : heed::available_memory_bytes());
    heed::install_save_cleanup_handlers();
    return chosen ? chosen() : 0;
  } catch (const heed::Error& e) {
    spdlog::error("{}", e.what());
    heed::Communicator::end_all_after_error(heed::app::kExitError);
    return heed::app::kExitError;
  } catch (const std::exception& e) {
    spdlog::error("unexpected failure: {}", e.what());
    heed::Communicator::end_all_after_error(heed::app::kExitError);
    return heed::app::kExitError;
  }
}
