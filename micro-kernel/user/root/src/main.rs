//! The microkernel's root task: the first program, and the owner of memory.
//!
//! The kernel starts it with every free frame mapped in its *window* and
//! every privilege (see `docs/microkernel.md`). It then
//!
//! 1. creates one address space and thread per server, in the order
//!    console, disk, fs, vfs, proc, rtc, from the ELF files it carries
//!    (`build.rs` embeds them) — `servers.rs`;
//! 2. grants the drivers their I/O ports and attaches their interrupts
//!    (`docs/servers.md`), and lets proc use the debug-exit port (to power
//!    off when `init` exits, as the monolithic kernel does);
//! 3. sends each server its *directory* (`common::abi::proto::root`): the
//!    thread ids of everyone;
//! 4. serves, forever: the servers' page faults (fresh zeroed frames inside
//!    their valid regions; anything else is a crash, reported as
//!    `server <name> crashed: ...`, and the server's space is destroyed —
//!    the system does not panic) and proc's `FreePages` question —
//!    `pager.rs`.
//!
//! | file         | what                                                       |
//! |--------------|------------------------------------------------------------|
//! | `main.rs`    | the boot sequence and the serving loop                     |
//! | `memory.rs`  | the frame allocator over the window                        |
//! | `servers.rs` | the server table: ELF images, spaces, threads, devices     |
//! | `pager.rs`   | what a fault gets: an image page, a zero page, or a crash  |

#![no_std]
#![no_main]

mod memory;
mod pager;
mod servers;

use common::abi::micro::ROOT_PRIORITY;
use common::abi::proto::Wire;
use common::abi::proto::root::{Directory, RootRequest};
use l4::{Error, Message, Received, ThreadId, Timeout, label, println};
use servers::Servers;

fn main(boot: l4::BootInfo) -> ! {
    let mut frames = memory::Frames::new(boot.window_base, boot.window_pages);
    let mut servers = Servers::embedded();
    if let Some(missing) = servers.first_missing() {
        servers::power_off_after(format_args!(
            "root: cannot boot: the {missing} server was not built (build micro-kernel/user: \
             `make micro`, see docs/server-root.md)"
        ));
    }
    if let Err(reason) = servers.create_all(boot.thread) {
        servers::power_off_after(format_args!("root: cannot boot: {reason}"));
    }
    println!(
        "root: started {} servers; {} pages of memory free",
        servers.len(),
        frames.free_pages()
    );
    let directory = servers.directory(boot.thread);
    serve(&mut frames, &mut servers, &directory)
}

l4::entry!(main);

/// The serving loop: page faults, exceptions and `FreePages`. Until every
/// server has its directory, the loop also offers the directory to each
/// server still waiting for it, polling every tick (root cannot block on a
/// send: the server it waits for may first need root to serve its faults).
///
/// A directory is offered only while root owes nobody a reply: a server
/// whose page fault root is serving waits for root too, and the kernel
/// would take the directory for the fault's answer.
fn serve(frames: &mut memory::Frames, servers: &mut Servers, directory: &Directory) -> ! {
    let directory_bytes = directory.to_bytes();
    let mut reply: Option<(ThreadId, Message)> = None;
    let mut pending = true;
    loop {
        if pending {
            if let Some((client, message)) = reply.take() {
                // A client that is gone or no longer waiting is ignored.
                let _ = l4::ipc::send(client, &message, Timeout::Zero);
            }
            pending = servers.deliver_directories(&directory_bytes);
        }
        let timeout = if pending {
            Timeout::Ticks(1)
        } else {
            Timeout::Never
        };
        let received = match reply.take() {
            Some((client, message)) => {
                match l4::ipc::ipc(client, ThreadId::ANY, &message, Timeout::Zero, timeout) {
                    Err(Error::SendTimeout | Error::NoSuchThread | Error::Aborted) => {
                        l4::ipc::receive(ThreadId::ANY, timeout)
                    }
                    other => other,
                }
            }
            None => l4::ipc::receive(ThreadId::ANY, timeout),
        };
        let Ok(request) = received else { continue };
        reply = handle(frames, servers, &request).map(|message| (request.from, message));
    }
}

/// One request: the reply to send, if any.
fn handle(
    frames: &mut memory::Frames,
    servers: &mut Servers,
    request: &Received,
) -> Option<Message> {
    match request.label() {
        label::PAGE_FAULT => pager::page_fault(frames, servers, request),
        label::EXCEPTION => {
            pager::exception(servers, request);
            None
        }
        _ => {
            let wire = Wire::new(request.label(), request.words());
            match RootRequest::from_wire(&wire) {
                Ok(RootRequest::FreePages) => Some(Message::new(0, &[frames.free_pages()])),
                // Nobody may make root wait or fail: an unknown request
                // gets an empty reply.
                Err(_) => Some(Message::new(0, &[])),
            }
        }
    }
}

/// Root runs at the kernel's root priority; servers just below it.
const _: () = assert!(ROOT_PRIORITY > servers::DRIVER_PRIORITY);
