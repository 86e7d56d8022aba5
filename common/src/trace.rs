//! Tracing: what happened inside a kernel, when, and where — one event
//! schema for both kernels and the servers.
//!
//! A *trace point* is one line in the code that says "this happened now":
//!
//! ```ignore
//! trace::point(Kind::Enter, Shared::PipeWrite as u64, len as u64, 0);
//! ```
//!
//! The event is stamped with `rdtsc` — under QEMU's `-icount shift=0` the
//! count of executed guest instructions, so the time between two events is
//! exactly the instructions the path between them took — and goes to the
//! environment's *recorder*: the mono-kernel's ring buffer, or, in a
//! microkernel server, the `trace` system call that puts it into the
//! microkernel's ring buffer beside the kernel's own events. So the same
//! trace point in the same shared function (`Pipe::write`, say) shows up
//! on both kernels, reached two ways.
//!
//! **Cost when off.** Tracing is compiled in and switched on at run time.
//! [`point`] first reads the environment's on/off word (one load through a
//! pointer set once at start, one predicted branch); only when tracing is
//! on does it read the clock and call the recorder. Until an environment
//! calls [`install`], tracing is simply off.
//!
//! **The text format.** A trace leaves the machine over the serial console,
//! one event per line ([`Event::write_line`], parsed back by
//! [`Event::parse_line`]):
//!
//! ```text
//! @trace <time> <where> <thread> <kind> <a0> <a1> <a2>
//! @trace 1234567 k 3 sys> 16 3 4199000
//! @trace 1234890 s5 9 enter 1 1 0
//! ```
//!
//! `<where>` is `k` for the kernel itself, or `s<N>` for user space `N` (a
//! process of the mono-kernel, an address space of the microkernel);
//! `<thread>` is the process (mono) or thread slot (micro) the event
//! belongs to; the arguments are decimal. What each argument means depends
//! on the [`Kind`]; `docs/trace.md` has the table.

use core::fmt;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

pub mod code;
pub mod scene;
#[cfg(test)]
mod scene_tests;
pub mod summary;
pub mod timeline;

/// What happened.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A system call starts: `[number, arg 0, arg 1]` (mono: `abi::syscall::Sys`;
    /// micro: `abi::micro::Sys`).
    SyscallEnter = 1,
    /// A system call ends: `[number, result]`.
    SyscallExit = 2,
    /// A message moved from this thread to another (micro):
    /// `[receiver thread, label, bytes copied]`. The label names the
    /// protocol operation (`abi::proto`) or the reply's kind.
    Ipc = 3,
    /// This thread waits in an IPC (micro): `[partner thread or 0 for any, label]`.
    IpcWait = 4,
    /// The CPU switches to another address space: `[from, to]` (a page-table switch).
    SpaceSwitch = 5,
    /// The CPU switches to another thread or process: `[from, to]`.
    ContextSwitch = 6,
    /// An interrupt: `[line]`.
    Interrupt = 7,
    /// A user page fault: `[address, access bits]`.
    PageFault = 8,
    /// The pager answered a fault: `[address, 1 if it mapped a page]`.
    PagerReply = 9,
    /// A sleeping process or parked request may proceed: `[what, who]`.
    Wakeup = 10,
    /// A process goes to sleep, or a server parks a request: `[what, who]`.
    Park = 11,
    /// A shared operation starts: `[Shared, arg, arg]`.
    Enter = 12,
    /// A shared operation ends: `[Shared, result, arg]`.
    Exit = 13,
    /// Bytes of user data were copied: `[bytes, from space, to space]`.
    Copy = 14,
    /// A name for a space (a process's program, a server): `[space, pid, name as
    /// up to 8 ASCII bytes, little-endian]`.
    Name = 15,
}

impl Kind {
    /// Every kind, in number order.
    pub const ALL: [Kind; 15] = [
        Kind::SyscallEnter,
        Kind::SyscallExit,
        Kind::Ipc,
        Kind::IpcWait,
        Kind::SpaceSwitch,
        Kind::ContextSwitch,
        Kind::Interrupt,
        Kind::PageFault,
        Kind::PagerReply,
        Kind::Wakeup,
        Kind::Park,
        Kind::Enter,
        Kind::Exit,
        Kind::Copy,
        Kind::Name,
    ];

