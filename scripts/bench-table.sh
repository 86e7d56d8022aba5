#!/usr/bin/env bash
# Measures both kernels and writes the figures side by side:
#
#   build/bench/figures.md    the table, in Markdown (what the docs show)
#   build/bench/figures.csv   the same, with the spreads, for spreadsheets
#   build/bench/ratios.svg    a bar chart of the micro / mono ratios
#   build/bench/run-N.log     what the grader printed, run by run
#
# and prints the table. One run is `grade --suite bench` (the `bench`
# program: one boot per kernel for the benchmarks that never wait for the
# disk, one for those that do) and `grade --suite micro-kernel` (the
# micro-kernel's own IPC figures). BENCH_RUNS=3 does it three times, and
# the table marks every figure that was not the same each time: the check
# that the deterministic ones are. ACCEL=kvm measures cycles on KVM instead
# of instructions under TCG. `make figures` then copies the table into the
# README and the docs (scripts/update-figures.sh).
#
#   bench-table.sh OUT-DIR
set -euo pipefail
out=$1
runs=${BENCH_RUNS:-1}
accel=${ACCEL:-tcg}
cd "$(dirname "$0")/.."
grade=(cargo run --release --quiet -p grading --bin grade --)
mkdir -p "$out"
rm -f "$out"/run-*.log
case $accel in
    kvm) echo "bench: KVM: the figures are cycles of this machine, not repeatable" ;;
    *) echo "bench: QEMU TCG with -icount: the figures are guest instructions" ;;
esac
status=0
for run in $(seq 1 "$runs"); do
    log="$out/run-$run.log"
    echo "bench: run $run of $runs"
    "${grade[@]}" --suite bench | tee "$log" || status=1
    "${grade[@]}" --kernel micro --suite micro-kernel | tee -a "$log" || status=1
done
echo
cargo run --release --quiet -p grading --bin bench-table -- \
    --accel "$accel" --out "$out" "$out"/run-*.log
if [ "$status" -ne 0 ]; then
    echo "bench: some measurements failed (their cells are empty); see the log above" >&2
fi
exit "$status"
