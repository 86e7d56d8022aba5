//! Faults on purpose, in a server (`docs/fault-isolation.md`).
//!
//! Root arms a fault with an `Arm` message (`common::abi::proto::root`),
//! which the receive functions of this crate take out of the stream of
//! requests (the server's own code never sees it), and only from root.
//! Then:
//!
//! - [`Fault::SharedBadPointer`] arms the shared code's checkpoint
//!   (`common::inject`): the disk, fs or console server faults in the
//!   shared driver or file-system code, in the middle of its next request —
//!   the very code the mono-kernel runs, where the same fault stops the
//!   kernel. (vfs and proc have no shared checkpoint: for them it is a bad
//!   pointer at their next request.)
//! - Every other fault happens when the server receives its `after`-th
//!   request from then on, before it looks at it ([`on_request`]): a load
//!   through a bad pointer, a bit of the stack or instruction pointer
//!   flipped, a store into the server's own (read-only) code, an invalid
//!   instruction, or a loop that never waits (for root's watchdog).
//!
//! The server prints one line when the fault fires, so that the serial log
//! shows the cause right before root's report of the crash. Counting
//! requests rather than time makes a fault's place in a run a function of
//! the requests alone: a campaign's seed replays it.

use common::abi::inject::{Component, Fault, Injection};
use common::inject::{BAD_POINTER, load_from};
use core::cell::Cell;

/// The armed fault, and how many more requests until it fires.
struct Armed {
    fault: Cell<Option<(Fault, u64)>>,
    remaining: Cell<u64>,
}

// SAFETY: a server is one thread; only it touches the cells.
unsafe impl Sync for Armed {}

static ARMED: Armed = Armed {
    fault: Cell::new(None),
    remaining: Cell::new(0),
};

/// Arms `injection` in this server (`name` is the server's, for the line
/// it prints).
pub fn arm(injection: Injection, name: &str) {
    let Injection {
        component,
        fault,
        after,
        parameter,
    } = injection;
    if fault == Fault::SharedBadPointer && common::inject::arm(component) {
        l4::println!("{name}: armed: {} at its next step", fault.name());
        return;
    }
    let (fault, parameter, after) = match fault {
        // No shared checkpoint here (vfs, proc): the next request.
        Fault::SharedBadPointer => (Fault::BadPointer, BAD_POINTER, 1),
        other => (other, parameter, after),
    };
    ARMED.fault.set(Some((fault, parameter)));
    ARMED.remaining.set(after.max(1));
    l4::println!(
        "{name}: armed: {} at request {after} from now",
        fault.name()
    );
}

/// Counts one request from a client; fires the armed fault if this is its
/// request. Returns if nothing fires (or a bad load happened to hit
/// memory the server has).
pub fn on_request(name: &str) {
    let Some((fault, parameter)) = ARMED.fault.get() else {
        return;
    };
    let remaining = ARMED.remaining.get().saturating_sub(1);
    ARMED.remaining.set(remaining);
    if remaining > 0 {
        return;
    }
    ARMED.fault.set(None);
    fire(fault, parameter, name);
}

/// Whether a fault is armed and waiting for requests.
pub fn is_armed() -> bool {
    ARMED.fault.get().is_some() || Component::ALL.into_iter().any(common::inject::armed)
}

/// Makes the fault happen.
fn fire(fault: Fault, parameter: u64, name: &str) {
    match fault {
        Fault::BadPointer | Fault::SharedBadPointer => {
            l4::println!("{name}: injected fault: a load from {parameter:#x}");
            load_from(parameter);
        }
        Fault::StackBitFlip => {
            l4::println!("{name}: injected fault: bit {parameter} of the stack pointer flipped");
            flip_stack_pointer(1 << (parameter & 63));
        }
        Fault::CodeBitFlip => {
            l4::println!(
                "{name}: injected fault: bit {parameter} of the instruction pointer flipped"
            );
            flip_instruction_pointer(1 << (parameter & 63));
        }
        Fault::WildWrite => {
            l4::println!("{name}: injected fault: a store into its own code");
            store_into_code();
        }
        Fault::InvalidOpcode => {
            l4::println!("{name}: injected fault: an invalid instruction");
            invalid_instruction();
        }
        Fault::InfiniteLoop => {
            l4::println!("{name}: injected fault: a loop that never waits");
            loop {
                core::hint::spin_loop();
            }
        }
    }
}

/// Flips the `mask` bits of `rsp`, then pushes: the push faults when the
/// new stack pointer is outside every mapped region.
fn flip_stack_pointer(mask: u64) {
    // SAFETY: not sound on purpose: with the stack pointer wrong, the push
    // faults (the campaign picks bits that move it out of the stack) and
    // the server dies there; the stack pointer is put back if it does not,
    // so the code after it still runs on the right stack.
    unsafe {
        core::arch::asm!(
            "xor rsp, {mask}",
            "push {mask}",
            "pop {mask}",
            "xor rsp, {mask}",
            mask = inout(reg) mask => _,
        );
    }
}

/// Jumps to the address of the next instruction with the `mask` bits
/// flipped.
fn flip_instruction_pointer(mask: u64) {
    // SAFETY: not sound on purpose: the jump goes where no code is (the
    // campaign picks bits that leave the program image), and the fetch
    // there ends the server. With a mask of 0 it jumps to the next
    // instruction.
    unsafe {
        core::arch::asm!(
            "lea {target}, [rip + 2f]",
            "xor {target}, {mask}",
            "jmp {target}",
            "2:",
            target = out(reg) _,
            mask = in(reg) mask,
            options(nostack),
        );
    }
}

/// Stores a byte into this function's own code, which root maps read-only.
fn store_into_code() {
    // SAFETY: not sound on purpose: the store is a protection fault, which
    // ends the server.
    unsafe {
        core::arch::asm!(
            "lea {target}, [rip]",
            "mov byte ptr [{target}], 0",
            target = out(reg) _,
            options(nostack),
        );
    }
}

/// `ud2`: an invalid-opcode exception, reported to root as an exception
/// rather than a page fault.
fn invalid_instruction() {
    // SAFETY: `ud2` only raises #UD.
    unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
}
