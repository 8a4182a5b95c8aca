//! `cargo xtask ci`: the checks CI runs, in order, stopping at the first failure.

use anyhow::{Context, bail};

/// Each step: a short name and cargo's arguments. Cheap checks come first so they fail fast.
const STEPS: &[(&str, &[&str])] = &[
    ("fmt", &["fmt", "--all", "--", "--check"]),
    ("clippy", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    ("test", &["test", "--workspace"]),
];

pub(crate) fn run() -> anyhow::Result<()> {
    for (name, args) in STEPS {
        let shown = format!("cargo {}", args.join(" "));
        eprintln!("==> {shown}");
        let status = crate::cargo().args(*args).status().with_context(|| format!("starting `{shown}`"))?;
        if !status.success() {
            bail!("ci step `{name}` failed ({status}): `{shown}`");
        }
    }
    eprintln!("ci: all {} steps passed", STEPS.len());
    Ok(())
}
