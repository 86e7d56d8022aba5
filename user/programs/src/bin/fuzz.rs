//! `fuzz [-v] [-b BATCH] [SEED [CALLS]]`: the system-call fuzzer (`-k`,
//! known bugs, is the message fuzzer's; it has none to leave out).
//!
//! Issues `CALLS` random system calls (default 2000) with random and
//! edge-case arguments — bad pointers (null, low, kernel, non-canonical,
//! the program's own code, past the end of a buffer), huge and odd lengths,
//! bad and closed descriptors, bad paths (empty, too long, unterminated,
//! unmapped), negative and huge numbers — through the raw back-end
//! interface (`ulib::sys`), the same source on both kernels. Neither
//! kernel may panic or hang, and nothing may leak: at the end, free memory
//! (`freemem`) and the number of processes that can still be created are
//! what they were before, and every file the calls made is removed.
//!
//! The calls run in *batches* of [`CALLS_PER_BATCH`], each in a child
//! process (`fuzzing::run_batch`), so a call that ends or blocks its
//! process (`exit`, `kill` of itself, reading a pipe it writes itself, a
//! long `sleep`) ends only that batch. A `fork` among the calls makes a
//! grandchild that makes a few calls of its own meanwhile, on the same
//! files, pipes and directories:
//!
//! ```text
//!  fuzz ──fork──▶ batch child: the calls, one progress byte before each
//!    │             └─ fork in a call ──▶ grandchild: GRANDCHILD_CALLS calls, exit
//!    ├──fork──▶ watchdog: sleeps WATCHDOG_TICKS, then kills the batch child
//!    └─ reads the progress pipe to its end, reaps both
//! ```
//!
//! Every call is a pure function of the seed, the batch number and the
//! call's place in it ([`Call::generate`]); the batch child turns its
//! description into arguments (the scratch buffer's address, its children's
//! pids) as it runs it. So a failure can be told by its seed and place:
//! the fuzzer prints the seed first (`fuzz: seed 0x... calls N`), a line
//! every ten batches, and on a failure the batch's last calls and the
//! command that replays it (`fuzz -v -b BATCH SEED CALLS`: `-v` prints each
//! call before it is made, so after a kernel panic the last line printed
//! names the call).
//!
//! A failure is: a batch child killed when it neither killed itself nor
//! was stopped by the watchdog (the kernel killed it for a fault), a call
//! that broke the contract (`EIO`, which on the micro-kernel means a server
//! is gone; more bytes than asked for; `getpid` changing), or a leak.
//!
//! **Fences.** Some calls would hurt the rest of the system rather than
//! test the kernel's checks, so the arguments stay inside a playground
//! (`fuzzing::Playground`, the scratch directory `/fz-SEED` that every
//! path stays in); `exec` only of paths in it, which are never programs;
//! `kill` only of the batch child itself, its own children, init (which
//! must refuse, `EPERM`) and pids no process has; `mknod` never of the
//! console (a read of it would wait for the keyboard); a batch child closes
//! its console descriptors first, and the descriptors it reports through
//! are never given to a call; `sbrk` shrinks only what the calls grew
//! (and, with a huge decrement, must refuse); `trace` never switches tracing
//! on; pointers never name the fuzzer's own data, only the scratch buffer
//! (at the top of the heap, with nothing mapped after it) and memory that
//! is not writable or not the program's.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../fuzzing/mod.rs"]
mod fuzzing;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use fuzzing::{
    Options, PANICKED, Path, Playground, Ptr, Rng, SETUP_FAILED, SHOWN_CALLS, Scratch, VIOLATION,
    descriptor, length, measure, measure_settled, run_batch, warm_up,
};
use ulib::{Args, Errno, Fd, KILLED_STATUS, MAX_ARGS, close, exit, fprintln, println, sys, wait};

