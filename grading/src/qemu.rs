//! The emulated machine: which kernel and disk to boot, the QEMU command line
//! that boots them, starting QEMU, and what QEMU's exit status means.
//!
//! One [`Machine`] describes one boot. [`Machine::command_line`] turns it into
//! the exact QEMU invocation of `docs/design.md`, rule 17 (TCG, qboot, PVH
//! `-kernel`, serial on stdio, no reboot, isa-debug-exit on port 0xf4, the
//! disk on the first IDE slot). A [`crate::session::Session`] spawns that
//! command and talks to the kernel through QEMU's stdin and stdout.
//!
//! For the harness's own tests, [`Machine::command_override`] replaces QEMU
//! with any program (a small shell script that prints a fake banner, echoes
//! its input, exits with a chosen status), so the harness is tested without
//! QEMU or a kernel.

use crate::patterns::{GUEST_EXIT_FAILURE, GUEST_EXIT_SUCCESS};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Which of the two kernels a machine boots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kernel {
    /// The monolithic, xv6-style kernel.
    Mono,
    /// The L4-style microkernel and its servers.
    Micro,
}

impl Kernel {
    /// Both kernels, in the order tests run on them.
    pub const ALL: [Kernel; 2] = [Kernel::Mono, Kernel::Micro];

    /// The short name used in test names and on the command line: `mono`, `micro`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Mono => "mono",
            Kernel::Micro => "micro",
        }
    }

    /// Parses `mono` or `micro`.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|kernel| kernel.name() == name)
    }

    /// The text of this kernel's boot banner (see [`crate::patterns::BOOT_BANNER_REGEX`]).
    pub fn banner(self) -> &'static str {
        match self {
            Kernel::Mono => "Diptych mono-kernel",
            Kernel::Micro => "Diptych micro-kernel",
        }
    }

    /// Where `make` puts this kernel's ELF file, relative to the repository root.
    pub fn default_elf(self) -> &'static str {
        match self {
            Kernel::Mono => "build/mono-kernel.elf",
            Kernel::Micro => "build/micro-kernel.elf",
        }
    }

    /// The `make` target that builds this kernel's ELF file.
    pub fn elf_make_target(self) -> &'static str {
        match self {
            Kernel::Mono => "make mono",
            Kernel::Micro => "make micro",
        }
    }

    /// Where `make` puts this kernel's disk image, relative to the repository root.
    pub fn default_disk(self) -> &'static str {
        match self {
            Kernel::Mono => "build/mono.img",
            Kernel::Micro => "build/micro.img",
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How QEMU runs guest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// Binary translation: the default, deterministic with `-icount`.
    Tcg,
    /// Hardware virtualisation, for students on real hardware.
    Kvm,
}

impl Accel {
    /// Parses `tcg` or `kvm`.
    pub fn from_name(name: &str) -> Option<Accel> {
        match name {
            "tcg" => Some(Accel::Tcg),
            "kvm" => Some(Accel::Kvm),
            _ => None,
        }
    }
}

/// The QEMU program, found on `PATH` unless the `QEMU` environment variable
/// names another.
pub const DEFAULT_QEMU: &str = "qemu-system-x86_64";

/// The small firmware that boots a `-kernel` in ~50 ms under TCG.
pub const QBOOT_ROM: &str = "/usr/share/qemu/qboot.rom";

/// The `make` target that builds the disk images.
pub const IMAGES_MAKE_TARGET: &str = "make images";

/// Guest memory size.
pub const DEFAULT_MEMORY: &str = "256M";

