#pragma once
// How heed's OpenMP threads wait between parallel regions, chosen before OpenMP starts.
//
// libgomp's threads spin (busy-wait) for a while at each barrier before they sleep. On an idle
// machine that saves the wake-up latency of every small parallel region: decoding runs thousands
// of them a second. On a busy machine it is ruinous: a thread spins on a core that another
// program needs, while the thread it waits for is descheduled: translation then runs several
// times slower than with sleeping threads (`tools/bench_busy_machine.sh` measures both).
//
// libgomp reads OMP_WAIT_POLICY once, when it is loaded, before main(); so heed looks at the
// machine from the executable's .preinit_array, which runs before any library's initialiser,
// and when other threads are already running it executes itself again, once, with
// OMP_WAIT_POLICY=passive in its environment (a setenv() at that point would be lost: libc
// installs the environment after .preinit_array). A user's own OMP_WAIT_POLICY or
// GOMP_SPINCOUNT always wins.

namespace heed::app {

// "active (the machine was idle at start)", "passive (...)", "as OMP_WAIT_POLICY=... sets it".
const char* openmp_wait_policy_description();

}  // namespace heed::app