/// Calls per batch (per child process).
const CALLS_PER_BATCH: u64 = 40;
/// Calls when none are given.
const DEFAULT_CALLS: u64 = 2000;
/// Most children a batch child keeps track of (for `kill` and reaping).
const MAX_CHILDREN: usize = 64;
/// Calls a child of the batch makes (its own, from its own generator)
/// before it exits: other processes' calls at the same time as the
/// batch's, on the same files, pipes and directories.
const GRANDCHILD_CALLS: u64 = 4;

// ---- what a call is -------------------------------------------------------

/// `exec`'s argument vector.
#[derive(Clone, Copy, Debug)]
enum Argv {
    Null,
    Bad(Ptr),
    /// `n` good strings.
    Strings(usize),
    /// One string at a bad pointer.
    BadString(Ptr),
    /// More than `MAX_ARGS` strings.
    TooMany,
    /// No terminating null pointer inside the array.
    Unterminated,
}

impl Argv {
    fn generate(rng: &mut Rng) -> Argv {
        match rng.below(6) {
            0 => Argv::Null,
            1 => Argv::Bad(Ptr::generate(rng)),
            2 => Argv::Strings(rng.below(4) as usize),
            3 => Argv::BadString(Ptr::generate(rng)),
            4 => Argv::TooMany,
            _ => Argv::Unterminated,
        }
    }
}

/// Whom `kill` aims at.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// The batch child's `n`th child (if it has one; else a pid nobody has).
    Child(usize),
    /// The batch child itself: ends the batch.
    Myself,
    /// Init: must be refused.
    Init,
    /// A number that is no process.
    Number(i64),
}

/// `sbrk`'s increment.
#[derive(Clone, Copy, Debug)]
enum Increment {
    /// Grow by this many bytes (at most 1 MiB).
    Grow(i64),
    /// Shrink by this many bytes, at most what the calls grew.
    Shrink(i64),
    /// A number no kernel can grant: refused, and nothing changes.
    Absurd(i64),
}

/// One system call and its arguments.
#[derive(Clone, Copy, Debug)]
enum Call {
    Fork,
    Exit(i32),
    Wait(Ptr),
    Pipe(Ptr),
    Read(i32, Ptr, u64),
    Write(i32, Ptr, u64),
    Close(i32),
    Kill(Target),
    Exec(Path, Argv),
    Open(Path, u32),
    Mknod(Path, u32, u32),
    Unlink(Path),
    Fstat(i32, Ptr),
    Link(Path, Path),
    Mkdir(Path),
    Chdir(Path),
    Dup(i32),
    Getpid,
    Sbrk(Increment),
    Sleep(u64),
    Uptime,
    Rename(Path, Path),
    Getdents(i32, Ptr, u64),
    Freemem,
    Trace(u64, Ptr, u64),
}

/// Relative weights of the calls in [`Call::generate`].
const WEIGHTS: [u64; 25] = [
    3, 1, 3, 4, 10, 10, 6, 3, 3, 12, 2, 6, 5, 4, 5, 4, 5, 1, 4, 2, 1, 5, 5, 1, 2,
];

impl Call {
    /// Call `index` of batch `batch` of a run with `seed`: the same every
    /// time, whatever the kernel answered before.
    fn nth(seed: u64, batch: u64, index: u64) -> Call {
        let mut rng = Rng::for_batch(seed, batch);
        let mut call = Call::generate(&mut rng);
        for _ in 0..index {
            call = Call::generate(&mut rng);
        }
        call
    }

