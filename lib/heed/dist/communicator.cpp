#include "heed/dist/communicator.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <vector>

#include "heed/core/error.h"

#ifdef HEED_MPI
#include <mpi.h>
#endif

namespace heed {
namespace {

// Set by mpirun (Open MPI, PMIx) or another launcher: then, and only then, heed joins MPI. A
// plain `heed train` never touches MPI (a singleton MPI start is slow, and noisy where there is
// no network).
bool started_by_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

#ifdef HEED_MPI
void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  fail("MPI: {} failed: {}", call, std::string(text, static_cast<size_t>(length)));
}

// The world, once made: for end_all_after_error, which must not start MPI to end it.
Communicator* g_world = nullptr;
#endif

}  // namespace

bool built_with_mpi() {
#ifdef HEED_MPI
  return true;
#else
  return false;
#endif
}

Communicator& Communicator::world() {
  static Communicator world;
  return world;
}

Communicator::Communicator() {
#ifdef HEED_MPI
  if (!started_by_launcher()) return;
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  serialized_ = provided >= MPI_THREAD_SERIALIZED;
  std::atexit([] {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  });
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  mpi_ = true;
  g_world = this;
#else
  HEED_CHECK(!started_by_launcher() || std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr ||
                 std::string(std::getenv("OMPI_COMM_WORLD_SIZE")) == "1",
             "heed was started by mpirun with {} processes, but built without MPI: each would train alone. Install "
             "Open MPI (libopenmpi-dev) and build again",
             std::getenv("OMPI_COMM_WORLD_SIZE"));
#endif
}

#ifdef HEED_MPI
template <typename T>
void Communicator::sum_in_place(T* x, int64_t n) {
  if (!mpi_ || size_ == 1) return;
  // MPI counts are ints: large arenas go in pieces.
  constexpr int64_t kPiece = int64_t{1} << 30;
  const MPI_Datatype type = std::is_same_v<T, float> ? MPI_FLOAT : std::is_same_v<T, double> ? MPI_DOUBLE : MPI_INT64_T;
  for (int64_t done = 0; done < n; done += kPiece)
    check(MPI_Allreduce(MPI_IN_PLACE, x + done, static_cast<int>(std::min(kPiece, n - done)), type, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
}
#else
template <typename T>
void Communicator::sum_in_place(T*, int64_t) {}  // alone: the sum is the value
#endif

void Communicator::sum(float* x, int64_t n) { sum_in_place(x, n); }
void Communicator::sum(double* x, int64_t n) { sum_in_place(x, n); }
void Communicator::sum(int64_t* x, int64_t n) { sum_in_place(x, n); }

bool Communicator::any(bool mine) {
  int64_t count = mine ? 1 : 0;
  sum(&count, 1);
  return count > 0;
}

void Communicator::run_together(const std::function<void()>& work) {
  std::optional<Error> mine;
  try {
    work();
  } catch (const Error& e) {
    mine = e;
  }
  if (size_ == 1) {
    if (mine) throw *mine;
    return;
  }
  std::vector<int64_t> failed(static_cast<size_t>(size_), 0);
  failed[static_cast<size_t>(rank_)] = mine ? 1 : 0;
  sum(failed.data(), size_);
  const auto first = std::find(failed.begin(), failed.end(), int64_t{1});
  if (first == failed.end()) return;
  failed_together_ = true;
  if (mine) throw *mine;
  fail("process {} stops, as process {} failed (its message says why)", rank_, first - failed.begin());
}

void Communicator::end_all_after_error([[maybe_unused]] int exit_code) {
#ifdef HEED_MPI
  if (g_world == nullptr || !g_world->mpi_ || g_world->size_ == 1 || g_world->failed_together_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
}

std::string Communicator::describe() const {
#ifdef HEED_MPI
  if (mpi_) {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(version, &length);
    std::string text(version, static_cast<size_t>(length));
    if (const auto comma = text.find(','); comma != std::string::npos) text.resize(comma);
    return text + ", " + std::to_string(size_) + " processes";
  }
  return "MPI available, not started by mpirun";
#else
  return "no MPI";
#endif
}

}  // namespace heed
