#pragma once
// The processes of a data-parallel training (`mpirun -np N heed train`): each knows its rank and
// the count, and they sum numbers across all of them (MPI_Allreduce). Built without MPI, or
// started without mpirun, a process is alone: rank 0 of 1, and every sum is itself.

#include <cstdint>
#include <functional>
#include <string>

namespace heed {

class Communicator {
 public:
  // This process's world: MPI's, initialised on first use (and finalised at exit) when heed was
  // built with MPI and started by an MPI launcher; else this process alone.
  static Communicator& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // x[i] = the sum of x[i] over all processes, in place, on every process. Every process must
  // make the same calls in the same order (they wait for each other).
  void sum(float* x, int64_t n);
  void sum(double* x, int64_t n);
  void sum(int64_t* x, int64_t n);
  // True on every process when `mine` is true on any.
  bool any(bool mine);
  // Runs work that may fail on some processes and not others (rank 0 alone writes the training's
  // files): every process learns whether any failed, and then all throw together, a failed one its
  // own error, the others a line naming the process that failed. A process must not go on alone to a
  // sum that the failed one will never make. The work itself must make no sums.
  void run_together(const std::function<void()>& work);
  // After an error that this process met alone (not through run_together): ends every process of
  // the run (MPI_Abort), for the others would wait in their next sum forever. Nothing when heed
  // runs alone or never started MPI.
  static void end_all_after_error(int exit_code);

  // Whether another thread may make this process's MPI calls while the main thread makes none
  // (MPI_THREAD_SERIALIZED): what GradientReducer's background sums need.
  bool allows_helper_thread() const { return serialized_; }

  // "Open MPI v4.1.4, 2 processes" or "no MPI".
  std::string describe() const;

 private:
  Communicator();
  template <typename T>
  void sum_in_place(T* x, int64_t n);
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;
  bool serialized_ = false;
  bool failed_together_ = false;  // every process knows of the failure: each can exit on its own
};

// True when heed was built with MPI (HEED_MPI).
bool built_with_mpi();

}  // namespace heed
