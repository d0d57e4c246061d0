#!/usr/bin/env bash
# Runs a test binary under qemu's user-mode emulation of an older CPU (tests/CMakeLists.txt), unless
# this machine lacks what the emulated CPU lacks too: then the suites already ran natively on such a
# CPU, and emulating it again (minutes under qemu) would only lengthen CI on the slowest machines.
#   usage: run_emulated.sh QEMU CPU HOST_FLAG BINARY ARGS...   (HOST_FLAG: a /proc/cpuinfo flag)
set -euo pipefail
qemu=$1 cpu=$2 host_flag=$3
shift 3
if ! grep -qw "$host_flag" /proc/cpuinfo; then
  echo "skipped: this CPU has no $host_flag itself, so the suites ran natively as on a '$cpu'"
  exit 0
fi
exec "$qemu" -cpu "$cpu" "$@"
