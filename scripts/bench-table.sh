#!/usr/bin/env bash
# Runs the benchmark suites on both kernels and prints the figures side by
# side (guest instructions per operation, under QEMU's -icount shift=0).
#   bench-table.sh GRADE-COMMAND...
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" --kernel both --suite bench | tee "$log"
"$@" --kernel micro --suite micro-kernel | tee -a "$log"
echo
printf '%-28s %14s %14s\n' "guest instructions per op" "mono-kernel" "micro-kernel"
for name in getpid pipe fork; do
    mono=$(sed -n "s/^bench\/mono: $name = \([0-9]*\).*/\1/p" "$log")
    micro=$(sed -n "s/^bench\/micro: $name = \([0-9]*\).*/\1/p" "$log")
    printf '%-28s %14s %14s\n' "$name" "${mono:--}" "${micro:--}"
done
for name in null-syscall ipc-roundtrip-spaces ipc-roundtrip-threads; do
    micro=$(sed -n "s/^bench\/micro: $name = \([0-9]*\).*/\1/p" "$log")
    printf '%-28s %14s %14s\n' "$name" "-" "${micro:--}"
done
