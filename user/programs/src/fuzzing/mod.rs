//! What the two fuzzers share: `fuzz` (system calls, both kernels,
//! `src/bin/fuzz.rs`) and `msgfuzz` (messages to the micro-kernel's servers,
//! `src/bin/msgfuzz.rs`).
//!
//! | part | what |
//! |------|------|
//! | [`Rng`] | the deterministic generator: one per batch, from the seed |
//! | [`Ptr`], [`length`], [`descriptor`] | arguments: kinds of pointers, lengths, descriptors |
//! | [`Path`], [`NAMES`] | paths, all inside the playground |
//! | [`Scratch`] | a batch's scratch buffer and path buffers: arguments made concrete |
//! | [`run_batch`] | a batch in a child process, with a watchdog and a progress pipe |
//! | [`measure`], [`warm_up`] | the leak check: free pages, and how many processes can be made |
//! | [`Playground`] | the scratch directory every path lives in |
//!
//! **The playground.** Every path a fuzzer makes is relative to the batch's
//! working directory, which is inside a scratch directory (`/fz-SEED`,
//! `/mf-SEED`): `..` appears only as `d/..` or `d/e/..`, `chdir` goes only
//! downwards, random names never are `.` or `..`, and a path read from
//! memory is only ever read from memory that holds none (unmapped or kernel
//! addresses). So no call can touch a file outside it, and removing it at
//! the end removes everything the calls made.
//!
//! **A batch** runs in a child process ([`run_batch`]): a call that ends or
//! blocks its process ends only the batch. The child writes one byte to a
//! progress pipe before each call, so the fuzzer knows how far it got; a
//! watchdog process kills it after [`WATCHDOG_TICKS`] if a call blocks for
//! good (a read of a pipe only the batch writes, a long sleep).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use ulib::{
    Errno, Fd, ForkResult, MAX_PATH, USER_TOP, close, exit, fork, freemem, pipe, read, wait,
};

/// Ticks (10 ms) a batch may take before the watchdog kills it.
pub const WATCHDOG_TICKS: u64 = 25;
/// Bytes of the scratch buffer that pointer arguments point into.
pub const SCRATCH_BYTES: usize = 64 * 1024;
/// Bytes of a path buffer: the longest path made, and its NUL.
pub const PATH_BUFFER: usize = MAX_PATH + 3;
/// Bytes of the unterminated path: past what a kernel reads of a path.
pub const UNTERMINATED: usize = MAX_PATH + 8;
/// Exit status of a batch child that found a broken contract (it printed
/// what).
pub const VIOLATION: i32 = 77;
/// Exit status of a batch child that could not set itself up.
pub const SETUP_FAILED: i32 = 78;
/// Exit status of a program that panicked (ulib's panic handler).
pub const PANICKED: i32 = 101;
/// How many of a failed batch's last calls are printed.
pub const SHOWN_CALLS: u64 = 8;

/// Names the paths are made of, all relative to the batch's working
/// directory (see the playground in the module comment).
pub const NAMES: [&str; 18] = [
    "a", "b", "c", "d", "d/e", "d/e/f", "d/..", "a/x", "d/a", ".", "", "/", "nope/x", "d//b",
    "./a", "d/e/..", "e", "d/e/f/g",
];
/// Where `chdir` may go: never above where the batch started.
pub const CHDIR_NAMES: [&str; 7] = ["d", "d/e", ".", "d/..", "a", "nope", ""];
/// Letters of random names (no `/`, and never exactly `.` or `..`).
const NAME_LETTERS: &[u8] = b"abcdexyz.-_~";

// ---- random numbers --------------------------------------------------------

/// SplitMix64's mixer: spreads a seed and a batch number over all bits.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A small deterministic generator (xorshift64*), one per batch.
pub struct Rng(u64);

