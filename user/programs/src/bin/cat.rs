//! `cat [file...]`: copies each file (or standard input) to standard output.
//!
//! If standard output is a pipe whose reader has gone (`EPIPE`), cat stops
//! quietly: nobody wants the rest, which is not an error worth a message.
#![no_std]
#![no_main]

use ulib::{Args, Errno, Fd, O_RDONLY, close, eprintln, open, read, write_all};

/// Copies everything from `fd` to standard output.
fn copy_to_stdout(fd: Fd) -> Result<(), Errno> {
    let mut buf = [0u8; 512];
    loop {
        let n = read(fd, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        write_all(Fd::STDOUT, &buf[..n])?;
    }
}

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        return match copy_to_stdout(Fd::STDIN) {
            Ok(()) => 0,
            Err(Errno::EPIPE) => 1,
            Err(e) => {
                eprintln!("cat: {}", e.message());
                1
            }
        };
    }
    let mut status = 0;
    for path in args.iter().skip(1) {
        let fd = match open(path, O_RDONLY) {
            Ok(fd) => fd,
            Err(e) => {
                eprintln!("cat: {}: {}", path, e.message());
                status = 1;
                continue;
            }
        };
        let copied = copy_to_stdout(fd);
        let _ = close(fd);
        match copied {
            Ok(()) => {}
            Err(Errno::EPIPE) => return 1,
            Err(e) => {
                eprintln!("cat: {}: {}", path, e.message());
                status = 1;
            }
        }
    }
    status
}

ulib::entry!(main);
