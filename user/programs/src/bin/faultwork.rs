//! `faultwork [-v] SEED FAULTS`: the fault-injection campaign's workload
//! (`make inject`, the grader's `fault-campaign` suite;
//! `docs/fault-isolation.md`). Micro-kernel only, on a kernel booted with
//! `inject`.
//!
//! It keeps a set of files in a directory of its own (`/faultwork.d/rK`,
//! the first K not used yet) whose contents it knows, and for each of
//! FAULTS faults:
//!
//! 1. picks the fault from SEED and its number alone (a SplitMix64
//!    sequence: the same seed gives the same faults in the same order, so a
//!    failure replays): a server (disk, fs or console), a fault (a bad
//!    pointer in the shared code; or, at its N-th request from then on, a
//!    load from an address nothing maps, a stack-pointer or
//!    instruction-pointer bit flip that leaves every mapped region, a store
//!    into its own code, an invalid instruction, a loop that never waits),
//!    and N;
//! 2. arms it (`ulib::inject`, which returns once the server has it);
//! 3. works in rounds until root has restarted the server: each round
//!    creates a file of a random size (up to 40 KiB) and, every other
//!    round on average, `fsync`s it (a journal commit: the disk server's
//!    requests, which the buffer cache otherwise saves for the 5-second
//!    commit), appends a line to a log, renames a file, reads one back and
//!    compares it, removes the oldest when there are more than
//!    [`MAX_FILES`], and prints one line (the console's requests);
//! 4. reads back every file and the log and compares them with what it
//!    wrote: the fault is *survived* when every call succeeded and every
//!    byte is right.
//!
//! A call that fails, a byte that differs or a fault that does not fire
//! within [`MAX_ROUNDS`] rounds ends the run with the fault's number and
//! the replay command. At the end it syncs and prints
//!
//! ```text
//! faultwork: 12 faults (disk 4, fs 5, console 3), 12 survived with the data intact
//! ```
//!
//! `-v` prints a line per fault (the default prints one every 50).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use ulib::{
    Args, Component, Errno, Fault, Injection, O_APPEND, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, close,
    eprintln, open, println, read_full, write_all,
};

/// Files kept at most (the oldest goes first).
const MAX_FILES: usize = 16;

/// Rounds a fault may take to fire before the run counts it as lost.
const MAX_ROUNDS: u32 = 40;

/// The log is started afresh after this many lines.
const LOG_LINES: u32 = 64;

/// Ticks to wait after a restart before arming the next fault: root counts
/// a crash within 5 ticks of a server's start as a crash loop (three in a
/// row and it stays down), which a campaign must not look like.
const SETTLE_TICKS: u64 = 6;

/// Addresses no server maps: loads from them fault (the null page, the
/// gap below the program image, unused user space, a non-canonical
/// address, the kernel's half).
const BAD_ADDRESSES: [u64; 8] = [
    0x0,
    0x18,
    0xff8,
    0x3f_f000,
    0x0000_0001_0000_0000,
    0x0000_5eed_0000_0000,
    0x0000_8000_0000_0000,
    0xffff_8000_0010_0000,
];

/// SplitMix64: the `index`-th number of the sequence of `seed`.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A generator of numbers from one seed.
struct Random {
    seed: u64,
    next: u64,
}

impl Random {
    fn new(seed: u64) -> Random {
        Random { seed, next: 0 }
    }

    /// A number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next += 1;
        mix(self.seed, self.next) % bound.max(1)
    }
}

/// Fault number `number` of the campaign of `seed`: a function of the two
/// alone.
fn pick_fault(seed: u64, number: u64) -> Injection {
    let mut random = Random::new(mix(seed, number));
    let component = [Component::Disk, Component::Fs, Component::Console][random.below(3) as usize];
    let fault = Fault::ALL[random.below(Fault::ALL.len() as u64) as usize];
    // The console gets a request a round, the others dozens.
    let after = 1 + match component {
        Component::Console => random.below(3),
        Component::Fs => random.below(30),
        _ => random.below(60),
    };
    let parameter = match fault {
        Fault::BadPointer => BAD_ADDRESSES[random.below(BAD_ADDRESSES.len() as u64) as usize],
        // From bit 20 up, the stack pointer leaves the 1 MiB stack (and
        // lands in no other region); bit 47 and up is non-canonical.
        Fault::StackBitFlip => 20 + random.below(28),
        // From bit 24 up, the instruction pointer leaves the image.
        Fault::CodeBitFlip => 24 + random.below(40),
        _ => 0,
    };
    Injection {
        component,
        fault,
        after,
        parameter,
    }
}

