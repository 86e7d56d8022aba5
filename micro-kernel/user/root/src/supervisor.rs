//! Root as the supervisor of the servers (MINIX 3's reincarnation server):
//! a server that crashes is started again, and the others are told.
//!
//! Root already sees every server's faults — it is their pager and
//! exception handler — so it is the one to decide (`docs/fault-isolation.md`):
//!
//! | the server                                 | root                                          |
//! |--------------------------------------------|-----------------------------------------------|
//! | faults where root has no page, or takes any other exception | `root: server failure: the fs server crashed (#PF ...); restarting it` |
//! | runs [`STUCK_TICKS`] timer ticks without once waiting in an IPC (the watchdog, every [`WATCHDOG_PERIOD`] ticks) | `root: server failure: the fs server is stuck (...); restarting it` |
//! | is gone without a word (its thread ended) | `root: server failure: the fs server ended (...); restarting it` |
//!
//! Restarting (console, disk and fs): destroy the server's address space
//! (which ends its thread: the clients waiting for it get `Aborted`),
//! take back its memory, create a new space and thread from the same ELF
//! image with the same ports and interrupts, and start it. The directory
//! gets the new thread id; root sends the new directory to every running
//! server (and its first one to the new copy) as soon as each waits for a
//! message, and answers `CurrentDirectory` with it: a client whose call
//! found the old copy gone asks, and sends its request once more to the
//! new one (`server_lib::call`).
//!
//! vfs and proc are not restarted: vfs holds every process's descriptors,
//! open files and pipes, proc every process — a new copy would have none
//! of it, so every program would be broken anyway. Root says so and stops
//! the system (QEMU exits with the failure status): the disk is
//! consistent (the journal), and what was not committed is lost, as after
//! a power cut.
//!
//! A server whose new copies crash right after starting ([`QUICK_TICKS`]
//! after taking their directory, or before) [`MAX_QUICK_CRASHES`] times
//! in a row stays down: its clients' calls fail with `EIO` rather than
//! root restarting it forever.
//!
//! Root also arms injected faults: proc passes on a program's `inject`
//! call (`Inject`), and root sends the server an `Arm` message — only if
//! the kernel was booted with `inject`.

use crate::memory::Frames;
use crate::servers::{self, PROC_INDEX, Servers};
use common::abi::errno::Errno;
use common::abi::inject::InjectRequest;
use common::abi::micro::boot_flags;
use common::abi::proto::Wire;
use common::abi::proto::reply;
use common::abi::proto::root::{DIRECTORY_BYTES, Directory, RootRequest};
use core::fmt;
use l4::{Message, ThreadId, println};

/// How often the watchdog looks at the servers (timer ticks, 10 ms).
pub const WATCHDOG_PERIOD: u64 = 10;

/// A server that has been on the CPU this many ticks without once waiting
/// in an IPC is stuck: no request of any server takes a second of
/// computing without a system call.
pub const STUCK_TICKS: u64 = 100;

/// A copy that crashes this soon after taking its directory (or before)
/// had hardly started.
pub const QUICK_TICKS: u64 = 5;

/// After this many quick crashes in a row a server stays down.
pub const MAX_QUICK_CRASHES: u32 = 3;

/// The supervisor's state: the memory, the servers, the directory.
pub struct Supervisor {
    pub frames: Frames,
    pub servers: Servers,
    /// Our own thread (every server's pager and exception handler).
    root: ThreadId,
    /// Who is who now, and as bytes (what `Directory` messages carry).
    directory: Directory,
    directory_bytes: [u8; DIRECTORY_BYTES],
    /// Bumped with every change of the directory.
    version: u64,
    /// Something (a directory, a fault to arm) waits to be delivered.
    undelivered: bool,
    /// The kernel was booted with `inject`.
    inject_allowed: bool,
    /// Servers restarted since boot.
    restarts: u64,
    /// When the watchdog last looked.
    last_watch: u64,
    /// proc's `Inject` call, answered once the fault is armed in server
    /// `.1` (so that when the program's `inject` returns, the fault waits
    /// for the server's next requests, whatever the timing).
    parked_inject: Option<(ThreadId, usize)>,
}

impl Supervisor {
    /// The supervisor of the servers `servers` has just started.
    pub fn new(frames: Frames, servers: Servers, root: ThreadId, flags: u64) -> Supervisor {
        let directory = servers.directory(root);
        Supervisor {
            frames,
            servers,
            root,
            directory,
            directory_bytes: directory.to_bytes(),
            version: 1,
            undelivered: true,
            inject_allowed: flags & boot_flags::INJECT != 0,
            restarts: 0,
            last_watch: 0,
            parked_inject: None,
        }
    }

    /// Whether something waits to be delivered (or a call to be answered
    /// once it is).
    pub fn has_undelivered(&self) -> bool {
        self.undelivered || self.parked_inject.is_some()
    }

    /// Offers what waits to be delivered (see `Servers::deliver`); returns
    /// whether something still waits. Only call while root owes nobody a
    /// reply: a server waiting for root's answer would take the message
    /// for it.
    pub fn deliver(&mut self) -> bool {
        if self.undelivered {
            let now = l4::task::system_clock();
            let owed = self.parked_inject.map_or(ThreadId::NIL, |(proc, _)| proc);
            self.undelivered = self
                .servers
                .deliver(&self.directory_bytes, self.version, now, owed);
        }
        if let Some((proc, index)) = self.parked_inject {
            let server = self.servers.get(index);
            if server.arm.is_none() || !server.alive {
                // Armed (or the server is gone, and the fault with it).
                let answer = Message::from_wire(&encode(Ok(self.restarts)));
                let _ = l4::ipc::send(proc, &answer, l4::Timeout::Zero);
                self.parked_inject = None;
            }
        }
        self.has_undelivered()
    }