impl Rng {
    /// The generator of batch `batch` of a run with `seed`.
    pub fn for_batch(seed: u64, batch: u64) -> Rng {
        Rng(mix(seed ^ mix(batch)) | 1)
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

// ---- arguments -------------------------------------------------------------

/// A pointer argument, as a kind of address; [`Scratch::address`] makes it
/// concrete.
#[derive(Clone, Copy, Debug)]
pub enum Ptr {
    Null,
    /// A small number: the never-mapped pages below the program.
    Low(u64),
    /// The kernel's half of the address space.
    Kernel(u64),
    /// Not a canonical address.
    NonCanonical(u64),
    /// `USER_TOP` minus this (wrapping: past `USER_TOP`). Never lower than
    /// `USER_STACK_TOP`, where the program's own live stack is.
    NearTop(u64),
    /// The program's own code: readable, not writable.
    Text(u64),
    /// `n` bytes into the scratch buffer.
    Scratch(u64),
    /// `n` bytes before the scratch buffer's end (a long access runs off).
    ScratchEnd(u64),
    /// Any number at all.
    Any(u64),
}

impl Ptr {
    /// A pointer of any kind; most often into the scratch buffer.
    pub fn generate(rng: &mut Rng) -> Ptr {
        match rng.below(20) {
            0 => Ptr::Null,
            1 => Ptr::Low(rng.below(0x40_0000)),
            2 => Ptr::Kernel(rng.pick(&[0, 8, 0xfff, 0x1000_0000])),
            3 => Ptr::NonCanonical(rng.below(1 << 47)),
            // Between the stack and USER_TOP (never mapped: lower, it
            // would be the program's own stack), or at and past USER_TOP.
            4 => Ptr::NearTop(rng.pick(&[
                1,
                8,
                0x800,
                0x1000,
                0x1_0000,
                0,
                0u64.wrapping_sub(0x800),
            ])),
            5 => Ptr::Text(rng.below(0x2000)),
            6 => Ptr::Any(rng.next()),
            7..=9 => Ptr::ScratchEnd(rng.pick(&[0, 1, 7, 100, 4095, 4096, 5000])),
            _ => Ptr::Scratch(rng.below(SCRATCH_BYTES as u64)),
        }
    }

    /// A pointer to nothing the program can read: for paths, which must
    /// never turn out to name something outside the playground (a path
    /// read from the program's code or the scratch buffer could start with
    /// `/` or hold `..`).
    pub fn generate_unreadable(rng: &mut Rng) -> Ptr {
        match Ptr::generate(rng) {
            Ptr::Text(n) | Ptr::Scratch(n) | Ptr::ScratchEnd(n) => Ptr::Kernel(n),
            other => other,
        }
    }
}

impl fmt::Display for Ptr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ptr::Null => write!(f, "null"),
            Ptr::Low(n) => write!(f, "{n:#x}"),
            Ptr::Kernel(n) => write!(f, "kernel+{n:#x}"),
            Ptr::NonCanonical(n) => write!(f, "noncanonical+{n:#x}"),
            Ptr::NearTop(n) => write!(f, "USER_TOP-{:#x}", n as i64),
            Ptr::Text(n) => write!(f, "text+{n:#x}"),
            Ptr::Scratch(n) => write!(f, "scratch+{n}"),
            Ptr::ScratchEnd(n) => write!(f, "scratch_end-{n}"),
            Ptr::Any(n) => write!(f, "{n:#x}"),
        }
    }
}

/// A length: mostly plausible, often an edge, sometimes absurd.
pub fn length(rng: &mut Rng) -> u64 {
    match rng.below(8) {
        0 => rng.pick(&[0, 1, 4095, 4096, 4097, 8192, 65536]),
        1 => rng.pick(&[
            1 << 20,
            1 << 31,
            1 << 40,
            u64::MAX,
            i64::MAX as u64,
            u32::MAX as u64,
        ]),
        2 => rng.below(100),
        _ => rng.below(10_000),
    }
}

/// A file descriptor: mostly in the table's range, sometimes not.
pub fn descriptor(rng: &mut Rng) -> i32 {
    if rng.chance(85) {
        rng.below(16) as i32
    } else {
        rng.pick(&[-1, i32::MIN, i32::MAX, 16, 17, 64, 1000])
    }
}

/// A path argument (see the playground in the module comment).
#[derive(Clone, Copy, Debug)]
pub enum Path {
    /// One of [`NAMES`].
    Name(usize),
    /// One of [`CHDIR_NAMES`].
    Chdir(usize),
    /// A random name of `len` letters, from the generator state `seed`.
    Random(u64, usize),
    /// `len` bytes of `a/` components (at or past `MAX_PATH`).
    Long(usize),
    /// A string with no NUL before the end of the scratch buffer.
    Unterminated,
    /// A pointer to nothing readable.
    Bad(Ptr),
}