/// How a fault is described.
fn describe(injection: &Injection) -> String {
    let what = match injection.fault {
        Fault::BadPointer => format!("a load from {:#x}", injection.parameter),
        Fault::StackBitFlip => format!("stack pointer bit {}", injection.parameter),
        Fault::CodeBitFlip => format!("instruction pointer bit {}", injection.parameter),
        other => String::from(other.name()),
    };
    let when = if injection.fault == Fault::SharedBadPointer {
        String::from("at its next use of the shared code")
    } else {
        format!("at request {}", injection.after)
    };
    format!("{}, {what} {when}", injection.component.name())
}

/// The byte at `offset` of a file written with `seed`.
fn byte_of(seed: u32, offset: usize) -> u8 {
    (seed as usize)
        .wrapping_add(offset.wrapping_mul(31))
        .wrapping_add(offset >> 8) as u8
}

/// One file the workload wrote.
struct Written {
    name: String,
    seed: u32,
    len: usize,
}

/// The workload's directory and what it holds.
struct Work {
    top: String,
    files: Vec<Written>,
    /// What the log file holds.
    log: String,
    log_lines: u32,
    rounds: u32,
    random: Random,
}

/// What went wrong, for the failure line.
type Failure = String;

fn failed(what: &str, errno: Errno) -> Failure {
    format!("{what}: {}", errno.message())
}

impl Work {
    /// A fresh directory for this run.
    fn new(seed: u64) -> Result<Work, Failure> {
        let _ = ulib::mkdir("/faultwork.d");
        let mut run = 0;
        let top = loop {
            let top = format!("/faultwork.d/r{run}");
            match ulib::mkdir(&top) {
                Ok(()) => break top,
                Err(Errno::EEXIST) => run += 1,
                Err(errno) => return Err(failed(&format!("mkdir {top}"), errno)),
            }
        };
        Ok(Work {
            top,
            files: Vec::new(),
            log: String::new(),
            log_lines: 0,
            rounds: 0,
            random: Random::new(seed ^ 0x5ca1_ab1e),
        })
    }

    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.top)
    }

    /// One round of work (see the module documentation).
    fn round(&mut self) -> Result<(), Failure> {
        self.rounds += 1;
        let round = self.rounds;
        // A new file.
        let len = if self.random.below(8) == 0 {
            40 * 1024
        } else {
            self.random.below(12 * 1024) as usize
        };
        let seed = self.random.below(1 << 32) as u32;
        let name = format!("f{round}");
        let sync = self.random.below(2) == 0;
        write_file(&self.path(&name), seed, len, sync)?;
        self.files.push(Written { name, seed, len });
        // The log.
        if self.log_lines == LOG_LINES {
            self.log.clear();
            self.log_lines = 0;
        }
        let line = format!("round {round}\n");
        let flags = if self.log_lines == 0 {
            O_CREATE | O_RDWR | O_TRUNC
        } else {
            O_CREATE | O_RDWR | O_APPEND
        };
        let log_path = self.path("log");
        let log = open(&log_path, flags).map_err(|e| failed("open the log", e))?;
        let appended = write_all(log, line.as_bytes()).map_err(|e| failed("append to the log", e));
        close(log).map_err(|e| failed("close the log", e))?;
        appended?;
        self.log.push_str(&line);
        self.log_lines += 1;
        // A rename.
        let which = self.random.below(self.files.len() as u64) as usize;
        let renamed = format!("r{round}");
        let (from, to) = (self.path(&self.files[which].name), self.path(&renamed));
        ulib::rename(&from, &to).map_err(|e| failed(&format!("rename {from} {to}"), e))?;
        self.files[which].name = renamed;
        // A read back.
        let which = self.random.below(self.files.len() as u64) as usize;
        self.check_file(which)?;
        // The oldest goes.
        if self.files.len() > MAX_FILES {
            let oldest = self.files.remove(0);
            let path = self.path(&oldest.name);
            ulib::unlink(&path).map_err(|e| failed(&format!("unlink {path}"), e))?;
        }
        println!("faultwork: round {round}, {} files", self.files.len());
        Ok(())
    }

    /// Reads file `which` back and compares it with what was written.
    fn check_file(&self, which: usize) -> Result<(), Failure> {
        let file = &self.files[which];
        let path = self.path(&file.name);
        let bytes = read_file(&path, file.len + 1)?;
        if bytes.len() != file.len {
            return Err(format!("{path}: {} bytes, wrote {}", bytes.len(), file.len));
        }
        if let Some(at) = (0..file.len).find(|&i| bytes[i] != byte_of(file.seed, i)) {
            return Err(format!("{path}: byte {at} differs from what was written"));
        }
        Ok(())
    }

    /// Reads every file and the log back.
    fn check_all(&self) -> Result<(), Failure> {
        for which in 0..self.files.len() {
            self.check_file(which)?;
        }
        if self.log_lines > 0 {
            let log = read_file(&self.path("log"), self.log.len() + 1)?;
            if log != self.log.as_bytes() {
                return Err(String::from("the log differs from what was appended"));
            }
        }
        Ok(())
    }
}

