//! The bench suite: deterministic benchmarks, reported side by side for
//! both kernels. QEMU runs with `-icount shift=0`, so `rdtsc` in the guest
//! counts executed guest instructions: the same binary gives the same
//! numbers on every run and every machine. The test checks that each
//! benchmark reported a number; the numbers go to the report.

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::session::Session;
use crate::test::Test;

/// The benchmarks the `bench` program prints, as `bench NAME: N ticks/op`.
pub const BENCHMARKS: [&str; 3] = ["getpid", "pipe", "fork"];

/// The bench suite's tests.
pub fn tests() -> Vec<Test> {
    vec![Test::new("bench", 0, run_bench).depends_on("boot").icount()]
}

fn run_bench(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command("bench")?;
    let kernel = session.machine().kernel.name();
    for name in BENCHMARKS {
        let regex = format!(r"bench {name}: (\d+) ticks/op");
        let found = Pattern::regex(&regex);
        let re = regex::Regex::new(&regex).map_err(|e| Failure::check(e.to_string()))?;
        let Some(captures) = re.captures(&output) else {
            return Err(Failure::check(format!(
                "bench printed no {name} figure ({found:?}); output: {output:?}"
            )));
        };
        println!(
            "bench/{kernel}: {name} = {} guest instructions per operation",
            &captures[1]
        );
    }
    Ok(())
}