    fn generate(rng: &mut Rng) -> Call {
        let total: u64 = WEIGHTS.iter().sum();
        let mut roll = rng.below(total);
        let mut which = 0;
        while roll >= WEIGHTS[which] {
            roll -= WEIGHTS[which];
            which += 1;
        }
        match which {
            0 => Call::Fork,
            1 => Call::Exit(rng.pick(&[0, 1, -1, 255, i32::MIN, i32::MAX])),
            2 => Call::Wait(if rng.chance(50) {
                Ptr::Null
            } else {
                Ptr::generate(rng)
            }),
            3 => Call::Pipe(Ptr::generate(rng)),
            4 => Call::Read(descriptor(rng), Ptr::generate(rng), length(rng)),
            5 => Call::Write(descriptor(rng), Ptr::generate(rng), length(rng)),
            6 => Call::Close(descriptor(rng)),
            7 => Call::Kill(match rng.below(10) {
                0 => Target::Myself,
                1 => Target::Init,
                2..=4 => {
                    Target::Number(rng.pick(&[0, -1, i64::MIN, i64::MAX, 1 << 32, 999_999_999]))
                }
                _ => Target::Child(rng.below(4) as usize),
            }),
            8 => Call::Exec(Path::generate(rng), Argv::generate(rng)),
            9 => Call::Open(Path::generate(rng), open_flags(rng)),
            10 => Call::Mknod(
                Path::generate(rng),
                // Never the console's major (1): opening one would read the
                // keyboard.
                rng.pick(&[0, 2, 7, 4095, 4096, 1 << 20, u32::MAX]),
                rng.pick(&[0, 1, 255, 1 << 20, u32::MAX]),
            ),
            11 => Call::Unlink(Path::generate(rng)),
            12 => Call::Fstat(descriptor(rng), Ptr::generate(rng)),
            13 => Call::Link(Path::generate(rng), Path::generate(rng)),
            14 => Call::Mkdir(Path::generate(rng)),
            15 => Call::Chdir(Path::generate_chdir(rng)),
            16 => Call::Dup(descriptor(rng)),
            17 => Call::Getpid,
            18 => Call::Sbrk(match rng.below(10) {
                0..=1 => Increment::Absurd(rng.pick(&[
                    1 << 40,
                    i64::MAX,
                    -(1 << 40),
                    i64::MIN,
                    -(1 << 31),
                    1 << 31,
                ])),
                2..=4 => Increment::Shrink(rng.pick(&[1, 4096, 5000, 1 << 20])),
                _ => Increment::Grow(rng.pick(&[0, 1, 7, 4096, 4097, 65536, 1 << 20])),
            }),
            19 => Call::Sleep(if rng.chance(5) {
                rng.pick(&[u64::MAX, 1 << 40, 1000])
            } else {
                rng.below(3)
            }),
            20 => Call::Uptime,
            21 => Call::Rename(Path::generate(rng), Path::generate(rng)),
            22 => Call::Getdents(descriptor(rng), Ptr::generate(rng), length(rng)),
            23 => Call::Freemem,
            _ => Call::Trace(
                // Never ON (1): tracing would slow everything after it.
                rng.pick(&[0, 2, 3, 3, 4, 5, u64::MAX]),
                Ptr::generate(rng),
                length(rng),
            ),
        }
    }
}

