//! Fault injection: which part of the system a fault goes into, which
//! fault, and how a request names them. One definition for the `inject`
//! system call of the mono-kernel (`Sys::Inject`), proc's and root's
//! `Inject` requests on the micro-kernel, and root's message that arms a
//! fault in a server (`docs/fault-isolation.md`).
//!
//! A request is four words, `[component, fault, after, parameter]`
//! ([`InjectRequest::to_words`]); component 0 asks only for the number of
//! server restarts so far ([`InjectRequest::Query`]). The answer is that
//! number (always 0 on the mono-kernel, which restarts nothing).
//!
//! Injection is refused (`EPERM`) unless the kernel was booted with the
//! word `inject` on its command line: a fault on purpose is for
//! experiments, and the fuzzers, which call every system call with random
//! arguments, must not crash a kernel by finding this one.

use crate::abi::errno::Errno;

/// The word on the kernel command line that allows fault injection.
pub const COMMAND_LINE_FLAG: &str = "inject";

/// The most requests a fault may wait for ([`Injection::after`]).
pub const MAX_AFTER: u64 = 1 << 20;

/// A part of the system a fault can be injected into: a server of the
/// micro-kernel; on the mono-kernel, the shared code of the same name.
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    /// The console: `ConsoleOutput` (`common/src/drivers/console.rs`).
    Console = 1,
    /// The disk: the ATA driver (`common/src/drivers/ata.rs`).
    Disk = 2,
    /// The file system: the buffer cache under ext2 (`common/src/bcache.rs`).
    Fs = 3,
    /// The vfs server (micro-kernel only).
    Vfs = 4,
    /// The proc server (micro-kernel only).
    Proc = 5,
}

impl Component {
    /// Every component, in number order.
    pub const ALL: [Component; 5] = [
        Component::Console,
        Component::Disk,
        Component::Fs,
        Component::Vfs,
        Component::Proc,
    ];

    /// The component a number names.
    pub fn from_number(number: u64) -> Option<Component> {
        Component::ALL.into_iter().find(|c| *c as u64 == number)
    }

    /// Its name, as the `crash` program and the servers spell it.
    pub fn name(self) -> &'static str {
        match self {
            Component::Console => "console",
            Component::Disk => "disk",
            Component::Fs => "fs",
            Component::Vfs => "vfs",
            Component::Proc => "proc",
        }
    }

    /// The component a name names.
    pub fn from_name(name: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the shared code has a checkpoint for it
    /// (`common::inject::checkpoint`), so that the mono-kernel can take
    /// the same fault.
    pub fn is_shared_code(self) -> bool {
        matches!(self, Component::Console | Component::Disk | Component::Fs)
    }
}

/// A fault. Every one but [`Fault::SharedBadPointer`] happens in a
/// micro-kernel server when it receives its `after`-th request after the
/// fault was armed (`server_lib::inject`), before the server looks at the
/// request.
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The next time the component's shared code runs (an ATA transfer, a
    /// buffer-cache access, a console write), it loads through a bad
    /// pointer ([`crate::inject::BAD_POINTER`]): the `crash` program's
    /// fault, the same code on both kernels. (vfs and proc have no shared
    /// checkpoint: for them it is [`Fault::BadPointer`] at their next
    /// request.)
    SharedBadPointer = 1,
    /// A load through the pointer `parameter`.
    BadPointer = 2,
    /// Bit `parameter` of the stack pointer flips, and the server pushes.
    StackBitFlip = 3,
    /// Bit `parameter` of the instruction pointer flips: a jump there.
    CodeBitFlip = 4,
    /// A store into the server's own code, which is mapped read-only.
    WildWrite = 5,
    /// An invalid instruction (`ud2`): an exception, not a page fault.
    InvalidOpcode = 6,
    /// A loop that never ends and never waits: the watchdog's case.
    InfiniteLoop = 7,
}

impl Fault {
    /// Every fault, in number order.
    pub const ALL: [Fault; 7] = [
        Fault::SharedBadPointer,
        Fault::BadPointer,
        Fault::StackBitFlip,
        Fault::CodeBitFlip,
        Fault::WildWrite,
        Fault::InvalidOpcode,
        Fault::InfiniteLoop,
    ];

