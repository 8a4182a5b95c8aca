//! A planned run: the pipeline as independent tasks that a scheduler starts (Slurm job
//! arrays, or anything that can start a process with an index), on machines that share
//! a filesystem.
//!
//! `pith plan` writes `OUT/plan.json`, an immutable manifest: the input files in order,
//! with sizes and modification times, each assigned to a plan shard (contiguous runs of
//! files, balanced by size), and the stage settings. Then four stages of tasks:
//! `map` (per plan shard: parse → strip → dedup map) → `reduce` (one: the corpus pass) →
//! `apply` (per plan shard: dedup apply → features → records) → `merge` (one: the
//! shards' records concatenated in order, then `summary.json`). Each task calls the same
//! `Runner` phases as `pith run`, on the same files in the same order, so the record
//! files are byte-identical to a local run's whatever the number of plan shards.
//!
//! Ids: a local run's reader makes document ids unique across the corpus (`#2`, ...);
//! a map task's reader sees only its plan shard, so the reduce redoes the renaming across
//! plan shards (from id hashes, with the strings only of the documents concerned) and the
//! apply tasks give those documents their new ids.
//!
//! Invariants: a task writes its outputs under temporary names and renames them, then
//! writes its completion marker (`work/_done/<stage>-<index>.json`, naming the plan's
//! hash) last; a task whose marker matches exits at once, so resubmitting re-runs only
//! what is missing. A failed task leaves `work/_failed/<stage>-<index>.json` and exits
//! non-zero. Nothing but `OUT` and the cache directory is ever written.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use pith_cache::{Key, fingerprint};
use pith_dedup::{CorpusStats, LineCounts};
use pith_features::keywords::{DocFreq, DocFreqSum};
use serde::{Deserialize, Serialize};

use crate::config::{RunConfig, StagesConfig};
use crate::output::{RunOutput, ShardLines};
use crate::pipeline::{MapOutput, Runner, STAGE_NAMES, Sink, Stage, StageStats, Totals};
use pith::input::{self, InputFile};

/// Bump when the layout of `OUT/plan.json` or `OUT/work` changes.
const PLAN_FORMAT: u32 = 1;
const PLAN_FILE: &str = "plan.json";

/// The stages of a planned run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TaskStage {
    Map,
    Reduce,
    Apply,
    Merge,
}

impl TaskStage {
    pub(crate) const ALL: [TaskStage; 4] = [TaskStage::Map, TaskStage::Reduce, TaskStage::Apply, TaskStage::Merge];

    pub(crate) fn name(self) -> &'static str {
        match self {
            TaskStage::Map => "map",
            TaskStage::Reduce => "reduce",
            TaskStage::Apply => "apply",
            TaskStage::Merge => "merge",
        }
    }

    /// Whether the stage has a task per plan shard (else a single task).
    pub(crate) fn per_shard(self) -> bool {
        matches!(self, TaskStage::Map | TaskStage::Apply)
    }

    fn previous(self) -> Option<TaskStage> {
        match self {
            TaskStage::Map => None,
            TaskStage::Reduce => Some(TaskStage::Map),
            TaskStage::Apply => Some(TaskStage::Reduce),
            TaskStage::Merge => Some(TaskStage::Apply),
        }
    }
}

/// `OUT/plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub(crate) format: u32,
    pub(crate) pith_version: String,
    pub(crate) shards: usize,
    pub(crate) max_doc_bytes: u64,
    /// The cache the tasks share (absolute), unless a task is given `--cache-dir`; none
    /// means each task uses a scratch cache.
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) stages: StagesConfig,
    pub(crate) inputs: Vec<PlannedFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlannedFile {
    /// Absolute.
    pub(crate) path: PathBuf,
    /// As `pith run` names it in the records' `path`.
    pub(crate) rel: String,
    pub(crate) size: u64,
    pub(crate) modified_ns: u64,
    pub(crate) shard: usize,
}

fn modified_ns(meta: &fs::Metadata) -> u64 {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as u64)
}

