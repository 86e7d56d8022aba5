#!/usr/bin/env bash
# Times copying a 20 MiB file on one kernel under QEMU (TCG), wall clock:
#   copy-time.sh KERNEL_ELF IMAGE
# Works on a 64 MiB copy of IMAGE (grown with resize2fs) holding /big, a
# 20 MiB file of random bytes; runs `cat big > big2` (the shell's
# redirection; cat moves 512 bytes per read and write: 40,960 writes),
# then `sync` (commits the journal; "command not found" on a kernel
# without it), then `wc big2` (a read of the copy).
set -euo pipefail
kernel=$1 image=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$image" "$work/disk.img"
truncate -s 64M "$work/disk.img"
resize2fs -f "$work/disk.img" >/dev/null 2>&1
head -c $((20 * 1024 * 1024)) /dev/urandom > "$work/big"
debugfs -w -R "write $work/big big" "$work/disk.img" >/dev/null 2>&1
commands=("cat big > big2" "sync" "wc big2")
python3 "$(dirname "$0")/copy-time.py" "$kernel" "$work/disk.img" "${commands[@]}"
