//! System-call dispatch: decode the registers, check, call, encode.
//!
//! The numbers and the register layout are in `common/src/abi/micro.rs`,
//! the reference is `docs/microkernel.md`. Every handler validates all of
//! its arguments before changing anything and reports problems as an
//! [`Error`] code in `rax`; nothing a thread passes can panic the kernel.

use crate::global::Kernel;
use crate::lifecycle::{self, NewRegisters};
use crate::slot::{SpaceSlot, ThreadSlot};
use crate::{copy, fault, ioport, ipc, irq, map, sched, thread};
use common::abi::micro::{Error, MAX_BUFFER_BYTES, SpaceId, Sys, ThreadId};
use common::kprint;
use common::mm::{PAGE_SIZE, UserRange};
use common::trace::Kind;

/// The most bytes `debug_print` prints per call.
pub const MAX_DEBUG_PRINT: u64 = 256;

/// Runs the system call in thread `slot`'s registers and writes the results.
pub fn dispatch(k: &mut Kernel, slot: ThreadSlot) {
    let f = thread::frame(slot);
    let a = [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9, f.r12, f.r13, f.r14, f.r15];
    let number = f.rax;
    // An IPC's trace is the message it moves (`ipc.rs`), not the call.
    if number != Sys::Ipc as u64 {
        crate::trace::event(slot, Kind::SyscallEnter, [number, a[0], a[1]]);
    }
    let space = k.threads.get(slot).space;
    let result: Result<[u64; 7], Error> = match Sys::from_number(f.rax) {
        None => Err(Error::NoSuchCall),
        Some(Sys::Ipc) => {
            ipc::sys_ipc(k, slot);
            return; // writes its own results (maybe later, from the partner)
        }
        Some(Sys::SetReceiveWindow) => match set_receive_window(k, slot, a[0], a[1], a[2], a[3]) {
            // The buffer's page is being faulted in: the call runs again.
            Ok(Restart::Yes) => return,
            Ok(Restart::No) => Ok([0; 7]),
            Err(error) => Err(error),
        },
        Some(Sys::Unmap) => map::sys_unmap(k, space, a[0], a[1], a[2]).map(|()| [0; 7]),
        Some(Sys::SpaceCreate) => lifecycle::sys_space_create(k, slot, a[0]).map(|id| [id.0, 0, 0, 0, 0, 0, 0]),
        Some(Sys::SpaceDestroy) => lifecycle::sys_space_destroy(k, slot, SpaceId(a[0])).map(|()| [0; 7]),
        Some(Sys::ThreadCreate) => {
            lifecycle::sys_thread_create(k, slot, SpaceId(a[0]), ThreadId(a[1]), ThreadId(a[2]), a[3])
                .map(|id| [id.0, 0, 0, 0, 0, 0, 0])
        }
        Some(Sys::ThreadDestroy) => lifecycle::sys_thread_destroy(k, slot, ThreadId(a[0])).map(|()| [0; 7]),
        Some(Sys::ExchangeRegisters) => {
            let new = NewRegisters {
                control: a[1],
                rip: a[2],
                rsp: a[3],
                rflags: a[4],
                pager: ThreadId(a[5]),
                handler: ThreadId(a[6]),
                argument: a[7],
            };
            lifecycle::sys_exchange_registers(k, slot, ThreadId(a[0]), &new).map(|old| {
                // The eighth result, in r13: only this call writes it.
                thread::frame(slot).r13 = old.running_ticks;
                [a[0], old.control, old.rip, old.rsp, old.rflags, old.pager.0, old.handler.0]
            })
        }
        Some(Sys::SetPriority) => lifecycle::sys_set_priority(k, slot, ThreadId(a[0]), a[1]).map(|()| [0; 7]),
        Some(Sys::Yield) => {
            sched::yield_current(k);
            Ok([0; 7])
        }
        Some(Sys::IrqAttach) => irq::attach(k, slot, a[0], ThreadId(a[1])).map(|()| [0; 7]),
        Some(Sys::IoPortGrant) => ioport::grant(k, space, SpaceId(a[0]), a[1], a[2]).map(|()| [0; 7]),
        Some(Sys::WhoAmI) => Ok([k.threads.id(slot).0, k.spaces.id(space).0, 0, 0, 0, 0, 0]),
        Some(Sys::DebugPrint) => debug_print(k, space, a[0], a[1]).map(|()| [0; 7]),
        Some(Sys::SystemClock) => Ok([k.ticks, 0, 0, 0, 0, 0, 0]),
        Some(Sys::Trace) => match crate::trace::sys_trace(k, slot, space, [a[0], a[1], a[2], a[3], a[4], a[5]]) {
            // The buffer's page is being faulted in: the call runs again.
            Ok(crate::trace::Outcome::Restart) => return,
            Ok(crate::trace::Outcome::Done(value)) => Ok([value, 0, 0, 0, 0, 0, 0]),
            Err(error) => Err(error),
        },
    };
    // The thread may have destroyed itself; its frame is then never used again.
    let f = thread::frame(slot);
    match result {
        Ok(out) => {
            f.rax = 0;
            [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9, f.r12] = out;
        }
        Err(error) => f.rax = error.code(),
    }
    crate::trace::event(slot, Kind::SyscallExit, [number, f.rax, 0]);
}

/// Whether a system call waits for a page of its memory and runs again.
enum Restart {
    Yes,
    No,
}

/// `set_receive_window(buffer, buffer_len, window_base, window_pages)`.
/// The buffer must be the thread's writable memory: a page that is not
/// mapped yet is a page fault of this call (it runs again once the pager
/// has mapped it), so that later messages can always land.
fn set_receive_window(
    k: &mut Kernel,
    slot: ThreadSlot,
    buffer: u64,
    length: u64,
    base: u64,
    pages: u64,
) -> Result<Restart, Error> {
    UserRange::new(buffer, length).map_err(|_| Error::BadAddress)?;
    let window_bytes = pages.checked_mul(PAGE_SIZE).ok_or(Error::InvalidArgument)?;
    if !base.is_multiple_of(PAGE_SIZE) {
        return Err(Error::BadAddress);
    }
    UserRange::new(base, window_bytes).map_err(|_| Error::BadAddress)?;
    if crate::trace::covers_info_page(base, window_bytes) {
        return Err(Error::BadAddress); // map items would replace the kernel info page
    }
    let space = k.threads.get(slot).space;
    let length = length.min(MAX_BUFFER_BYTES);
    if let Some(missing) = copy::first_missing(k, space, buffer, length, true) {
        fault::system_call_fault(k, slot, missing)?;
        return Ok(Restart::Yes);
    }
    let thread = k.threads.get(slot);
    thread.receive_buffer = buffer;
    thread.receive_buffer_len = length;
    thread.window_base = base;
    thread.window_pages = pages;
    Ok(Restart::No)
}

/// `debug_print(pointer, length)`: copies the text (checked) and prints it.
fn debug_print(k: &mut Kernel, space: SpaceSlot, pointer: u64, length: u64) -> Result<(), Error> {
    if length > MAX_DEBUG_PRINT {
        return Err(Error::MessageTooLong);
    }
    UserRange::new(pointer, length).map_err(|_| Error::BadAddress)?;
    let mut buffer = [0u8; MAX_DEBUG_PRINT as usize];
    let text = copy::copy_from_user(k, space, pointer, &mut buffer[..length as usize]).ok_or(Error::BadAddress)?;
    match core::str::from_utf8(text) {
        Ok(text) => kprint!("{text}"),
        Err(_) => text.iter().for_each(|&byte| kprint!("{}", byte.escape_ascii())),
    }
    Ok(())
}
