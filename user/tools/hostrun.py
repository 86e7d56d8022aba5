#!/usr/bin/env python3
"""hostrun: run Diptych user programs on the Linux host, before any kernel exists.

A Diptych program is a static x86-64 ELF that talks to the kernel with the
`syscall` instruction, using Diptych's system-call numbers (see
docs/user-abi.md). Linux can load such a file, and its start-up stack (argc,
argv, NULL) is the one Diptych promises, so only the system calls differ.
This tool runs a program under ptrace and, at every system call, rewrites the
Diptych call into the equivalent Linux call (or emulates it), then rewrites
the result: Diptych's error numbers are Linux's, so most results pass through.

    sudo python3 user/tools/hostrun.py ROOT /bin/usertests -q
    printf 'echo a b | wc\n' | sudo python3 user/tools/hostrun.py ROOT /bin/sh

ROOT is a directory that becomes `/` for the program (chroot, so run as root)
and must hold the programs in ROOT/bin/. Forked children are traced too.

It is a testing aid with known differences from the real kernels:
- `freemem` returns a constant, so the leak check cannot fail;
- the console device (major 1, minor 0) is created as Linux's /dev/null (1:3)
  and reported back as 1:0;
- the heap is capped at HEAP_LIMIT bytes per process to imitate a small machine.
It does not replace running under QEMU; it finds bugs in user code early.
"""

import ctypes
import os
import signal
import struct
import sys
import time

# ---------------------------------------------------------------- ptrace glue

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
LIBC.ptrace.restype = ctypes.c_long

PTRACE_TRACEME, PTRACE_CONT, PTRACE_GETREGS, PTRACE_SETREGS = 0, 7, 12, 13
PTRACE_SYSCALL, PTRACE_SETOPTIONS, PTRACE_GET_SYSCALL_INFO = 24, 0x4200, 0x420E
SYSCALL_INFO_ENTRY = 1
TRACE = bool(os.environ.get("HOSTRUN_TRACE"))
OPTIONS = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x100000  # SYSGOOD FORK VFORK CLONE EXEC EXITKILL
EVENT_FORK, EVENT_VFORK, EVENT_CLONE, EVENT_EXEC = 1, 2, 3, 4


class Regs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_ulonglong) for name in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax "
        "rip cs eflags rsp ss fs_base gs_base ds es fs gs").split()]