/// Plan shard of each file: contiguous runs, cut where the bytes before a file pass the
/// next multiple of total/n. Some shards are empty when there are fewer files than shards.
fn assign(sizes: &[u64], n: usize) -> Vec<usize> {
    let total: u128 = sizes.iter().map(|&s| u128::from(s.max(1))).sum();
    let mut before = 0u128;
    sizes
        .iter()
        .map(|&s| {
            let shard = (before * n as u128 / total.max(1)) as usize;
            before += u128::from(s.max(1));
            shard.min(n - 1)
        })
        .collect()
}

/// Writes `OUT/plan.json` for `files`. Planning the same inputs and settings again is a
/// no-op; a different plan for an existing one is an error (the plan is immutable: the
/// tasks' outputs and markers belong to it).
pub(crate) fn plan(files: &[InputFile], shards: usize, cfg: &RunConfig, out: &Path) -> anyhow::Result<Plan> {
    ensure!(shards > 0, "--shards must be at least 1");
    let mut inputs = Vec::with_capacity(files.len());
    for file in files {
        let input::Location::File(path) = &file.location else {
            bail!("a planned run reads its inputs again in each task: standard input cannot be planned");
        };
        let path = std::path::absolute(path).with_context(|| format!("{}: cannot resolve", path.display()))?;
        let meta = fs::metadata(&path).with_context(|| format!("{}: cannot read input", path.display()))?;
        inputs.push(PlannedFile {
            path,
            rel: file.rel.clone(),
            size: meta.len(),
            modified_ns: modified_ns(&meta),
            shard: 0,
        });
    }
    let sizes: Vec<u64> = inputs.iter().map(|f| f.size).collect();
    for (file, shard) in inputs.iter_mut().zip(assign(&sizes, shards)) {
        file.shard = shard;
    }
    let cache_dir = match &cfg.cache_dir {
        Some(dir) => Some(std::path::absolute(dir).with_context(|| format!("{}: cannot resolve", dir.display()))?),
        None => None,
    };
    let plan = Plan {
        format: PLAN_FORMAT,
        pith_version: env!("CARGO_PKG_VERSION").to_owned(),
        shards,
        max_doc_bytes: cfg.max_doc_bytes,
        cache_dir,
        stages: cfg.stages.clone(),
        inputs,
    };
    let mut text = serde_json::to_string_pretty(&plan)?;
    text.push('\n');
    let path = out.join(PLAN_FILE);
    match fs::read_to_string(&path) {
        Ok(old) if old == text => return Ok(plan),
        Ok(_) => bail!(
            "{} holds another plan (other inputs, files changed since, or other settings); \
             plan into a new output directory, or remove this one",
            path.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("{}: cannot read", path.display())),
    }
    fs::create_dir_all(out).with_context(|| format!("{}: cannot create output directory", out.display()))?;
    write_atomic(&path, text.as_bytes())?;
    Ok(plan)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().expect("work paths have a parent");
    let write = || -> std::io::Result<()> {
        fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, bytes)?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("{}: cannot write", path.display()))
}

/// A task's completion marker: which plan it belongs to, and its counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Marker {
    pub(crate) plan: String,
    pub(crate) stage: String,
    pub(crate) index: usize,
    /// The Slurm job (`<array job>_<task>` or `<job>`) that ran it, if any.
    pub(crate) job: Option<String>,
    pub(crate) seconds: f64,
    pub(crate) finished_unix: u64,
    pub(crate) totals: Totals,
    pub(crate) stages: Vec<StageStats>,
}

/// What the reduce leaves for one plan shard's apply task.
#[derive(Debug, Serialize, Deserialize)]
struct ShardCorpus {
    /// Corpus ordinal of the shard's first document.
    first: u64,
    corpus: CorpusStats,
    /// Documents (by position in the shard) whose ids the reduce made unique across
    /// plan shards, with their new ids.
    renames: Vec<(u64, String)>,
}

/// An output directory holding a plan.
pub(crate) struct Work {
    pub(crate) out: PathBuf,
    pub(crate) plan: Plan,
    key: Key,
    hash: String,
}

