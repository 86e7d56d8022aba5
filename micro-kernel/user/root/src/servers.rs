//! The server table: which servers exist, their ELF images, and creating
//! their address spaces and threads with the devices each may use.
//!
//! A server thread starts at its ELF entry point with
//! `rsp = SERVER_STACK_TOP - 8` (as if called) and `rdi` = the root task's
//! thread id, its pager and exception handler. Its first act is to receive
//! its [`Directory`] from root (root offers it until the server takes it).

use common::abi::micro::{ThreadId, privilege};
use common::abi::proto::root::{Directory, RootOp, SERVER_STACK_TOP};
use common::elf::Executable;
use common::port::{HardwarePorts, PortIo};
use l4::{Message, SpaceId, Timeout, exreg, println};

/// Priority of the device drivers (console, disk).
pub const DRIVER_PRIORITY: u64 = 15;
/// Priority of fs, vfs and proc (user processes run at the same priority:
/// proc picks, so that replies take the IPC fast path).
pub const SERVICE_PRIORITY: u64 = 14;

/// The debug-exit port QEMU offers (`-device isa-debug-exit,iobase=0xf4`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

static CONSOLE_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/console.elf"));
static DISK_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/disk.elf"));
static FS_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fs.elf"));
static VFS_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vfs.elf"));
static PROC_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc.elf"));
static RTC_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rtc.elf"));

/// What a server may touch besides memory.
struct Devices {
    /// I/O port ranges `(first, count)`.
    ports: &'static [(u16, u32)],
    /// Interrupt lines delivered to its thread.
    irqs: &'static [u8],
    /// Privileges of its space (proc creates the user processes' spaces).
    privileges: u64,
    priority: u64,
}

/// One server.
pub struct Server {
    pub name: &'static str,
    pub elf: &'static [u8],
    /// The checked ELF headers (None until `create_all`).
    pub executable: Option<Executable>,
    pub space: SpaceId,
    pub thread: ThreadId,
    /// False once it crashed (its space is destroyed).
    pub alive: bool,
    /// Whether it has received its directory.
    pub has_directory: bool,
    devices: Devices,
}

/// Index of the fs server in the table.
pub const FS_INDEX: usize = 2;
/// Index of the vfs server in the table.
pub const VFS_INDEX: usize = 3;

/// The co-location build (`make micro-colocated`, feature `colocated-fs`):
/// the file system runs inside the vfs server (vfs calls the fs code as
/// functions instead of sending it messages), so root does not start an fs
/// server, and the directory names vfs as "fs" (the disk server serves its
/// file system, wherever it runs).
pub const FS_IN_VFS: bool = cfg!(feature = "colocated-fs");

/// Index of the console in the table (the only server with device memory).
pub const CONSOLE_INDEX: usize = 0;
/// Index of proc in the table (the only server with a frame pool).
pub const PROC_INDEX: usize = 4;
/// Index of the real-time clock's server in the table.
pub const RTC_INDEX: usize = 5;

/// All servers, in start order.
pub struct Servers {
    table: [Server; 6],
}

impl Servers {
    /// The embedded servers, not started yet.
    pub fn embedded() -> Servers {
        let server = |name, elf, devices| Server {
            name,
            elf,
            executable: None,
            space: SpaceId::NIL,
            thread: ThreadId::NIL,
            alive: false,
            has_directory: false,
            devices,
        };
        let plain = |priority| Devices {
            ports: &[],
            irqs: &[],
            privileges: privilege::RESERVES,
            priority,
        };
        Servers {
            table: [
                server(
                    "console",
                    CONSOLE_ELF,
                    Devices {
                        // COM1, the 8042 keyboard controller, the VGA cursor registers.
                        ports: &[(0x3f8, 8), (0x60, 1), (0x64, 1), (0x3d4, 2)],
                        irqs: &[1, 4],
                        privileges: privilege::RESERVES,
                        priority: DRIVER_PRIORITY,
                    },
                ),
                server(
                    "disk",
                    DISK_ELF,
                    Devices {
                        // The primary ATA channel's command block and control register.
                        ports: &[(0x1f0, 8), (0x3f6, 1)],
                        irqs: &[14],
                        privileges: privilege::RESERVES,
                        priority: DRIVER_PRIORITY,
                    },
                ),
                server("fs", FS_ELF, plain(SERVICE_PRIORITY)),
                server("vfs", VFS_ELF, plain(SERVICE_PRIORITY)),
                server(
                    "proc",
                    PROC_ELF,
                    Devices {
                        ports: &[(DEBUG_EXIT_PORT, 1)],
                        irqs: &[],
                        privileges: privilege::CREATE | privilege::RESERVES,
                        priority: SERVICE_PRIORITY,
                    },
                ),
                server(
                    "rtc",
                    RTC_ELF,
                    Devices {
                        // LAB driver BEGIN
                        // The CMOS clock's index and data ports, and no other.
                        ports: &[(0x70, 2)],
                        // LAB driver STUB
                        //~ ports: &[],
                        // LAB driver END
                        irqs: &[],
                        privileges: privilege::RESERVES,
                        priority: DRIVER_PRIORITY,
                    },
                ),
            ],
        }
    }