    /// The fault a number names.
    pub fn from_number(number: u64) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| *f as u64 == number)
    }

    /// A short name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Fault::SharedBadPointer => "bad pointer in the shared code",
            Fault::BadPointer => "bad pointer",
            Fault::StackBitFlip => "stack pointer bit flip",
            Fault::CodeBitFlip => "instruction pointer bit flip",
            Fault::WildWrite => "write to its own code",
            Fault::InvalidOpcode => "invalid instruction",
            Fault::InfiniteLoop => "infinite loop",
        }
    }
}

/// One fault to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injection {
    /// Where.
    pub component: Component,
    /// What.
    pub fault: Fault,
    /// At which request after arming, from 1 (ignored by
    /// [`Fault::SharedBadPointer`], which fires at the shared code's next
    /// step).
    pub after: u64,
    /// The address ([`Fault::BadPointer`]) or bit number (the bit flips).
    pub parameter: u64,
}

/// What an `inject` call asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectRequest {
    /// Only the number of server restarts so far.
    Query,
    /// Arm a fault (and the number of restarts so far).
    Inject(Injection),
}

impl InjectRequest {
    /// The four words of the request.
    pub fn to_words(&self) -> [u64; 4] {
        match self {
            InjectRequest::Query => [0; 4],
            InjectRequest::Inject(injection) => [
                injection.component as u64,
                injection.fault as u64,
                injection.after,
                injection.parameter,
            ],
        }
    }

    /// Decodes and checks the four words of an untrusted request: `EINVAL`
    /// for an unknown component or fault, a count of requests outside
    /// `1..=MAX_AFTER`, or a bit number over 63.
    pub fn from_words(words: [u64; 4]) -> Result<InjectRequest, Errno> {
        let [component, fault, after, parameter] = words;
        if component == 0 {
            return Ok(InjectRequest::Query);
        }
        let component = Component::from_number(component).ok_or(Errno::EINVAL)?;
        let fault = Fault::from_number(fault).ok_or(Errno::EINVAL)?;
        let after = if fault == Fault::SharedBadPointer {
            1
        } else {
            after
        };
        if !(1..=MAX_AFTER).contains(&after) {
            return Err(Errno::EINVAL);
        }
        if matches!(fault, Fault::StackBitFlip | Fault::CodeBitFlip) && parameter > 63 {
            return Err(Errno::EINVAL);
        }
        Ok(InjectRequest::Inject(Injection {
            component,
            fault,
            after,
            parameter,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for component in Component::ALL {
            for fault in Fault::ALL {
                let request = InjectRequest::Inject(Injection {
                    component,
                    fault,
                    after: 3,
                    parameter: 40,
                });
                let decoded = InjectRequest::from_words(request.to_words()).unwrap();
                let InjectRequest::Inject(injection) = decoded else {
                    panic!("{decoded:?}");
                };
                assert_eq!((injection.component, injection.fault), (component, fault));
                assert_eq!(injection.parameter, 40);
            }
            assert_eq!(Component::from_name(component.name()), Some(component));
        }
        assert_eq!(
            InjectRequest::from_words([0, 9, 9, 9]),
            Ok(InjectRequest::Query)
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        assert_eq!(InjectRequest::from_words([6, 1, 1, 0]), Err(Errno::EINVAL));
        assert_eq!(InjectRequest::from_words([3, 0, 1, 0]), Err(Errno::EINVAL));
        assert_eq!(InjectRequest::from_words([3, 8, 1, 0]), Err(Errno::EINVAL));
        assert_eq!(InjectRequest::from_words([3, 2, 0, 0]), Err(Errno::EINVAL));
        assert_eq!(
            InjectRequest::from_words([3, 2, MAX_AFTER + 1, 0]),
            Err(Errno::EINVAL)
        );
        assert_eq!(InjectRequest::from_words([3, 3, 1, 64]), Err(Errno::EINVAL));
        // The shared fault ignores the count.
        assert!(InjectRequest::from_words([3, 1, 0, 0]).is_ok());
    }
}