impl Path {
    /// A path for any call but `chdir`.
    pub fn generate(rng: &mut Rng) -> Path {
        match rng.below(20) {
            0 => Path::Long(rng.pick(&[MAX_PATH - 1, MAX_PATH, MAX_PATH + 1, 300, MAX_PATH + 2])),
            1 => Path::Unterminated,
            2 => Path::Bad(Ptr::generate_unreadable(rng)),
            3..=5 => Path::Random(rng.next(), 1 + rng.below(8) as usize),
            _ => Path::Name(rng.below(NAMES.len() as u64) as usize),
        }
    }

    /// A path for `chdir`: never upwards.
    pub fn generate_chdir(rng: &mut Rng) -> Path {
        match rng.below(10) {
            0 => Path::Bad(Ptr::generate_unreadable(rng)),
            1 => Path::Long(rng.pick(&[MAX_PATH, MAX_PATH + 1])),
            _ => Path::Chdir(rng.below(CHDIR_NAMES.len() as u64) as usize),
        }
    }

    /// The random name `seed` and `len` stand for, into `out`; its length.
    fn random_name(seed: u64, len: usize, out: &mut [u8]) -> usize {
        let mut rng = Rng(seed | 1);
        for byte in out.iter_mut().take(len) {
            *byte = rng.pick(NAME_LETTERS);
        }
        // Never `.` or `..`: they could lead out of the playground.
        if out[..len].iter().all(|&b| b == b'.') {
            out[0] = b'x';
        }
        len
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Path::Name(i) => write!(f, "{:?}", NAMES[i]),
            Path::Chdir(i) => write!(f, "{:?}", CHDIR_NAMES[i]),
            Path::Random(seed, len) => {
                let mut name = [0u8; 8];
                let len = Path::random_name(seed, len, &mut name);
                write!(f, "{:?}", core::str::from_utf8(&name[..len]).unwrap_or("?"))
            }
            Path::Long(len) => write!(f, "<{len}-byte path>"),
            Path::Unterminated => write!(f, "<unterminated>"),
            Path::Bad(ptr) => write!(f, "{ptr}"),
        }
    }
}

// ---- a batch's memory --------------------------------------------------------

/// A batch child's scratch buffer and path buffers: where the arguments
/// point.
pub struct Scratch {
    /// The scratch buffer, at the top of the heap: nothing is mapped after
    /// it unless a call grows the heap.
    pub base: u64,
    /// NUL-terminated paths for up to two path arguments.
    paths: [[u8; PATH_BUFFER]; 2],
}

impl Scratch {
    /// Grows the heap by the scratch buffer. Call it after the last heap
    /// allocation of the batch (the buffer must be the top of the heap).
    pub fn new() -> Result<Scratch, Errno> {
        // SAFETY: growing the heap; the new memory is ours.
        let base = unsafe { ulib::sys::sbrk(SCRATCH_BYTES as isize) }?;
        Ok(Scratch {
            base,
            paths: [[0; PATH_BUFFER]; 2],
        })
    }

    /// A pointer made concrete.
    pub fn address(&self, ptr: Ptr) -> u64 {
        match ptr {
            Ptr::Null => 0,
            Ptr::Low(n) | Ptr::Any(n) => n,
            Ptr::Kernel(n) => 0xffff_ffff_8000_0000u64.wrapping_add(n),
            Ptr::NonCanonical(n) => 0x0000_8000_0000_0000 + n,
            Ptr::NearTop(n) => USER_TOP.wrapping_sub(n),
            Ptr::Text(n) => (mix as *const () as u64).wrapping_add(n),
            Ptr::Scratch(n) => self.base + n,
            Ptr::ScratchEnd(n) => self.base + SCRATCH_BYTES as u64 - n.min(SCRATCH_BYTES as u64),
        }
    }

