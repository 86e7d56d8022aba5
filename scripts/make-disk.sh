#!/usr/bin/env bash
# Builds an ext2 disk image with the user programs:
#   make-disk.sh BIN_DIR IMAGE SIZE_MIB PROGRAM...
# The programs go in /bin (stripped of debug info), the README at /README,
# and /dev/console (character device 1,0) and /dev/null (3,0; see
# common::abi::fs) are created with debugfs, so no root privileges are
# needed.
set -euo pipefail
bin_dir=$1 image=$2 size_mib=$3
shift 3
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/dev"
for program in "$@"; do
    if [ ! -f "$bin_dir/$program" ]; then
        echo "make-disk: $bin_dir/$program is missing (did the user build fail?)" >&2
        exit 1
    fi
    objcopy --strip-debug "$bin_dir/$program" "$stage/bin/$program"
done
cp user/README "$stage/README"
rm -f "$image.tmp"
mke2fs -q -F -t ext2 -b 1024 -L diptych -d "$stage" "$image.tmp" "${size_mib}M" >/dev/null
printf 'cd /dev\nmknod console c 1 0\nmknod null c 3 0\n' | debugfs -w -f - "$image.tmp" >/dev/null 2>&1
e2fsck -fn "$image.tmp" >/dev/null 2>&1 || { echo "make-disk: e2fsck found $image.tmp unclean" >&2; exit 1; }
mv "$image.tmp" "$image"
echo "make-disk: $image ($size_mib MiB ext2, $# programs)"
