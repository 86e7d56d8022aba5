//! The performance targets of `make bench`, each with the figure it is
//! about and whether the figure meets it: `build/bench/targets.md`, which
//! `make figures` copies into `docs/performance.md` (the prose there says
//! where the instructions of every miss go).
//!
//! A target is a limit on one kernel's figure or on the micro / mono
//! ratio of a row of the main table ([`crate::bench_table`]), in guest
//! instructions under `-icount` (under KVM the table is made all the same,
//! but the limits were set for instructions).

use crate::bench_table::{Table, TableRow};
use std::fmt::Write;

/// What a target limits.
#[derive(Clone, Copy, Debug)]
pub enum Measure {
    /// The mono-kernel's figure of a row.
    Mono,
    /// The micro-kernel's figure of a row.
    Micro,
    /// The row's micro / mono ratio.
    Ratio,
    /// For a bandwidth row's micro-kernel figure: its cost over that of
    /// another row (the one named), e.g. writing over reading.
    MicroOver(&'static str),
    /// The same for the mono-kernel.
    MonoOver(&'static str),
}

/// One target.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// What it says, for people.
    pub label: &'static str,
    /// The row of the main table (its benchmark name).
    pub row: &'static str,
    /// What is limited.
    pub measure: Measure,
    /// The figure must be at most this.
    pub at_most: f64,
}

/// The targets, in the order the docs discuss them.
pub const TARGETS: &[Target] = &[
    Target {
        label: "mono-kernel `getpid`, instructions",
        row: "getpid",
        measure: Measure::Mono,
        at_most: 100.0,
    },
    Target {
        label: "micro-kernel IPC round trip across spaces, instructions",
        row: "ipc-roundtrip-spaces",
        measure: Measure::Micro,
        at_most: 300.0,
    },
    Target {
        label: "`getpid`, micro / mono",
        row: "getpid",
        measure: Measure::Ratio,
        at_most: 3.0,
    },
    Target {
        label: "pipe round trip, micro / mono",
        row: "pipe",
        measure: Measure::Ratio,
        at_most: 2.0,
    },
    Target {
        label: "AIM-style script, micro / mono",
        row: "aim",
        measure: Measure::Ratio,
        at_most: 1.10,
    },
    Target {
        label: "mono-kernel: sequential write's cost over sequential read's",
        row: "seq-write-8m",
        measure: Measure::MonoOver("seq-read-8m"),
        at_most: 2.0,
    },
    Target {
        label: "micro-kernel: sequential write's cost over sequential read's",
        row: "seq-write-8m",
        measure: Measure::MicroOver("seq-read-8m"),
        at_most: 2.0,
    },
];

impl Target {
    /// The figure the target is about, if the table has it.
    pub fn figure(&self, table: &Table) -> Option<f64> {
        let row = find(table, self.row)?;
        let ticks =
            |figure: &Option<crate::bench_table::Figure>| figure.as_ref().map(|f| f.ticks as f64);
        match self.measure {
            Measure::Mono => ticks(&row.mono),
            Measure::Micro => ticks(&row.micro),
            Measure::Ratio => row.ratio(),
            Measure::MicroOver(other) => {
                Some(ticks(&row.micro)? / ticks(&find(table, other)?.micro)?)
            }
            Measure::MonoOver(other) => Some(ticks(&row.mono)? / ticks(&find(table, other)?.mono)?),
        }
    }
}

/// The row of `table` measuring `name`.
fn find<'t>(table: &'t Table, name: &str) -> Option<&'t TableRow> {
    table.rows.iter().find(|row| row.row.name == name)
}

/// The targets as a Markdown table: target, limit, the figure now, met.
pub fn markdown(table: &Table) -> String {
    let mut out = String::from("| target | at most | now | met |\n|---|---:|---:|---|\n");
    for target in TARGETS {
        let (now, met) = match target.figure(table) {
            None => ("—".to_string(), "not measured"),
            Some(value) => (
                number(value, target.measure),
                if value <= target.at_most { "yes" } else { "no" },
            ),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {now} | {met} |",
            target.label,
            number(target.at_most, target.measure)
        );
    }
    let _ = write!(
        out,
        "\nFrom the table above (`make bench`): {}. A ratio is cost over cost.\n",
        table.what_a_figure_is()
    );
    out
}

/// A figure for people: instructions as whole numbers with commas, ratios
/// with two places.
fn number(value: f64, measure: Measure) -> String {
    match measure {
        Measure::Mono | Measure::Micro => crate::bench_table::with_commas(value.round() as u64),
        Measure::Ratio | Measure::MicroOver(_) | Measure::MonoOver(_) => format!("{value:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench_table::parse_log;
    use crate::qemu::Accel;
    use crate::suites::bench::ROWS;

    #[test]
    fn every_target_names_rows_of_the_table() {
        for target in TARGETS {
            assert!(
                ROWS.iter().any(|row| row.name == target.row),
                "{}",
                target.row
            );
            if let Measure::MicroOver(other) | Measure::MonoOver(other) = target.measure {
                assert!(ROWS.iter().any(|row| row.name == other), "{other}");
            }
        }
    }

    #[test]
    fn targets_are_judged_on_the_figures() {
        let log = parse_log(
            "bench/mono: getpid = 116 ticks/op\n\
             bench/micro: getpid = 232 ticks/op\n\
             bench/micro: ipc-roundtrip-spaces = 492 guest instructions\n\
             bench/micro: seq-write-8m = 150 ticks/op (runs 150..150)\n\
             bench/micro: seq-read-8m = 100 ticks/op (runs 100..100)\n",
        );
        let text = markdown(&Table::new(Accel::Tcg, &[log]));
        let line = |start: &str| {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap()
                .to_string()
        };
        assert_eq!(
            line("| mono-kernel `getpid`"),
            "| mono-kernel `getpid`, instructions | 100 | 116 | no |"
        );
        assert!(line("| micro-kernel IPC").ends_with("| 300 | 492 | no |"));
        assert!(line("| `getpid`, micro / mono").ends_with("| 3.00 | 2.00 | yes |"));
        assert!(line("| pipe round trip").ends_with("| — | not measured |"));
        assert!(line("| micro-kernel: sequential").ends_with("| 1.50 | yes |"));
    }

    #[test]
    fn instructions_below_a_hundred_are_whole_numbers() {
        let log = parse_log("bench/mono: getpid = 94 ticks/op\n");
        let text = markdown(&Table::new(Accel::Tcg, &[log]));
        assert!(
            text.contains("| mono-kernel `getpid`, instructions | 100 | 94 | yes |"),
            "{text}"
        );
    }
}
