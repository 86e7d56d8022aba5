//! The shared code's fault checkpoints: a fault injected on purpose into
//! the disk driver, the file system or the console, the same code on both
//! kernels (`docs/fault-isolation.md`).
//!
//! [`arm`] sets a flag; the next time the component's shared code passes
//! its [`checkpoint`] — `Ata::start_read`/`start_write` for the disk, every
//! buffer-cache access (`BufferCache::get`) for the file system,
//! `ConsoleOutput::write_bytes` for the console — it clears the flag and
//! loads a word from [`BAD_POINTER`], an address nothing maps: the bug of
//! a null structure pointer. What follows is the environment's business,
//! and is the point of the experiment:
//!
//! - in the mono-kernel the load is a page fault in kernel mode: the
//!   kernel prints its `CPU EXCEPTION` report and stops the machine;
//! - in a micro-kernel server it is a page fault of that server: root
//!   reports the crash, destroys the server and starts a new copy.
//!
//! The flags are per copy of this crate: the mono-kernel has one set, each
//! server its own (only the server that was asked arms its flag). Arming is
//! the environment's decision (the `inject` system call or root's message,
//! both refused unless the kernel was booted with `inject`).

use crate::abi::inject::Component;
use core::sync::atomic::{AtomicBool, Ordering};

/// The address a fired checkpoint loads from: a field of a structure at
/// address 0, in the page no address space maps.
pub const BAD_POINTER: u64 = 0x18;

/// One flag per component with shared code (console, disk, fs).
static ARMED: [AtomicBool; 3] = [
    AtomicBool::new(false),
    AtomicBool::new(false),
    AtomicBool::new(false),
];

/// The flag of `component`, if it has shared code.
fn flag(component: Component) -> Option<&'static AtomicBool> {
    match component {
        Component::Console => Some(&ARMED[0]),
        Component::Disk => Some(&ARMED[1]),
        Component::Fs => Some(&ARMED[2]),
        Component::Vfs | Component::Proc => None,
    }
}

/// Arms `component`'s checkpoint. Returns false if the component has no
/// shared code (vfs, proc).
pub fn arm(component: Component) -> bool {
    match flag(component) {
        Some(flag) => {
            flag.store(true, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// Whether `component`'s checkpoint is armed.
pub fn armed(component: Component) -> bool {
    flag(component).is_some_and(|flag| flag.load(Ordering::Relaxed))
}

/// The checkpoint of `component`'s shared code: nothing, unless armed;
/// then the flag is cleared and the code loads through [`BAD_POINTER`].
#[inline]
pub fn checkpoint(component: Component) {
    if let Some(flag) = flag(component)
        && flag.load(Ordering::Relaxed)
    {
        fire(flag);
    }
}

/// Clears the flag (so that whatever runs next — the mono-kernel's fault
/// report printed on the console — does not fire it again) and makes the
/// bad load.
#[cold]
#[inline(never)]
fn fire(flag: &AtomicBool) {
    flag.store(false, Ordering::Relaxed);
    load_from(BAD_POINTER);
}

/// Loads a word from `address` with one `mov`, as a bug would (also the
/// micro-kernel servers' injected bad load, `server_lib::inject`). If
/// `address` is mapped, nothing happens.
#[cfg(target_arch = "x86_64")]
pub fn load_from(address: u64) {
    // SAFETY: not sound on purpose — the point is the CPU's fault, which
    // the environment handles (the mono-kernel's fault report, root's
    // restart of the server). The load is an instruction, not a Rust
    // dereference, so the compiler assumes nothing about it; it writes
    // only a scratch register.
    unsafe {
        core::arch::asm!(
            "mov {scratch}, qword ptr [{address}]",
            address = in(reg) address,
            scratch = out(reg) _,
            options(nostack, readonly),
        );
    }
}

/// On other architectures (host tests of other machines) nothing happens.
#[cfg(not(target_arch = "x86_64"))]
pub fn load_from(_address: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_components_with_shared_code_arm() {
        assert!(!arm(Component::Vfs));
        assert!(!arm(Component::Proc));
        assert!(!armed(Component::Console));
        for component in Component::ALL {
            assert_eq!(
                flag(component).is_some(),
                component.is_shared_code(),
                "{component:?}"
            );
        }
        // Never fired here: the load would end the test process.
        checkpoint(Component::Console);
    }
}