    /// Makes path argument number `slot` (0 or 1) concrete: a pointer to a
    /// NUL-terminated string, or a bad pointer.
    pub fn path(&mut self, slot: usize, path: Path) -> u64 {
        let buffer = &mut self.paths[slot];
        let text: &[u8] = match path {
            Path::Name(i) => NAMES[i].as_bytes(),
            Path::Chdir(i) => CHDIR_NAMES[i].as_bytes(),
            Path::Random(seed, len) => {
                let len = Path::random_name(seed, len, buffer);
                buffer[len] = 0;
                return buffer.as_ptr() as u64;
            }
            Path::Long(len) => {
                for (i, byte) in buffer.iter_mut().take(len).enumerate() {
                    *byte = if i % 2 == 0 { b'a' } else { b'/' };
                }
                buffer[len] = 0;
                return buffer.as_ptr() as u64;
            }
            Path::Unterminated => {
                let start = self.base as usize + SCRATCH_BYTES - UNTERMINATED;
                // SAFETY: the end of the scratch buffer, which this process
                // owns and uses for nothing else.
                unsafe { core::ptr::write_bytes(start as *mut u8, b'x', UNTERMINATED) };
                return start as u64;
            }
            Path::Bad(ptr) => return self.address(ptr),
        };
        buffer[..text.len()].copy_from_slice(text);
        buffer[text.len()] = 0;
        buffer.as_ptr() as u64
    }
}

// ---- a batch in a child ------------------------------------------------------

/// How a batch child ended.
pub struct Outcome {
    /// Its exit status.
    pub status: i32,
    /// How many calls it started (progress bytes).
    pub started: u64,
    /// Whether the watchdog killed it.
    pub watchdog_fired: bool,
}

/// Runs `body` in a child process, with a watchdog that kills it after
/// [`WATCHDOG_TICKS`]; `body` gets the write end of the progress pipe and
/// writes a byte to it before each call, and ends the child with `exit`
/// (if it returns, the child exits with [`SETUP_FAILED`]). Returns how the
/// child ended.
pub fn run_batch(body: impl FnOnce(Fd)) -> Result<Outcome, Errno> {
    let (progress_read, progress_write) = pipe()?;
    let child = match fork()? {
        ForkResult::Child => {
            let _ = close(progress_read);
            body(progress_write);
            exit(SETUP_FAILED)
        }
        ForkResult::Parent(pid) => pid,
    };
    // The watchdog says it fired through a pipe of its own before it kills
    // (its exit status could not tell: this process may kill it first).
    let (fired_read, fired_write) = pipe()?;
    let watchdog = match fork() {
        Ok(ForkResult::Child) => {
            for fd in [progress_read, progress_write, fired_read] {
                let _ = close(fd);
            }
            let _ = ulib::sleep(WATCHDOG_TICKS);
            let _ = ulib::write(fired_write, b"!");
            let _ = ulib::kill(child);
            exit(0)
        }
        Ok(ForkResult::Parent(pid)) => pid,
        Err(errno) => {
            // No watchdog, no batch: a call that blocks would block us too.
            let _ = ulib::kill(child);
            for fd in [progress_read, progress_write, fired_read, fired_write] {
                let _ = close(fd);
            }
            let _ = wait();
            return Err(errno);
        }
    };
    let _ = close(progress_write);
    let _ = close(fired_write);
    // One byte per call started; the end of the pipe comes when the batch
    // child (and any child of its) is gone, by itself or by the watchdog.
    let mut started = 0u64;
    let mut bytes = [0u8; 64];
    while let Ok(n @ 1..) = read(progress_read, &mut bytes) {
        started += n as u64;
    }
    let _ = close(progress_read);
    let _ = ulib::kill(watchdog);
    let (mut status, mut watchdog_done) = (None, false);
    while status.is_none() || !watchdog_done {
        let (pid, exit_status) = wait()?;
        if pid == child {
            status = Some(exit_status);
        } else if pid == watchdog {
            watchdog_done = true;
        }
    }
    // Both are gone: the pipe holds the watchdog's byte, or is at its end.
    let watchdog_fired = read(fired_read, &mut bytes) == Ok(1);
    let _ = close(fired_read);
    Ok(Outcome {
        status: status.unwrap_or(0),
        started,
        watchdog_fired,
    })
}

// ---- the leak check ----------------------------------------------------------

/// How many more processes can be made now (at most `limit`): fork
/// children that wait on a pipe until they are all made.
fn free_process_slots(limit: usize) -> usize {
    let Ok((hold_read, hold_write)) = pipe() else {
        return 0;
    };
    let mut made = 0;
    while made < limit {
        match fork() {
            Ok(ForkResult::Child) => {
                let _ = close(hold_write);
                let _ = read(hold_read, &mut [0u8; 1]);
                exit(0)
            }
            Ok(ForkResult::Parent(_)) => made += 1,
            Err(_) => break,
        }
    }
    let _ = close(hold_write);
    let _ = close(hold_read);
    for _ in 0..made {
        let _ = wait();
    }
    made
}

