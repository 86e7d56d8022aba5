//! `fswork [rounds]`: a write-heavy file-system workload, for power-cut
//! tests (the grader kills QEMU while it runs, boots again, and checks the
//! disk with `e2fsck`).
//!
//! Each run works in a directory of its own, `/fswork.d/rK` (the first K
//! not yet used: an earlier run may have been cut anywhere). Round `n`
//! creates directory `dn` there, writes files of
//! 100 bytes, 3 KiB and 40 KiB (the last one past the direct blocks, so an
//! indirect block is allocated), appends to a log file, links, renames and
//! removes some of them, and removes round `n - 2`'s directory. It prints
//! `fswork: round n` after each round, and `sync`s after every fourth
//! (`fswork: synced n`). Default: 1000 rounds (the test kills it first).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec;
use ulib::{Args, Errno, O_APPEND, O_CREATE, O_RDWR, O_TRUNC, close, open, write_all};

/// Writes `len` bytes derived from `seed` to a new file `path`.
fn write_file(path: &str, len: usize, seed: u8) -> Result<(), Errno> {
    let fd = open(path, O_CREATE | O_RDWR | O_TRUNC)?;
    let mut block = vec![0u8; 1024];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(block.len());
        for (i, byte) in block[..n].iter_mut().enumerate() {
            *byte = seed.wrapping_add((done + i) as u8);
        }
        write_all(fd, &block[..n])?;
        done += n;
    }
    close(fd)
}

/// One round of the workload, in directory `top`.
fn round(top: &str, n: u32) -> Result<(), Errno> {
    let dir = format!("{top}/d{n}");
    ulib::mkdir(&dir)?;
    write_file(&format!("{dir}/small"), 100, n as u8)?;
    write_file(&format!("{dir}/medium"), 3 * 1024, n as u8)?;
    write_file(&format!("{dir}/large"), 40 * 1024, n as u8)?;
    let log = open(&format!("{top}/log"), O_CREATE | O_RDWR | O_APPEND)?;
    write_all(log, format!("round {n}\n").as_bytes())?;
    close(log)?;
    ulib::link(&format!("{dir}/small"), &format!("{dir}/small-link"))?;
    ulib::rename(&format!("{dir}/medium"), &format!("{top}/medium-{n}"))?;
    ulib::unlink(&format!("{dir}/small"))?;
    if n >= 2 {
        let old = format!("{top}/d{}", n - 2);
        for name in ["small-link", "large"] {
            ulib::unlink(&format!("{old}/{name}"))?;
        }
        ulib::unlink(&old)?;
        ulib::unlink(&format!("{top}/medium-{}", n - 2))?;
    }
    Ok(())
}

fn main(args: Args) -> i32 {
    let rounds: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let _ = ulib::mkdir("/fswork.d");
    let mut run = 0;
    let top = loop {
        let top = format!("/fswork.d/r{run}");
        match ulib::mkdir(&top) {
            Ok(()) => break top,
            Err(Errno::EEXIST) => run += 1,
            Err(e) => {
                ulib::eprintln!("fswork: {top}: {}", e.message());
                return 1;
            }
        }
    };
    for n in 0..rounds {
        if let Err(e) = round(&top, n) {
            ulib::eprintln!("fswork: round {n}: {}", e.message());
            return 1;
        }
        ulib::println!("fswork: round {n}");
        if n % 4 == 3 {
            if let Err(e) = ulib::sync() {
                ulib::eprintln!("fswork: sync: {}", e.message());
                return 1;
            }
            ulib::println!("fswork: synced {n}");
        }
    }
    0
}

ulib::entry!(main);