    /// The word the text format uses.
    pub const fn word(self) -> &'static str {
        match self {
            Kind::SyscallEnter => "sys>",
            Kind::SyscallExit => "sys<",
            Kind::Ipc => "ipc",
            Kind::IpcWait => "wait",
            Kind::SpaceSwitch => "space",
            Kind::ContextSwitch => "switch",
            Kind::Interrupt => "irq",
            Kind::PageFault => "fault",
            Kind::PagerReply => "pager",
            Kind::Wakeup => "wake",
            Kind::Park => "park",
            Kind::Enter => "enter",
            Kind::Exit => "exit",
            Kind::Copy => "copy",
            Kind::Name => "name",
        }
    }

    /// The kind with this number.
    pub fn from_number(number: u8) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|kind| *kind as u8 == number)
    }

    /// The kind with this word.
    pub fn from_word(word: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|kind| kind.word() == word)
    }
}

/// The shared operations that carry trace points: the same function, the
/// same event, on both kernels.
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shared {
    /// `Pipe::write_with`, the core of `Pipe::write` (`common/src/pipe.rs`):
    /// Enter `[op, length, bytes in the pipe]`, Exit `[op, written or
    /// u64::MAX, bytes in the pipe]`.
    PipeWrite = 1,
    /// `Pipe::read_with`, the core of `Pipe::read`: as `PipeWrite`.
    PipeRead = 2,
    /// `Ext2::read` (`common/src/fs/file.rs`).
    FsRead = 3,
    /// `Ext2::write` (`common/src/fs/file.rs`).
    FsWrite = 4,
    /// `Ext2::lookup` (`common/src/fs/namespace.rs`).
    FsLookup = 5,
    /// `Ata::start_read` / `start_write` (`common/src/drivers/ata.rs`).
    DiskTransfer = 6,
    /// `ConsoleOutput::write_bytes` (`common/src/drivers/console.rs`).
    ConsoleWrite = 7,
}

impl Shared {
    /// Every shared operation, in number order.
    pub const ALL: [Shared; 7] = [
        Shared::PipeWrite,
        Shared::PipeRead,
        Shared::FsRead,
        Shared::FsWrite,
        Shared::FsLookup,
        Shared::DiskTransfer,
        Shared::ConsoleWrite,
    ];

    /// The function, as a reader finds it.
    pub const fn function(self) -> &'static str {
        match self {
            Shared::PipeWrite => "Pipe::write_with",
            Shared::PipeRead => "Pipe::read_with",
            Shared::FsRead => "Ext2::read",
            Shared::FsWrite => "Ext2::write",
            Shared::FsLookup => "Ext2::lookup",
            Shared::DiskTransfer => "Ata::start_read/start_write",
            Shared::ConsoleWrite => "ConsoleOutput::write_bytes",
        }
    }

    /// The file it is in.
    pub const fn file(self) -> &'static str {
        match self {
            Shared::PipeWrite | Shared::PipeRead => "common/src/pipe.rs",
            Shared::FsRead | Shared::FsWrite => "common/src/fs/file.rs",
            Shared::FsLookup => "common/src/fs/namespace.rs",
            Shared::DiskTransfer => "common/src/drivers/ata.rs",
            Shared::ConsoleWrite => "common/src/drivers/console.rs",
        }
    }

    /// The operation with this number.
    pub fn from_number(number: u64) -> Option<Shared> {
        Shared::ALL.iter().copied().find(|op| *op as u64 == number)
    }
}

/// Where an event happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// In the kernel itself.
    Kernel,
    /// In user space `N` (a process of the mono-kernel, an address space
    /// of the microkernel).
    Space(u32),
}

/// One event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// When: `rdtsc` (guest instructions under `-icount shift=0`).
    pub time: u64,
    /// Where.
    pub place: Place,
    /// The process (mono) or thread slot (micro) it belongs to.
    pub thread: u32,
    /// What.
    pub kind: Kind,
    /// What exactly (see [`Kind`]).
    pub args: [u64; 3],
}

/// The prefix of every trace line.
pub const LINE_PREFIX: &str = "@trace ";

/// Why a trace line could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadLine;

/// Words of an event in its binary form ([`Event::to_words`]).
pub const EVENT_WORDS: usize = 8;

impl Event {
    /// The event as eight words: time, place (0: the kernel, `N + 1`: space
    /// `N`), thread, kind, the three arguments, and a zero. This is how a
    /// kernel's ring buffer holds it and how `trace(READ)` copies it out.
    pub fn to_words(&self) -> [u64; EVENT_WORDS] {
        let place = match self.place {
            Place::Kernel => 0,
            Place::Space(space) => space as u64 + 1,
        };
        let [a0, a1, a2] = self.args;
        [
            self.time,
            place,
            self.thread as u64,
            self.kind as u64,
            a0,
            a1,
            a2,
            0,
        ]
    }

