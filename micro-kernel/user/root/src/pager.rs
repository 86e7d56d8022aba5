//! Root as the servers' pager: what a server's page fault gets.
//!
//! | the fault is at                    | root maps                                 |
//! |------------------------------------|-------------------------------------------|
//! | a page of the server's ELF image   | a fresh page holding that part of the file (zero past `p_filesz`), with the segment's rights |
//! | its heap or stack region           | a fresh zeroed page, read/write            |
//! | proc only: its frame pool          | a fresh zeroed page, read/write/execute (proc passes it on) |
//! | console only: `CONSOLE_VGA_BASE`   | the VGA text buffer (device memory, from root's device window) |
//! | anywhere else, or a protection violation | nothing: the server crashed          |
//!
//! A fault the kernel raised for a system call's buffer
//! (`fault_access::SYSTEM_CALL`) is served the same way, except that where
//! the table says "crashed", root answers without a mapping: the server's
//! system call fails with `BadAddress`, as a bad pointer should, and the
//! server lives on.
//!
//! A crash is a server bug. Root hands it to the supervisor
//! (`supervisor.rs`), which reports it (in the words of the monolithic
//! kernel's `usertrap:` line), destroys the server's address space and
//! starts a new copy — or, for vfs and proc, stops the system: nothing a
//! server does can take down root or the kernel.

use crate::memory::{Frames, PAGE};
use crate::servers::{CONSOLE_INDEX, PROC_INDEX, Server};
use crate::supervisor::Supervisor;
use common::abi::micro::ROOT_DEVICE_WINDOW;
use common::abi::micro::{fault_access, rights};
use common::abi::proto::proc::{FaultCause, exception_name};
use common::abi::proto::root::{CONSOLE_VGA_BASE, ServerRegion, VGA_TEXT_PHYSICAL, server_region};
use l4::{MapItem, Message, Received};

/// The CPU's page-fault vector.
const PAGE_FAULT_VECTOR: u64 = 14;
/// The bits of a page-fault error code that say what the access was.
const ACCESS_BITS: u64 = 0x13;

/// A page fault `request` from a server: the reply (a map item; or an
/// empty reply that fails a system call), or `None` if the server crashed.
pub fn page_fault(root: &mut Supervisor, request: &Received) -> Option<Message> {
    let (address, access, rip) = (request.mr[0], request.mr[1], request.mr[2]);
    let index = root.servers.by_thread(request.from)?.0;
    let page = address & !(PAGE - 1);
    let outcome = if access & fault_access::PRESENT != 0 {
        Err(Crash::Protection)
    } else if index == CONSOLE_INDEX && page == CONSOLE_VGA_BASE {
        // Device memory: the kernel mapped it into our device window.
        Ok((
            ROOT_DEVICE_WINDOW + VGA_TEXT_PHYSICAL,
            rights::READ | rights::WRITE,
        ))
    } else {
        let server = root.servers.get(index);
        page_for(&mut root.frames, server, index, page)
    };
    match outcome {
        Ok((frame, page_rights)) => {
            let item = MapItem {
                page: frame,
                count: 1,
                rights: page_rights,
                window_offset: 0,
            };
            Some(Message::new(0, &[]).with_map(item, false))
        }
        // A bad buffer in a system call: the call fails, the server lives.
        Err(_) if access & fault_access::SYSTEM_CALL != 0 => Some(Message::new(0, &[])),
        Err(crash) => {
            root.crashed(
                index,
                format_args!(
                    "#PF page fault at {address:#x} ({}{}), rip {rip:#x}",
                    FaultCause(access),
                    crash.explanation()
                ),
            );
            None
        }
    }
}

/// Any other CPU exception of a server: a crash.
pub fn exception(root: &mut Supervisor, request: &Received) {
    let [vector, error_code, rip, _, _, cr2] = request.mr;
    let Some((index, _)) = root.servers.by_thread(request.from) else {
        return;
    };
    let (mnemonic, name) = exception_name(vector);
    if vector == PAGE_FAULT_VECTOR {
        // A fault the kernel did not send to the pager (a kernel address).
        let cause = FaultCause(error_code & ACCESS_BITS);
        root.crashed(
            index,
            format_args!("{mnemonic} {name} at {cr2:#x} ({cause}), rip {rip:#x}"),
        );
    } else {
        root.crashed(index, format_args!("{mnemonic} {name}, rip {rip:#x}"));
    }
}

/// Why a fault could not be served.
enum Crash {
    /// The page is mapped but the access is not allowed.
    Protection,
    /// The address is in no region of the server.
    Outside,
    /// Root has no memory left.
    OutOfMemory,
}

impl Crash {
    /// What to add to the report line.
    fn explanation(&self) -> &'static str {
        match self {
            Crash::Protection => "",
            Crash::Outside => "; outside its image, heap and stack",
            Crash::OutOfMemory => "; root is out of memory",
        }
    }
}

/// A fresh page of ours holding what `server` should see at `page`, with
/// the rights to map it with.
fn page_for(
    frames: &mut Frames,
    server: &Server,
    index: usize,
    page: u64,
) -> Result<(u64, u64), Crash> {
    let is_proc = index == PROC_INDEX;
    if let Some(executable) = &server.executable {
        for segment in executable.segments() {
            let first = segment.vaddr & !(PAGE - 1);
            if !(first..segment.end()).contains(&page) {
                continue;
            }
            let frame = frames.alloc_zeroed(index).ok_or(Crash::OutOfMemory)?;
            // The part of the file that falls into this page.
            let file_start = segment.vaddr.max(page);
            let file_end = (segment.vaddr + segment.filesz).min(page + PAGE);
            if file_start < file_end {
                let from = (segment.offset + (file_start - segment.vaddr)) as usize;
                let length = (file_end - file_start) as usize;
                // Checked by `Executable::parse`: the segment's file bytes lie
                // inside the file.
                let bytes = &server.elf[from..from + length];
                // SAFETY: `frame` is a fresh window page of ours; the copy
                // stays inside it (`file_start..file_end` is within the page).
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        bytes.as_ptr(),
                        (frame + (file_start - page)) as *mut u8,
                        length,
                    )
                };
            }
            let mut page_rights = rights::READ;
            if segment.writable() {
                page_rights |= rights::WRITE;
            }
            if segment.executable() {
                page_rights |= rights::EXECUTE;
            }
            return Ok((frame, page_rights));
        }
    }
    if let Some(region) = server_region(page, is_proc) {
        let frame = frames.alloc_zeroed(index).ok_or(Crash::OutOfMemory)?;
        // proc maps pool pages on into user processes, program text
        // included: it needs every right to pass on (a mapping never has
        // more rights than the one it is made from).
        let page_rights = match region {
            ServerRegion::Pool => rights::ALL,
            ServerRegion::Heap | ServerRegion::Stack => rights::READ | rights::WRITE,
        };
        return Ok((frame, page_rights));
    }
    Err(Crash::Outside)
}
