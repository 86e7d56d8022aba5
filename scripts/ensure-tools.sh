#!/usr/bin/env bash
# Makes sure the host tools Diptych needs are installed: QEMU (x86_64 system
# emulator) and e2fsprogs (mke2fs, debugfs, e2fsck), plus the Rust target.
#
# When a tool is missing and we are root on a Debian/Ubuntu machine, it is
# installed with apt-get; otherwise this prints exactly what to install and
# fails, so `make` never stops with a cryptic error.
set -euo pipefail

missing_packages=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing_packages+=(qemu-system-x86)
for tool in mke2fs debugfs e2fsck; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ] && [ ! -x "/sbin/$tool" ]; then
        missing_packages+=(e2fsprogs)
        break
    fi
done

if [ ${#missing_packages[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "ensure-tools: installing ${missing_packages[*]} with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
    else
        echo "ensure-tools: missing host tools. Install them with:" >&2
        echo "    sudo apt-get install ${missing_packages[*]}" >&2
        echo "(on macOS: brew install qemu e2fsprogs)" >&2
        exit 1
    fi
fi

if [ ! -f /usr/share/qemu/qboot.rom ]; then
    echo "ensure-tools: note: /usr/share/qemu/qboot.rom not found; booting with QEMU's default BIOS (slower)." >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "ensure-tools: cargo not found. Install Rust from your distribution or rustup; rust-toolchain.toml names the version and target." >&2
    exit 1
fi
# rust-toolchain.toml makes rustup install the x86_64-unknown-none target on
# first use; check it is really there, so the error is clear if not.
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed 2>/dev/null | grep -q x86_64-unknown-none; then
    rustup target add x86_64-unknown-none >&2 || {
        echo "ensure-tools: the Rust target x86_64-unknown-none is missing: run 'rustup target add x86_64-unknown-none'" >&2
        exit 1
    }
fi