/// Everything needed to boot one kernel once.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Which kernel this is (chooses the expected boot banner).
    pub kernel: Kernel,
    /// The kernel ELF file, loaded with `-kernel` (PVH entry).
    pub kernel_elf: PathBuf,
    /// The disk image. Each session boots a private copy of it.
    pub disk_image: Option<PathBuf>,
    /// TCG (default) or KVM.
    pub accel: Accel,
    /// Add `-icount shift=0,sleep=off`: the TSC counts guest instructions
    /// (one a nanosecond), and a guest that waits (`hlt`) jumps straight to
    /// its next timer event, so a program that waits only for timer ticks
    /// takes the same number of ticks on every run (benchmarks). Ignored
    /// under KVM, where the TSC counts real cycles.
    pub icount: bool,
    /// With [`Machine::icount`]: let a waiting guest's clock run with the
    /// host's instead (QEMU's default, `sleep=on`). For waits on the disk,
    /// which finishes in host time: with `sleep=off` every such wait would
    /// jump a whole timer tick (10 ms) of guest time, or none.
    pub icount_host_idle: bool,
    /// Guest memory, in QEMU's syntax (`256M`).
    pub memory: String,
    /// Where the real-time clock starts (`-rtc base=2026-01-02T03:04:05`,
    /// UTC): from there it runs with the host's clock. `None` starts it
    /// at the host's time, QEMU's default.
    pub rtc_base: Option<String>,
    /// The kernel command line (`-append`), e.g. `fault-test`.
    pub kernel_cmdline: Option<String>,
    /// More QEMU arguments, appended last.
    pub extra_args: Vec<String>,
    /// The QEMU program.
    pub qemu_binary: PathBuf,
    /// The firmware (`-bios`); `None` uses QEMU's default (SeaBIOS).
    pub bios: Option<PathBuf>,
    /// Every timeout of a session on this machine is multiplied by this
    /// (for slow machines; see [`scale_timeout`]). 1.0 normally.
    pub timeout_scale: f64,
    /// Copy the serial output to the harness's stdout as it arrives
    /// (`grade --verbose`).
    pub echo_serial: bool,
    /// Where sessions put their private disk copies (`build/grade-tmp`).
    pub scratch_dir: PathBuf,
    /// Run this program and arguments instead of QEMU (the harness's own
    /// tests use a fake emulator). The private disk copy's path is passed in
    /// the environment variable `GRADE_DISK`.
    pub command_override: Option<Vec<String>>,
}

impl Machine {
    /// A machine with the standard settings: TCG, 256 MiB, qboot if installed.
    pub fn new(kernel: Kernel, kernel_elf: PathBuf, disk_image: Option<PathBuf>) -> Machine {
        let qboot = Path::new(QBOOT_ROM);
        Machine {
            kernel,
            kernel_elf,
            disk_image,
            accel: Accel::Tcg,
            icount: false,
            icount_host_idle: false,
            memory: DEFAULT_MEMORY.to_string(),
            rtc_base: None,
            kernel_cmdline: None,
            extra_args: Vec::new(),
            qemu_binary: std::env::var_os("QEMU")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_QEMU)),
            bios: qboot.exists().then(|| qboot.to_path_buf()),
            timeout_scale: 1.0,
            echo_serial: false,
            scratch_dir: PathBuf::from("build/grade-tmp"),
            command_override: None,
        }
    }

    /// A machine that runs `sh -c script` instead of QEMU: for testing the
    /// harness. The script talks on stdin/stdout like a serial console.
    pub fn fake(kernel: Kernel, script: &str) -> Machine {
        let mut machine = Machine::new(kernel, PathBuf::from("/nonexistent/kernel.elf"), None);
        machine.command_override = Some(vec!["sh".into(), "-c".into(), script.into()]);
        machine
    }

    /// If a file this machine boots from is missing, says which and the
    /// `make` target that builds it.
    pub fn missing_input(&self) -> Option<String> {
        if self.command_override.is_some() {
            return None;
        }
        let kernel = self.kernel;
        let disk = self
            .disk_image
            .iter()
            .map(|disk| ("disk image", disk, IMAGES_MAKE_TARGET));
        std::iter::once(("kernel", &self.kernel_elf, kernel.elf_make_target()))
            .chain(disk)
            .find(|(_, path, _)| !path.is_file())
            .map(|(what, path, make_target)| {
                format!(
                    "the {kernel} {what} {} does not exist: build it with `{make_target}` \
                     (`make test` and `make grade` build everything first)",
                    path.display()
                )
            })
    }

    /// The program and arguments that boot this machine with `disk` (the
    /// session's private copy) as the first IDE disk. The first element is
    /// the program.
    pub fn command_line(&self, disk: Option<&Path>) -> Vec<String> {
        if let Some(command) = &self.command_override {
            return command.clone();
        }
        let mut argv: Vec<String> = vec![self.qemu_binary.display().to_string()];
        let mut push = |args: &[&str]| argv.extend(args.iter().map(|arg| arg.to_string()));
        push(&["-machine", "pc"]);
        match self.accel {
            Accel::Tcg => push(&["-accel", "tcg"]),
            // Plain `-cpu host` or `max` aborts on MSR 0x10a under the
            // nested virtualiser these machines have (`docs/design.md`, rule 18).
            Accel::Kvm => push(&["-accel", "kvm", "-cpu", "max,-arch-capabilities"]),
        }
        // -icount is a TCG feature; under KVM the TSC counts real cycles.
        if self.icount && self.accel == Accel::Tcg {
            push(&[
                "-icount",
                if self.icount_host_idle {
                    "shift=0"
                } else {
                    "shift=0,sleep=off"
                },
            ]);
        }
        push(&["-m", &self.memory]);
        if let Some(base) = &self.rtc_base {
            push(&["-rtc", &format!("base={base}")]);
        }
        if let Some(bios) = &self.bios {
            push(&["-bios", &bios.display().to_string()]);
        }
        push(&["-kernel", &self.kernel_elf.display().to_string()]);
        if let Some(cmdline) = &self.kernel_cmdline {
            push(&["-append", cmdline]);
        }
        push(&["-serial", "stdio", "-display", "none", "-no-reboot"]);
        push(&["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        if let Some(disk) = disk {
            let drive = format!(
                "file={},format=raw,if=ide,index=0",
                // QEMU's option syntax doubles a comma inside a value.
                disk.display().to_string().replace(',', ",,")
            );
            push(&["-drive", &drive]);
        }
        argv.extend(self.extra_args.iter().cloned());
        argv
    }
}

