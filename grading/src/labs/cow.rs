//! Lab `cow`'s tests (`labs/cow/handout.md`): the `cow_*` usertests, one
//! of them hidden, and what copy-on-write is for: `fork` must cost less
//! than an eager copy of the parent's pages, in guest instructions.

use crate::failure::Failure;
use crate::qemu::Kernel;
use crate::session::Session;
use crate::suites::bench;
use crate::test::Test;
use std::time::Duration;

/// The most guest instructions one `fork` + `exit` + `wait` may cost
/// (`bench fork`, alone after boot, under `-icount`: the same on every
/// run), per kernel: between the figures of the two designs. On the
/// mono-kernel eager copying (the starter) costs 189,578 and
/// copy-on-write (the solution) 147,499 (6 December, release builds;
/// `labs/cow/key.md`): the `bench` process is small (a few dozen pages),
/// so the gap is a fifth, and the limit sits in its middle. The test runs
/// on the mono-kernel only: on the micro-kernel the small `bench` process
/// forks no faster copy-on-write (proc revokes what it shares), so
/// [`FORK_LIMIT_MICRO`] is kept for a test that measures a larger process.
pub const FORK_LIMIT_MONO: u64 = 170_000;
/// The micro-kernel's limit (see [`FORK_LIMIT_MONO`]).
pub const FORK_LIMIT_MICRO: u64 = 232_000;

/// How long `bench fork` may take (a warm-up and 9 runs of 20 forks).
const BENCH_TIMEOUT: Duration = Duration::from_secs(240);

/// The lab's tests (points per kernel).
pub fn tests() -> Vec<Test> {
    vec![
        Test::usertest("cow-shares-until-write", 4, "cow_fork_shares_until_write"),
        Test::usertest("cow-free-memory", 4, "cow_free_memory"),
        Test::usertest("cow-fork-big", 4, "cow_fork_big"),
        Test::usertest("cow-last-writer", 3, "cow_last_writer_keeps_its_page"),
        Test::usertest("cow-many-children", 3, "cow_many_children"),
        Test::usertest("cow-exit-frees", 3, "cow_exit_frees"),
        Test::usertest("cow-read-into-shared-page", 3, "cow_read_into_shared_page").hidden(),
        // Mono only: on the micro-kernel, since proc revokes every shared
        // frame it frees, `bench fork` of the small bench process costs
        // 245,107 copy-on-write, no less than eager copying (245,122).
        Test::new("cow-fork-cost", 6, fork_cost)
            .only_on(Kernel::Mono)
            .icount(),
    ]
}

/// `bench fork`, in a boot under `-icount`: one `fork` + `exit` + `wait`
/// must cost fewer guest instructions than the kernel's limit.
fn fork_cost(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command_with_timeout("bench fork", BENCH_TIMEOUT)?;
    let Some(fork) = bench::parse_output(&output)
        .into_iter()
        .find(|figure| figure.name == "fork")
    else {
        return Err(Failure::check(format!(
            "`bench fork` printed no figure: {output:?}"
        )));
    };
    let (kernel, limit) = match session.machine().kernel {
        Kernel::Mono => ("mono", FORK_LIMIT_MONO),
        Kernel::Micro => ("micro", FORK_LIMIT_MICRO),
    };
    println!(
        "cow/{kernel}: fork + exit + wait = {} guest instructions (the limit is {limit})",
        fork.ticks
    );
    Failure::ensure(fork.ticks < limit, || {
        format!(
            "fork + exit + wait costs {} guest instructions, not below {limit}: \
             is fork still copying every page?",
            fork.ticks
        )
    })
}
