//! Rendering records as JSON lines, and writing the run's output folder.
//!
//! The shapes here are the output contract (DESIGN.md section 2): field names and order
//! are fixed by these structs, so the same input gives byte-identical files.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use pith_types::{DedupedDoc, Features, Removal, Slot, Source};
use serde::Serialize;

use crate::pipeline::{STAGE_NAMES, Sink, StageStats, Totals};
use pith::input::{Entry, RawShard};
use serde_json::json;

/// One rendered JSON line and where it goes.
#[derive(Debug)]
pub(crate) enum Line {
    Kept {
        json: String,
        bytes_out: u64,
    },
    Dropped(String),
    Failed(String),
    /// A stage record of `pith parse|strip|dedup|features`.
    Record(String),
}

#[derive(Serialize)]
struct RemovedOut<'a> {
    stage: &'a str,
    kind: &'a str,
    text: &'a str,
    rule: &'a str,
}

#[derive(Serialize)]
struct DocOut<'a> {
    id: &'a str,
    path: &'a str,
    line: Option<u64>,
    title: Option<&'a str>,
    text: &'a str,
    removed: Vec<RemovedOut<'a>>,
    features: &'a Features,
    metadata: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct DroppedOut<'a> {
    #[serde(flatten)]
    doc: DocOut<'a>,
    reason: &'a str,
    duplicate_of: Option<&'a str>,
    similarity: Option<f64>,
}

#[derive(Serialize)]
struct FailureOut<'a> {
    path: &'a str,
    line: Option<u64>,
    stage: &'a str,
    error: &'a str,
    id: Option<&'a str>,
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("output records serialise")
}

fn failure(source: &Source, stage: &str, error: &str, id: Option<&str>) -> Line {
    Line::Failed(json(&FailureOut { path: &source.path, line: source.line, stage, error, id }))
}

fn removed_out(removed: &[Removal]) -> Vec<RemovedOut<'_>> {
    removed.iter().map(|r| RemovedOut { stage: &r.stage, kind: &r.kind, text: &r.text, rule: &r.rule }).collect()
}

/// Walks a shard's entries with one stage's per-document slots (aligned with the
/// readable entries), yielding a line per entry.
fn per_entry<'s, T>(
    shard: &'s RawShard,
    slots: &'s [T],
    mut on_doc: impl FnMut(&'s pith_types::RawDoc, &'s T) -> Line,
) -> Vec<Line> {
    let mut slots = slots.iter();
    shard
        .entries
        .iter()
        .map(|entry| match entry {
            Entry::Unreadable { source, error } => failure(source, "read", error, None),
            Entry::Doc(raw) => match slots.next() {
                Some(slot) => on_doc(raw, slot),
                None => failure(&raw.source, "driver", "no stage output for this document", Some(&raw.id)),
            },
        })
        .collect()
}

pub(crate) fn render_final(shard: &RawShard, deduped: &[Slot<DedupedDoc>], features: &[Slot<Features>]) -> Vec<Line> {
    let pairs: Vec<(&Slot<DedupedDoc>, &Slot<Features>)> = deduped.iter().zip(features).collect();
    per_entry(shard, &pairs, |raw, (doc, feats)| {
        let (doc, feats) = match (doc, feats) {
            (Slot::Ok(doc), Slot::Ok(feats)) => (doc, feats),
            (Slot::Failed(f), _) | (_, Slot::Failed(f)) => {
                return failure(&raw.source, &f.stage, &f.error, Some(&raw.id));
            }
        };
        let text = doc.text();
        let metadata = raw.metadata_json.as_deref().and_then(|m| serde_json::from_str(m).ok());
        let out = DocOut {
            id: &doc.id,
            path: &raw.source.path,
            line: raw.source.line,
            title: doc.title.as_deref(),
            text: &text,
            removed: removed_out(&doc.removed),
            features: feats,
            metadata,
        };
        match &doc.drop {
            None => Line::Kept { json: json(&out), bytes_out: text.len() as u64 },
            Some(drop) => Line::Dropped(json(&DroppedOut {
                doc: out,
                reason: &drop.reason,
                duplicate_of: drop.duplicate_of.as_deref(),
                similarity: drop.similarity,
            })),
        }
    })
}

pub(crate) fn render_stage<T: Serialize>(shard: &RawShard, slots: &[Slot<T>], _stage: &str) -> Vec<Line> {
    per_entry(shard, slots, |raw, slot| match slot {
        Slot::Ok(record) => Line::Record(stage_record(raw, record)),
        Slot::Failed(f) => failure(&raw.source, &f.stage, &f.error, Some(&raw.id)),
    })
}

/// A stage record led by the document's `id` (the record's own, when it has one), `path`
/// and `line`, then the record's fields in their declared order.
fn stage_record<T: Serialize>(raw: &pith_types::RawDoc, record: &T) -> String {
    let fields = match serde_json::to_value(record).expect("stage records serialise") {
        serde_json::Value::Object(map) => map,
        other => serde_json::Map::from_iter([("record".to_owned(), other)]),
    };
    let mut map = serde_json::Map::new();
    map.insert("id".to_owned(), fields.get("id").cloned().unwrap_or_else(|| raw.id.clone().into()));
    map.insert("path".to_owned(), raw.source.path.clone().into());
    map.insert("line".to_owned(), raw.source.line.into());
    map.extend(fields.into_iter().filter(|(k, _)| k != "id"));
    json(&map)
}

