//! Build script of the root task.
//!
//! 1. Links it with the microkernel user linker script (like every
//!    microkernel user program).
//! 2. Embeds the servers' ELF files. The root task carries the six servers
//!    it starts; each is read from `$MICRO_SERVER_<NAME>_ELF` or, by
//!    default, `target/micro-user/x86_64-unknown-none/release/<name>` and
//!    copied to `$OUT_DIR/<name>.elf` (an empty file if the server has not
//!    been built: the root task then stops at boot naming it). Build the
//!    servers first (`make micro` does: servers, then root, then kernel).
use std::path::{Path, PathBuf};

/// The servers, in start order.
const SERVERS: [&str; 6] = ["console", "disk", "fs", "vfs", "proc", "rtc"];

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let script = manifest.join("../user.ld");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rustc-link-arg-bins=-static");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=build.rs");

    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let release = manifest.join("../../../target/micro-user/x86_64-unknown-none/release");
    for name in SERVERS {
        let variable = format!("MICRO_SERVER_{}_ELF", name.to_uppercase());
        embed(
            &variable,
            &release.join(name),
            &out_dir.join(format!("{name}.elf")),
        );
    }
}

/// Copies the ELF named by `$variable` (or `default`) to `destination`
/// without its debug information (`objcopy --strip-debug`; the unstripped
/// file stays where it was built, for debuggers), or writes an empty file if
/// there is none. Without `objcopy` the file is copied whole.
fn embed(variable: &str, default: &Path, destination: &Path) {
    println!("cargo:rerun-if-env-changed={variable}");
    let source = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| default.to_path_buf());
    println!("cargo:rerun-if-changed={}", source.display());
    if !source.exists() {
        std::fs::write(destination, []).expect("cannot write to OUT_DIR");
        return;
    }
    let stripped = std::process::Command::new("objcopy")
        .arg("--strip-debug")
        .arg(&source)
        .arg(destination)
        .status()
        .is_ok_and(|status| status.success());
    if !stripped {
        std::fs::copy(&source, destination).expect("cannot write to OUT_DIR");
    }
}
