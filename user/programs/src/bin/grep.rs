//! `grep pattern [file...]`: prints the lines that match `pattern`.
//!
//! Patterns are xv6's small regular expressions (`^ $ . *` and literal
//! characters; see `ulib::regex`). With more than one file, each printed
//! line is prefixed with `file:`. Exit status: 0 if some line matched, 1 if
//! none did, 2 if an error occurred.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use ulib::io::LineReader;
use ulib::regex::matches;
use ulib::{Args, Errno, Fd, O_RDONLY, close, eprintln, open, write_all};

/// Prints the matching lines of `fd`; returns whether any matched.
fn grep(pattern: &[u8], fd: Fd, prefix: Option<&str>) -> Result<bool, Errno> {
    let mut reader = LineReader::new(fd);
    let mut line = Vec::new();
    let mut output = Vec::new();
    let mut matched = false;
    while reader.next_line(&mut line)? {
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if matches(pattern, text) {
            matched = true;
            output.clear();
            if let Some(name) = prefix {
                output.extend_from_slice(name.as_bytes());
                output.push(b':');
            }
            output.extend_from_slice(text);
            output.push(b'\n');
            write_all(Fd::STDOUT, &output)?;
        }
    }
    Ok(matched)
}

fn main(args: Args) -> i32 {
    let Some(pattern) = args.get(1) else {
        eprintln!("usage: grep pattern [file...]");
        return 2;
    };
    let pattern = pattern.as_bytes();
    if args.len() == 2 {
        return match grep(pattern, Fd::STDIN, None) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(Errno::EPIPE) => 2, // the reader of our output has gone
            Err(e) => {
                eprintln!("grep: {}", e.message());
                2
            }
        };
    }
    let several = args.len() > 3;
    let mut any_match = false;
    let mut error = false;
    for path in args.iter().skip(2) {
        let result = open(path, O_RDONLY).and_then(|fd| {
            let found = grep(pattern, fd, several.then_some(path));
            let _ = close(fd);
            found
        });
        match result {
            Ok(found) => any_match |= found,
            Err(Errno::EPIPE) => return 2, // the reader of our output has gone
            Err(e) => {
                eprintln!("grep: {}: {}", path, e.message());
                error = true;
            }
        }
    }
    if error {
        2
    } else if any_match {
        0
    } else {
        1
    }
}

ulib::entry!(main);
