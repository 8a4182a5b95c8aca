//! Progress bars (one per stage, on stderr, only when it is a terminal) and warnings.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pipeline::STAGE_NAMES;

pub(crate) struct Progress {
    multi: MultiProgress,
    /// One bar per entry of `STAGE_NAMES`, present while that stage runs.
    bars: Mutex<Vec<Option<ProgressBar>>>,
    enabled: bool,
    quiet: bool,
}

impl Progress {
    pub(crate) fn new(enabled: bool, quiet: bool) -> Progress {
        let enabled = enabled && !quiet && std::io::stderr().is_terminal();
        let target = if enabled { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        Progress {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(vec![None; STAGE_NAMES.len()]),
            enabled,
            quiet,
        }
    }

    /// Adds a bar per stage that will run, each measured in input bytes.
    pub(crate) fn start(&self, total_bytes: u64, corpus_stages: bool) {
        if !self.enabled {
            return;
        }
        let style = ProgressStyle::with_template(
            "{prefix:>9} {bar:30.cyan/blue} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} eta {eta}",
        )
        .expect("progress template is valid")
        .progress_chars("█▉▊▋▌▍▎▏ ");
        let n_stages = if corpus_stages { STAGE_NAMES.len() } else { 2 };
        let mut bars = self.bars.lock().expect("progress lock");
        for (i, slot) in bars.iter_mut().enumerate().take(n_stages) {
            let bar = self.multi.add(ProgressBar::new(total_bytes).with_style(style.clone()));
            bar.set_prefix(STAGE_NAMES[i]);
            *slot = Some(bar);
        }
    }

    pub(crate) fn advance(&self, stage: usize, bytes: u64) {
        if !self.enabled {
            return;
        }
        if let Some(Some(bar)) = self.bars.lock().expect("progress lock").get(stage) {
            bar.inc(bytes);
        }
    }

    /// Restarts the clocks of stages that start late (phase 2), so their rate and ETA
    /// count only their own time.
    pub(crate) fn restart(&self, stages: &[usize]) {
        let bars = self.bars.lock().expect("progress lock");
        for &stage in stages {
            if let Some(Some(bar)) = bars.get(stage) {
                bar.reset_elapsed();
                bar.reset_eta();
            }
        }
    }

    pub(crate) fn finish(&self) {
        for bar in self.bars.lock().expect("progress lock").iter_mut() {
            if let Some(bar) = bar.take() {
                bar.finish();
            }
        }
    }

    /// A warning line on stderr that does not tear the bars.
    #[allow(clippy::print_stderr)]
    pub(crate) fn warn(&self, message: &str) {
        if !self.quiet {
            self.multi.suspend(|| eprintln!("warning: {message}"));
        }
    }

    #[allow(clippy::print_stderr)]
    pub(crate) fn info(&self, message: &str) {
        if !self.quiet {
            self.multi.suspend(|| eprintln!("{message}"));
        }
    }
}
