//! Build script for the user programs: links every binary with `user.ld`.
//!
//! The linker script places programs at 0x400000 as static, non-PIE ELF64
//! executables with one PT_LOAD segment per permission set (see the comment
//! at the top of `user.ld`). `rerun-if-changed` makes an edit relink.

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
        .expect("cargo sets CARGO_MANIFEST_DIR for build scripts");
    let script = format!("{manifest_dir}/user.ld");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rustc-link-arg-bins=-static");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rerun-if-changed=build.rs");
}