/// `timeout` multiplied by `scale`. A scale that is not a positive finite
/// number leaves the timeout as it is; a product too large to represent
/// becomes a very long wait (waits are capped anyway).
pub fn scale_timeout(timeout: Duration, scale: f64) -> Duration {
    if !(scale.is_finite() && scale > 0.0) {
        return timeout;
    }
    Duration::try_from_secs_f64(timeout.as_secs_f64() * scale).unwrap_or(Duration::MAX)
}

/// Starts `argv` with its stdin, stdout and stderr connected to pipes.
///
/// On Linux the child is also told to die with the harness (SIGKILL when the
/// thread that spawned it exits), so a harness killed by CI leaves no QEMU
/// running. Sessions are dropped on the thread that made them, which kills
/// QEMU in the ordinary way first.
pub fn spawn(argv: &[String], disk: Option<&Path>) -> io::Result<Child> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command line"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(disk) = disk {
        command.env("GRADE_DISK", disk);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the child between fork and exec, where
        // only async-signal-safe calls are allowed; prctl is one, and the
        // closure touches no memory shared with the parent.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    command.spawn()
}

/// Why QEMU (or the fake emulator) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// The guest wrote this value to the isa-debug-exit port, so QEMU exited
    /// with status `(value << 1) | 1` (only the low 7 bits of the value survive).
    GuestExit(u32),
    /// QEMU exited with status 0. With `-no-reboot` this is how a guest reset
    /// looks, and a triple fault resets the machine: almost always a kernel
    /// that faulted while it could not even handle a fault.
    Reset,
    /// Any other status: 1 is QEMU's own error exit (bad option, missing file;
    /// see its stderr).
    Code(i32),
    /// QEMU was killed by this signal (the harness kills it with SIGKILL).
    Signal(i32),
}

