//! `wc [file...]`: counts lines, words and bytes of each file (or of
//! standard input), printing `lines words bytes name` as xv6's wc does, and
//! a total line when given more than one file.
#![no_std]
#![no_main]

use ulib::{Args, Errno, Fd, O_RDONLY, close, eprintln, open, println, read};

/// The counts for one input.
#[derive(Default, Clone, Copy)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
}

/// Counts everything `fd` yields. A word is a maximal run of non-blank bytes.
fn count(fd: Fd) -> Result<Counts, Errno> {
    let mut counts = Counts::default();
    let mut in_word = false;
    let mut buf = [0u8; 512];
    loop {
        let n = read(fd, &mut buf)?;
        if n == 0 {
            return Ok(counts);
        }
        for &byte in &buf[..n] {
            counts.bytes += 1;
            if byte == b'\n' {
                counts.lines += 1;
            }
            if matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c) {
                in_word = false;
            } else if !in_word {
                counts.words += 1;
                in_word = true;
            }
        }
    }
}

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        return match count(Fd::STDIN) {
            Ok(c) => {
                println!("{} {} {}", c.lines, c.words, c.bytes);
                0
            }
            Err(e) => {
                eprintln!("wc: {}", e.message());
                1
            }
        };
    }
    let mut status = 0;
    let mut total = Counts::default();
    for path in args.iter().skip(1) {
        let result = open(path, O_RDONLY).and_then(|fd| {
            let counted = count(fd);
            let _ = close(fd);
            counted
        });
        match result {
            Ok(c) => {
                println!("{} {} {} {}", c.lines, c.words, c.bytes, path);
                total.lines += c.lines;
                total.words += c.words;
                total.bytes += c.bytes;
            }
            Err(e) => {
                eprintln!("wc: {}: {}", path, e.message());
                status = 1;
            }
        }
    }
    if args.len() > 2 {
        println!("{} {} {} total", total.lines, total.words, total.bytes);
    }
    status
}

ulib::entry!(main);
