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
# that the deterministic ones are. If the co-located micro-kernel is built
# (`make micro-colocated`), each run also measures it (`grade --kernel micro
# --suite bench --micro-elf build/micro-colocated-kernel.elf`, logged in
# colocated-N.log), and build/bench/colocation.md compares the two
# micro-kernels (grading/src/colocation_table.rs). ACCEL=kvm measures cycles on KVM instead
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
rm -f "$out"/run-*.log "$out"/colocated-*.log
colocated_elf=build/micro-colocated-kernel.elf
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
    if [ -f "$colocated_elf" ]; then
        echo "bench: the co-located micro-kernel (fs in vfs), run $run of $runs"
        "${grade[@]}" --kernel micro --suite bench --micro-elf "$colocated_elf" \
            | tee "$out/colocated-$run.log" || status=1
    fi
done
colocated=()
for log in "$out"/colocated-*.log; do
    [ -f "$log" ] && colocated+=(--colocated "$log")
done
echo
cargo run --release --quiet -p grading --bin bench-table -- \
    --accel "$accel" --out "$out" "${colocated[@]}" "$out"/run-*.log
if [ "$status" -ne 0 ]; then
    echo "bench: some measurements failed (their cells are empty); see the log above" >&2
fi
exit "$status"