    /// The name of the first server that was not built, if any.
    pub fn first_missing(&self) -> Option<&'static str> {
        self.started()
            .find(|server| server.elf.is_empty())
            .map(|server| server.name)
    }

    /// The servers this build starts (all but fs in the co-location build).
    fn started(&self) -> impl Iterator<Item = &Server> {
        self.table
            .iter()
            .enumerate()
            .filter(|&(index, _)| !(FS_IN_VFS && index == FS_INDEX))
            .map(|(_, server)| server)
    }

    /// Number of servers started.
    pub fn len(&self) -> usize {
        self.started().count()
    }

    /// Creates every server's space and thread, gives it its devices and
    /// starts it. `root` is our own thread: pager and exception handler.
    pub fn create_all(&mut self, root: ThreadId) -> Result<(), &'static str> {
        for (index, server) in self.table.iter_mut().enumerate() {
            if FS_IN_VFS && index == FS_INDEX {
                continue;
            }
            let executable = Executable::parse(server.elf)
                .map_err(|_| "a server's ELF file is not a valid executable")?;
            let space = l4::task::space_create(server.devices.privileges)
                .map_err(|_| "no address space")?;
            let thread = l4::task::thread_create(space, root, root, server.devices.priority)
                .map_err(|_| "no thread")?;
            for &(first, count) in server.devices.ports {
                l4::device::ioport_grant(space, first, count)
                    .map_err(|_| "cannot grant I/O ports")?;
            }
            for &irq in server.devices.irqs {
                l4::device::irq_attach(irq, thread).map_err(|_| "cannot attach an interrupt")?;
            }
            let start = l4::task::Registers {
                control: exreg::SET_RIP | exreg::SET_RSP | exreg::SET_ARGUMENT | exreg::RESUME,
                rip: executable.entry,
                rsp: SERVER_STACK_TOP - 8,
                argument: root.0,
                ..l4::task::Registers::default()
            };
            // SAFETY: the thread is in another address space, whose pages
            // root serves from this server's ELF image and zero pages.
            unsafe { l4::task::exchange_registers(thread, &start) }
                .map_err(|_| "cannot start a server")?;
            server.executable = Some(executable);
            server.space = space;
            server.thread = thread;
            server.alive = true;
        }
        Ok(())
    }

    /// The directory: who is who.
    pub fn directory(&self, root: ThreadId) -> Directory {
        let id = |index: usize| self.table[index].thread.0;
        Directory {
            root: root.0,
            console: id(0),
            disk: id(1),
            fs: id(if FS_IN_VFS { VFS_INDEX } else { FS_INDEX }),
            vfs: id(VFS_INDEX),
            proc: id(PROC_INDEX),
            rtc: id(RTC_INDEX),
        }
    }

    /// Offers the directory to the servers that have not got it yet,
    /// without waiting, in table order — which is also the order of the
    /// call graph's leaves first (console, disk, then fs, vfs, proc; rtc,
    /// which no server calls, last) — and
    /// never to a server before every server before it has its own: so no
    /// server can be called by another before it knows who is who (its
    /// first receive takes the directory, not somebody's request).
    /// Returns whether some server still waits for it.
    pub fn deliver_directories(&mut self, bytes: &[u8]) -> bool {
        for server in self
            .table
            .iter_mut()
            .filter(|s| s.alive && !s.has_directory)
        {
            let message = Message::new(RootOp::Directory.label(), &[]).with_bytes(bytes);
            match l4::ipc::send(server.thread, &message, Timeout::Zero) {
                Ok(()) => server.has_directory = true,
                Err(l4::Error::SendTimeout) => return true,
                Err(l4::Error::NoSuchThread) => {
                    println!(
                        "root: the {} server ended before it took its directory",
                        server.name
                    );
                    server.has_directory = true;
                }
                Err(error) => {
                    println!(
                        "root: cannot send the {} server its directory: {error:?}",
                        server.name
                    );
                    server.has_directory = true; // do not retry forever
                }
            }
        }
        false
    }

    /// The server whose thread is `thread`, with its table index.
    pub fn by_thread(&mut self, thread: ThreadId) -> Option<(usize, &mut Server)> {
        self.table
            .iter_mut()
            .enumerate()
            .find(|(_, server)| server.alive && server.thread == thread)
    }
}

/// Prints `reason` and leaves QEMU with failure (boot cannot go on).
pub fn power_off_after(reason: core::fmt::Arguments) -> ! {
    println!("{reason}");
    let (_, space) = l4::task::whoami();
    let _ = l4::device::ioport_grant(space, DEBUG_EXIT_PORT, 1);
    HardwarePorts.write_u8(DEBUG_EXIT_PORT, 0x11);
    loop {
        l4::ipc::sleep(100);
    }
}