/// `open`'s flags: mostly known combinations, sometimes junk.
fn open_flags(rng: &mut Rng) -> u32 {
    use ulib::{O_APPEND, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
    if rng.chance(10) {
        let junk = rng.next() as u32;
        return rng.pick(&[3, 0x8000_0000, u32::MAX, junk]);
    }
    let mut flags = rng.pick(&[O_RDONLY, O_WRONLY, O_RDWR]);
    for extra in [O_CREATE, O_TRUNC, O_APPEND] {
        if rng.chance(40) {
            flags |= extra;
        }
    }
    flags
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Call::Fork => write!(f, "fork()"),
            Call::Exit(status) => write!(f, "exit({status})"),
            Call::Wait(ptr) => write!(f, "wait({ptr})"),
            Call::Pipe(ptr) => write!(f, "pipe({ptr})"),
            Call::Read(fd, ptr, len) => write!(f, "read({fd}, {ptr}, {len:#x})"),
            Call::Write(fd, ptr, len) => write!(f, "write({fd}, {ptr}, {len:#x})"),
            Call::Close(fd) => write!(f, "close({fd})"),
            Call::Kill(target) => write!(f, "kill({target:?})"),
            Call::Exec(path, argv) => write!(f, "exec({path}, {argv:?})"),
            Call::Open(path, flags) => write!(f, "open({path}, {flags:#x})"),
            Call::Mknod(path, major, minor) => write!(f, "mknod({path}, {major}, {minor})"),
            Call::Unlink(path) => write!(f, "unlink({path})"),
            Call::Fstat(fd, ptr) => write!(f, "fstat({fd}, {ptr})"),
            Call::Link(old, new) => write!(f, "link({old}, {new})"),
            Call::Mkdir(path) => write!(f, "mkdir({path})"),
            Call::Chdir(path) => write!(f, "chdir({path})"),
            Call::Dup(fd) => write!(f, "dup({fd})"),
            Call::Getpid => write!(f, "getpid()"),
            Call::Sbrk(increment) => write!(f, "sbrk({increment:?})"),
            Call::Sleep(ticks) => write!(f, "sleep({ticks})"),
            Call::Uptime => write!(f, "uptime()"),
            Call::Rename(old, new) => write!(f, "rename({old}, {new})"),
            Call::Getdents(fd, ptr, len) => write!(f, "getdents({fd}, {ptr}, {len:#x})"),
            Call::Freemem => write!(f, "freemem()"),
            Call::Trace(op, ptr, len) => write!(f, "trace({op}, {ptr}, {len:#x})"),
        }
    }
}

// ---- a batch child --------------------------------------------------------

/// The batch child's state: where its arguments point, and what it made.
struct Batch {
    seed: u64,
    batch: u64,
    verbose: bool,
    /// Where the calls' reports go (a copy of the console descriptor the
    /// calls are never given).
    report: Fd,
    /// The write end of the progress pipe (never given to a call either).
    progress: i32,
    me: u64,
    /// A child of the batch, running a few calls of its own (it never
    /// forks, and it reports nothing).
    grandchild: bool,
    memory: Scratch,
    /// Bytes the calls' `sbrk` added (and may take back).
    grown: i64,
    children: Vec<u64>,
    last_uptime: u64,
    /// `exec`'s argument vector.
    argv: [u64; MAX_ARGS + 8],
}

/// A string `exec`'s good arguments point at.
static ARG: &[u8] = b"arg\0";

impl Batch {
    /// Makes `exec`'s argument vector concrete.
    fn argv(&mut self, argv: Argv) -> u64 {
        let arg = ARG.as_ptr() as u64;
        let count = match argv {
            Argv::Null => return 0,
            Argv::Bad(ptr) => return self.memory.address(ptr),
            Argv::Strings(n) => {
                self.argv[..n].fill(arg);
                n
            }
            Argv::BadString(ptr) => {
                self.argv[0] = self.memory.address(ptr);
                1
            }
            Argv::TooMany => {
                self.argv[..MAX_ARGS + 1].fill(arg);
                MAX_ARGS + 1
            }
            Argv::Unterminated => {
                self.argv.fill(arg);
                return self.argv.as_ptr() as u64;
            }
        };
        self.argv[count] = 0;
        self.argv.as_ptr() as u64
    }

    /// Reports a broken contract and ends the batch.
    fn violation(&self, index: u64, call: &Call, problem: fmt::Arguments) -> ! {
        let who = if self.grandchild {
            " (a child of the batch)"
        } else {
            ""
        };
        fprintln!(
            self.report,
            "fuzz: batch {} call {}{}: {}: {}",
            self.batch,
            index,
            who,
            call,
            problem
        );
        exit(VIOLATION)
    }

