//! The bench suites: the `bench` program on both kernels.
//!
//! - `bench-quick` (in every run: `make test`, `make grade`) runs `bench -q`,
//!   each benchmark once with a few operations, and checks that every one
//!   printed a figure. It measures nothing.
//! - `bench` (only when named: `grade --suite bench`, which `make bench`
//!   runs) measures. Two boots per kernel: `bench` runs the benchmarks that
//!   never wait for the disk under `-icount shift=0,sleep=off`, where each
//!   figure is the same on every run; `bench-disk` runs the four that do
//!   under `-icount shift=0`, where a waiting guest's clock follows the
//!   host's, so their figures change from run to run (docs/performance.md
//!   says why). Each figure is printed for the report as
//!
//!   ```text
//!   bench/mono: getpid = 153 ticks/op (runs 153..153)
//!   ```
//!
//!   with the fastest and slowest of the program's runs (`bench -v`).
//!   `scripts/bench-table.sh` turns these lines into the table
//!   ([`crate::bench_table`]).
//!
//! [`ROWS`] lists every figure of the table: the benchmarks of the `bench`
//! program, then the micro-kernel's own (printed by the test root task, see
//! [`crate::suites::micro_kernel`]), with what the L4Linux paper measured
//! for the same operation where it did.

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::session::Session;
use crate::test::Test;
use std::time::Duration;

/// Who measures a figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The `bench` program, in a boot where it never waits for the disk:
    /// the same figure on every run.
    Bench,
    /// The `bench` program, in a boot with the disk benchmarks: the figure
    /// includes QEMU's disk, which finishes in host time.
    BenchDisk,
    /// The micro-kernel's test root task (`micro-kernel` suite).
    RootTask,
    /// `crash -m` on the micro-kernel booted with `inject` (the
    /// `bench-restart` suite): a server's restart, which waits for the
    /// disk (the new fs server mounts it).
    Restart,
}

/// A ratio from Härtig et al., "The Performance of µ-Kernel-Based
/// Systems", SOSP 1997: L4Linux's cost over native Linux's for the same
/// operation (for a bandwidth, Linux's MB/s over L4Linux's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaperRatio {
    /// The ratio.
    pub ratio: f64,
    /// Where in the paper, and the figures it is made of.
    pub from: &'static str,
}

/// One figure of the table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// The name the program prints (`bench NAME: ...`).
    pub name: &'static str,
    /// How the table names it (Markdown).
    pub label: &'static str,
    /// Bytes one operation moves: the table shows MB/s. 0 for a latency.
    pub bytes: u64,
    /// Who measures it.
    pub source: Source,
    /// The L4Linux paper's ratio for the same operation, if it has one.
    pub paper: Option<PaperRatio>,
    /// On the micro-kernel the figure is the same on every run only to
    /// within a fraction of a percent, not exactly (see
    /// [`crate::bench_table`]'s note: time slices carried over from the
    /// boot).
    pub micro_approximate: bool,
}

impl Row {
    const fn bench(name: &'static str, label: &'static str) -> Row {
        Row {
            name,
            label,
            bytes: 0,
            source: Source::Bench,
            paper: None,
            micro_approximate: false,
        }
    }

    const fn bytes(mut self, bytes: u64) -> Row {
        self.bytes = bytes;
        self
    }

    const fn disk(mut self) -> Row {
        self.source = Source::BenchDisk;
        self
    }

    const fn restart(mut self) -> Row {
        self.source = Source::Restart;
        self
    }

    /// Whether the figure includes waits for QEMU's disk, which finishes
    /// in host time (so it changes from run to run: the table's †).
    pub fn waits_for_disk(&self) -> bool {
        matches!(self.source, Source::BenchDisk | Source::Restart)
    }

    const fn root_task(mut self) -> Row {
        self.source = Source::RootTask;
        self
    }

    const fn paper(mut self, ratio: f64, from: &'static str) -> Row {
        self.paper = Some(PaperRatio { ratio, from });
        self
    }

    const fn micro_approximate(mut self) -> Row {
        self.micro_approximate = true;
        self
    }
}

