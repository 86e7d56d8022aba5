//! The names of the x86 CPU exceptions.
//!
//! Both kernels print them in fault reports (`arch::report`) and in the
//! one-line `usertrap:` message when a user program faults; in the
//! microkernel that line is printed by user-level servers (proc, root),
//! which cannot link the kernels' boot code, so the table lives here.

/// The mnemonic and name of CPU exception `vector` (0..=31).
pub fn exception_name(vector: u64) -> (&'static str, &'static str) {
    match vector {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        2 => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        8 => ("#DF", "double fault"),
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection fault"),
        14 => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point error"),
        17 => ("#AC", "alignment check"),
        18 => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point error"),
        20 => ("#VE", "virtualization exception"),
        21 => ("#CP", "control protection"),
        _ => ("#??", "reserved exception"),
    }
}

#[cfg(test)]
mod tests {
    use super::exception_name;

    #[test]
    fn vectors_have_their_names() {
        assert_eq!(exception_name(14), ("#PF", "page fault"));
        assert_eq!(exception_name(13).0, "#GP");
        assert_eq!(exception_name(9).0, "#??"); // reserved since the 486
        assert_eq!(exception_name(255).0, "#??");
    }
}