    /// The event in `words` ([`Event::to_words`]), or `None` if a field is
    /// out of range.
    pub fn from_words(words: &[u64; EVENT_WORDS]) -> Option<Event> {
        let place = match words[1] {
            0 => Place::Kernel,
            n => Place::Space(u32::try_from(n - 1).ok()?),
        };
        Some(Event {
            time: words[0],
            place,
            thread: u32::try_from(words[2]).ok()?,
            kind: Kind::from_number(u8::try_from(words[3]).ok()?)?,
            args: [words[4], words[5], words[6]],
        })
    }

    /// Writes the event as one line of the text format (with the newline).
    pub fn write_line(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{LINE_PREFIX}{} ", self.time)?;
        match self.place {
            Place::Kernel => write!(out, "k")?,
            Place::Space(space) => write!(out, "s{space}")?,
        }
        let [a0, a1, a2] = self.args;
        writeln!(out, " {} {} {a0} {a1} {a2}", self.thread, self.kind.word())
    }

    /// Reads one line of the text format (without the newline).
    pub fn parse_line(line: &str) -> Result<Event, BadLine> {
        let rest = line.trim_end().strip_prefix(LINE_PREFIX).ok_or(BadLine)?;
        let mut fields = rest.split(' ');
        let mut next = || fields.next().ok_or(BadLine);
        let time = next()?.parse().map_err(|_| BadLine)?;
        let place = match next()? {
            "k" => Place::Kernel,
            other => Place::Space(
                other
                    .strip_prefix('s')
                    .ok_or(BadLine)?
                    .parse()
                    .map_err(|_| BadLine)?,
            ),
        };
        let thread = next()?.parse().map_err(|_| BadLine)?;
        let kind = Kind::from_word(next()?).ok_or(BadLine)?;
        let mut args = [0u64; 3];
        for arg in &mut args {
            *arg = next()?.parse().map_err(|_| BadLine)?;
        }
        if fields.next().is_some() {
            return Err(BadLine);
        }
        Ok(Event {
            time,
            place,
            thread,
            kind,
            args,
        })
    }
}

/// Up to eight bytes of a name packed into a word (for [`Kind::Name`]).
pub fn pack_name(name: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let count = name.len().min(8);
    bytes[..count].copy_from_slice(&name[..count]);
    u64::from_le_bytes(bytes)
}

/// The name [`pack_name`] packed (up to the first NUL).
pub fn unpack_name(word: u64) -> [u8; 8] {
    word.to_le_bytes()
}

/// How an environment records: the on/off word it keeps, and the function
/// that stores an event. Set once, by [`install`].
pub struct Recorder {
    /// Non-zero while tracing is on. The environment owns the word (the
    /// mono-kernel's, or the word of the microkernel's kernel info page
    /// that every space can read) and changes it; shared code only reads it.
    on: *const AtomicU64,
    /// Stores one event (`time`, `kind`, `args`; the environment knows
    /// where and who).
    record: fn(time: u64, kind: Kind, args: [u64; 3]),
}

// SAFETY: the word is only ever read atomically, and `new`'s caller
// promised it stays readable for the program's whole life.
unsafe impl Sync for Recorder {}

impl Recorder {
    /// A recorder whose on/off word is at `on`.
    ///
    /// # Safety
    /// `on` must point to an `AtomicU64` that stays readable for as long as
    /// the program runs (a `static`, or a page the kernel maps for good).
    pub const unsafe fn new(
        on: *const AtomicU64,
        record: fn(time: u64, kind: Kind, args: [u64; 3]),
    ) -> Recorder {
        Recorder { on, record }
    }
}

/// The word of an environment that has installed nothing: always off.
static NEVER_ON: AtomicU64 = AtomicU64::new(0);

/// The installed recorder's on/off word (at first [`NEVER_ON`]).
static ON_WORD: AtomicPtr<AtomicU64> =
    AtomicPtr::new(&NEVER_ON as *const AtomicU64 as *mut AtomicU64);

/// The installed recorder's function (at first one that records nothing).
static RECORD: AtomicPtr<()> = AtomicPtr::new(ignore as *const () as *mut ());

/// What records before [`install`]: nothing.
fn ignore(_: u64, _: Kind, _: [u64; 3]) {}

