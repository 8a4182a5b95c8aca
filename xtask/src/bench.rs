//! `cargo xtask bench`: pipeline throughput on a `gen-corpus` corpus (issue 7).

use anyhow::bail;

// TODO(issue 7): generate (or reuse) a corpus under target/ with `gen_corpus`, build pith in
// release, then time a cold run (empty cache dir) and a warm run (same cache dir) and report
// docs/s, MB/s, the cache hit rate from summary.json and peak memory.
pub(crate) fn run() -> anyhow::Result<()> {
    bail!("not implemented yet: see issue 7")
}