    /// A request to root (not a fault): the reply, or `None` if it comes
    /// later (an `Inject`, answered once the fault is armed).
    pub fn request(&mut self, from: ThreadId, label: u64, words: &[u64]) -> Option<Message> {
        let wire = Wire::new(label, words);
        Some(match RootRequest::from_wire(&wire) {
            Ok(RootRequest::FreePages) => Message::new(0, &[self.frames.free_pages()]),
            Ok(RootRequest::CurrentDirectory) => {
                Message::from_wire(&reply::done_with_bytes(&[], &self.directory_bytes))
            }
            Ok(RootRequest::Inject(request)) => match self.inject(from, request) {
                Ok(Some(index)) if index != PROC_INDEX => {
                    self.parked_inject = Some((from, index));
                    return None;
                }
                // proc itself: it can take the fault only once it has its
                // answer (it waits for root until then).
                Ok(_) => Message::from_wire(&encode(Ok(self.restarts))),
                Err(errno) => Message::from_wire(&encode(Err(errno))),
            },
            // Nobody may make root wait or fail: an unknown request gets an
            // empty reply.
            Err(_) => Message::new(0, &[]),
        })
    }

    /// proc's `Inject`: arms a fault (the server's index), or only counts
    /// restarts (`None`).
    fn inject(&mut self, from: ThreadId, request: InjectRequest) -> Result<Option<usize>, Errno> {
        if from.0 != self.directory.proc {
            return Err(Errno::EPERM);
        }
        if !self.inject_allowed {
            return Err(Errno::EPERM);
        }
        let InjectRequest::Inject(injection) = request else {
            return Ok(None);
        };
        let index = self
            .servers
            .index_of(injection.component.name())
            .ok_or(Errno::EINVAL)?;
        let server = self.servers.get_mut(index);
        if !server.alive {
            return Err(Errno::ESRCH);
        }
        server.arm = Some(injection);
        self.undelivered = true;
        Ok(Some(index))
    }

    /// Looks at every server if the watchdog's period has passed: a server
    /// stuck in a loop, or whose thread is gone, is handled as a crash.
    pub fn watch(&mut self) {
        let now = l4::task::system_clock();
        if now < self.last_watch + WATCHDOG_PERIOD {
            return;
        }
        self.last_watch = now;
        for index in 0..self.servers.len() {
            let server = self.servers.get(index);
            if !server.alive {
                continue;
            }
            match l4::task::read_registers(server.thread) {
                Ok(registers) if registers.running_ticks >= STUCK_TICKS => self.failed(
                    index,
                    format_args!(
                        "is stuck ({} ticks on the CPU without waiting, rip {:#x})",
                        registers.running_ticks, registers.rip
                    ),
                ),
                Ok(_) => {}
                Err(error) => self.failed(
                    index,
                    format_args!("ended without a fault report ({error:?})"),
                ),
            }
        }
    }

    /// Server `index` crashed (`what`: the fault, in the words of the
    /// monolithic kernel's `usertrap:` line).
    pub fn crashed(&mut self, index: usize, what: fmt::Arguments) {
        self.failed(index, format_args!("crashed ({what})"));
    }

    /// Server `index` failed (`how`); see the module documentation for
    /// what root does.
    fn failed(&mut self, index: usize, how: fmt::Arguments) {
        let now = l4::task::system_clock();
        let server = self.servers.get_mut(index);
        let name = server.name;
        let quick = server
            .serving_since
            .is_none_or(|since| now < since + QUICK_TICKS);
        server.quick_crashes = if quick { server.quick_crashes + 1 } else { 0 };
        server.alive = false;
        if let Err(error) = l4::task::space_destroy(server.space) {
            println!("root: cannot destroy the {name} server's space: {error:?}");
        }
        self.frames.reclaim(index);
        if !server.restartable {
            let why = if name == "proc" {
                "it held every process"
            } else {
                "it held every process's open files and pipes, which a new copy would not have"
            };
            servers::power_off_after(format_args!(
                "root: server failure: the {name} server {how}; {why}: stopping the system"
            ));
        }
        if server.quick_crashes >= MAX_QUICK_CRASHES {
            println!(
                "root: server failure: the {name} server {how}; it crashed {} times in a row right after \
                 starting: it stays down",
                server.quick_crashes
            );
            return;
        }
        println!("root: server failure: the {name} server {how}; restarting it");
        let quick_crashes = server.quick_crashes;
        if let Err(reason) = self.servers.start(index, self.root) {
            println!("root: cannot restart the {name} server: {reason}; it stays down");
            return;
        }
        self.servers.get_mut(index).quick_crashes = quick_crashes;
        self.restarts += 1;
        self.directory = self.servers.directory(self.root);
        self.directory_bytes = self.directory.to_bytes();
        self.version += 1;
        self.undelivered = true;
    }
}

/// The reply to an `Inject`.
fn encode(result: Result<u64, Errno>) -> Wire<'static> {
    match result {
        Ok(value) => reply::done(&[value]),
        Err(errno) => reply::failed(errno),
    }
}