/// The output folder of `pith run`: each file is written under a temporary name and
/// renamed into place by `finish`, so a killed run never leaves a half-written file
/// under a final name.
pub(crate) struct RunOutput {
    dir: PathBuf,
    documents: BufWriter<File>,
    dropped: BufWriter<File>,
    failures: BufWriter<File>,
}

const FILES: [&str; 3] = ["documents.jsonl", "dropped.jsonl", "failures.jsonl"];

fn tmp_name(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.partial"))
}

impl RunOutput {
    pub(crate) fn create(dir: &Path) -> anyhow::Result<RunOutput> {
        fs::create_dir_all(dir).with_context(|| format!("{}: cannot create output directory", dir.display()))?;
        // summary.json is written last: without it, a reader knows the folder is not a
        // finished run (a run killed between the renames below leaves no stale summary).
        match fs::remove_file(dir.join("summary.json")) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(err).with_context(|| format!("{}: cannot replace", dir.join("summary.json").display()));
            }
            _ => {}
        }
        let open = |name: &str| -> anyhow::Result<BufWriter<File>> {
            let path = tmp_name(dir, name);
            let file = File::create(&path).with_context(|| format!("{}: cannot write", path.display()))?;
            Ok(BufWriter::with_capacity(1 << 20, file))
        };
        Ok(RunOutput {
            dir: dir.to_owned(),
            documents: open(FILES[0])?,
            dropped: open(FILES[1])?,
            failures: open(FILES[2])?,
        })
    }

    /// Flushes and renames the files into place, then writes `summary.json` last.
    pub(crate) fn finish(self, summary: &serde_json::Value) -> anyhow::Result<()> {
        let RunOutput { dir, documents, dropped, failures } = self;
        for (writer, name) in [documents, dropped, failures].into_iter().zip(FILES) {
            let file = writer.into_inner().map_err(|e| e.into_error())?;
            file.sync_all().ok();
            fs::rename(tmp_name(&dir, name), dir.join(name))
                .with_context(|| format!("{}: cannot write", dir.join(name).display()))?;
        }
        let path = dir.join("summary.json");
        let tmp = tmp_name(&dir, "summary.json");
        let mut text = serde_json::to_string_pretty(summary)?;
        text.push('\n');
        fs::write(&tmp, text).with_context(|| format!("{}: cannot write", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))?;
        Ok(())
    }
}

impl RunOutput {
    /// Appends the record files of another run's output folder (a plan shard's).
    pub(crate) fn append(&mut self, dir: &Path) -> anyhow::Result<()> {
        let RunOutput { documents, dropped, failures, .. } = self;
        for (writer, name) in [documents, dropped, failures].into_iter().zip(FILES) {
            let path = dir.join(name);
            let mut file = File::open(&path).with_context(|| format!("{}: cannot read", path.display()))?;
            std::io::copy(&mut file, writer).with_context(|| format!("{}: cannot copy", path.display()))?;
        }
        Ok(())
    }
}

impl Sink for RunOutput {
    fn write(&mut self, line: &Line) -> anyhow::Result<()> {
        let (writer, json) = match line {
            Line::Kept { json, .. } | Line::Record(json) => (&mut self.documents, json),
            Line::Dropped(json) => (&mut self.dropped, json),
            Line::Failed(json) => (&mut self.failures, json),
        };
        writer.write_all(json.as_bytes())?;
        writer.write_all(b"\n")?;
        Ok(())
    }
}

/// `summary.json`: the run's totals and each stage's counters.
pub(crate) fn summary(
    totals: &Totals,
    stage_stats: &[StageStats],
    cache_dir: Option<&Path>,
    seconds: f64,
) -> serde_json::Value {
    let mut stages = serde_json::Map::new();
    for (name, s) in STAGE_NAMES.iter().zip(stage_stats) {
        stages.insert(
            (*name).to_owned(),
            json!({
                "seconds": round3(s.seconds),
                "documents": s.documents,
                "cache_hits": s.cache_hits,
                "cache_misses": s.cache_misses,
                "removed": s.removed,
            }),
        );
    }
    json!({
        "documents_in": totals.documents_in,
        "kept": totals.kept,
        "dropped": totals.dropped,
        "failed": totals.failed,
        "bytes_in": totals.bytes_in,
        "bytes_out": totals.bytes_out,
        "seconds": round3(seconds),
        "shards": totals.shards,
        "threads": rayon::current_num_threads(),
        "cache_dir": cache_dir.map(|d| d.display().to_string()),
        "cache_warnings": totals.cache_warnings,
        "corpus": {
            "distinct_short_blocks": totals.distinct_blocks,
            "chrome_blocks": totals.chrome_blocks,
            "near_dup_candidate_pairs": totals.candidate_pairs,
            "near_dup_similar_pairs": totals.similar_pairs,
            "keyword_terms": totals.keyword_terms,
        },
        "input_repairs": totals.repairs,
        "pith_version": env!("CARGO_PKG_VERSION"),
        "stages": stages,
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Stage records to one stream (a file or stdout); failures as warnings on stderr.
pub(crate) struct StageOutput<W: Write> {
    pub(crate) out: W,
    pub(crate) failures: Vec<String>,
}

impl<W: Write> Sink for StageOutput<W> {
    fn write(&mut self, line: &Line) -> anyhow::Result<()> {
        match line {
            Line::Kept { json, .. } | Line::Record(json) | Line::Dropped(json) => {
                self.out.write_all(json.as_bytes())?;
                self.out.write_all(b"\n")?;
            }
            Line::Failed(json) => self.failures.push(json.clone()),
        }
        Ok(())
    }
}