def ptrace(request, pid, addr=0, data=0):
    result = LIBC.ptrace(request, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    if result == -1 and ctypes.get_errno() != 0:
        raise OSError(ctypes.get_errno(), f"ptrace({request}, {pid})")
    return result


def get_regs(pid):
    regs = Regs()
    ptrace(PTRACE_GETREGS, pid, 0, ctypes.addressof(regs))
    return regs


def set_regs(pid, regs):
    ptrace(PTRACE_SETREGS, pid, 0, ctypes.addressof(regs))


def signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned(value):
    return value & ((1 << 64) - 1)

# ---------------------------------------------------------------- constants

EFAULT, ENOENT, ENOEXEC, E2BIG, ENOMEM, EINVAL, ESRCH = 14, 2, 8, 7, 12, 22, 3
ENAMETOOLONG, ENOSYS = 36, 38
MAX_PATH, MAX_ARGS, MAX_ARG_BYTES = 255, 32, 4096
USER_TOP = 0x0000_7FFF_FFFF_F000
PAGE = 4096
HEAP_LIMIT = 256 << 20
O_KNOWN = 0x001 | 0x002 | 0x040 | 0x200 | 0x400
AT_FDCWD = unsigned(-100)
SKIP = unsigned(-1)  # orig_rax = -1: Linux skips the call

# Diptych numbers (common/src/abi/syscall.rs)
(FORK, EXIT, WAIT, PIPE, READ, KILL, EXEC, FSTAT, CHDIR, DUP, GETPID, SBRK, SLEEP, UPTIME,
 OPEN, WRITE, MKNOD, UNLINK, LINK, MKDIR, CLOSE, RENAME, GETDENTS, FREEMEM) = range(1, 25)

# Linux numbers
L_READ, L_WRITE, L_CLOSE, L_FSTAT, L_MMAP, L_MUNMAP, L_PIPE, L_DUP = 0, 1, 3, 5, 9, 11, 22, 32
L_NANOSLEEP, L_GETPID, L_FORK, L_EXECVE, L_WAIT4, L_KILL, L_CHDIR = 35, 39, 57, 59, 61, 62, 80
L_GETDENTS64, L_EXIT_GROUP, L_OPENAT, L_MKDIRAT, L_MKNODAT = 217, 231, 257, 258, 259
L_UNLINKAT, L_RENAMEAT, L_LINKAT = 263, 264, 265

# ---------------------------------------------------------------- per-process state


class Process:
    """What the tracer remembers about one traced process."""

    def __init__(self, pid):
        self.pid = pid
        self.call = None          # the Diptych call being translated
        self.fix = None           # function(result) -> result, run at syscall exit
        self.restarting = False   # Linux will restart the interrupted call
        self.initial_break = 0
        self.brk = 0              # the program break
        self.mapped_end = 0       # page-aligned end of the heap mapping

    def memory(self):
        return f"/proc/{self.pid}/mem"

    def read(self, address, length):
        if address >= 1 << 63 or address + length > 1 << 63:
            return None
        try:
            with open(self.memory(), "rb", buffering=0) as mem:
                data = os.pread(mem.fileno(), length, address)
            return data if len(data) == length else None
        except OSError:
            return None

    def writable(self, address, length):
        """True if [address, address+length) lies in writable mappings."""
        end = address + length
        with open(f"/proc/{self.pid}/maps") as maps:
            ranges = []
            for line in maps:
                span, perms = line.split()[:2]
                lo, hi = (int(x, 16) for x in span.split("-"))
                if "w" in perms:
                    ranges.append((lo, hi))
        cursor = address
        for lo, hi in sorted(ranges):
            if lo <= cursor < hi:
                cursor = hi
                if cursor >= end:
                    return True
        return cursor >= end

    def write(self, address, data):
        if not self.writable(address, len(data)):
            return False
        with open(self.memory(), "r+b", buffering=0) as mem:
            return os.pwrite(mem.fileno(), data, address) == len(data)

    def read_string(self, address, limit):
        """The NUL-terminated string at address: bytes, or an errno."""
        data = b""
        while len(data) <= limit:
            chunk = self.read(address + len(data), 1)
            if chunk is None:
                return EFAULT
            if chunk == b"\0":
                return data
            data += chunk
        return ENAMETOOLONG

    def reset_break(self):
        end = program_end(f"/proc/{self.pid}/exe")
        self.initial_break = self.brk = self.mapped_end = end


def program_end(path):
    """Page-aligned end of the highest PT_LOAD segment of an ELF file."""
    with open(path, "rb") as f:
        image = f.read()
    phoff, = struct.unpack_from("<Q", image, 32)
    phentsize, phnum = struct.unpack_from("<HH", image, 54)
    end = 0
    for i in range(phnum):
        p_type, _, _, vaddr, _, _, memsz, _ = struct.unpack_from("<IIQQQQQQ", image, phoff + i * phentsize)
        if p_type == 1:
            end = max(end, vaddr + memsz)
    return (end + PAGE - 1) // PAGE * PAGE


def elf_error(image):
    """None if `image` is an executable Diptych accepts, else ENOEXEC (docs/user-abi.md)."""
    if len(image) < 64 or image[:4] != b"\x7fELF" or image[4] != 2 or image[5] != 1:
        return ENOEXEC
    e_type, machine = struct.unpack_from("<HH", image, 16)
    phoff, = struct.unpack_from("<Q", image, 32)
    phentsize, phnum = struct.unpack_from("<HH", image, 54)
    if e_type != 2 or machine != 0x3E or phentsize != 56 or phoff + phnum * 56 > len(image):
        return ENOEXEC
    for i in range(phnum):
        p_type, _, offset, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", image, phoff + i * 56)
        if p_type != 1:
            continue
        if filesz > memsz or offset + filesz > len(image) or vaddr + memsz > USER_TOP:
            return ENOEXEC
    return None

# ---------------------------------------------------------------- the translator


class Tracer:
    def __init__(self, root):
        self.root = root
        self.processes = {}
        self.exit_statuses = {}  # pid -> the full status given to exit
        self.started = time.monotonic()

    def host_path(self, proc, path):
        path = path.decode(errors="replace")
        if path.startswith("/"):
            return os.path.join(self.root, path.lstrip("/"))
        return os.path.join(f"/proc/{proc.pid}/cwd", path)

    # Each handler runs at syscall entry with the registers; it rewrites them
    # and returns a function to run at syscall exit (or None).

    def skip(self, regs, value):
        """Do not run a Linux call; return `value` to the program."""
        regs.orig_rax = SKIP
        return lambda result: value

    def check_paths(self, proc, regs, *which):
        for reg in which:
            path = proc.read_string(getattr(regs, reg), MAX_PATH)
            if isinstance(path, int):
                return path
        return None

    def on_entry(self, proc, regs):
        call = regs.orig_rax
        a0, a1, a2 = regs.rdi, regs.rsi, regs.rdx
        simple = {READ: L_READ, WRITE: L_WRITE, CLOSE: L_CLOSE, DUP: L_DUP,
                  GETPID: L_GETPID, PIPE: L_PIPE, FORK: L_FORK}
        if call in simple:
            regs.orig_rax = simple[call]
            return None
        if call == EXIT:
            # Linux keeps only 8 bits of the status; remember all 32 for wait.
            self.exit_statuses[proc.pid] = struct.unpack("<i", struct.pack("<I", a0 & 0xFFFFFFFF))[0]
            regs.orig_rax = L_EXIT_GROUP
            return None
        if call == WAIT:
            regs.orig_rax, regs.rdi, regs.rsi, regs.rdx, regs.r10 = L_WAIT4, unsigned(-1), a0, 0, 0
            status_address = a0

            def fix(result):
                child = signed(result)
                if child <= 0:
                    return result
                full_status = self.exit_statuses.pop(child, None)
                raw = proc.read(status_address, 4) if status_address else None
                if raw is not None:
                    status, = struct.unpack("<i", raw)
                    if status & 0x7F != 0:
                        code = -1  # killed by a signal: KILLED_STATUS
                    elif full_status is not None:
                        code = full_status
                    else:
                        code = (status >> 8) & 0xFF
                    proc.write(status_address, struct.pack("<i", code))
                return result
            return fix
        if call == KILL:
            if signed(a0) <= 0 or not self.is_tracee(a0):
                return self.skip(regs, unsigned(-ESRCH))
            regs.orig_rax, regs.rsi = L_KILL, signal.SIGKILL
            return None
        if call == EXEC:
            return self.on_exec(proc, regs)
        if call == FSTAT:
            scratch = (regs.rsp - 8192) & ~0xF
            regs.orig_rax, regs.rsi = L_FSTAT, scratch
            user_stat = a1

            def fix(result):
                if signed(result) < 0:
                    return result
                st = proc.read(scratch, 144)
                dev, ino, nlink, mode = struct.unpack_from("<QQQI", st, 0)
                rdev, size = struct.unpack_from("<QQ", st, 40)
                kind = {0o040000: 1, 0o100000: 2, 0o020000: 3, 0o060000: 3,
                        0o010000: 4, 0o120000: 5}.get(mode & 0o170000, 0)
                major, minor = (rdev >> 8) & 0xFFF, (rdev & 0xFF) | ((rdev >> 12) & 0xFFF00)
                if (major, minor) == (1, 3):
                    major, minor = 1, 0  # our stand-in for the console
                ours = struct.pack("<IIIIQII", dev & 0xFFFFFFFF, ino & 0xFFFFFFFF, kind,
                                   nlink, size, major, minor)
                return result if proc.write(user_stat, ours) else unsigned(-EFAULT)
            return fix
        if call == SBRK:
            return self.on_sbrk(proc, regs, signed(a0))
        if call == SLEEP:
            scratch = (regs.rsp - 8192) & ~0xF
            ticks = a0
            if not proc.write(scratch, struct.pack("<qq", ticks // 100, (ticks % 100) * 10_000_000)):
                return self.skip(regs, unsigned(-EFAULT))
            regs.orig_rax, regs.rdi, regs.rsi = L_NANOSLEEP, scratch, 0
            return None
        if call == UPTIME:
            return self.skip(regs, int((time.monotonic() - self.started) * 100))
        if call == FREEMEM:
            return self.skip(regs, 50_000)
        if call in (OPEN, MKNOD, UNLINK, MKDIR, CHDIR):
            error = self.check_paths(proc, regs, "rdi")
            if error:
                return self.skip(regs, unsigned(-error))
        if call in (LINK, RENAME):
            error = self.check_paths(proc, regs, "rdi", "rsi")
            if error:
                return self.skip(regs, unsigned(-error))
        if call == OPEN:
            if a1 & ~O_KNOWN:
                return self.skip(regs, unsigned(-EINVAL))
            regs.orig_rax, regs.rdi, regs.rsi, regs.rdx, regs.r10 = L_OPENAT, AT_FDCWD, a0, a1, 0o644
            return None
        if call == MKNOD:
            major, minor = a1, a2
            if (major, minor) == (1, 0):
                major, minor = 1, 3
            regs.orig_rax, regs.rdi, regs.rsi = L_MKNODAT, AT_FDCWD, a0
            regs.rdx, regs.r10 = 0o020666, (major << 8) | minor
            return None
        if call == UNLINK:
            path = proc.read_string(a0, MAX_PATH)
            flags = 0
            if os.path.isdir(self.host_path(proc, path)) and not os.path.islink(self.host_path(proc, path)):
                flags = 0x200  # AT_REMOVEDIR: Diptych's unlink removes empty directories
            regs.orig_rax, regs.rdi, regs.rsi, regs.rdx = L_UNLINKAT, AT_FDCWD, a0, flags
            return None
        if call == MKDIR:
            regs.orig_rax, regs.rdi, regs.rsi, regs.rdx = L_MKDIRAT, AT_FDCWD, a0, 0o755
            return None
        if call == CHDIR:
            regs.orig_rax = L_CHDIR
            return None
        if call == LINK:
            regs.orig_rax, regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8 = L_LINKAT, AT_FDCWD, a0, AT_FDCWD, a1, 0
            return None
        if call == RENAME:
            regs.orig_rax, regs.rdi, regs.rsi, regs.rdx, regs.r10 = L_RENAMEAT, AT_FDCWD, a0, AT_FDCWD, a1
            return None
        if call == GETDENTS:
            regs.orig_rax = L_GETDENTS64
            buffer = a1

            def fix(result):
                n = signed(result)
                if n <= 0:
                    return result
                raw = proc.read(buffer, n)
                out = b""
                offset = 0
                while offset < n:
                    ino, _, reclen, dtype = struct.unpack_from("<QqHB", raw, offset)
                    name = raw[offset + 19:offset + reclen].split(b"\0")[0]
                    kind = {4: 1, 8: 2, 2: 3, 6: 3, 1: 4, 10: 5}.get(dtype, 0)
                    length = (8 + len(name) + 7) // 8 * 8
                    out += struct.pack("<IHBB", ino & 0xFFFFFFFF, length, len(name), kind)
                    out += name + b"\0" * (length - 8 - len(name))
                    offset += reclen
                proc.write(buffer, out)
                return len(out)
            return fix
        return self.skip(regs, unsigned(-ENOSYS))

    def on_exec(self, proc, regs):
        path = proc.read_string(regs.rdi, MAX_PATH)
        if isinstance(path, int):
            return self.skip(regs, unsigned(-path))
        # Count and measure the arguments as Diptych does.
        total, count = 0, 0
        while True:
            raw = proc.read(regs.rsi + 8 * count, 8)
            if raw is None:
                return self.skip(regs, unsigned(-EFAULT))
            pointer, = struct.unpack("<Q", raw)
            if pointer == 0:
                break
            count += 1
            if count > MAX_ARGS:
                return self.skip(regs, unsigned(-E2BIG))
            arg = proc.read_string(pointer, MAX_ARG_BYTES)
            if arg == EFAULT:
                return self.skip(regs, unsigned(-EFAULT))
            total += (len(arg) + 1) if isinstance(arg, bytes) else MAX_ARG_BYTES + 1
            if total > MAX_ARG_BYTES:
                return self.skip(regs, unsigned(-E2BIG))
        host = self.host_path(proc, path)
        if os.path.isfile(host):
            with open(host, "rb") as f:
                error = elf_error(f.read())
            if error:
                return self.skip(regs, unsigned(-error))
        regs.orig_rax, regs.rdx = L_EXECVE, 0
        return None

    def on_sbrk(self, proc, regs, increment):
        old = proc.brk
        new = old + increment
        if increment == 0:
            return self.skip(regs, old)
        if increment > 0:
            if new > USER_TOP or new - proc.initial_break > HEAP_LIMIT:
                return self.skip(regs, unsigned(-ENOMEM))
            need = (new + PAGE - 1) // PAGE * PAGE
            if need <= proc.mapped_end:
                proc.brk = new
                return self.skip(regs, old)
            start = proc.mapped_end
            regs.orig_rax, regs.rdi, regs.rsi, regs.rdx = L_MMAP, start, need - start, 3
            regs.r10, regs.r8, regs.r9 = 0x02 | 0x20 | 0x100000, unsigned(-1), 0

            def fix(result):
                if result != start:
                    return unsigned(-ENOMEM)
                proc.brk, proc.mapped_end = new, need
                return old
            return fix
        if new < proc.initial_break:
            return self.skip(regs, unsigned(-EINVAL))
        keep = (new + PAGE - 1) // PAGE * PAGE
        if keep >= proc.mapped_end:
            proc.brk = new
            return self.skip(regs, old)
        end = proc.mapped_end
        regs.orig_rax, regs.rdi, regs.rsi = L_MUNMAP, keep, end - keep

        def fix(result):
            if signed(result) < 0:
                return unsigned(-EINVAL)
            proc.brk, proc.mapped_end = new, keep
            return old
        return fix

    # ------------------------------------------------------------ the loop

    def is_tracee(self, pid):
        """True if `pid` is a process we trace (never signal anything else)."""
        try:
            with open(f"/proc/{pid}/status") as status:
                tracer = next(int(l.split()[1]) for l in status if l.startswith("TracerPid:"))
        except (OSError, StopIteration, ValueError):
            return False
        return tracer == os.getpid()

    def adopt(self, pid):
        """A process we have not seen: a new child. It inherits its parent's heap."""
        proc = Process(pid)
        with open(f"/proc/{pid}/status") as status:
            parent = next(int(l.split()[1]) for l in status if l.startswith("PPid:"))
        if parent in self.processes:
            p = self.processes[parent]
            proc.initial_break, proc.brk, proc.mapped_end = p.initial_break, p.brk, p.mapped_end
        else:
            proc.reset_break()
        self.processes[pid] = proc
        return proc

    def run(self, program, args):
        child = os.fork()
        if child == 0:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))  # like a small kernel's table
            os.chroot(self.root)
            os.chdir("/")
            ptrace(PTRACE_TRACEME, 0)
            os.execv(program, [os.path.basename(program)] + args)
        LIBC.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans stay ours
        os.waitpid(child, 0)
        ptrace(PTRACE_SETOPTIONS, child, 0, OPTIONS)
        first = Process(child)
        first.reset_break()
        self.processes[child] = first
        ptrace(PTRACE_SYSCALL, child)
        exit_code = 1
        while True:
            try:
                pid, status = os.waitpid(-1, 0x40000000)  # __WALL
            except ChildProcessError:
                return exit_code
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                self.processes.pop(pid, None)
                if pid == child:
                    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
                continue
            if not os.WIFSTOPPED(status):
                continue
            proc = self.processes.get(pid) or self.adopt(pid)
            sig, event = os.WSTOPSIG(status), status >> 16
            deliver = 0
            if sig == signal.SIGTRAP | 0x80:
                self.on_syscall_stop(proc)
            elif sig == signal.SIGTRAP and event == EVENT_EXEC:
                proc.reset_break()
            elif sig == signal.SIGTRAP and event:
                pass  # fork/clone events: the child is adopted when it stops
            elif sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGTRAP):
                deliver = signal.SIGKILL  # a fault: Diptych kills the process
            elif sig in (signal.SIGSTOP, signal.SIGPIPE, signal.SIGCHLD):
                pass  # start-up stops; SIGPIPE and SIGCHLD do not exist in Diptych
            else:
                deliver = sig
            try:
                ptrace(PTRACE_SYSCALL, pid, 0, deliver)
            except OSError:
                pass  # the process is already gone

    def on_syscall_stop(self, proc):
        regs = get_regs(proc.pid)
        # Ask the kernel whether this is the entry or the exit of a call: a
        # new child's first stop is the exit of fork, so counting would
        # get out of step.
        info = ctypes.create_string_buffer(88)
        ptrace(PTRACE_GET_SYSCALL_INFO, proc.pid, len(info), ctypes.addressof(info))
        if TRACE:
            print(f"[{proc.pid}] op={info.raw[0]} nr={regs.orig_rax} rax={signed(regs.rax)}", file=sys.stderr)
        if info.raw[0] == SYSCALL_INFO_ENTRY:
            if proc.restarting:
                # Linux restarts an interrupted call with the *Linux* number
                # we put there: leave it, and keep the pending fix.
                proc.restarting = False
                return
            proc.fix = self.on_entry(proc, regs)
            set_regs(proc.pid, regs)
        else:
            if -516 <= signed(regs.rax) <= -512:
                proc.restarting = True  # ERESTART*: a signal interrupted the call
                return
            if proc.fix is not None:
                regs.rax = unsigned(proc.fix(regs.rax))
                set_regs(proc.pid, regs)
            proc.fix = None


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, program = os.path.abspath(sys.argv[1]), sys.argv[2]
    return Tracer(root).run(program, sys.argv[3:])


if __name__ == "__main__":
    sys.exit(main())
