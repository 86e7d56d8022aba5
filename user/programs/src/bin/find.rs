// LAB util BEGIN
//! `find DIR NAME`: prints the path of every file or directory under DIR
//! (DIR included) whose name is NAME, one a line (lab `util`, as xv6's).
//! It descends into every directory but `.` and `..`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use ulib::{Args, FileType, eprintln, println, read_dir, stat};

/// Looks for `name` below the directory `dir`; returns false if something
/// could not be read.
fn find(dir: &str, name: &str) -> bool {
    let entries = match read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("find: {}: {}", dir, e.message());
            return false;
        }
    };
    let mut ok = true;
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                eprintln!("find: {}: {}", dir, e.message());
                return false;
            }
        };
        if entry.name == "." || entry.name == ".." {
            continue;
        }
        let path: String = if dir.ends_with('/') {
            format!("{dir}{}", entry.name)
        } else {
            format!("{dir}/{}", entry.name)
        };
        if entry.name == name {
            println!("{}", path);
        }
        if stat(&path).is_ok_and(|info| info.kind == FileType::Dir as u32) {
            ok &= find(&path, name);
        }
    }
    ok
}

fn main(args: Args) -> i32 {
    let (Some(dir), Some(name), None) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: find DIR NAME");
        return 2;
    };
    if find(dir, name) { 0 } else { 1 }
}

ulib::entry!(main);
// LAB util STUB
//~ //! `find DIR NAME`: prints the path of every file under DIR whose name is
//~ //! NAME (lab `util`: `labs/util/handout.md`).
//~ #![no_std]
//~ #![no_main]
//~
//~ use ulib::{Args, eprintln};
//~
//~ fn main(_args: Args) -> i32 {
//~     eprintln!("find: not written yet (lab util)");
//~     1
//~ }
//~
//~ ulib::entry!(main);
// LAB util END
