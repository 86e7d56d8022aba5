//! The boot suite: does each kernel come up, and does it report its own
//! death usefully?
//!
//! - `boot`: after the banner, the kernel reports its free memory (a
//!   plausible amount for the machine) and that timer and keyboard
//!   interrupts are live.
//! - `fault-report`: booted with the command line `fault-test`, the kernel
//!   makes a deliberate page fault in kernel mode; it must print a report
//!   with the faulting address, the instruction pointer and a backtrace,
//!   then tell QEMU it failed (exit status 35).
//!
//! The text both tests wait for is defined in [`crate::patterns`].

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::patterns::{
    BACKTRACE_FRAME_REGEX, BACKTRACE_HEADING, BOOT_TIMEOUT, FAULT_CR2_REGEX, FAULT_RIP_REGEX,
    FAULT_TEST_CMDLINE, FREE_MEMORY_REGEX, GUEST_EXIT_FAILURE, INTERRUPTS_LIVE, PAGE_FAULT_REPORT,
};
use crate::qemu::ExitStatus;
use crate::session::Session;
use crate::test::Test;

/// Less free memory than this (in KiB) on a 256 MiB machine means the
/// kernel lost track of most of RAM.
const MIN_FREE_MEMORY_KIB: u64 = 16 * 1024;

/// The boot suite's tests.
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("boot", 5, boots_with_memory_and_interrupts),
        Test::new("fault-report", 5, reports_a_kernel_page_fault)
            .kernel_cmdline(FAULT_TEST_CMDLINE)
            .expects_crash(),
    ]
}

/// Free memory is reported, plausible, and interrupts are live.
fn boots_with_memory_and_interrupts(session: &mut Session) -> Result<(), Failure> {
    let memory = session.expect(Pattern::regex(FREE_MEMORY_REGEX), BOOT_TIMEOUT)?;
    let free_kib: u64 = memory
        .group(1)
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(|| {
            Failure::check(format!("free memory is not a number: {:?}", memory.text()))
        })?;
    let machine_kib = memory_size_kib(&session.machine().memory).unwrap_or(256 * 1024);
    Failure::ensure(
        (MIN_FREE_MEMORY_KIB..=machine_kib).contains(&free_kib),
        || {
            format!(
                "the kernel reports {free_kib} KiB free, but the machine has {machine_kib} KiB \
             (expected between {MIN_FREE_MEMORY_KIB} and {machine_kib})"
            )
        },
    )?;
    session.expect(INTERRUPTS_LIVE, BOOT_TIMEOUT)?;
    Ok(())
}

/// The deliberate page fault produces a full report and a failure exit.
fn reports_a_kernel_page_fault(session: &mut Session) -> Result<(), Failure> {
    session.expect(PAGE_FAULT_REPORT, BOOT_TIMEOUT)?;
    session.expect(Pattern::regex(FAULT_CR2_REGEX), BOOT_TIMEOUT)?;
    session.expect(Pattern::regex(FAULT_RIP_REGEX), BOOT_TIMEOUT)?;
    session.expect(BACKTRACE_HEADING, BOOT_TIMEOUT)?;
    session.expect(Pattern::regex(BACKTRACE_FRAME_REGEX), BOOT_TIMEOUT)?;
    session.expect_exit(ExitStatus::GuestExit(GUEST_EXIT_FAILURE), BOOT_TIMEOUT)
}