/// Writes `len` bytes of `seed`'s pattern to a new file `path`, and
/// `fsync`s it if `sync`.
fn write_file(path: &str, seed: u32, len: usize, sync: bool) -> Result<(), Failure> {
    let fd = open(path, O_CREATE | O_RDWR | O_TRUNC)
        .map_err(|e| failed(&format!("create {path}"), e))?;
    let mut block = vec![0u8; 4096];
    let mut done = 0;
    let mut result = Ok(());
    while done < len {
        let n = (len - done).min(block.len());
        for (i, byte) in block[..n].iter_mut().enumerate() {
            *byte = byte_of(seed, done + i);
        }
        if let Err(errno) = write_all(fd, &block[..n]) {
            result = Err(failed(&format!("write {path}"), errno));
            break;
        }
        done += n;
    }
    if result.is_ok() && sync {
        result = ulib::fsync(fd).map_err(|errno| failed(&format!("fsync {path}"), errno));
    }
    close(fd).map_err(|e| failed(&format!("close {path}"), e))?;
    result
}

/// Reads at most `limit` bytes of `path`.
fn read_file(path: &str, limit: usize) -> Result<Vec<u8>, Failure> {
    let fd = open(path, O_RDONLY).map_err(|e| failed(&format!("open {path}"), e))?;
    let mut bytes = vec![0u8; limit];
    let read = read_full(fd, &mut bytes);
    close(fd).map_err(|e| failed(&format!("close {path}"), e))?;
    let count = read.map_err(|e| failed(&format!("read {path}"), e))?;
    bytes.truncate(count);
    Ok(bytes)
}

fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn main(args: Args) -> i32 {
    let mut words: Vec<&str> = args.iter().skip(1).collect();
    let verbose = words.first() == Some(&"-v");
    if verbose {
        words.remove(0);
    }
    let (Some(seed), Some(faults)) = (
        words.first().and_then(|w| number(w)),
        words.get(1).and_then(|w| number(w)),
    ) else {
        eprintln!("usage: faultwork [-v] SEED FAULTS");
        return 2;
    };
    println!(
        "faultwork: seed {seed:#x}, {faults} faults (replay: faultwork -v {seed:#x} {faults})"
    );
    match campaign(seed, faults, verbose) {
        Ok(()) => 0,
        Err(failure) => {
            println!("faultwork: FAILED: {failure}");
            1
        }
    }
}

/// The campaign; an error names the fault it happened under.
fn campaign(seed: u64, faults: u64, verbose: bool) -> Result<(), Failure> {
    let mut work = Work::new(seed)?;
    let mut restarts = ulib::restarts().map_err(|e| failed("inject (is injection on?)", e))?;
    let mut by_component = [0u64; 3];
    for number in 1..=faults {
        let injection = pick_fault(seed, number);
        let under =
            |failure: Failure| format!("fault {number} ({}): {failure}", describe(&injection));
        ulib::inject(injection).map_err(|e| under(failed("inject", e)))?;
        let mut rounds = 0;
        loop {
            work.round().map_err(under)?;
            rounds += 1;
            let now = ulib::restarts().map_err(|e| under(failed("restarts", e)))?;
            if now > restarts {
                restarts = now;
                break;
            }
            if rounds == MAX_ROUNDS {
                return Err(under(format!("did not fire in {MAX_ROUNDS} rounds")));
            }
        }
        work.check_all().map_err(under)?;
        by_component[match injection.component {
            Component::Disk => 0,
            Component::Fs => 1,
            _ => 2,
        }] += 1;
        if verbose || number % 50 == 0 || number == faults {
            println!(
                "faultwork: fault {number} ({}): restarted after {rounds} rounds, data intact",
                describe(&injection)
            );
        }
        ulib::sleep(SETTLE_TICKS).map_err(|e| failed("sleep", e))?;
    }
    ulib::sync().map_err(|e| failed("sync", e))?;
    work.check_all()?;
    println!(
        "faultwork: {faults} faults (disk {}, fs {}, console {}), {faults} survived with the data intact",
        by_component[0], by_component[1], by_component[2]
    );
    Ok(())
}

ulib::entry!(main);
