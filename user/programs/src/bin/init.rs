//! `init`: the first user process.
//!
//! The kernel starts `/bin/init` (pid 1) with no open files. init
//!
//! 1. opens `/dev/console` as file descriptor 0 and duplicates it as 1 and 2,
//!    creating the device file (major 1, minor 0) if the disk has none;
//! 2. starts the shell, `/bin/sh`;
//! 3. waits. Every process whose parent exits is handed to init, so init's
//!    `wait` also collects those orphans (otherwise they would stay zombies
//!    forever). When the shell itself exits, init starts a new one.
#![no_std]
#![no_main]

use ulib::{
    Args, CONSOLE_MAJOR, CONSOLE_MINOR, Errno, Fd, ForkResult, O_RDWR, dup, eprintln, exec, exit,
    fork, mkdir, mknod, open, println, sleep, wait,
};

/// The console device (character device `CONSOLE_MAJOR`, `CONSOLE_MINOR`:
/// see docs/user-abi.md).
const CONSOLE_PATH: &str = "/dev/console";
/// The shell init runs.
const SHELL_PATH: &str = "/bin/sh";

/// Opens the console as fds 0, 1 and 2, creating `/dev/console` if needed.
fn open_console() -> Result<(), Errno> {
    let console = match open(CONSOLE_PATH, O_RDWR) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => {
            match mkdir("/dev") {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e),
            }
            mknod(CONSOLE_PATH, CONSOLE_MAJOR, CONSOLE_MINOR)?;
            open(CONSOLE_PATH, O_RDWR)?
        }
        Err(e) => return Err(e),
    };
    // init starts with no open files, so the console must be fd 0, and
    // dup hands out the lowest free descriptors: 1, then 2.
    if console != Fd::STDIN {
        return Err(Errno::EBADF);
    }
    dup(console)?;
    dup(console)?;
    Ok(())
}

/// Starts one shell; returns its pid.
fn start_shell() -> Result<u32, Errno> {
    match fork()? {
        ForkResult::Child => {
            let error = exec(SHELL_PATH, &["sh"]);
            eprintln!("init: exec {}: {}", SHELL_PATH, error.message());
            exit(127);
        }
        ForkResult::Parent(pid) => Ok(pid),
    }
}

fn main(_args: Args) -> i32 {
    if let Err(e) = open_console() {
        // Nowhere to print: without a console, there is nothing init can do.
        exit(200 + e as i32);
    }
    println!("init: starting {}", SHELL_PATH);
    loop {
        let shell = match start_shell() {
            Ok(pid) => pid,
            Err(e) => {
                eprintln!("init: fork: {}; retrying", e.message());
                let _ = sleep(100);
                continue;
            }
        };
        // Collect children until the shell itself is among them; the
        // others are orphans that were handed to init.
        loop {
            match wait() {
                Ok((pid, status)) if pid == shell => {
                    println!("init: sh exited with status {}; restarting it", status);
                    if status == 127 {
                        // The shell could not even be started: do not spin.
                        let _ = sleep(100);
                    }
                    break;
                }
                Ok(_orphan) => {}
                Err(e) => {
                    eprintln!("init: wait: {}", e.message());
                    break;
                }
            }
        }
    }
}

ulib::entry!(main);
