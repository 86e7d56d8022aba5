//! The co-location table of `make bench`: the micro-kernel as it is (the
//! file system in a server of its own) beside the same micro-kernel with
//! the fs code linked into the vfs server (`make micro-colocated`), every
//! benchmark both ran, with the mono-kernel for scale.
//!
//! It answers the L4Linux paper's question from the other side: the paper
//! asks what moving Linux onto a microkernel costs; this table asks how
//! much of the micro-kernel's cost one IPC hop between two servers is, by
//! taking that hop away (vfs calls `fs::handler::handle` where it sent fs a
//! message) and measuring again. `docs/performance.md` reads it.
//!
//! The input is two [`Table`]s made as for the main table: one from the
//! normal runs, one from runs of the co-located kernel (whose figures the
//! grader prints as `bench/micro:` too, as it is a micro-kernel).

use crate::bench_table::{Figure, Table};
use crate::suites::bench::{Row, Source};
use std::fmt::Write;

/// The table in Markdown, with its note: one line per benchmark that both
/// micro-kernel builds measured.
pub fn markdown(separate: &Table, colocated: &Table) -> String {
    let mut out = String::new();
    out.push_str(
        "| guest instructions per operation | micro-kernel, fs server | micro-kernel, fs in vfs | \
         instructions saved | mono-kernel |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|\n");
    for (row, colocated_row) in separate.rows.iter().zip(&colocated.rows) {
        let (Some(apart), Some(together)) = (&row.micro, &colocated_row.micro) else {
            continue;
        };
        if row.row.source == Source::RootTask {
            continue; // the micro-kernel alone: no server is involved
        }
        let label = if row.row.source == Source::BenchDisk {
            format!("{} †", row.row.label)
        } else {
            row.row.label.to_string()
        };
        let mono = row
            .mono
            .as_ref()
            .map_or("—".to_string(), |figure| cell(separate, row.row, figure));
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {mono} |",
            cell(separate, row.row, apart),
            cell(colocated, row.row, together),
            saved(apart.ticks, together.ticks),
        );
    }
    let _ = write!(
        out,
        "\nFigures: {}. \"fs in vfs\" is `make micro-colocated`: the same kernel and servers, \
         the fs code linked into the vfs server, which calls it where it sent fs a message. \
         Instructions saved is the share of the operation's instructions that went with the \
         vfs–fs hop (negative: the co-located build took more).\n\n\
         † Waits for QEMU's emulated disk: the figure may change from run to run.\n",
        separate.what_a_figure_is()
    );
    out
}

/// A figure in its row's unit (MB/s for a bandwidth under TCG).
fn cell(table: &Table, row: &Row, figure: &Figure) -> String {
    table.value_text(row, figure.ticks)
}

/// How much of `apart`'s instructions `together` saved, as a percentage.
fn saved(apart: u64, together: u64) -> String {
    if apart == 0 {
        return "—".to_string();
    }
    let percent = (apart as f64 - together as f64) * 100.0 / apart as f64;
    format!("{percent:.0}%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench_table::parse_log;
    use crate::qemu::Accel;

    #[test]
    fn rows_both_builds_measured_with_what_the_hop_cost() {
        let separate = parse_log(
            "bench/mono: getpid = 116 ticks/op\n\
             bench/micro: getpid = 866 ticks/op\n\
             bench/micro: create-delete = 62951 ticks/op (runs 62951..62951)\n\
             bench/micro: pipe = 10946 ticks/op\n\
             bench/micro: ipc-roundtrip-spaces = 492 guest instructions\n",
        );
        let colocated = parse_log(
            "bench/micro: getpid = 866 ticks/op\n\
             bench/micro: create-delete = 47213 ticks/op (runs 47213..47213)\n\
             bench/micro: ipc-roundtrip-spaces = 492 guest instructions\n",
        );
        let text = markdown(
            &Table::new(Accel::Tcg, &[separate]),
            &Table::new(Accel::Tcg, &[colocated]),
        );
        let getpid = text.lines().find(|l| l.contains("`getpid()`")).unwrap();
        assert!(getpid.contains("| 866 | 866 | 0% | 116 |"), "{getpid}");
        let create = text
            .lines()
            .find(|l| l.contains("create + delete"))
            .unwrap();
        assert!(create.contains("| 62,951 | 47,213 | 25% | — |"), "{create}");
        assert!(create.contains('†'));
        assert!(!text.contains("pipe latency"), "only one build measured it");
        assert!(
            !text.contains("IPC round trip"),
            "the kernel alone is not compared"
        );
    }

    #[test]
    fn a_slower_colocated_figure_is_a_negative_saving() {
        assert_eq!(saved(100, 110), "-10%");
        assert_eq!(saved(0, 5), "—");
    }
}