impl Work {
    pub(crate) fn open(out: &Path) -> anyhow::Result<Work> {
        let out = std::path::absolute(out).with_context(|| format!("{}: cannot resolve", out.display()))?;
        let path = out.join(PLAN_FILE);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read the plan (write it with `pith plan`)", path.display()))?;
        let plan: Plan = serde_json::from_str(&text).with_context(|| format!("{}: not a pith plan", path.display()))?;
        ensure!(
            plan.format == PLAN_FORMAT,
            "{}: plan format {}, this pith reads {PLAN_FORMAT}: plan again with this version",
            path.display(),
            plan.format
        );
        ensure!(plan.shards > 0, "{}: a plan needs at least one shard", path.display());
        // The plan's bytes, not its parsed value: floats need not round-trip exactly.
        let key = fingerprint(text.as_bytes());
        let hash = key.hex()[..16].to_owned();
        Ok(Work { out, plan, key, hash })
    }

    /// Tasks in a stage.
    pub(crate) fn count(&self, stage: TaskStage) -> usize {
        if stage.per_shard() { self.plan.shards } else { 1 }
    }

    fn work(&self) -> PathBuf {
        self.out.join("work")
    }

    fn marker_path(&self, dir: &str, stage: TaskStage, index: usize) -> PathBuf {
        self.work().join(dir).join(format!("{}-{index:05}.json", stage.name()))
    }

    fn data_path(&self, stage: TaskStage, index: usize) -> PathBuf {
        self.work().join(stage.name()).join(format!("{index:05}.bin"))
    }

    /// The corpus's term document frequencies, written by the reduce.
    fn doc_freq_path(&self) -> PathBuf {
        self.work().join("reduce").join("docfreq.bin")
    }

    fn apply_dir(&self, index: usize) -> PathBuf {
        self.work().join("apply").join(format!("{index:05}"))
    }

    /// Where the Slurm logs go.
    pub(crate) fn logs(&self) -> PathBuf {
        self.work().join("logs")
    }

    /// The task's completion marker, when it belongs to this plan.
    pub(crate) fn marker(&self, stage: TaskStage, index: usize) -> Option<Marker> {
        let text = fs::read_to_string(self.marker_path("_done", stage, index)).ok()?;
        serde_json::from_str::<Marker>(&text).ok().filter(|m| m.plan == self.hash)
    }

    /// Indices of the stage's tasks without a matching completion marker.
    pub(crate) fn missing(&self, stage: TaskStage) -> Vec<usize> {
        (0..self.count(stage)).filter(|&i| self.marker(stage, i).is_none()).collect()
    }

    /// The failure message a task left, if it failed last time it ran.
    pub(crate) fn failure(&self, stage: TaskStage, index: usize) -> Option<String> {
        fs::read_to_string(self.marker_path("_failed", stage, index)).ok()
    }

    /// Whether a task has started and not finished (it runs, or was killed).
    pub(crate) fn started(&self, stage: TaskStage, index: usize) -> bool {
        self.marker_path("_running", stage, index).exists()
    }

    /// The plan shard's input files, checked against the plan: a file changed or gone
    /// since `pith plan` is an error naming it.
    fn files(&self, shard: usize) -> anyhow::Result<Vec<InputFile>> {
        let mut res = Vec::new();
        for f in self.plan.inputs.iter().filter(|f| f.shard == shard) {
            let meta = fs::metadata(&f.path)
                .with_context(|| format!("{}: input of plan shard {shard} is gone", f.path.display()))?;
            ensure!(
                meta.len() == f.size && modified_ns(&meta) == f.modified_ns,
                "{}: input changed since `pith plan` (size or modification time): plan again into a new \
                 output directory",
                f.path.display()
            );
            let file = input::planned_file(f.path.clone(), f.rel.clone(), f.size)
                .with_context(|| format!("{}: not a readable input", f.path.display()))?;
            res.push(file);
        }
        Ok(res)
    }

