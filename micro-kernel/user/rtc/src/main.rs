//! The rtc server: the CMOS real-time clock, at user level.
//!
//! It owns the clock's two ports, 0x70 (index) and 0x71 (data), granted by
//! root and nothing else: no other program can touch the clock, and the
//! clock's server can touch nothing but the clock (an `in` or `out` on any
//! other port is a general-protection fault, which root reports as a
//! crash). The driver is the shared one, `common::drivers::rtc`, the same
//! code the mono-kernel calls from its `time` system call.
//!
//! ## Protocol
//!
//! `common::abi::proto::rtc`: `Time` → seconds since the epoch. Anyone may
//! ask (the time is no secret); user programs find the server's thread id
//! in the aux block `proc` puts on their stack. A malformed request gets
//! an error reply (`ENOSYS` for an unknown label), a clock that cannot be
//! read `EIO`.
//!
//! ## Where it waits
//!
//! Only in its receive. A reading waits (polling status A) for at most one
//! update of the clock, about 2 ms, and then replies; nothing is parked.
//! It calls no other server, so it is a leaf of the call graph
//! (`docs/servers.md`).

#![no_std]
#![no_main]

use common::abi::proto::Wire;
use common::abi::proto::reply;
use common::drivers::rtc::Rtc;
use common::port::HardwarePorts;
use l4::ThreadId;
use server_lib::Request;

/// The answer to one request.
fn handle<'a>(rtc: &mut Rtc<HardwarePorts>, request: &Request) -> Wire<'a> {
    // LAB driver BEGIN
    use common::abi::proto::rtc::RtcRequest;
    match RtcRequest::from_wire(&request.wire()) {
        Err(problem) => reply::malformed(problem),
        Ok(RtcRequest::Time) => match rtc.unix_seconds() {
            Ok(seconds) => reply::done(&[seconds]),
            Err(error) => reply::failed(error.errno()),
        },
    }
    // LAB driver STUB
    //~ let _ = (rtc, request);
    //~ reply::failed(common::abi::errno::Errno::ENOSYS)
    // LAB driver END
}

fn main(root: u64) -> ! {
    let _directory = server_lib::start("rtc", ThreadId(root));
    let mut rtc = Rtc::new(HardwarePorts);
    let mut request = server_lib::receive();
    loop {
        let answer = handle(&mut rtc, &request);
        request = server_lib::reply_and_receive(request.from, &answer);
    }
}

l4::server_entry!(main);
