//! System-call dispatch: from the `syscall` instruction to the function that
//! does the work.
//!
//! The shared entry code (common/src/arch/trap.rs) saves the registers in a
//! `TrapFrame` and calls [`syscall_handler`]. The number in `rax` picks the
//! call from the one ABI table, `common::abi::syscall::Sys`, which the user
//! library uses too; arguments are in `rdi, rsi, rdx, r10, r8, r9`. Every
//! call returns `Result<u64, Errno>`, which goes back to user space in `rax`
//! as a value or as `-errno`. Arguments are untrusted: pointers are only
//! ever used through `UserVm::copy_in`/`copy_out`, numbers are range-checked
//! by the function that uses them.

use crate::sched;
use crate::sys_file as file;
use crate::sys_proc as process;
use common::abi::errno::Errno;
use common::abi::syscall::Sys;
use common::arch::trap::TrapFrame;
use common::trace::{self, Kind};

/// Called by the shared assembly for every `syscall` instruction.
#[unsafe(no_mangle)]
extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    let (number, args) = frame.syscall_args();
    trace::point(Kind::SyscallEnter, number, args[0], args[1]);
    let result = match Sys::from_number(number) {
        Some(call) => dispatch(call, args, frame),
        None => Err(Errno::ENOSYS),
    };
    frame.rax = match result {
        Ok(value) => value,
        Err(errno) => errno.as_return() as u64,
    };
    trace::point(Kind::SyscallExit, number, frame.rax, 0);
    // A process killed while in the kernel dies on its way out.
    if sched::current().killed.get() {
        process::exit_current(-1);
    }
}

fn dispatch(call: Sys, a: [u64; 6], frame: &mut TrapFrame) -> Result<u64, Errno> {
    match call {
        Sys::Fork => process::fork(frame),
        Sys::Exit => process::exit_current(a[0] as i32),
        Sys::Wait => process::wait(a[0]),
        Sys::Kill => process::kill(a[0]),
        Sys::Exec => process::exec(a[0], a[1], frame),
        Sys::Getpid => Ok(u64::from(sched::current().pid)),
        Sys::Sbrk => process::sbrk(a[0] as i64),
        Sys::Sleep => process::sleep(a[0]),
        Sys::Uptime => Ok(sched::ticks()),
        Sys::Freemem => Ok(crate::memory::free_frames() as u64),
        Sys::Pipe => file::pipe(a[0]),
        Sys::Read => file::read(a[0], a[1], a[2]),
        Sys::Write => file::write(a[0], a[1], a[2]),
        Sys::Close => file::close(a[0]),
        Sys::Dup => file::dup(a[0]),
        Sys::Open => file::open(a[0], a[1]),
        Sys::Fstat => file::fstat(a[0], a[1]),
        Sys::Getdents => file::getdents(a[0], a[1], a[2]),
        Sys::Chdir => file::chdir(a[0]),
        Sys::Mkdir => file::mkdir(a[0]),
        Sys::Mknod => file::mknod(a[0], a[1], a[2]),
        Sys::Unlink => file::unlink(a[0]),
        Sys::Link => file::link(a[0], a[1]),
        Sys::Rename => file::rename(a[0], a[1]),
        Sys::Trace => crate::trace::sys_trace(a[0], a[1], a[2]),
        Sys::Sync => file::sync(),
        Sys::Fsync => file::fsync(a[0]),
        // LAB syscall BEGIN
        Sys::Getppid => Ok(u64::from(sched::current().parent.get())),
        Sys::Sysinfo => process::sysinfo(a[0]),
        // LAB syscall STUB
        // LAB syscall END
    }
}
