//! `cargo xtask fuzz`: run a cargo-fuzz target from `fuzz/`, outside the workspace (issue 8).

use anyhow::bail;

// TODO(issue 8): take `<target>` and `--secs N`, check that `cargo fuzz` is installed, then run
// `cargo fuzz run <target> -s none -- -max_total_time=N` in `fuzz/` (works on stable).
pub(crate) fn run() -> anyhow::Result<()> {
    bail!("not implemented yet: see issue 8")
}
