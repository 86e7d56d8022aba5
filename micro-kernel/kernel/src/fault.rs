//! User-mode faults become IPC.
//!
//! A page fault in a user thread is turned into a *call* from the faulting
//! thread to its pager, as if the thread had called
//! `ipc(to: pager, from: pager)` with the message
//! `label::PAGE_FAULT, [address, access, rip]`. The thread's own registers
//! are untouched (the kernel sends on its behalf, `IpcKind::PageFault`).
//! The pager's reply carries a map item, which the kernel maps at the
//! faulting page; then the thread re-executes the instruction.
//!
//! A *system call* can fault too, without the thread touching anything: an
//! IPC names memory of the thread (a byte item, a receive area) that is not
//! mapped as needed yet ([`system_call_fault`], `copy.rs`). The kernel then
//! sends the same page-fault message, marked `fault_access::SYSTEM_CALL`,
//! with the thread's instruction pointer moved back onto its `syscall`
//! instruction: once the pager has mapped the page, the thread simply
//! executes the system call again (`docs/microkernel.md`, "memory a
//! message names"). A pager that answers without a mapping makes the call
//! fail with `BadAddress` instead.
//!
//! Every other CPU exception (and a page fault of a thread without a
//! pager, or on a kernel address) goes the same way to the thread's *exception handler*, with
//! `label::EXCEPTION, [vector, error code, rip, rsp, rflags, cr2]`. The
//! handler may reply with `[rip, rsp]` to resume the thread elsewhere, with
//! no words to retry, or destroy the thread. A thread with neither is killed
//! (with a line on the console); a fault never takes the kernel down.

use crate::copy::Missing;
use crate::global::Kernel;
use crate::ipc;
use crate::lifecycle;
use crate::slot::ThreadSlot;
use crate::thread::{self, IpcKind, Message};
use crate::trace;
use common::abi::micro::{Error, KERNEL_INFO_PAGE, TIMEOUT_NEVER, Tag, fault_access, label, timeouts};
use common::arch::{cpu, idt};
use common::mm::{PAGE_SIZE, USER_TOP};
use common::trace::Kind;

/// A CPU exception `vector` in user thread `slot`.
pub fn user_exception(k: &mut Kernel, slot: ThreadSlot) {
    let f = thread::frame(slot);
    let (vector, error_code, rip, rsp, rflags) = (f.vector, f.error_code, f.rip, f.rsp, f.rflags);
    let thread = k.threads.get(slot);
    let (space, pager, handler) = (thread.space, thread.pager, thread.handler);
    let never = timeouts(TIMEOUT_NEVER, TIMEOUT_NEVER);
    // A fault on a kernel address is a protection violation no pager can
    // fix: it goes to the exception handler like any other exception.
    let address = cpu::read_cr2();
    if vector == idt::PAGE_FAULT {
        trace::event(slot, Kind::PageFault, [address, error_code, rip]);
    }
    // The kernel info page is the kernel's: the first read maps it (and
    // the thread reads again); any other fault there (a write) is an
    // exception, never the pager's business (its answer would replace it).
    let info_page = address & !(PAGE_SIZE - 1) == KERNEL_INFO_PAGE;
    if vector == idt::PAGE_FAULT
        && info_page
        && error_code & (fault_access::PRESENT | fault_access::WRITE) == 0
        && k.spaces.map_info_page(&mut k.frames, space).is_ok()
    {
        return;
    }
    let pageable = address < USER_TOP && !info_page;
    if vector == idt::PAGE_FAULT && pageable && k.threads.lookup(pager).is_some() {
        k.threads.get(slot).ipc_kind = IpcKind::PageFault { page: address & !(PAGE_SIZE - 1), system_call: false };
        let message = Message { tag: Tag::new(label::PAGE_FAULT, 3), mr: [address, error_code & 0x13, rip, 0, 0, 0] };
        if ipc::start(k, slot, pager, message, never, pager).is_ok() {
            return;
        }
    } else if k.threads.lookup(handler).is_some() {
        let cr2 = if vector == idt::PAGE_FAULT { cpu::read_cr2() } else { 0 };
        k.threads.get(slot).ipc_kind = IpcKind::Exception;
        let message = Message { tag: Tag::new(label::EXCEPTION, 6), mr: [vector, error_code, rip, rsp, rflags, cr2] };
        if ipc::start(k, slot, handler, message, never, handler).is_ok() {
            return;
        }
    }
    k.threads.get(slot).ipc_kind = IpcKind::Normal;
    let (mnemonic, name) = idt::exception_name(vector);
    let cr2 = if vector == idt::PAGE_FAULT { cpu::read_cr2() } else { 0 };
    lifecycle::kill(
        k,
        slot,
        format_args!("{mnemonic} {name} at rip {rip:#x} (error {error_code:#x}, cr2 {cr2:#x}), no pager or handler"),
    );
}

/// The length of the `syscall` instruction (`0f 05`): a thread whose saved
/// `rip` is moved back by this much executes its system call again.
pub const SYSCALL_INSTRUCTION_BYTES: u64 = 2;

/// The system call thread `slot` is making needs page `missing` of its own
/// memory: sends its pager a page fault on its behalf and backs it up onto
/// its `syscall` instruction, to run the call again once the pager has
/// answered. `Err(BadAddress)` (and nothing changed) if the thread has no
/// pager to ask.
pub fn system_call_fault(k: &mut Kernel, slot: ThreadSlot, missing: Missing) -> Result<(), Error> {
    let pager = k.threads.get(slot).pager;
    if k.threads.lookup(pager).is_none() {
        return Err(Error::BadAddress);
    }
    let mut access = fault_access::SYSTEM_CALL;
    if missing.write {
        access |= fault_access::WRITE;
    }
    if missing.present {
        access |= fault_access::PRESENT;
    }
    let f = thread::frame(slot);
    let rip = f.rip - SYSCALL_INSTRUCTION_BYTES;
    let message = Message { tag: Tag::new(label::PAGE_FAULT, 3), mr: [missing.address, access, rip, 0, 0, 0] };
    let page = missing.address & !(PAGE_SIZE - 1);
    trace::event(slot, Kind::PageFault, [missing.address, access, rip]);
    k.threads.get(slot).ipc_kind = IpcKind::PageFault { page, system_call: true };
    let never = timeouts(TIMEOUT_NEVER, TIMEOUT_NEVER);
    match ipc::start(k, slot, pager, message, never, pager) {
        Ok(()) => {
            thread::frame(slot).rip = rip;
            Ok(())
        }
        Err(error) => {
            k.threads.get(slot).ipc_kind = IpcKind::Normal;
            Err(error)
        }
    }
}
