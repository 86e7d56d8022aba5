// LAB util BEGIN
//! `pingpong`: two processes pass one byte back and forth over two pipes
//! (lab `util`, as in xv6's). The parent sends a byte to the child, which
//! prints `PID: received ping` and sends it back; then the parent prints
//! `PID: received pong`.
#![no_std]
#![no_main]

use ulib::{
    Args, ForkResult, close, eprintln, exit, fork, getpid, pipe, println, read, wait, write,
};

fn main(_args: Args) -> i32 {
    let (Ok((to_child_read, to_child_write)), Ok((to_parent_read, to_parent_write))) =
        (pipe(), pipe())
    else {
        eprintln!("pingpong: pipe failed");
        return 1;
    };
    let mut byte = [0u8; 1];
    match fork() {
        Ok(ForkResult::Child) => {
            let _ = close(to_child_write);
            let _ = close(to_parent_read);
            if read(to_child_read, &mut byte) != Ok(1) {
                eprintln!("pingpong: child: no ping");
                exit(1);
            }
            println!("{}: received ping", getpid().unwrap_or(0));
            if write(to_parent_write, &byte) != Ok(1) {
                exit(1);
            }
            exit(0)
        }
        Ok(ForkResult::Parent(_)) => {
            let _ = close(to_child_read);
            let _ = close(to_parent_write);
            if write(to_child_write, b"p") != Ok(1) || read(to_parent_read, &mut byte) != Ok(1) {
                eprintln!("pingpong: parent: no pong");
                return 1;
            }
            println!("{}: received pong", getpid().unwrap_or(0));
            let _ = wait();
            0
        }
        Err(e) => {
            eprintln!("pingpong: fork: {}", e.message());
            1
        }
    }
}

ulib::entry!(main);
// LAB util STUB
//~ //! `pingpong`: two processes pass one byte back and forth over two pipes
//~ //! (lab `util`: `labs/util/handout.md` says what it must print).
//~ #![no_std]
//~ #![no_main]
//~
//~ use ulib::{Args, eprintln};
//~
//~ fn main(_args: Args) -> i32 {
//~     eprintln!("pingpong: not written yet (lab util)");
//~     1
//~ }
//~
//~ ulib::entry!(main);
// LAB util END
