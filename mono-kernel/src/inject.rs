//! The `inject` system call: a fault on purpose in the shared code
//! (`docs/fault-isolation.md`).
//!
//! `inject(component, fault, after, parameter)` with
//! `Fault::SharedBadPointer` arms the checkpoint of the shared code of the
//! disk driver, the file system or the console (`common::inject`): the
//! next time that code runs — here, in the kernel — it loads through a bad
//! pointer, a page fault in kernel mode, and the kernel stops with its
//! `CPU EXCEPTION` report. On the micro-kernel the very same code runs in
//! a server, which root restarts: that is the comparison the call exists
//! for. The other faults are the micro-kernel servers' (`EINVAL` here);
//! component 0 asks for the number of server restarts, always 0 here.
//!
//! Refused with `EPERM` unless the kernel was booted with `inject` on its
//! command line: a program must not be able to stop the kernel by
//! accident (the system-call fuzzer calls every call with random
//! arguments).

use common::abi::errno::Errno;
use common::abi::inject::{Fault, InjectRequest};
use core::sync::atomic::{AtomicBool, Ordering};

/// Whether the command line allowed injection (set once at boot).
static ALLOWED: AtomicBool = AtomicBool::new(false);

/// Allows injection (the command line had `inject`).
pub fn allow() {
    ALLOWED.store(true, Ordering::Relaxed);
}

/// `inject(component, fault, after, parameter) -> restarts (0)`.
pub fn sys_inject(words: [u64; 4]) -> Result<u64, Errno> {
    if !ALLOWED.load(Ordering::Relaxed) {
        return Err(Errno::EPERM);
    }
    match InjectRequest::from_words(words)? {
        InjectRequest::Query => Ok(0),
        InjectRequest::Inject(injection) => {
            if injection.fault != Fault::SharedBadPointer || !injection.component.is_shared_code() {
                return Err(Errno::EINVAL);
            }
            // Said before arming: the console's checkpoint is on this path.
            common::kprintln!(
                "inject: the {} code will load through a bad pointer at its next step",
                injection.component.name()
            );
            common::inject::arm(injection.component);
            Ok(0)
        }
    }
}
