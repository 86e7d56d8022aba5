//! Program start and end: `_start`, the arguments, `entry!`, the panic handler.
//!
//! The kernel starts a program at `_start` with the stack pointer 16-byte
//! aligned and pointing at `argc`, followed by `argv[0..argc]` and a null
//! pointer; the strings themselves lie higher on the stack (the full
//! contract is in `docs/user-abi.md`). `_start` hands `argc` and `argv` to
//! [`start_program`], which calls the program's `main` (registered with
//! [`entry!`](crate::entry)) and passes its return value to `exit`.
//!
//! A panic prints `<program>: panicked at <file>:<line>: <message>` on
//! standard error and exits with status 101. A failed heap allocation
//! panics too (Rust's default for `no_std`), so it is reported the same way.

use core::ffi::CStr;

/// The command-line arguments of the program: `argv[0]` is its name.
///
/// The strings live on the initial stack, above everything the program
/// pushes, for the whole life of the process: hence `&'static str`.
#[derive(Clone, Copy)]
pub struct Args {
    /// Number of arguments.
    argc: usize,
    /// Invariant: points at `argc` valid pointers to NUL-terminated strings
    /// (or `argc == 0`).
    argv: *const *const u8,
}

/// What an argument that is not valid UTF-8 reads as.
const NOT_UTF8: &str = "\u{FFFD}";

impl Args {
    /// Wraps the `argc`/`argv` the kernel passed.
    ///
    /// # Safety
    /// `argv` must point at `argc` pointers to NUL-terminated strings that
    /// live (unchanged) for the rest of the program.
    pub unsafe fn from_raw(argc: usize, argv: *const *const u8) -> Args {
        Args { argc, argv }
    }

    /// Number of arguments, including the program name.
    pub fn len(&self) -> usize {
        self.argc
    }

    /// True if there are no arguments at all (not even a program name).
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Argument `index` as bytes, or `None` if there are not that many.
    pub fn get_bytes(&self, index: usize) -> Option<&'static [u8]> {
        if index >= self.argc {
            return None;
        }
        // SAFETY: index < argc, and by the invariant argv[index] is a valid
        // pointer to a NUL-terminated string that lives forever.
        let bytes = unsafe { CStr::from_ptr(*self.argv.add(index) as *const core::ffi::c_char) };
        Some(bytes.to_bytes())
    }

    /// Argument `index` as a string (U+FFFD if it is not UTF-8), or `None`.
    pub fn get(&self, index: usize) -> Option<&'static str> {
        self.get_bytes(index)
            .map(|b| core::str::from_utf8(b).unwrap_or(NOT_UTF8))
    }

    /// All arguments, starting with the program name.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + use<> {
        let args = *self;
        (0..args.argc).filter_map(move |i| args.get(i))
    }

    /// The program name (`argv[0]`), or `"?"` if there is none.
    pub fn program_name(&self) -> &'static str {
        self.get(0).unwrap_or("?")
    }
}

/// Registers `main` as the program's entry point: `ulib::entry!(main);`
/// where `fn main(args: ulib::Args) -> i32`. The return value becomes the
/// exit status.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The program's main function, called by ulib's `_start`.
        #[unsafe(no_mangle)]
        pub fn __ulib_main(args: $crate::Args) -> i32 {
            $main(args)
        }
    };
}

#[cfg(all(target_os = "none", not(test)))]
mod bare_metal {
    use super::Args;
    use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

    unsafe extern "Rust" {
        /// Defined in the program by [`entry!`](crate::entry).
        safe fn __ulib_main(args: Args) -> i32;
    }

    /// The program's arguments, kept for the panic handler's message.
    static ARGC: AtomicUsize = AtomicUsize::new(0);
    static ARGV: AtomicPtr<*const u8> = AtomicPtr::new(core::ptr::null_mut());

    /// The first instruction of every program.
    ///
    /// At entry `rsp` points at `argc` and is 16-byte aligned. We clear
    /// `rbp` (the end of the frame-pointer chain for debuggers), load
    /// `argc` and `argv` into the first two argument registers and call
    /// `start_program`; the `call` pushes a return address, so the callee
    /// sees the stack alignment the System V ABI promises.
    #[unsafe(naked)]
    #[unsafe(no_mangle)]
    #[unsafe(link_section = ".text._start")]
    pub extern "C" fn _start() -> ! {
        core::arch::naked_asm!(
            "xor ebp, ebp",
            "mov rdi, [rsp]",
            "lea rsi, [rsp + 8]",
            "and rsp, -16",
            "call {start}",
            "ud2",
            start = sym start_program,
        )
    }

    /// Runs the program's `main` and exits with its return value.
    extern "C" fn start_program(argc: usize, argv: *const *const u8) -> ! {
        ARGC.store(argc, Ordering::Relaxed);
        ARGV.store(argv as *mut *const u8, Ordering::Relaxed);
        crate::sys::start(argc, argv);
        // SAFETY: the kernel's process-start contract (docs/user-abi.md)
        // guarantees argv[0..argc] are NUL-terminated strings on the
        // initial stack, which is never popped.
        let args = unsafe { Args::from_raw(argc, argv) };
        let status = __ulib_main(args);
        crate::process::exit(status)
    }

    /// Prints the panic on standard error and exits with status 101.
    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        // SAFETY: ARGC/ARGV were stored from the kernel's argc/argv (or are
        // still 0/null, which Args handles as "no arguments").
        let args =
            unsafe { Args::from_raw(ARGC.load(Ordering::Relaxed), ARGV.load(Ordering::Relaxed)) };
        let name = args.program_name();
        match info.location() {
            Some(at) => crate::eprintln!(
                "{}: panicked at {}:{}: {}",
                name,
                at.file(),
                at.line(),
                info.message()
            ),
            None => crate::eprintln!("{}: panicked: {}", name, info.message()),
        }
        crate::process::exit(101)
    }
}

#[cfg(test)]
mod tests {
    use super::Args;
    use alloc::vec::Vec;

    #[test]
    fn arguments_are_read_from_argv() {
        let argv: [*const u8; 5] = [
            c"prog".as_ptr().cast(),
            c"".as_ptr().cast(),
            c"two words".as_ptr().cast(),
            c"\xff\xfe".as_ptr().cast(),
            core::ptr::null(),
        ];
        // SAFETY: four pointers to NUL-terminated 'static strings.
        let args = unsafe { Args::from_raw(4, argv.as_ptr()) };
        assert_eq!(args.len(), 4);
        assert_eq!(args.program_name(), "prog");
        assert_eq!(args.get(1), Some(""));
        assert_eq!(args.get(2), Some("two words"));
        assert_eq!(args.get_bytes(3), Some(&b"\xff\xfe"[..]));
        assert_eq!(args.get(3), Some("\u{FFFD}"));
        assert_eq!(args.get(4), None);
        let all: Vec<&str> = args.iter().collect();
        assert_eq!(all, ["prog", "", "two words", "\u{FFFD}"]);
    }

    #[test]
    fn no_arguments() {
        // SAFETY: argc is 0, so argv is never read.
        let args = unsafe { Args::from_raw(0, core::ptr::null()) };
        assert!(args.is_empty());
        assert_eq!(args.program_name(), "?");
        assert_eq!(args.iter().count(), 0);
    }
}