/// What the leak check compares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    /// `freemem`.
    pub free_pages: u64,
    /// How many processes can still be made.
    pub process_slots: usize,
}

/// The resources now.
pub fn measure() -> Resources {
    Resources {
        free_pages: freemem().unwrap_or(0),
        process_slots: free_process_slots(512),
    }
}

/// [`measure`] until it gives `before` again, for a while: orphans go to
/// init, which collects them in its own time.
pub fn measure_settled(before: Resources) -> Resources {
    let mut after = measure();
    for _ in 0..20 {
        if after == before {
            break;
        }
        let _ = ulib::sleep(5);
        after = measure();
    }
    after
}

/// Maps now what the fuzzer's own process will use later — stack pages
/// for the deepest [`remove_tree`], a heap region big enough for every
/// list of names — so that its own growth is not counted as a leak (on the
/// micro-kernel the stack is mapped page by page, as it is touched).
pub fn warm_up() {
    #[inline(never)]
    fn touch_stack(depth: u32) -> u8 {
        let mut page = [0u8; 4096];
        // SAFETY: a write to a local array; volatile so it is not elided.
        unsafe { core::ptr::write_volatile(&mut page[depth as usize % 4096], 1) };
        if depth == 0 {
            page[0]
        } else {
            touch_stack(depth - 1).wrapping_add(page[1])
        }
    }
    // 36 KiB of the 64 KiB stack.
    core::hint::black_box(touch_stack(8));
    let heap: Vec<u8> = Vec::with_capacity(256 * 1024);
    drop(core::hint::black_box(heap));
}

// ---- the playground ----------------------------------------------------------

/// The scratch directory of a run: made empty, the fuzzer's working
/// directory while it runs, removed with everything in it at the end.
pub struct Playground {
    /// Its absolute path.
    pub path: String,
}

impl Playground {
    /// Makes `/PREFIX-SEED` (removing what an earlier run left) and changes
    /// into it.
    pub fn make(prefix: &str, seed: u64) -> Result<Playground, Errno> {
        let path = format!("/{prefix}-{seed:x}");
        ulib::chdir("/")?;
        remove_tree(&path[1..]);
        ulib::mkdir(&path)?;
        ulib::chdir(&path)?;
        Ok(Playground { path })
    }

    /// Removes it and everything in it; whether it is gone.
    pub fn remove(&self) -> bool {
        let _ = ulib::chdir("/");
        remove_tree(&self.path[1..]);
        ulib::stat(&self.path).is_err()
    }
}

pub use ulib::remove_tree;

/// A number in decimal or `0x` hexadecimal.
pub fn number(word: &str) -> Option<u64> {
    match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

/// The command line of a fuzzer: `[-v] [-b BATCH] [SEED [COUNT]]`.
pub struct Options {
    /// Print each call before it is made.
    pub verbose: bool,
    /// Run only this batch.
    pub only_batch: Option<u64>,
    /// The seed (from the clock if none was given).
    pub seed: u64,
    /// How many calls (or messages) in all.
    pub count: u64,
}

impl Options {
    /// Parses the arguments after the program name; `None` if they are
    /// not understood.
    pub fn parse(
        mut words: impl Iterator<Item = &'static str>,
        default_count: u64,
    ) -> Option<Options> {
        let mut verbose = false;
        let mut only_batch = None;
        let mut numbers = Vec::new();
        while let Some(word) = words.next() {
            match word {
                "-v" => verbose = true,
                "-b" => only_batch = Some(number(words.next()?)?),
                _ => numbers.push(number(word)?),
            }
        }
        if numbers.len() > 2 {
            return None;
        }
        Some(Options {
            verbose,
            only_batch,
            seed: numbers
                .first()
                .copied()
                .unwrap_or_else(|| mix(ulib::rdtsc())),
            count: numbers.get(1).copied().unwrap_or(default_count),
        })
    }

    /// The batches to run, for `per_batch` calls each.
    pub fn batches(&self, per_batch: u64) -> core::ops::Range<u64> {
        match self.only_batch {
            Some(batch) => batch..batch + 1,
            None => 0..self.count.div_ceil(per_batch),
        }
    }

    /// How many calls batch `batch` makes.
    pub fn calls_in(&self, batch: u64, per_batch: u64) -> u64 {
        per_batch
            .min(self.count.saturating_sub(batch * per_batch))
            .max(1)
    }
}
