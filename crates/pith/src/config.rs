//! The validated configuration of a run: every stage's config (part of its cache keys)
//! and the driver's own settings. Built from the embedded defaults, an optional TOML
//! file and the command-line flags, in that order.

use std::path::{Path, PathBuf};

use anyhow::Context;
use pith_dedup::DedupConfig;
use pith_features::FeaturesConfig;
use pith_strip::StripConfig;
use serde::{Deserialize, Serialize};

/// The stage configs. `pith run --print-config` shows the defaults as TOML.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct StagesConfig {
    pub(crate) strip: StripConfig,
    pub(crate) dedup: DedupConfig,
    pub(crate) features: FeaturesConfig,
}

impl StagesConfig {
    pub(crate) fn load(path: &Path) -> anyhow::Result<StagesConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read config", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{}: invalid config", path.display()))
    }
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub(crate) struct RunConfig {
    pub(crate) stages: StagesConfig,
    pub(crate) cache_dir: Option<PathBuf>,
    /// Whether `--cache-dir` was given (a planned run's tasks use the plan's otherwise).
    pub(crate) cache_dir_given: bool,
    pub(crate) max_doc_bytes: u64,
    /// Bytes of shingle sets the exact check of near-duplicate candidates may hold at once
    /// (`--dedup-memory`); it does not change the output.
    pub(crate) dedup_memory: u64,
    pub(crate) progress: bool,
    pub(crate) verbose: bool,
    pub(crate) quiet: bool,
}

/// `$PITH_CACHE_DIR`, else `$XDG_CACHE_HOME/pith`, else `~/.cache/pith`, else
/// `.pith-cache` in the current directory.
pub(crate) fn default_cache_dir() -> PathBuf {
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = env("PITH_CACHE_DIR") {
        return dir;
    }
    if let Some(dir) = env("XDG_CACHE_HOME") {
        return dir.join("pith");
    }
    if let Some(home) = env("HOME") {
        return home.join(".cache").join("pith");
    }
    PathBuf::from(".pith-cache")
}
