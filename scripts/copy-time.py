#!/usr/bin/env python3
"""Times one shell command on a kernel under QEMU (TCG), wall clock.

    copy-time.py KERNEL_ELF IMAGE COMMAND...

Boots KERNEL_ELF with IMAGE as its disk (the image is used in place: pass a
copy), waits for the shell prompt, types each COMMAND in turn and prints how
many seconds each took from the newline to the next prompt. `make
copy-time` builds an image with a 20 MiB file and times copying it.
"""
import os
import select
import subprocess
import sys
import time


def main():
    kernel, image, *commands = sys.argv[1:]
    qemu = [
        "qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-m", "256M",
        "-serial", "stdio", "-display", "none", "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-kernel", kernel,
        "-drive", f"file={image},format=raw,if=ide,index=0",
    ]
    if os.path.exists("/usr/share/qemu/qboot.rom"):
        qemu[1:1] = ["-bios", "/usr/share/qemu/qboot.rom"]
    proc = subprocess.Popen(qemu, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    seen = b""

    def wait_for(text, timeout):
        nonlocal seen
        deadline = time.monotonic() + timeout
        while text not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                sys.stderr.write(seen.decode(errors="replace")[-2000:])
                raise SystemExit(f"copy-time: no {text!r} within {timeout} s")
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    continue
                seen += chunk.replace(b"\r", b"")
        seen = seen[seen.index(text) + len(text):]

    try:
        wait_for(b"\n$ ", 60)
        for command in commands:
            proc.stdin.write(command.encode() + b"\n")
            proc.stdin.flush()
            wait_for(command.encode() + b"\n", 60)
            started = time.monotonic()
            wait_for(b"$ ", 3600)
            print(f"{time.monotonic() - started:.1f} s  {command}", flush=True)
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
