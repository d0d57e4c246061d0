#!/usr/bin/env bash
# Data-parallel training over MPI (label mpi), on the 200-pair slice with a tiny model:
# - 2 processes × 20 updates give 1 process's 20 updates (dropout on) to 1e-4 of the weights, and
#   so they do when batches are so small that one process has no sentence of some;
# - 2 processes resumed at update 10 give the uninterrupted 2-process run exactly;
# - resuming with another process count is refused, saying so;
# - a process killed mid-training ends the others with an error (no hang), and the checkpoint
#   written before stays usable;
# - an error that one process meets alone ends them all, with its message: rank 0's output
#   directory in use or not creatable, rank 1's corpus missing, rank 0's save failing mid-training.
# Usage: check_mpi.sh HEED COMPARE_MODELS DATA_DIR WORK_DIR MPIEXEC
set -uo pipefail
heed=$1 compare=$2 data=$3/multi30k-200 work=$4 mpiexec=$5
fail() { echo "check_mpi: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "no work directory"
# Open MPI refuses root without these (CI runs as root); --oversubscribe: 2 ranks on a 1-core box.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mpi() { "$mpiexec" -np 2 "$heed" -q --threads 1 "$@"; }

"$heed" -q vocab -i "$data/train.en" "$data/train.de" --size 300 -o joint || fail "heed vocab"
# --adam-epsilon 1e-6: with Adam's usual 1e-9, a gradient of ~1e-12, whose sign depends on the
# order of a sum, moves its weight by a full step either way; 1e-6 lets such noise stay noise.
options=(--train-src "$data/train.en" --train-tgt "$data/train.de" --vocab joint.model --model-dim 32 --heads 2
  --ffn-dim 64 --encoder-layers 1 --decoder-layers 1 --max-epochs 0 --lr 1e-3 --warmup 5
  --adam-epsilon 1e-6 --dropout 0.1 --attention-dropout 0.1)
batch=(--batch-tokens 512)

"$heed" -q --threads 1 train "${options[@]}" "${batch[@]}" --max-updates 20 -o one || fail "1 process"
mpi train "${options[@]}" "${batch[@]}" --max-updates 20 -o two || fail "2 processes"
apart=$("$compare" one/last.heed two/last.heed) || fail "compare"
echo "1 process against 2: weights apart by $apart (max |a - b| / max |a|)"
awk -v d="$apart" 'BEGIN { exit !(d <= 1e-4) }' || fail "2 processes trained another model: $apart apart"

# Batches of one or two sentences: a process often has none of a batch, and still takes part in every sum.
"$heed" -q --threads 1 train "${options[@]}" --batch-tokens 30 --max-updates 12 -o one-small || fail "1 process, small batches"
mpi train "${options[@]}" --batch-tokens 30 --max-updates 12 -o two-small || fail "2 processes, small batches"
apart=$("$compare" one-small/last.heed two-small/last.heed) || fail "compare"
echo "batches of 1-2 sentences, 1 process against 2: $apart"
awk -v d="$apart" 'BEGIN { exit !(d <= 1e-4) }' || fail "2 processes with small batches trained another model: $apart apart"

mpi train "${options[@]}" "${batch[@]}" --max-updates 10 --validate-every 10 -o resumed || fail "2 processes, 10 updates"
mpi train --resume resumed --max-updates 20 || fail "2 processes resumed"
apart=$("$compare" two/last.heed resumed/last.heed) || fail "compare"
echo "2 processes resumed at update 10 against 20 straight: $apart"
[ "$apart" = "0" ] || fail "the resumed run differs from the straight one: $apart"

if "$heed" -q --threads 1 train --resume resumed --max-updates 30 2> other.err; then fail "a 1-process resume of a 2-process run was accepted"; fi
grep -q "training of 2 process(es); resume it with as many" other.err || fail "resuming with 1 process: $(cat other.err)"

# Errors one process meets alone: mpirun must end with that error, not wait forever.
ends_with_error() {  # NAME EXPECTED-MESSAGE COMMAND...: COMMAND ends non-zero within 60 s, saying so
  local name=$1 expected=$2; shift 2
  if timeout 60 "$@" > /dev/null 2> "$name.err"; then fail "$name: exited 0"; fi
  grep -q -- "$expected" "$name.err" || fail "$name: no '$expected' in: $(head -c 600 "$name.err")"
  echo "$name: ended with an error: $(grep -m1 -- "$expected" "$name.err")"
}
ends_with_error in-use "holds another training" "$mpiexec" -np 2 "$heed" -q --threads 1 train "${options[@]}" "${batch[@]}" --max-updates 20 -o two
ends_with_error not-creatable "cannot create the output directory" "$mpiexec" -np 2 "$heed" -q --threads 1 train "${options[@]}" --max-updates 2 -o /proc/heed-x
ends_with_error rank1-corpus "cannot open missing.en" "$mpiexec" -np 1 "$heed" -q --threads 1 train "${options[@]}" \
  --max-updates 2 -o alone : -np 1 "$heed" -q --threads 1 train --train-src missing.en "${options[@]:2}" --max-updates 2 -o alone
# Rank 0 fails to save mid-training (last.heed has become a directory): MPI_Abort ends rank 1.
mpi train "${options[@]}" "${batch[@]}" --max-updates 1000000 --validate-every 5 -o unsaved 2> unsaved.err &
launcher=$!
for _ in $(seq 600); do [ -f unsaved/last.heed ] && break; sleep 0.1; done
until [ -d unsaved/last.heed ]; do rm -f unsaved/last.heed; mkdir unsaved/last.heed 2> /dev/null; done
for _ in $(seq 600); do kill -0 "$launcher" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$launcher" 2> /dev/null; then kill -9 "$launcher"; pkill -9 -f -- "-o unsaved"; fail "mpirun still runs 60 s after rank 0 failed to save"; fi
wait "$launcher" && fail "mpirun exited 0 after rank 0 failed to save"
grep -q "cannot save unsaved/last.heed" unsaved.err || fail "rank 0's save failure not reported: $(head -c 600 unsaved.err)"
echo "rank 0 failed to save: mpirun ended with an error"

# Kill rank 1 once a checkpoint exists: mpirun must end (with an error) within a minute.
mpi train "${options[@]}" "${batch[@]}" --max-updates 1000000 --validate-every 5 -o killed 2> killed.err &
launcher=$!
for _ in $(seq 600); do [ -f killed/checkpoint.state ] && break; sleep 0.1; done
[ -f killed/checkpoint.state ] || fail "no checkpoint after 60 s"
victim=""
for pid in $(pgrep -f -- "-o killed"); do
  tr '\0' '\n' < "/proc/$pid/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$pid
done
[ -n "$victim" ] || fail "rank 1 not found"
kill -9 "$victim"
for _ in $(seq 600); do kill -0 "$launcher" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$launcher" 2> /dev/null; then kill -9 "$launcher"; pkill -9 -f -- "-o killed"; fail "mpirun still runs 60 s after rank 1 died"; fi
wait "$launcher" && fail "mpirun exited 0 after rank 1 was killed"
echo "rank 1 killed: mpirun ended with an error: $(grep -m1 -i "exited\|killed\|signal" killed.err)"
# --max-updates 1 is reached already: the resume loads the checkpoint, trains nothing, and exits 0.
"$mpiexec" -np 2 "$heed" -q --threads 1 train --resume killed --max-updates 1 2> resume.err ||
  fail "the checkpoint left by the killed run does not load: $(cat resume.err)"
"$compare" killed/last.heed killed/last.heed > /dev/null || fail "last.heed of the killed run does not load"
echo "check_mpi: all passed"