/// Parses QEMU's `-m` size (`256M`, `1G`, `262144K`, or a plain number of
/// MiB) into KiB.
fn memory_size_kib(size: &str) -> Option<u64> {
    let size = size.trim();
    let (digits, unit_kib) = match size.char_indices().last()? {
        (at, 'K' | 'k') => (&size[..at], 1),
        (at, 'M' | 'm') => (&size[..at], 1024),
        (at, 'G' | 'g') => (&size[..at], 1024 * 1024),
        _ => (size, 1024),
    };
    digits.parse::<u64>().ok()?.checked_mul(unit_kib)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qemu::{Kernel, Machine};
    use crate::runner::{Runner, Selection};
    use crate::suites::Suite;

    #[test]
    fn memory_sizes_parse_like_qemu() {
        assert_eq!(memory_size_kib("256M"), Some(256 * 1024));
        assert_eq!(memory_size_kib("1G"), Some(1024 * 1024));
        assert_eq!(memory_size_kib("512k"), Some(512));
        assert_eq!(memory_size_kib("128"), Some(128 * 1024));
        assert_eq!(memory_size_kib("lots"), None);
        assert_eq!(memory_size_kib(""), None);
    }

    /// Runs the boot suite on fake kernels that run `script` (with
    /// `KERNEL` replaced by `mono` or `micro`) whatever the command line.
    /// Returns (case name, passed, failure message) in case order:
    /// boot/mono, boot/micro, fault-report/mono, fault-report/micro.
    fn run_on_fake(script: &str) -> Vec<(String, bool, String)> {
        let machines = Kernel::ALL
            .iter()
            .map(|&kernel| Machine::fake(kernel, &script.replace("KERNEL", kernel.name())))
            .collect();
        let runner = Runner {
            machines,
            jobs: 2,
            log_dir: std::env::temp_dir().join(format!("grading-boot-{}", std::process::id())),
            workdir: std::env::temp_dir(),
        };
        let cases = Selection::default().cases(&[Suite {
            name: "boot",
            tests: tests(),
            on_request: false,
        }]);
        let outcomes = runner.run(&cases, &|_| {});
        let _ = std::fs::remove_dir_all(&runner.log_dir);
        outcomes
            .into_iter()
            .map(|outcome| {
                let message = outcome
                    .result
                    .as_ref()
                    .err()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                (outcome.name.clone(), outcome.passed(), message)
            })
            .collect()
    }

    #[test]
    fn boot_test_passes_on_a_well_behaved_kernel_and_fails_on_a_wrong_memory_size() {
        // Both tests boot the same fake; the boot test only reads up to the
        // interrupts line, the fault test fails (no fault report).
        let good = "printf 'Diptych KERNEL-kernel 0.1\\nfree memory: 250000 KiB\\ninterrupts: timer ok, keyboard ok\\n'; exit 33";
        let results = run_on_fake(good);
        assert_eq!(results[0].0, "boot/mono");
        assert!(results[0].1 && results[1].1, "{results:?}");
        assert!(!results[2].1 && !results[3].1, "{results:?}");

        let too_much = good.replace("250000", "999999");
        let results = run_on_fake(&too_much);
        assert!(!results[0].1, "{results:?}");
        assert!(results[0].2.contains("999999 KiB free"), "{results:?}");
    }

    #[test]
    fn fault_report_test_needs_every_part_and_the_failure_exit() {
        let report = "printf 'Diptych KERNEL-kernel\\nCPU EXCEPTION: #PF page fault (vector 14) in kernel mode\\n  CR2=0x0000000000000008\\n  RIP=0xffffffff80100000\\nbacktrace (innermost first):\\n  #0 0xffffffff80100000\\n'";
        let results = run_on_fake(&format!("{report}; exit 35"));
        assert!(results[2].1 && results[3].1, "{results:?}");
        // The boot test must fail on a crash, at once.
        assert!(
            results[0].2.starts_with("the kernel crashed"),
            "{results:?}"
        );

        let results = run_on_fake(&format!("{report}; exit 33"));
        assert!(!results[2].1, "{results:?}");
        assert!(
            results[2].2.contains("expected guest exit 0x11"),
            "{results:?}"
        );

        let no_backtrace = report.replace("  #0 0xffffffff80100000\\n", "");
        let results = run_on_fake(&format!("{no_backtrace}; exit 35"));
        assert!(!results[2].1, "{results:?}");
    }
}
