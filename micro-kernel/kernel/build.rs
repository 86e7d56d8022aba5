//! Build script of the microkernel.
//!
//! 1. Passes the shared kernel linker script to the linker.
//! 2. Embeds the root tasks. The kernel carries two ELF files, chosen at boot
//!    by the command line (see `src/boot_root.rs`):
//!    - the *test* root task (`-append roottest`), from `$MICRO_TEST_ROOT_ELF`
//!      or by default `target/micro-user/x86_64-unknown-none/release/test-root`;
//!    - the *real* root task (the default), from `$MICRO_ROOT_ELF` or by
//!      default `target/micro-user/x86_64-unknown-none/release/root`.
//!
//!    Each is copied to `$OUT_DIR` (an empty file if it has not been built
//!    yet, which the kernel reports at boot), so `include_bytes!` always has
//!    a file to read and cargo relinks when a root task changes.
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let script = manifest.join("../../common/src/arch/kernel.ld");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rerun-if-changed={}", script.display());

    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let user_release = manifest.join("../../target/micro-user/x86_64-unknown-none/release");
    embed("MICRO_TEST_ROOT_ELF", &user_release.join("test-root"), &out_dir.join("test-root.elf"));
    embed("MICRO_ROOT_ELF", &user_release.join("root"), &out_dir.join("root.elf"));
    println!("cargo:rerun-if-changed=build.rs");
}

/// Copies the ELF named by `$variable` (or `default`) to `destination`
/// without its debug information (`objcopy --strip-debug`; the unstripped
/// file stays where it was built, for debuggers), or writes an empty file if
/// there is none. Without `objcopy` the file is copied whole.
fn embed(variable: &str, default: &Path, destination: &Path) {
    println!("cargo:rerun-if-env-changed={variable}");
    let source = std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| default.to_path_buf());
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
