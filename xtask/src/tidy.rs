//! `cargo xtask tidy`: cheap repository-wide checks, also run by plain `cargo test` (the
//! rust-analyzer convention): every crate is in ARCHITECTURE.md, every crate root opens with
//! `//!` docs, and no `dbg!` is left in the code.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub(crate) fn run() -> anyhow::Result<()> {
    let problems = check(&crate::workspace_root())?;
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    if !problems.is_empty() {
        bail!("tidy found {} problem(s)", problems.len());
    }
    eprintln!("tidy: ok");
    Ok(())
}

/// Every problem found in the workspace at `root`, one sentence each; empty when tidy.
pub(crate) fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let crates = crate_dirs(&root.join("crates"))?;

    let architecture_path = root.join("ARCHITECTURE.md");
    match std::fs::read_to_string(&architecture_path) {
        Ok(architecture) => {
            for dir in &crates {
                let name = dir.file_name().expect("crate dirs have names").to_string_lossy();
                if !architecture.contains(&format!("crates/{name}")) {
                    problems.push(format!("ARCHITECTURE.md does not mention crates/{name}"));
                }
            }
        }
        Err(err) => problems.push(format!("{}: {err}", architecture_path.display())),
    }

    for dir in &crates {
        let rel = dir.strip_prefix(root).unwrap_or(dir).display().to_string();
        let roots: Vec<PathBuf> =
            ["src/lib.rs", "src/main.rs"].iter().map(|p| dir.join(p)).filter(|p| p.is_file()).collect();
        if roots.is_empty() {
            problems.push(format!("{rel}: has neither src/lib.rs nor src/main.rs"));
        }
        for path in roots {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            if !text.starts_with("//!") {
                let rel = path.strip_prefix(root).unwrap_or(&path).display();
                problems.push(format!("{rel}: does not start with a `//!` doc comment"));
            }
        }
    }

    let mut rust_files = Vec::new();
    for dir in ["crates", "xtask"] {
        rust_files_under(&root.join(dir), &mut rust_files)?;
    }
    rust_files.sort();
    // Spelled in two pieces so that this file does not match itself.
    let needle = concat!("dbg", "!(");
    for path in rust_files {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.contains(needle) {
                let rel = path.strip_prefix(root).unwrap_or(&path).display();
                problems.push(format!("{rel}:{}: leftover {needle}", n + 1));
            }
        }
    }
    Ok(problems)
}

/// The directories directly under `crates/` that hold a Cargo.toml, sorted.
fn crate_dirs(crates: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut res = Vec::new();
    for entry in std::fs::read_dir(crates).with_context(|| format!("reading {}", crates.display()))? {
        let path = entry.with_context(|| format!("reading {}", crates.display()))?.path();
        if path.join("Cargo.toml").is_file() {
            res.push(path);
        }
    }
    res.sort();
    Ok(res)
}

/// Collects the `.rs` files under `dir`, skipping build output and hidden directories.
fn rust_files_under(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files_under(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain `cargo test` runs tidy on the workspace.
    #[test]
    fn workspace_is_tidy() {
        let problems = check(&crate::workspace_root()).unwrap();
        assert!(problems.is_empty(), "cargo xtask tidy found:\n{}", problems.join("\n"));
    }

    #[test]
    fn finds_each_kind_of_problem() {
        let root = std::env::temp_dir().join(format!("xtask-tidy-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("ARCHITECTURE.md", "## crates/good\n");
        write("crates/good/Cargo.toml", "");
        write("crates/good/src/lib.rs", "//! Documented.\n");
        write("crates/bad/Cargo.toml", "");
        // The macro is spelled in pieces so that tidy does not flag this file.
        write("crates/bad/src/main.rs", &format!("fn main() {{\n    {}1);\n}}\n", concat!("dbg", "!(")));
        write("xtask/src/main.rs", "//! Fine.\n");
        let problems = check(&root).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            problems,
            [
                "ARCHITECTURE.md does not mention crates/bad".to_owned(),
                "crates/bad/src/main.rs: does not start with a `//!` doc comment".to_owned(),
                format!("crates/bad/src/main.rs:2: leftover {}", concat!("dbg", "!(")),
            ]
        );
    }
}
