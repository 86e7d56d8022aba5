//! Passes the shared kernel linker script to the linker, and relinks when it changes.
fn main() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../common/src/arch/kernel.ld");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rerun-if-changed={script}");
}