/// Every figure, in the table's order. The `bench` program's are in its
/// own order (`user/programs/src/bin/bench.rs`; a unit test checks).
pub const ROWS: &[Row] = &[
    Row::bench("getpid", "`getpid()`: the null system call")
        .paper(2.35, "§5.2: getpid, 1.68 µs on Linux, 3.95 µs on L4Linux"),
    Row::bench("null-read", "1-byte `read` of `/dev/null`"),
    Row::bench("pipe", "pipe latency: 1-byte round trip, 2 processes")
        .paper(1.59, "§6.1: pipe latency, 29 µs on Linux, 46 µs on L4Linux"),
    Row::bench("pipe-bw-4k", "pipe bandwidth, 4 KiB writes").bytes(4096),
    Row::bench("pipe-bw-64k", "pipe bandwidth, 64 KiB writes")
        .bytes(64 * 1024)
        .paper(
            1.03,
            "§6.1: pipe bandwidth, 41 MB/s on Linux, 40 MB/s on L4Linux",
        ),
    Row::bench("ctxsw", "context switch, 2 processes (lmbench `lat_ctx`)"),
    Row::bench("fork", "`fork` + `exit` + `wait`"),
    Row::bench("fork-exec", "`fork` + `exec` `/bin/true` + `exit` + `wait`"),
    Row::bench("page-fault", "new page: `sbrk` + first touch, per page"),
    Row::bench("matmul", "VM test: 128×128 matrix product in fresh memory"),
    Row::bench("file-read-4k", "4 KiB `read` of a cached file").bytes(4096),
    Row::bench("aim", "AIM-style shell script (16 lines, 36 programs)")
        .paper(
            1.05,
            "§5.3 and the abstract: AIM's maximum throughput 5% below native Linux's",
        )
        .micro_approximate(),
    Row::bench("create-delete", "create + delete an empty file").disk(),
    Row::bench("file-write-4k", "4 KiB `write` to a cached file")
        .bytes(4096)
        .disk(),
    Row::bench("seq-write-8m", "sequential write, 8 MiB")
        .bytes(8 << 20)
        .disk(),
    Row::bench("seq-read-8m", "sequential read, 8 MiB (uncached)")
        .bytes(8 << 20)
        .disk(),
    Row::bench(
        "restart-fs",
        "micro-kernel: fs server restart, from the injected fault to the first answer",
    )
    .restart(),
    Row::bench("null-syscall", "micro-kernel alone: null system call").root_task(),
    Row::bench(
        "ipc-roundtrip-spaces",
        "micro-kernel alone: IPC round trip, 2 spaces",
    )
    .root_task(),
    Row::bench(
        "ipc-roundtrip-threads",
        "micro-kernel alone: IPC round trip, 1 space",
    )
    .root_task(),
];

/// The rows a source measures, in order.
pub fn rows_from(source: Source) -> impl Iterator<Item = &'static Row> {
    ROWS.iter().filter(move |row| row.source == source)
}

/// How long `bench -q` may take (a few seconds on either kernel).
const QUICK_TIMEOUT: Duration = Duration::from_secs(120);

/// How long one benchmark of a measurement may take, warm-up and 9 runs
/// (the slowest, the disk benchmarks, take well under a minute).
const BENCHMARK_TIMEOUT: Duration = Duration::from_secs(240);

/// How long a whole measurement may take, boot included.
const MEASUREMENT_TIME_LIMIT: Duration = Duration::from_secs(900);

/// The `bench-quick` suite's test.
pub fn quick_tests() -> Vec<Test> {
    vec![Test::new("bench-quick", 0, run_quick).depends_on("boot")]
}

/// The `bench` suite's tests: the measurements.
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("bench", 0, run_deterministic)
            .icount()
            .time_limit(MEASUREMENT_TIME_LIMIT),
        Test::new("bench-disk", 0, run_disk)
            .icount_host_idle()
            .time_limit(MEASUREMENT_TIME_LIMIT),
    ]
}

/// The `bench-restart` suite's test: the restart of a crashed fs server
/// (micro-kernel only: the mono-kernel stops), `crash -m 9`. It measures
/// from the `stat` that meets the fault to its answer from the new copy:
/// root's report, the restart, the new copy's mount of the disk, vfs's
/// resync, and the request itself (`user/programs/src/bin/crash.rs`).
pub fn restart_tests() -> Vec<Test> {
    vec![
        Test::new("bench-restart", 0, run_restart)
            .only_on(crate::qemu::Kernel::Micro)
            .kernel_cmdline(crate::suites::fault_isolation::INJECT_CMDLINE)
            .expects_crash()
            .icount_host_idle()
            .time_limit(MEASUREMENT_TIME_LIMIT),
    ]
}

fn run_restart(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    session.send_line(&format!("crash -m {RESTART_RUNS}"))?;
    let names: Vec<&str> = rows_from(Source::Restart).map(|row| row.name).collect();
    print_figures(session, &names)
}

/// Restarts `crash -m` times (each one crash, restart and request).
const RESTART_RUNS: u32 = 9;

/// `bench -q`: every benchmark must print a figure.
fn run_quick(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command_with_timeout("bench -q", QUICK_TIMEOUT)?;
    let names: Vec<&str> = rows_from(Source::Bench)
        .chain(rows_from(Source::BenchDisk))
        .map(|row| row.name)
        .collect();
    let figures = parse_output(&output);
    for name in &names {
        if !figures.iter().any(|figure| figure.name == *name) {
            return Err(Failure::check(format!(
                "bench -q printed no figure for {name}; output: {output:?}"
            )));
        }
    }
    Failure::ensure(figures.len() == names.len(), || {
        format!("bench -q printed other figures than {names:?}: {output:?}")
    })
}

fn run_deterministic(session: &mut Session) -> Result<(), Failure> {
    measure(session, Source::Bench)
}

fn run_disk(session: &mut Session) -> Result<(), Failure> {
    measure(session, Source::BenchDisk)
}

