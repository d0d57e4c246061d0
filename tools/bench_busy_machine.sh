#!/usr/bin/env bash
# heed translate of test2016 on an idle machine and on one whose every core is already taken by
# another process (busy loops), with default options, with --threads 1, and with threads that
# always spin as before heed chose the wait policy (GOMP_SPINCOUNT=300000, libgomp's default; one
# run, as on a busy machine it takes minutes): wall seconds, medians of ROUNDS. Default options must never lose to one thread. Usage:
#   tools/bench_busy_machine.sh [ROUNDS] [SHARED_DIR]   (HEED=path/to/heed to pick a binary)
set -euo pipefail
rounds=${1:-3}
shared=${2:-$(dirname "$0")/../../shared}
input=$shared/data/multi30k/test2016.en
heed=${HEED:-$(dirname "$0")/../build/app/heed}
[ -f "$input" ] || { echo "bench_busy_machine: $input is missing: this benchmark needs the Multi30k data in shared/" >&2; exit 1; }
cores=$(nproc)
hogs=()
stop_hogs() { for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done; hogs=(); }
trap stop_hogs EXIT

median_seconds() {  # runs [VAR=value] heed "$@" $runs times (runs=$rounds unless set)
  local times=() environment=() n=${runs:-$rounds}
  [[ "${1:-}" == *=* ]] && { environment=("$1"); shift; }
  for _ in $(seq "$n"); do
    local start end
    start=$(date +%s.%N)
    env "${environment[@]}" "$heed" -q "$@" translate -i "$input" -o /dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}

"$heed" --version | sed -n '3,4p'
echo
echo "| machine | default options s | --threads 1 s | default ÷ 1 thread | always spinning s (1 run) | OpenMP wait chosen |"
echo "|---|---:|---:|---:|---:|---|"
for load in idle busy; do
  if [ "$load" = busy ]; then
    for _ in $(seq "$cores"); do (while :; do :; done) & hogs+=($!); done
    sleep 1
  fi
  policy=$("$heed" --version | sed -n 's/^OpenMP threads wait: //p')
  default=$(median_seconds)
  single=$(median_seconds --threads 1)
  spinning=$(runs=1 median_seconds GOMP_SPINCOUNT=300000)  # once: on a busy machine it takes minutes
  echo "| $load ($cores cores$([ "$load" = busy ] && echo ", $cores busy loops")) | $default | $single | $(echo "scale=2; $default / $single" | bc) | $spinning | $policy |"
  stop_hogs
done
