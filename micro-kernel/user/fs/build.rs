//! Links the fs server with the microkernel user linker script.
fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = format!("{manifest}/../user.ld");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rustc-link-arg-bins=-static");
    // Each server at its own address (0x3000000; see user.ld), so an address
    // in a fault report or a profile names the server.
    println!("cargo:rustc-link-arg-bins=--defsym=__image_base=0x3000000");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rerun-if-changed=build.rs");
}