    /// Runs the batch's calls, then collects its children.
    fn run(&mut self, calls: u64) -> ! {
        let mut rng = Rng::for_batch(self.seed, self.batch);
        for index in 0..calls {
            let call = Call::generate(&mut rng);
            let _ = ulib::write(Fd(self.progress), &[1]);
            if self.verbose {
                fprintln!(self.report, "fuzz: [{}.{}] {}", self.batch, index, call);
            }
            let result = self.make(index, &call);
            self.check(index, &call, result);
        }
        for _ in 0..MAX_CHILDREN * 2 {
            // SAFETY: a null status pointer asks for no status.
            if unsafe { sys::wait(core::ptr::null_mut()) }.is_err() {
                break;
            }
        }
        exit(0)
    }

    /// The life of a child of the batch, forked by call `index`: a few
    /// calls of its own, then exit.
    ///
    /// Nobody watches it (the watchdog knows only the batch child), so it
    /// makes no call that may block: a read or write (of a pipe), `wait`,
    /// `sleep`, `fork`.
    fn grandchild(&mut self, index: u64) -> ! {
        self.grandchild = true;
        self.verbose = false;
        self.children.clear();
        self.me = sys::getpid().unwrap_or(0);
        let _ = close(Fd(self.progress));
        self.progress = -1;
        let mut rng = Rng::for_batch(self.seed ^ 0x6a09_e667, self.batch * 1000 + index);
        for _ in 0..GRANDCHILD_CALLS {
            let call = match Call::generate(&mut rng) {
                Call::Fork | Call::Read(..) | Call::Write(..) | Call::Wait(_) | Call::Sleep(_) => {
                    Call::Getpid
                }
                call => call,
            };
            let result = self.make(index, &call);
            self.check(index, &call, result);
        }
        exit(0)
    }

    /// Makes call `index`; returns what the kernel answered.
    fn make(&mut self, index: u64, call: &Call) -> Result<u64, Errno> {
        // A descriptor as given to a call: never one of the batch's own.
        let own = [self.report.0, self.progress];
        let given = |fd: i32| if own.contains(&fd) { -1 } else { fd };
        let m = &mut self.memory;
        // SAFETY: for every call below, the pointers are made on purpose
        // from `Ptr` and `Path` descriptions: either memory this process
        // owns and uses for nothing else (the scratch buffer, the path and
        // argv buffers), or memory it cannot write (its code, unmapped or
        // kernel addresses) — where the kernel must refuse. Nothing the
        // program relies on can be overwritten.
        unsafe {
            match *call {
                Call::Fork => match sys::fork() {
                    Ok(0) => self.grandchild(index),
                    Ok(pid) => {
                        if self.children.len() < MAX_CHILDREN {
                            self.children.push(pid);
                        }
                        Ok(pid)
                    }
                    Err(errno) => Err(errno),
                },
                Call::Exit(status) => exit(status),
                Call::Wait(ptr) => sys::wait(m.address(ptr) as *mut i32),
                Call::Pipe(ptr) => sys::pipe(m.address(ptr) as *mut [i32; 2]),
                Call::Read(fd, ptr, len) => {
                    sys::read(given(fd), m.address(ptr) as *mut u8, len as usize)
                }
                Call::Write(fd, ptr, len) => {
                    sys::write(given(fd), m.address(ptr) as *const u8, len as usize)
                }
                Call::Close(fd) => sys::close(given(fd)),
                Call::Kill(target) => sys::kill(match target {
                    Target::Child(n) => self.children.get(n).map_or(999_999_998, |&p| p as i64),
                    Target::Myself => self.me as i64,
                    Target::Init => 1,
                    Target::Number(n) => n,
                }),
                Call::Exec(path, argv) => {
                    let path = m.path(0, path) as *const u8;
                    let argv = self.argv(argv) as *const *const u8;
                    sys::exec(path, argv)
                }
                Call::Open(path, flags) => sys::open(m.path(0, path) as *const u8, flags),
                Call::Mknod(path, major, minor) => {
                    sys::mknod(m.path(0, path) as *const u8, major, minor)
                }
                Call::Unlink(path) => sys::unlink(m.path(0, path) as *const u8),
                Call::Fstat(fd, ptr) => sys::fstat(given(fd), m.address(ptr) as *mut _),
                Call::Link(old, new) => {
                    let old = m.path(0, old) as *const u8;
                    sys::link(old, m.path(1, new) as *const u8)
                }
                Call::Mkdir(path) => sys::mkdir(m.path(0, path) as *const u8),
                Call::Chdir(path) => sys::chdir(m.path(0, path) as *const u8),
                Call::Dup(fd) => sys::dup(given(fd)),
                Call::Getpid => sys::getpid(),
                Call::Sbrk(increment) => {
                    let bytes = match increment {
                        Increment::Grow(n) | Increment::Absurd(n) => n,
                        Increment::Shrink(n) => -n.min(self.grown),
                    };
                    let result = sys::sbrk(bytes as isize);
                    if result.is_ok() {
                        self.grown += bytes;
                    }
                    result
                }
                Call::Sleep(ticks) => sys::sleep(ticks),
                Call::Uptime => sys::uptime(),
                Call::Rename(old, new) => {
                    let old = m.path(0, old) as *const u8;
                    sys::rename(old, m.path(1, new) as *const u8)
                }
                Call::Getdents(fd, ptr, len) => {
                    sys::getdents(given(fd), m.address(ptr) as *mut u8, len as usize)
                }
                Call::Freemem => sys::freemem(),
                Call::Trace(op, ptr, len) => sys::trace(op, m.address(ptr), len),
            }
        }
    }