    /// The run configuration of the plan's tasks: the plan's stage settings and cache,
    /// with the driver's own settings from the command line (and its cache directory,
    /// when `--cache-dir` or `--no-cache` was given).
    pub(crate) fn run_config(&self, global: &RunConfig) -> RunConfig {
        let cache_dir = match (&global.cache_dir, global.cache_dir_given) {
            (None, _) => None,
            (Some(dir), true) => Some(dir.clone()),
            (Some(_), false) => self.plan.cache_dir.clone(),
        };
        RunConfig {
            stages: self.plan.stages.clone(),
            cache_dir,
            max_doc_bytes: self.plan.max_doc_bytes,
            ..global.clone()
        }
    }
}

/// What `run_task` did.
pub(crate) enum Outcome {
    /// The task's marker was there already.
    Skipped,
    Done(Box<Marker>),
}

/// Records of a task that only feeds the corpus pass: none reach the sink.
struct NoRecords;

impl Sink for NoRecords {
    fn write(&mut self, _lines: ShardLines) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Runs one task of the plan, unless its marker says it ran already.
pub(crate) fn run_task(
    work: &Work,
    stage: TaskStage,
    index: usize,
    runner: &Runner<'_>,
    cache_dir: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let count = work.count(stage);
    ensure!(index < count, "{} has {count} {} task(s); there is no index {index}", work.out.display(), stage.name());
    if work.marker(stage, index).is_some() {
        return Ok(Outcome::Skipped);
    }
    if let Some(prev) = stage.previous() {
        let missing = work.missing(prev);
        ensure!(
            missing.is_empty(),
            "the {} stage is not finished (tasks {} have no completion marker): run them first",
            prev.name(),
            compact_ranges(&missing)
        );
    }
    let running = work.marker_path("_running", stage, index);
    let failed = work.marker_path("_failed", stage, index);
    write_atomic(&running, job_id().unwrap_or_default().as_bytes())?;
    let started = Instant::now();
    let res = match stage {
        TaskStage::Map => map_task(work, index, runner),
        TaskStage::Reduce => reduce_task(work, runner),
        TaskStage::Apply => apply_task(work, index, runner),
        TaskStage::Merge => merge_task(work, cache_dir),
    };
    let _ = fs::remove_file(&running);
    let totals = match res {
        Ok(totals) => totals,
        Err(err) => {
            let _ = write_atomic(&failed, format!("{err:#}\n").as_bytes());
            return Err(err);
        }
    };
    let marker = Marker {
        plan: work.hash.clone(),
        stage: stage.name().to_owned(),
        index,
        job: job_id(),
        seconds: started.elapsed().as_secs_f64(),
        finished_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        totals,
        stages: if stage == TaskStage::Merge { Vec::new() } else { runner.stage_stats() },
    };
    write_atomic(&work.marker_path("_done", stage, index), serde_json::to_string_pretty(&marker)?.as_bytes())?;
    let _ = fs::remove_file(&failed);
    Ok(Outcome::Done(Box::new(marker)))
}

fn job_id() -> Option<String> {
    let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(job), Some(task)) => Some(format!("{job}_{task}")),
        _ => var("SLURM_JOB_ID"),
    }
}

fn map_task(work: &Work, index: usize, runner: &Runner<'_>) -> anyhow::Result<Totals> {
    let files = work.files(index)?;
    let mut totals = Totals::default();
    let map = runner.map(&[&files], Stage::Features, &mut NoRecords, &mut totals)?;
    pith_cache::write_file(&work.data_path(TaskStage::Map, index), &work.key, &map)?;
    Ok(totals)
}

fn read_map(work: &Work, index: usize) -> anyhow::Result<MapOutput> {
    Ok(pith_cache::read_file(&work.data_path(TaskStage::Map, index), &work.key)?)
}

