//! `ls [path...]`: lists directories (default: the current one).
//!
//! One line per entry, as xv6's ls prints them:
//!
//! ```text
//! name           type inode size
//! ```
//!
//! where `type` is the `FileType` number (1 directory, 2 file, 3 device,
//! 5 symbolic link). A path that is not a directory is listed as one line.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use ulib::{Args, FileType, Stat, eprintln, println, read_dir, stat};

/// Prints one line for a name.
fn print_entry(name: &str, kind: u32, ino: u32, size: u64) {
    println!("{:<14} {} {} {}", name, kind, ino, size);
}

/// Lists `path`; returns false if something could not be listed.
fn list(path: &str) -> bool {
    let info: Stat = match stat(path) {
        Ok(st) => st,
        Err(e) => {
            eprintln!("ls: {}: {}", path, e.message());
            return false;
        }
    };
    if info.kind != FileType::Dir as u32 {
        print_entry(path, info.kind, info.ino, info.size);
        return true;
    }
    let entries = match read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("ls: {}: {}", path, e.message());
            return false;
        }
    };
    let mut ok = true;
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                eprintln!("ls: {}: {}", path, e.message());
                ok = false;
                break;
            }
        };
        let full: String = if path.ends_with('/') {
            format!("{path}{}", entry.name)
        } else {
            format!("{path}/{}", entry.name)
        };
        match stat(&full) {
            Ok(st) => print_entry(&entry.name, st.kind, st.ino, st.size),
            // Entries that cannot be opened (a symbolic link to nowhere, say)
            // are still listed, with what the directory itself records.
            Err(_) => {
                let kind = entry.kind.map_or(0, |k| k as u32);
                print_entry(&entry.name, kind, entry.ino, 0);
            }
        }
    }
    ok
}

fn main(args: Args) -> i32 {
    let mut ok = true;
    if args.len() < 2 {
        ok = list(".");
    }
    for path in args.iter().skip(1) {
        ok &= list(path);
    }
    if ok { 0 } else { 1 }
}

ulib::entry!(main);
