//! System-call dispatch: from the `syscall` instruction to the function that
//! does the work.
//!
//! The shared entry code (common/src/arch/trap.rs) saves the registers in a
//! `TrapFrame` and calls [`syscall_handler`]. The number in `rax` indexes
//! [`HANDLERS`], xv6's `syscalls[]` table: one function per call of the one
//! ABI list, `common::abi::syscall::Sys`, which the user library uses too.
//! The table is built from [`handler`], a `match` the compiler checks is
//! complete, so a call added to `Sys` cannot be forgotten here. Arguments
//! are in `rdi, rsi, rdx, r10, r8, r9` ([`TrapFrame::syscall_args`]). Every
//! call returns `Result<u64, Errno>`, which goes back to user space in `rax`
//! as a value or as `-errno`. Arguments are untrusted: pointers are only
//! ever used through `vm::copy_in`/`copy_out` (and `UserVm::try_copy_in`/
//! `try_copy_out` with `FaultRetry`), numbers are range-checked
//! by the function that uses them.
//!
//! Why a table and not one `match` in the handler: each handler is then a
//! function of its own, with its own stack frame. In one big `match` the
//! compiler inlines every call into it, and `getpid` would pay, on every
//! call, for setting up the frame `exec` needs (6 KiB of buffers, with a
//! stack probe): 30 instructions of a 150-instruction call.

use crate::sched;
use crate::sys_file as file;
use crate::sys_proc as process;
use common::abi::errno::Errno;
use common::abi::syscall::Sys;
use common::arch::trap::TrapFrame;
use common::trace::{self, Kind};

/// One system call's implementation: its arguments are in the frame.
type Handler = fn(&mut TrapFrame) -> Result<u64, Errno>;

/// Called by the shared assembly for every `syscall` instruction.
#[unsafe(no_mangle)]
extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    let number = frame.rax;
    trace::point_with(Kind::SyscallEnter, || [number, frame.rdi, frame.rsi]);
    let handler = HANDLERS.get(number as usize).copied().unwrap_or(unknown);
    frame.rax = match handler(frame) {
        Ok(value) => value,
        Err(errno) => errno.as_return() as u64,
    };
    trace::point(Kind::SyscallExit, number, frame.rax, 0);
    // A process killed while in the kernel dies on its way out.
    if sched::current_killed() {
        process::exit_current(-1);
    }
}

/// What a number no call has gets.
fn unknown(_: &mut TrapFrame) -> Result<u64, Errno> {
    Err(Errno::ENOSYS)
}

/// The system calls by number: `HANDLERS[call.number()]` runs `call`.
static HANDLERS: [Handler; Sys::COUNT as usize] = {
    let mut table = [unknown as Handler; Sys::COUNT as usize];
    let mut i = 0;
    while i < Sys::ALL.len() {
        table[Sys::ALL[i].number() as usize] = handler(Sys::ALL[i]);
        i += 1;
    }
    table
};

/// The function that implements `call`, and where its arguments are.
const fn handler(call: Sys) -> Handler {
    match call {
        Sys::Fork => |f| process::fork(f),
        Sys::Exit => |f| process::exit_current(f.rdi as i32),
        Sys::Wait => |f| process::wait(f.rdi),
        Sys::Kill => |f| process::kill(f.rdi),
        Sys::Exec => |f| process::exec(f.rdi, f.rsi, f),
        Sys::Getpid => |_| Ok(u64::from(sched::current_pid())),
        Sys::Sbrk => |f| process::sbrk(f.rdi as i64),
        Sys::Sleep => |f| process::sleep(f.rdi),
        Sys::Uptime => |_| Ok(sched::ticks()),
        Sys::Freemem => |_| Ok(crate::memory::free_frames() as u64),
        Sys::Pipe => |f| file::pipe(f.rdi),
        Sys::Read => |f| file::read(f.rdi, f.rsi, f.rdx),
        Sys::Write => |f| file::write(f.rdi, f.rsi, f.rdx),
        Sys::Close => |f| file::close(f.rdi),
        Sys::Dup => |f| file::dup(f.rdi),
        Sys::Open => |f| file::open(f.rdi, f.rsi),
        Sys::Fstat => |f| file::fstat(f.rdi, f.rsi),
        Sys::Getdents => |f| file::getdents(f.rdi, f.rsi, f.rdx),
        Sys::Chdir => |f| file::chdir(f.rdi),
        Sys::Mkdir => |f| file::mkdir(f.rdi),
        Sys::Mknod => |f| file::mknod(f.rdi, f.rsi, f.rdx),
        Sys::Unlink => |f| file::unlink(f.rdi),
        Sys::Link => |f| file::link(f.rdi, f.rsi),
        Sys::Rename => |f| file::rename(f.rdi, f.rsi),
        Sys::Trace => |f| crate::trace::sys_trace(f.rdi, f.rsi, f.rdx),
        Sys::Sync => |_| file::sync(),
        Sys::Fsync => |f| file::fsync(f.rdi),
        Sys::Mmap => |f| process::mmap(f.rsi, f.rdx, f.r10, f.r8, f.r9),
        Sys::Munmap => |f| process::munmap(f.rdi, f.rsi),
        // LAB syscall BEGIN
        Sys::Getppid => |_| Ok(u64::from(sched::current().parent.get())),
        Sys::Sysinfo => |f| process::sysinfo(f.rdi),
        // LAB syscall STUB
        // LAB syscall END
        // LAB pipe BEGIN
        Sys::Pipe2 => |f| file::pipe2(f.rdi, f.rsi),
        // LAB pipe STUB
        // LAB pipe END
        // LAB fs BEGIN
        Sys::Symlink => |f| file::symlink(f.rdi, f.rsi),
        Sys::Readlink => |f| file::readlink(f.rdi, f.rsi, f.rdx),
        // LAB fs STUB
        // LAB fs END
    }
}