fn reduce_task(work: &Work, runner: &Runner<'_>) -> anyhow::Result<Totals> {
    let n = work.plan.shards;
    let mut maps: Vec<MapOutput> = Vec::with_capacity(n);
    let mut lines = LineCounts::default();
    for index in 0..n {
        let mut map = read_map(work, index)?;
        lines.merge(std::mem::take(&mut map.lines));
        maps.push(map);
    }
    let files: Vec<Vec<InputFile>> = (0..n).map(|i| work.files(i)).collect::<anyhow::Result<_>>()?;
    let groups: Vec<&[InputFile]> = files.iter().map(Vec::as_slice).collect();
    let mut sum = DocFreqSum::default();
    for map in &mut maps {
        sum.add(&std::mem::take(&mut map.doc_freq));
    }
    let doc_freq = sum.finish();
    pith_cache::write_file(&work.doc_freq_path(), &work.key, &doc_freq)?;
    let mut totals = Totals { keyword_terms: doc_freq.doc_counts.len() as u64, ..Totals::default() };
    drop(doc_freq);
    let (corpus, renames, kept) = runner.reduce(&groups, &mut maps, &lines, &mut totals);
    if let Some(kept) = kept {
        runner.keep_texts(kept);
    }
    let mut first = 0;
    for (index, (map, renames)) in maps.iter().zip(renames).enumerate() {
        let n_docs = map.docs();
        let part = ShardCorpus { first, corpus: corpus.slice(first..first + n_docs), renames };
        pith_cache::write_file(&work.data_path(TaskStage::Reduce, index), &work.key, &part)?;
        first += n_docs;
    }
    Ok(totals)
}

fn apply_task(work: &Work, index: usize, runner: &Runner<'_>) -> anyhow::Result<Totals> {
    let files = work.files(index)?;
    let map = read_map(work, index)?;
    let part: ShardCorpus = pith_cache::read_file(&work.data_path(TaskStage::Reduce, index), &work.key)?;
    let mut out = RunOutput::create(&work.apply_dir(index))?;
    let mut totals = Totals::default();
    let doc_freq: DocFreq = pith_cache::read_file(&work.doc_freq_path(), &work.key)?;
    let (shards, corpus) = (&map.shards, &part.corpus);
    runner.apply(
        &[&files],
        shards,
        part.first,
        corpus,
        &part.renames,
        &doc_freq,
        Stage::Features,
        &mut out,
        &mut totals,
    )?;
    out.finish(&serde_json::to_value(&totals)?)?;
    Ok(totals)
}

fn merge_task(work: &Work, cache_dir: Option<&Path>) -> anyhow::Result<Totals> {
    let mut totals = Totals::default();
    let mut stages = vec![StageStats::default(); STAGE_NAMES.len()];
    let mut seconds = 0.0;
    for stage in [TaskStage::Map, TaskStage::Reduce, TaskStage::Apply] {
        for index in 0..work.count(stage) {
            let marker = work.marker(stage, index).context("a task's marker vanished during the merge")?;
            totals.add(&marker.totals);
            for (sum, s) in stages.iter_mut().zip(&marker.stages) {
                sum.add(s);
            }
            seconds += marker.seconds;
        }
    }
    let mut out = RunOutput::create(&work.out)?;
    for index in 0..work.plan.shards {
        out.append(&work.apply_dir(index))?;
    }
    out.finish(&crate::output::summary(&totals, &stages, cache_dir, seconds))?;
    Ok(Totals::default())
}

/// `0-3,5,7-9`: the indices as Slurm's `--array` spells them.
pub(crate) fn compact_ranges(indices: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end += 1;
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_contiguous_balanced_and_cover_every_index() {
        assert_eq!(assign(&[10, 10, 10, 10], 2), vec![0, 0, 1, 1]);
        assert_eq!(assign(&[100, 1, 1, 1], 2), vec![0, 1, 1, 1]);
        assert_eq!(assign(&[5, 5], 4), vec![0, 2]);
        assert_eq!(assign(&[0, 0, 0], 1), vec![0, 0, 0]);
        let sizes: Vec<u64> = (0..100).map(|i| (i * 37 % 11) as u64 * 1000).collect();
        let shards = assign(&sizes, 8);
        assert!(shards.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*shards.last().unwrap(), 7);
    }

    #[test]
    fn array_specs() {
        assert_eq!(compact_ranges(&[0, 1, 2, 3, 5, 7, 8, 9]), "0-3,5,7-9");
        assert_eq!(compact_ranges(&[4]), "4");
        assert_eq!(compact_ranges(&[]), "");
    }
}
