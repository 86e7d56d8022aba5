//! The microkernel's root task: the first program, the owner of memory, and
//! the supervisor of the servers.
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
//!    their valid regions — `pager.rs`); their crashes, and a watchdog for
//!    a server stuck in a loop: a crashed console, disk or fs server is
//!    started again, and everyone learns its new thread id; a crash of vfs
//!    or proc stops the system — `supervisor.rs`; and the requests
//!    `FreePages`, `CurrentDirectory` and `Inject`.
//!
//! | file            | what                                                       |
//! |-----------------|------------------------------------------------------------|
//! | `main.rs`       | the boot sequence and the serving loop                     |
//! | `memory.rs`     | the frame allocator over the window, with each frame's owner |
//! | `servers.rs`    | the server table: ELF images, spaces, threads, devices, delivering the directory |
//! | `pager.rs`      | what a fault gets: an image page, a zero page, or a crash  |
//! | `supervisor.rs` | crashes, restarts, the watchdog, the directory, injected faults |

#![no_std]
#![no_main]

mod memory;
mod pager;
mod servers;
mod supervisor;

use common::abi::micro::ROOT_PRIORITY;
use l4::{Error, Message, Received, ThreadId, Timeout, label, println};
use servers::Servers;
use supervisor::{Supervisor, WATCHDOG_PERIOD};

fn main(boot: l4::BootInfo) -> ! {
    let frames = memory::Frames::new(boot.window_base, boot.window_pages);
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
    let mut root = Supervisor::new(frames, servers, boot.thread, boot.flags);
    serve(&mut root)
}

l4::entry!(main);

/// The serving loop: page faults, exceptions and requests, and every
/// [`WATCHDOG_PERIOD`] ticks a look at the servers. While something waits
/// to be delivered (a directory, a fault to arm), the loop offers it every
/// tick (root cannot block on a send: the server it waits for may first
/// need root to serve its faults).
///
/// Deliveries are offered only while root owes nobody a reply: a server
/// whose page fault (or call) root is serving waits for root too, and the
/// kernel would take the directory for the answer.
fn serve(root: &mut Supervisor) -> ! {
    let mut reply: Option<(ThreadId, Message)> = None;
    loop {
        let mut waiting = false;
        if root.has_undelivered() {
            if let Some((client, message)) = reply.take() {
                // A client that is gone or no longer waiting is ignored.
                let _ = l4::ipc::send(client, &message, Timeout::Zero);
            }
            waiting = root.deliver();
        }
        let timeout = if waiting {
            Timeout::Ticks(1)
        } else {
            Timeout::Ticks(WATCHDOG_PERIOD as u32)
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
        if let Ok(request) = received {
            reply = handle(root, &request).map(|message| (request.from, message));
        }
        root.watch();
    }
}

/// One message: the reply to send, if any.
fn handle(root: &mut Supervisor, request: &Received) -> Option<Message> {
    match request.label() {
        label::PAGE_FAULT => pager::page_fault(root, request),
        label::EXCEPTION => {
            pager::exception(root, request);
            None
        }
        other => root.request(request.from, other, request.words()),
    }
}

/// Root runs at the kernel's root priority; servers just below it.
const _: () = assert!(ROOT_PRIORITY > servers::DRIVER_PRIORITY);