/// Runs `bench -v` with the benchmarks of `source` and prints each figure.
fn measure(session: &mut Session, source: Source) -> Result<(), Failure> {
    session.expect_prompt()?;
    let names: Vec<&str> = rows_from(source).map(|row| row.name).collect();
    session.send_line(&format!("bench -v {}", names.join(" ")))?;
    print_figures(session, &names)
}

/// Reads the figure of each of `names` (`bench NAME: N ticks/op`, with the
/// runs line before it) and prints it for the table.
fn print_figures(session: &mut Session, names: &[&str]) -> Result<(), Failure> {
    let kernel = session.machine().kernel.name();
    for name in names {
        let line = Pattern::regex(&format!(
            r"(?:  \(\d+ runs of \d+ ops: (\d+) to (\d+) ticks/op\)\n)?bench {name}: (\d+ ticks/op|FAILED[^\n]*)"
        ));
        let found = session.expect(line, BENCHMARK_TIMEOUT)?;
        let result = found.group(3).unwrap_or("");
        let Some(ticks) = result.strip_suffix(" ticks/op") else {
            return Err(Failure::check(format!("bench {name}: {result}")));
        };
        let runs = match (found.group(1), found.group(2)) {
            (Some(fastest), Some(slowest)) => format!(" (runs {fastest}..{slowest})"),
            _ => String::new(),
        };
        println!("bench/{kernel}: {name} = {ticks} ticks/op{runs}");
    }
    session.expect_prompt()
}

/// One figure of `bench`'s output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    /// The benchmark.
    pub name: String,
    /// Ticks per operation.
    pub ticks: u64,
}

/// The figures in `bench`'s output (`bench NAME: N ticks/op ...` lines).
pub fn parse_output(output: &str) -> Vec<Figure> {
    let line =
        regex::Regex::new(r"(?m)^bench ([a-z0-9-]+): (\d+) ticks/op").expect("a valid regex");
    line.captures_iter(output)
        .filter_map(|captures| {
            Some(Figure {
                name: captures[1].to_string(),
                ticks: captures[2].parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lines_parse_with_and_without_bandwidth() {
        let output = "bench getpid: 153 ticks/op\n  (9 runs of 16 ops: 1 to 2 ticks/op)\n\
                      bench pipe-bw-4k: 3639 ticks/op (4096 bytes: 1125 MB/s at 1 GHz)\n\
                      bench aim: FAILED: sh exited with status 1\n";
        assert_eq!(
            parse_output(output),
            [
                Figure {
                    name: "getpid".into(),
                    ticks: 153
                },
                Figure {
                    name: "pipe-bw-4k".into(),
                    ticks: 3639
                }
            ]
        );
    }

    #[test]
    fn rows_are_unique_and_the_programs_benchmarks_in_its_order() {
        let mut names: Vec<&str> = ROWS.iter().map(|row| row.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROWS.len());
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../user/programs/src/bin/bench.rs"
        );
        let source = std::fs::read_to_string(path).expect("bench.rs");
        let entry = regex::Regex::new(r#"name: "([a-z0-9-]+)","#).unwrap();
        let theirs: Vec<&str> = entry
            .captures_iter(&source)
            .map(|found| found.get(1).unwrap().as_str())
            .collect();
        let ours: Vec<&str> = rows_from(Source::Bench)
            .chain(rows_from(Source::BenchDisk))
            .map(|row| row.name)
            .collect();
        let not_in_rows: Vec<&&str> = theirs.iter().filter(|name| !ours.contains(name)).collect();
        let not_in_bench: Vec<&&str> = ours.iter().filter(|name| !theirs.contains(name)).collect();
        assert!(
            not_in_rows.is_empty() && not_in_bench.is_empty(),
            "ROWS (grading/src/suites/bench.rs) lacks {not_in_rows:?}, which the bench program \
             has; BENCHMARKS (user/programs/src/bin/bench.rs) lacks {not_in_bench:?}, which ROWS has"
        );
        assert_eq!(
            theirs, ours,
            "ROWS must list the bench program's benchmarks in its order"
        );
        let root_task: Vec<&str> = rows_from(Source::RootTask).map(|row| row.name).collect();
        assert_eq!(root_task, crate::suites::micro_kernel::BENCHMARKS);
    }

    #[test]
    fn the_measurement_pattern_takes_the_runs_line_just_before() {
        let pattern = regex::Regex::new(
            r"(?:  \(\d+ runs of \d+ ops: (\d+) to (\d+) ticks/op\)\n)?bench ctxsw: (\d+ ticks/op|FAILED[^\n]*)",
        )
        .unwrap();
        let output = "  (9 runs of 500 ops: 1 to 1 ticks/op)\n  (9 runs of 500 ops: 7 to 9 ticks/op)\nbench ctxsw: 3 ticks/op\n";
        let found = pattern.captures(output).unwrap();
        assert_eq!((&found[1], &found[2], &found[3]), ("7", "9", "3 ticks/op"));
        let failed = pattern
            .captures("bench ctxsw: FAILED: fork: out of memory")
            .unwrap();
        assert!(failed.get(1).is_none() && found.get(3).is_some());
        assert_eq!(&failed[3], "FAILED: fork: out of memory");
    }
}