    /// Checks an answer against the contract (`docs/user-abi.md`).
    fn check(&mut self, index: u64, call: &Call, result: Result<u64, Errno>) {
        if result == Err(Errno::EIO) {
            self.violation(index, call, format_args!("EIO (a server gone?)"));
        }
        let Ok(value) = result else { return };
        match *call {
            Call::Read(_, _, len) | Call::Write(_, _, len) | Call::Getdents(_, _, len)
                if value > len =>
            {
                self.violation(index, call, format_args!("{value} bytes, more than asked"))
            }
            Call::Exec(..) => self.violation(index, call, format_args!("exec returned Ok")),
            Call::Getpid if value != self.me => {
                self.violation(index, call, format_args!("pid {value}, not {}", self.me))
            }
            Call::Uptime => {
                if value < self.last_uptime {
                    self.violation(index, call, format_args!("uptime went back to {value}"));
                }
                self.last_uptime = value;
            }
            Call::Sbrk(Increment::Absurd(_)) => {
                self.violation(index, call, format_args!("an absurd sbrk was granted"))
            }
            _ => {}
        }
    }
}

/// The batch child: sets up, runs `calls` calls, exits.
fn batch_child(options: &Options, batch: u64, calls: u64, progress: Fd) -> ! {
    // A copy of the console for reports, then no console descriptors at all
    // (a read of one would wait for the keyboard).
    let Ok(report) = ulib::dup(Fd::STDERR) else {
        exit(SETUP_FAILED)
    };
    for fd in 0..3 {
        let _ = close(Fd(fd));
    }
    let Ok(me) = ulib::getpid() else {
        exit(SETUP_FAILED)
    };
    let children = Vec::with_capacity(MAX_CHILDREN);
    // The scratch buffer last: it must be the top of the heap (nothing is
    // allocated after it).
    let Ok(memory) = Scratch::new() else {
        exit(SETUP_FAILED)
    };
    let mut state = Box::new(Batch {
        seed: options.seed,
        batch,
        verbose: options.verbose,
        report,
        progress: progress.0,
        me: me.into(),
        grandchild: false,
        memory,
        grown: 0,
        children,
        last_uptime: 0,
        argv: [0; MAX_ARGS + 8],
    });
    state.run(calls)
}

// ---- the fuzzer -----------------------------------------------------------

