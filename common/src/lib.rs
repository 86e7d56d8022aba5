//! # common — the code Diptych compiles two ways
//!
//! Everything in this crate is linked straight into the monolithic kernel
//! *and* runs inside the microkernel's user-level servers. So it follows one
//! rule (see `docs/architecture.md`): **it never blocks and never names a
//! scheduler, a process or an IPC call.** Operations return what happened —
//! including "would block" — and the environment decides how to wait.
//!
//! | module      | what it is                                              |
//! |-------------|---------------------------------------------------------|
//! | [`abi`]     | system-call numbers, error codes, shared ABI types      |
//! | [`port`]    | x86 I/O-port access as a trait (real or fake)           |
//! | [`drivers`] | UART 16550, VGA text, PS/2 keyboard, PIC, PIT, ATA PIO, RTC |
//! | [`mm`]      | physical frames, page tables, address arithmetic        |
//! | [`block`]   | the `BlockDevice` trait                                 |
//! | [`bcache`]  | the buffer cache over a `BlockDevice`                   |
//! | [`fs`]      | the ext2 file system                                    |
//! | [`file`]    | the rules of the file calls (`open`, `unlink`, ...) and descriptor tables |
//! | [`pipe`]    | the pipe state machine                                  |
//! | [`elf`]     | a strict reader for static ELF64 executables            |
//! | [`trace`]   | trace points: one event schema for both kernels and the servers |
//! | [`time`]    | dates and times of day, and seconds since the epoch     |
//! | [`inject`]  | the shared code's fault checkpoints (faults injected on purpose) |
//! | `arch`      | boot, GDT, IDT, trap entry (bare metal only)            |
//!
//! On the host (`cargo test`, or the `std` feature for host tools) the crate
//! links `std`, so every core has deterministic unit tests next to its code.
#![cfg_attr(not(any(test, feature = "std")), no_std)]

extern crate alloc;

pub mod abi;
pub mod bcache;
pub mod block;
pub mod drivers;
pub mod elf;
pub mod file;
pub mod fs;
pub mod inject;
pub mod mm;
pub mod pipe;
pub mod port;
pub mod time;
pub mod trace;

#[cfg(all(target_os = "none", feature = "arch"))]
pub mod arch;
