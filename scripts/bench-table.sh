#!/usr/bin/env bash
# Runs the benchmark suites on both kernels and writes the figures side by
# side (guest instructions per operation, under QEMU's -icount shift=0):
#
#   build/bench/figures.md    the table, in Markdown (what the docs show)
#   build/bench/figures.csv   the same, for spreadsheets and plots
#
# and prints the table. `make figures` then copies the table into the
# README and the docs (scripts/update-figures.sh).
#
#   bench-table.sh OUT-DIR GRADE-COMMAND...
set -euo pipefail
out=$1
shift
mkdir -p "$out"
log="$out/bench.log"
"$@" --kernel both --suite bench | tee "$log"
"$@" --kernel micro --suite micro-kernel | tee -a "$log"

# figure KERNEL NAME: the number the grader printed, or empty.
figure() {
    sed -n "s/^bench\/$1: $2 = \([0-9]*\).*/\1/p" "$log" | head -n 1
}

# The rows: name in the log, and how the table names it.
rows=(
    "getpid|\`getpid()\`"
    "pipe|1-byte pipe round trip (2 processes)"
    "fork|\`fork()\` + \`exit\` + \`wait\`"
    "null-syscall|null system call (the kernel alone)"
    "ipc-roundtrip-spaces|IPC round trip, 2 address spaces"
    "ipc-roundtrip-threads|IPC round trip, 2 threads of 1 space"
)

# with_commas N: 12345 -> 12,345
with_commas() {
    local n=$1 out=""
    while [ ${#n} -gt 3 ]; do
        out=",${n: -3}$out"
        n=${n:0:${#n}-3}
    done
    echo "$n$out"
}

md="$out/figures.md"
csv="$out/figures.csv"
{
    echo "| guest instructions per operation | mono-kernel | micro-kernel | micro / mono |"
    echo "|---|---:|---:|---:|"
} > "$md"
echo "benchmark,mono,micro,micro/mono" > "$csv"
for row in "${rows[@]}"; do
    name=${row%%|*}
    label=${row#*|}
    mono=$(figure mono "$name")
    micro=$(figure micro "$name")
    ratio="—"
    if [ -n "$mono" ] && [ -n "$micro" ]; then
        ratio=$(awk -v a="$micro" -v b="$mono" 'BEGIN { printf "%.2f", a / b }')
    fi
    shown_mono=$([ -n "$mono" ] && with_commas "$mono" || echo "—")
    shown_micro=$([ -n "$micro" ] && with_commas "$micro" || echo "—")
    echo "| $label | $shown_mono | $shown_micro | $ratio |" >> "$md"
    echo "$name,${mono},${micro},$([ "$ratio" = "—" ] && echo "" || echo "$ratio")" >> "$csv"
done
echo
cat "$md"
echo
echo "bench: wrote $md and $csv (\`make figures\` puts the table into the README and docs)"