/// Says what went wrong in a batch, or `None` if it ended as its calls
/// said it would (it ran them all, a call ended it on purpose, or the
/// watchdog stopped a call that blocked for good).
fn judge(seed: u64, batch: u64, outcome: &fuzzing::Outcome) -> Option<String> {
    let last = outcome
        .started
        .checked_sub(1)
        .map(|i| Call::nth(seed, batch, i));
    match outcome.status {
        0 => None,
        VIOLATION => Some(String::from("a call broke the contract (see above)")),
        SETUP_FAILED => Some(String::from("the batch could not set itself up")),
        PANICKED => Some(String::from(
            "the batch process panicked (a bug in the fuzzer itself)",
        )),
        KILLED_STATUS if outcome.watchdog_fired => None,
        KILLED_STATUS if matches!(last, Some(Call::Kill(Target::Myself))) => None,
        status if matches!(last, Some(Call::Exit(s)) if s == status) => None,
        KILLED_STATUS => Some(String::from("the kernel killed the batch process")),
        other => Some(format!("the batch process exited with status {other}")),
    }
}

fn main(args: Args) -> i32 {
    let Some(options) = Options::parse(args.iter().skip(1), DEFAULT_CALLS) else {
        println!("usage: fuzz [-v] [-b BATCH] [SEED [CALLS]]");
        return 2;
    };
    let (seed, calls) = (options.seed, options.count);
    println!("fuzz: seed {seed:#x} calls {calls} (replay: fuzz {seed:#x} {calls})");
    let playground = match Playground::make("fz", seed) {
        Ok(playground) => playground,
        Err(errno) => {
            println!(
                "fuzz: FAILED (cannot make the scratch directory: {})",
                errno.message()
            );
            return 1;
        }
    };
    warm_up();
    let before = measure();
    let mut failure = None;
    let mut stopped = 0;
    let mut ran = 0;
    for batch in options.batches(CALLS_PER_BATCH) {
        let count = options.calls_in(batch, CALLS_PER_BATCH);
        ran += 1;
        match run_batch(|progress| batch_child(&options, batch, count, progress)) {
            Ok(outcome) => {
                if let Some(what) = judge(seed, batch, &outcome) {
                    failure = Some((batch, outcome.started, what));
                    break;
                }
                if outcome.watchdog_fired {
                    stopped += 1;
                    if options.verbose {
                        println!(
                            "fuzz: batch {batch} stopped by the watchdog after {} calls",
                            outcome.started
                        );
                    }
                }
            }
            Err(errno) => {
                failure = Some((batch, 0, format!("running the batch: {}", errno.message())));
                break;
            }
        }
        if !options.verbose && batch % 10 == 9 {
            println!("fuzz: {} batches done", batch + 1);
        }
    }
    // Every child is collected; the playground goes.
    while wait().is_ok() {}
    let removed = playground.remove();
    if let Some((batch, started, what)) = failure {
        println!("fuzz: FAILED in batch {batch}: {what}");
        println!("fuzz: its last calls (the last one was running):");
        for index in started.saturating_sub(SHOWN_CALLS)..started {
            println!(
                "fuzz:   [{}.{}] {}",
                batch,
                index,
                Call::nth(seed, batch, index)
            );
        }
        println!("fuzz: replay: fuzz -v -b {batch} {seed:#x} {calls}");
        return 1;
    }
    let after = measure_settled(before);
    println!(
        "fuzz: {} batches ({} stopped by the watchdog); free pages {} -> {}, free process slots {} -> {}",
        ran,
        stopped,
        before.free_pages,
        after.free_pages,
        before.process_slots,
        after.process_slots
    );
    if !removed {
        println!(
            "fuzz: FAILED (the scratch directory {} could not be removed)",
            playground.path
        );
        1
    } else if after != before {
        println!("fuzz: FAILED (leak; replay: fuzz {seed:#x} {calls})");
        1
    } else {
        println!("fuzz: OK");
        0
    }
}

ulib::entry!(main);
