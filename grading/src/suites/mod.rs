//! The test suites, one file per area of the system.
//!
//! To add a suite: write `suites/NAME.rs` with a `pub fn tests() -> Vec<Test>`,
//! add `pub mod NAME;` below and a line to [`all`]. Test names must be unique
//! across all suites (a unit test checks).

use crate::test::Test;

pub mod bench;
pub mod boot;
pub mod fuzz;
pub mod micro_kernel;
pub mod shell;
pub mod usertests;

/// A named group of tests (`grade --suite NAME` runs one).
#[derive(Clone, Debug)]
pub struct Suite {
    /// The suite's name, as given to `--suite`.
    pub name: &'static str,
    /// Its tests, in the order they are listed and started.
    pub tests: Vec<Test>,
}

/// Every suite, in the order they run.
pub fn all() -> Vec<Suite> {
    vec![
        Suite {
            name: "boot",
            tests: boot::tests(),
        },
        Suite {
            name: "shell",
            tests: shell::tests(),
        },
        Suite {
            name: "usertests",
            tests: usertests::tests(),
        },
        Suite {
            name: "fuzz",
            tests: fuzz::tests(),
        },
        Suite {
            name: "micro-kernel",
            tests: micro_kernel::tests(),
        },
        Suite {
            name: "bench",
            tests: bench::tests(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn test_names_are_unique_and_dependencies_exist() {
        let suites = all();
        let mut names = HashSet::new();
        for test in suites.iter().flat_map(|suite| &suite.tests) {
            assert!(names.insert(test.name), "two tests are named {}", test.name);
        }
        for test in suites.iter().flat_map(|suite| &suite.tests) {
            if let Some(dependency) = test.depends_on {
                assert!(
                    names.contains(dependency),
                    "{} depends on unknown test {dependency}",
                    test.name
                );
            }
        }
        let suite_names: HashSet<_> = suites.iter().map(|suite| suite.name).collect();
        assert_eq!(suite_names.len(), suites.len(), "two suites share a name");
    }
}
