// LAB util BEGIN
//! `primes`: the primes up to 35, found by a pipeline of processes (lab
//! `util`; Doug McIlroy's sieve, as in xv6's). The first process feeds
//! 2..=35 into a pipe; each process prints the first number it reads, a
//! prime, and passes on to the next process only the numbers that prime
//! does not divide. Every process waits for the one it started, so the
//! first exits last, after every prime is printed.
#![no_std]
#![no_main]

use ulib::{Args, Fd, ForkResult, close, eprintln, exit, fork, pipe, println, read, wait, write};

/// Reads one number (4 bytes) from `fd`; `None` at end of file.
fn read_number(fd: Fd) -> Option<u32> {
    let mut bytes = [0u8; 4];
    let mut got = 0;
    while got < bytes.len() {
        match read(fd, &mut bytes[got..]) {
            Ok(0) | Err(_) => return None,
            Ok(n) => got += n,
        }
    }
    Some(u32::from_le_bytes(bytes))
}

/// One stage of the sieve: reads numbers from `input` until its end.
fn stage(input: Fd) -> ! {
    let Some(prime) = read_number(input) else {
        exit(0);
    };
    println!("prime {}", prime);
    let Ok((next_read, next_write)) = pipe() else {
        eprintln!("primes: pipe failed");
        exit(1);
    };
    match fork() {
        Ok(ForkResult::Child) => {
            let _ = close(input);
            let _ = close(next_write);
            stage(next_read)
        }
        Ok(ForkResult::Parent(_)) => {
            let _ = close(next_read);
            while let Some(number) = read_number(input) {
                if number % prime != 0 && write(next_write, &number.to_le_bytes()) != Ok(4) {
                    exit(1);
                }
            }
            let _ = close(input);
            let _ = close(next_write);
            let _ = wait();
            exit(0)
        }
        Err(e) => {
            eprintln!("primes: fork: {}", e.message());
            exit(1)
        }
    }
}

fn main(_args: Args) -> i32 {
    let Ok((first_read, first_write)) = pipe() else {
        eprintln!("primes: pipe failed");
        return 1;
    };
    match fork() {
        Ok(ForkResult::Child) => {
            let _ = close(first_write);
            stage(first_read)
        }
        Ok(ForkResult::Parent(_)) => {
            let _ = close(first_read);
            for number in 2u32..=35 {
                if write(first_write, &number.to_le_bytes()) != Ok(4) {
                    return 1;
                }
            }
            let _ = close(first_write);
            let _ = wait();
            0
        }
        Err(e) => {
            eprintln!("primes: fork: {}", e.message());
            1
        }
    }
}

ulib::entry!(main);
// LAB util STUB
//~ //! `primes`: the primes up to 35, found by a pipeline of processes (lab
//~ //! `util`: `labs/util/handout.md`).
//~ #![no_std]
//~ #![no_main]
//~
//~ use ulib::{Args, eprintln};
//~
//~ fn main(_args: Args) -> i32 {
//~     eprintln!("primes: not written yet (lab util)");
//~     1
//~ }
//~
//~ ulib::entry!(main);
// LAB util END