/// Installs the environment's recorder; from now on trace points record
/// while its on/off word is non-zero. (Before, they never record.)
pub fn install(recorder: &'static Recorder) {
    RECORD.store(recorder.record as *const () as *mut (), Ordering::Release);
    ON_WORD.store(recorder.on as *mut AtomicU64, Ordering::Release);
}

/// A trace point: records `kind` with `args` if tracing is on. Costs two
/// loads and one predicted branch when it is off.
#[inline(always)]
pub fn point(kind: Kind, a0: u64, a1: u64, a2: u64) {
    // SAFETY: `ON_WORD` only ever holds `&NEVER_ON` or the word of an
    // installed recorder, which stays readable (`Recorder::new`'s contract).
    let on = unsafe { &*ON_WORD.load(Ordering::Acquire) };
    if on.load(Ordering::Relaxed) != 0 {
        record(kind, [a0, a1, a2]);
    }
}

/// A trace point whose arguments cost something to compute: `args` runs
/// only when tracing is on.
#[inline(always)]
pub fn point_with(kind: Kind, args: impl FnOnce() -> [u64; 3]) {
    // SAFETY: as in `point`.
    let on = unsafe { &*ON_WORD.load(Ordering::Acquire) };
    if on.load(Ordering::Relaxed) != 0 {
        record(kind, args());
    }
}

/// The slow half of [`point`], out of line so the fast half stays small.
#[inline(never)]
#[cold]
fn record(kind: Kind, args: [u64; 3]) {
    let function = RECORD.load(Ordering::Acquire);
    // SAFETY: `RECORD` only ever holds `ignore` or an installed recorder's
    // function, both of this exact type.
    let record: fn(u64, Kind, [u64; 3]) = unsafe { core::mem::transmute(function) };
    record(now(), kind, args);
}

/// The time stamp: the CPU's time-stamp counter (0 on the host).
pub fn now() -> u64 {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    {
        // SAFETY: `rdtsc` only reads a counter; user mode may use it (the
        // kernels leave CR4.TSD clear).
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn lines_round_trip() {
        let events = [
            Event {
                time: 1_234_567,
                place: Place::Kernel,
                thread: 3,
                kind: Kind::SyscallEnter,
                args: [16, 3, 4_199_000],
            },
            Event {
                time: u64::MAX,
                place: Place::Space(12),
                thread: 0,
                kind: Kind::Name,
                args: [12, 4, pack_name(b"cat")],
            },
        ];
        for event in events {
            assert_eq!(Event::from_words(&event.to_words()), Some(event));
            let mut line = String::new();
            event.write_line(&mut line).unwrap();
            assert!(line.ends_with('\n'));
            assert_eq!(Event::parse_line(&line), Ok(event));
        }
        assert_eq!(&unpack_name(pack_name(b"console!!"))[..], b"console!");
    }

    #[test]
    fn bad_lines_are_errors() {
        for line in [
            "",
            "@trace",
            "@trace 1 k 1 sys> 1 2",
            "@trace 1 x 1 sys> 1 2 3",
            "@trace 1 k 1 what 1 2 3",
            "@trace 1 k 1 sys> 1 2 3 4",
            "@trace -1 k 1 sys> 1 2 3",
            "trace 1 k 1 sys> 1 2 3",
        ] {
            assert_eq!(Event::parse_line(line), Err(BadLine), "{line:?}");
        }
    }

    #[test]
    fn every_kind_and_operation_has_a_distinct_name() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_word(kind.word()), Some(kind));
            assert_eq!(Kind::from_number(kind as u8), Some(kind));
        }
        for op in Shared::ALL {
            assert_eq!(Shared::from_number(op as u64), Some(op));
            assert!(op.file().starts_with("common/src/"));
        }
    }

    #[test]
    fn points_are_silent_until_installed_and_switched_on() {
        static ON: AtomicU64 = AtomicU64::new(0);
        static COUNT: AtomicU64 = AtomicU64::new(0);
        fn count(_: u64, _: Kind, _: [u64; 3]) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: `ON` is a static.
        static RECORDER_FOR_TEST: Recorder = unsafe { Recorder::new(&ON, count) };
        point(Kind::Enter, 1, 0, 0);
        install(&RECORDER_FOR_TEST);
        point(Kind::Enter, 1, 0, 0);
        assert_eq!(COUNT.load(Ordering::Relaxed), 0, "off");
        ON.store(1, Ordering::Relaxed);
        point(Kind::Enter, 1, 0, 0);
        assert_eq!(COUNT.load(Ordering::Relaxed), 1, "on");
    }
}