impl ExitStatus {
    /// Classifies the status of a finished QEMU process.
    pub fn from_std(status: std::process::ExitStatus) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(0), _) => ExitStatus::Reset,
            (Some(code), _) if code >= 3 && code % 2 == 1 => {
                ExitStatus::GuestExit((code as u32) >> 1)
            }
            (Some(code), _) => ExitStatus::Code(code),
            (None, Some(signal)) => ExitStatus::Signal(signal),
            // A process ends either with a code or with a signal.
            (None, None) => ExitStatus::Code(-1),
        }
    }

    /// True if the kernel powered off cleanly (wrote [`GUEST_EXIT_SUCCESS`]).
    pub fn is_success(self) -> bool {
        self == ExitStatus::GuestExit(GUEST_EXIT_SUCCESS)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExitStatus::GuestExit(value) => {
                let meaning = match value {
                    GUEST_EXIT_SUCCESS => " (clean power-off)",
                    GUEST_EXIT_FAILURE => " (kernel reported a fatal error)",
                    _ => "",
                };
                let status = crate::patterns::qemu_status_for_guest_exit(value);
                write!(f, "guest exit {value:#x}{meaning}, QEMU status {status}")
            }
            ExitStatus::Reset => write!(
                f,
                "QEMU status 0: the guest reset the machine (with -no-reboot), \
                 most likely a triple fault"
            ),
            ExitStatus::Code(1) => write!(f, "QEMU status 1: QEMU itself failed (see its stderr)"),
            ExitStatus::Code(code) => write!(f, "QEMU status {code}"),
            ExitStatus::Signal(signal) => write!(f, "QEMU killed by signal {signal}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_machine() -> Machine {
        let mut machine = Machine::new(
            Kernel::Mono,
            PathBuf::from("build/mono-kernel.elf"),
            Some(PathBuf::from("build/mono.img")),
        );
        machine.qemu_binary = PathBuf::from("qemu-system-x86_64");
        machine.bios = Some(PathBuf::from(QBOOT_ROM));
        machine
    }

    #[test]
    fn command_line_is_the_one_in_the_design() {
        let argv = test_machine().command_line(Some(Path::new("/tmp/d/disk.img")));
        assert_eq!(
            argv.join(" "),
            "qemu-system-x86_64 -machine pc -accel tcg -m 256M \
             -bios /usr/share/qemu/qboot.rom -kernel build/mono-kernel.elf \
             -serial stdio -display none -no-reboot \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
             -drive file=/tmp/d/disk.img,format=raw,if=ide,index=0"
        );
    }

    #[test]
    fn options_add_icount_kvm_append_and_extra_arguments() {
        let mut machine = test_machine();
        machine.icount = true;
        machine.kernel_cmdline = Some("fault-test".into());
        machine.extra_args = vec!["-s".into()];
        let line = machine.command_line(None).join(" ");
        assert!(
            line.contains("-accel tcg -icount shift=0,sleep=off "),
            "{line}"
        );
        machine.icount_host_idle = true;
        let line = machine.command_line(None).join(" ");
        assert!(line.contains("-accel tcg -icount shift=0 "), "{line}");
        assert!(line.contains("-append fault-test"), "{line}");
        assert!(!line.contains("-rtc"), "{line}");
        machine.rtc_base = Some("2026-01-02T03:04:05".into());
        let line = machine.command_line(None).join(" ");
        assert!(
            line.contains("-m 256M -rtc base=2026-01-02T03:04:05 "),
            "{line}"
        );
        assert!(
            line.ends_with("-device isa-debug-exit,iobase=0xf4,iosize=0x04 -s"),
            "{line}"
        );
        assert!(!line.contains("-drive"), "{line}");

        machine.accel = Accel::Kvm;
        let line = machine.command_line(None).join(" ");
        assert!(
            line.contains("-accel kvm -cpu max,-arch-capabilities"),
            "{line}"
        );
    }

    #[test]
    fn commas_in_disk_paths_are_escaped_for_qemu() {
        let argv = test_machine().command_line(Some(Path::new("/tmp/a,b.img")));
        assert!(argv.contains(&"file=/tmp/a,,b.img,format=raw,if=ide,index=0".to_string()));
    }

    #[test]
    fn exit_statuses_are_classified() {
        use std::os::unix::process::ExitStatusExt;
        let from_code =
            |code: i32| ExitStatus::from_std(std::process::ExitStatus::from_raw(code << 8));
        assert_eq!(from_code(33), ExitStatus::GuestExit(GUEST_EXIT_SUCCESS));
        assert!(from_code(33).is_success());
        assert_eq!(from_code(35), ExitStatus::GuestExit(GUEST_EXIT_FAILURE));
        assert_eq!(from_code(0), ExitStatus::Reset);
        assert_eq!(from_code(1), ExitStatus::Code(1));
        assert_eq!(from_code(2), ExitStatus::Code(2));
        let killed = ExitStatus::from_std(std::process::ExitStatus::from_raw(9));
        assert_eq!(killed, ExitStatus::Signal(9));
        assert!(from_code(0).to_string().contains("triple fault"));
    }

    #[test]
    fn missing_inputs_name_the_file_and_the_make_target() {
        let dir = std::env::temp_dir().join(format!("grading-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let elf = dir.join("micro-kernel.elf");
        let disk = dir.join("micro.img");
        let machine = Machine::new(Kernel::Micro, elf.clone(), Some(disk.clone()));
        let message = machine.missing_input().unwrap();
        assert!(
            message.contains(&format!("{} does not exist", elf.display())),
            "{message}"
        );
        assert!(message.contains("`make micro`"), "{message}");
        std::fs::write(&elf, b"").unwrap();
        let message = machine.missing_input().unwrap();
        assert!(
            message.contains("disk image") && message.contains("`make images`"),
            "{message}"
        );
        std::fs::write(&disk, b"").unwrap();
        assert_eq!(machine.missing_input(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn timeouts_scale_and_bad_scales_are_ignored() {
        let thirty = Duration::from_secs(30);
        assert_eq!(scale_timeout(thirty, 2.0), Duration::from_secs(60));
        assert_eq!(scale_timeout(thirty, 0.5), Duration::from_secs(15));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(scale_timeout(thirty, bad), thirty);
        }
        assert_eq!(scale_timeout(Duration::MAX, 1e300), Duration::MAX);
    }

    #[test]
    fn kernel_names_round_trip() {
        for kernel in Kernel::ALL {
            assert_eq!(Kernel::from_name(kernel.name()), Some(kernel));
            assert!(kernel.banner().contains(kernel.name()));
        }
        assert_eq!(Kernel::from_name("hybrid"), None);
    }
}
