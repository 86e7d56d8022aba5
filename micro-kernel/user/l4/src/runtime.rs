//! The runtime every program gets with the `runtime` feature: the panic
//! handler (print the panic, end the thread) and the (empty) global allocator.

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::println!("user panic: {info}");
    let (me, _) = crate::task::whoami();
    let _ = crate::task::thread_destroy(me);
    loop {
        core::hint::spin_loop();
    }
}

/// No heap yet: the shared crate links `alloc`, so a global allocator must
/// exist; this one refuses every request (a program that needs a heap
/// turns off the `runtime` feature and brings its own allocator).
struct NoHeap;

// SAFETY: returning null is GlobalAlloc's documented way to fail.
unsafe impl core::alloc::GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _layout: core::alloc::Layout) -> *mut u8 {
        core::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _pointer: *mut u8, _layout: core::alloc::Layout) {}
}

#[global_allocator]
static NO_HEAP: NoHeap = NoHeap;
