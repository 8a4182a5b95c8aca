//! Rendering records as JSON lines, and writing the run's output folder.
//!
//! The shapes here are the output contract (DESIGN.md section 2): field names and order
//! are fixed by these structs, so the same input gives byte-identical files.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;

use anyhow::Context;
use pith_types::{DedupedDoc, DocDrop, Features, Keyword, Slot, Source};
use serde::Serialize;

use crate::json::{push_f64, push_json, push_json_str, push_json_str_contents, push_opt_json_str};
use crate::pipeline::{STAGE_NAMES, Sink, StageStats, Totals};
use pith::input::{Entry, RawShard};
use serde_json::json;

/// A shard's records, rendered: the text each output file gets of them (a record a line,
/// each ended by a newline), and their counts.
///
/// Records are rendered straight into these, a shard's few megabytes sized up front, which
/// the writer thread hands to the kernel as they are: no allocation per record, no copy
/// into a buffer of the writer's (a warm run's writer spent half its time on that copy).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ShardLines {
    /// By `DOCUMENTS`, `DROPPED`, `FAILURES`: what `FILES` get.
    pub(crate) files: [String; 3],
    /// Records in `DOCUMENTS`: kept documents, or a stage's records.
    pub(crate) kept: u64,
    pub(crate) dropped: u64,
    pub(crate) failed: u64,
    /// The kept documents' text bytes.
    pub(crate) bytes_out: u64,
    /// For each record of `DROPPED`, how many of `DOCUMENTS` came before it: a stream of
    /// its own (`StageOutput`) writes them in the shard's order.
    pub(crate) dropped_at: Vec<u64>,
}

/// `documents.jsonl`, `dropped.jsonl`, `failures.jsonl`: indices into `FILES` and
/// `ShardLines::files`.
pub(crate) const DOCUMENTS: usize = 0;
pub(crate) const DROPPED: usize = 1;
pub(crate) const FAILURES: usize = 2;

impl ShardLines {
    pub(crate) fn is_empty(&self) -> bool {
        self.files.iter().all(String::is_empty)
    }

    /// The records of file `index` (see `DOCUMENTS`), each without its newline.
    pub(crate) fn records(&self, index: usize) -> impl Iterator<Item = &str> {
        self.files[index].split_terminator('\n')
    }

    /// A record, a line added to file `file` (see `DOCUMENTS`); `bytes_out`: a kept
    /// document's text bytes.
    pub(crate) fn push(&mut self, file: usize, json: &str, bytes_out: u64) {
        push_line(&mut self.files[file], json);
        self.counted(file, bytes_out);
    }

    /// Counts the record just added to file `file`.
    fn counted(&mut self, file: usize, bytes_out: u64) {
        match file {
            DOCUMENTS => {
                self.kept += 1;
                self.bytes_out += bytes_out;
            }
            DROPPED => {
                self.dropped_at.push(self.kept);
                self.dropped += 1;
            }
            _ => self.failed += 1,
        }
    }

    /// A failure record: the document at `source` failed in `stage`.
    fn failure(&mut self, source: &Source, stage: &str, error: &str, id: Option<&str>) {
        self.push(FAILURES, &json(&FailureOut { path: &source.path, line: source.line, stage, error, id }), 0);
    }
}

fn push_line(file: &mut String, json: &str) {
    file.push_str(json);
    file.push('\n');
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

/// Walks a shard's entries with one stage's per-document slots (aligned with the
/// readable entries), rendering a record per entry.
fn per_entry<'s, T>(
    shard: &'s RawShard,
    slots: &'s [T],
    out: &mut ShardLines,
    mut on_doc: impl FnMut(&mut ShardLines, &'s pith_types::RawDoc, &'s T),
) {
    let mut slots = slots.iter();
    for entry in &shard.entries {
        match entry {
            Entry::Unreadable { source, error } => out.failure(source, "read", error, None),
            Entry::Doc(raw) => match slots.next() {
                Some(slot) => on_doc(out, raw, slot),
                None => out.failure(&raw.source, "driver", "no stage output for this document", Some(&raw.id)),
            },
        }
    }
}

/// The record of a document that went through every stage: `documents.jsonl` when kept,
/// `dropped.jsonl` (with the verdict's fields after the document's) when dropped.
///
/// Written straight into the line rather than through serde: the text is escaped from
/// the blocks (never joined first), strings by `push_json_str`, and metadata copied as the
/// reader stored it (`push_metadata`). Fields, their order and every byte are those of
/// the serde structs this replaced (the reference in the tests). `features` are spliced
/// with each document's cluster and `keywords[i]` (empty when keywords are off).
pub(crate) fn render_final<D: FinalDoc>(
    shard: &RawShard,
    deduped: &[Slot<D>],
    features: &[Slot<FeaturesJsonRef<'_>>],
    keywords: &[Vec<KeywordRef<'_>>],
) -> ShardLines {
    let none = Vec::new();
    let triples: Vec<(&Slot<D>, &Slot<FeaturesJsonRef<'_>>, &Vec<KeywordRef<'_>>)> = deduped
        .iter()
        .zip(features)
        .enumerate()
        .map(|(i, (doc, feats))| (doc, feats, keywords.get(i).unwrap_or(&none)))
        .collect();
    // Room for every record, so that a file's text is never copied to grow.
    let mut room = [0; 3];
    for (raw, (doc, feats, keywords)) in shard.docs().zip(&triples) {
        if let (Slot::Ok(doc), Slot::Ok(feats)) = (doc, feats) {
            room[if doc.drop().is_none() { DOCUMENTS } else { DROPPED }] +=
                final_record_room(raw, doc, feats, keywords);
        }
    }
    let mut out = ShardLines { files: room.map(String::with_capacity), ..ShardLines::default() };
    per_entry(shard, &triples, &mut out, |out, raw, (doc, feats, keywords)| {
        let (doc, feats) = match (doc, feats) {
            (Slot::Ok(doc), Slot::Ok(feats)) => (doc, feats),
            (Slot::Failed(f), _) | (_, Slot::Failed(f)) => {
                return out.failure(&raw.source, &f.stage, &f.error, Some(&raw.id));
            }
        };
        let file = if doc.drop().is_none() { DOCUMENTS } else { DROPPED };
        let bytes_out = final_record(&mut out.files[file], raw, doc, feats, keywords);
        out.counted(file, bytes_out);
    });
    out
}

/// What a final record is made of: a `DedupedDoc`'s fields, from the document itself or
/// from one read out of the cache without copying its texts.
pub(crate) trait FinalDoc {
    fn id(&self) -> &str;
    fn title(&self) -> Option<&str>;
    /// The kept blocks' texts, in order.
    fn texts(&self) -> impl Iterator<Item = &str> + Clone;
    /// The removed blocks, in order.
    fn removals(&self) -> impl Iterator<Item = RemovedRef<'_>> + Clone;
    fn drop(&self) -> Option<&DocDrop>;
    fn cluster(&self) -> Option<&str>;
}

/// A removed block's fields, as a record writes them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RemovedRef<'a> {
    pub(crate) stage: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) rule: &'a str,
    pub(crate) text: &'a str,
}

impl FinalDoc for DedupedDoc {
    fn id(&self) -> &str {
        &self.id
    }
    fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    fn texts(&self) -> impl Iterator<Item = &str> + Clone {
        self.blocks.iter().map(|b| b.text.as_str())
    }
    fn removals(&self) -> impl Iterator<Item = RemovedRef<'_>> + Clone {
        self.removed.iter().map(|r| RemovedRef { stage: &r.stage, kind: &r.kind, rule: &r.rule, text: &r.text })
    }
    fn drop(&self) -> Option<&DocDrop> {
        self.drop.as_ref()
    }
    fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }
}

/// A document's `features` as JSON, without the two fields a run sets after the features
/// stage (`duplicate_cluster`, from the corpus pass's verdicts, and `keywords`, scored
/// against the corpus's frequencies): what the cache keeps of the stage, so that a warm
/// run neither decodes nor encodes the signals again, and `write` splices the two in.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct FeaturesJson {
    /// For the keywords' stemmer and stop words.
    pub(crate) language: Option<String>,
    /// serde_json's `Features` with `duplicate_cluster` null and `keywords` empty.
    json: String,
    /// Where that `null` is.
    cluster_at: usize,
}

/// A `Keyword` (field for field, so also as the cache stores it), its text borrowed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct KeywordRef<'a> {
    pub(crate) text: &'a str,
    pub(crate) score: f64,
}

impl<'a> From<&'a Keyword> for KeywordRef<'a> {
    fn from(keyword: &'a Keyword) -> Self {
        KeywordRef { text: &keyword.text, score: keyword.score }
    }
}

/// The end of `FeaturesJson::json`: `keywords` is the last field.
const NO_KEYWORDS: &str = "\"keywords\":[]}";

impl FeaturesJson {
    pub(crate) fn new(mut features: Features) -> FeaturesJson {
        const CLUSTER: &str = "\"duplicate_cluster\":null";
        features.duplicate_cluster = None;
        features.keywords = Vec::new();
        let mut json = String::with_capacity(features_json_len(&features));
        push_json(&mut json, &features);
        // A key is found where it stands: inside a string value its quotes are escaped.
        let cluster_at = json.find(CLUSTER).expect("Features has a duplicate_cluster field") + CLUSTER.len() - 4;
        assert!(json.ends_with(NO_KEYWORDS), "keywords is Features' last field");
        FeaturesJson { language: features.language, json, cluster_at }
    }

    pub(crate) fn borrowed(&self) -> FeaturesJsonRef<'_> {
        FeaturesJsonRef { language: self.language.as_deref(), json: &self.json, cluster_at: self.cluster_at }
    }
}

/// Room for the JSON of `features` (without keywords), so that it is never copied to
/// grow: 2 KiB for the fixed fields (about 1,500 bytes), then each listed item's text and
/// a margin for its keys and numbers.
fn features_json_len(features: &Features) -> usize {
    let texts = |items: &[String]| items.iter().map(String::len).sum::<usize>();
    let quotes: usize = features.quotes.iter().map(|q| q.text.len() + q.speaker.as_ref().map_or(0, String::len)).sum();
    let money: usize = features.money.iter().map(|m| m.text.len() + m.currency.len()).sum();
    let entities: usize = features.entities.iter().map(|e| e.text.len() + e.kind.len()).sum();
    let items = features.quotes.len()
        + features.years.len()
        + features.dates.len()
        + features.money.len()
        + features.percentages.len()
        + features.entities.len();
    2048 + texts(&features.dates) + quotes + money + entities + 48 * items
}

/// A `FeaturesJson` (field for field, so also as the cache stores it), borrowed.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub(crate) struct FeaturesJsonRef<'a> {
    #[serde(borrow)]
    pub(crate) language: Option<&'a str>,
    json: &'a str,
    cluster_at: usize,
}

impl FeaturesJsonRef<'_> {
    /// Appends the features with `cluster` and `keywords`, as serde_json writes `Features`.
    pub(crate) fn write(&self, out: &mut String, cluster: Option<&str>, keywords: &[KeywordRef<'_>]) {
        out.push_str(&self.json[..self.cluster_at]);
        push_opt_json_str(out, cluster);
        out.push_str(&self.json[self.cluster_at + "null".len()..self.json.len() - "[]}".len()]);
        push_keywords(out, keywords);
        out.push('}');
    }
}

/// `keywords` as serde_json writes them (`[{"text":…,"score":…}]`): the strings by
/// `push_json_str`, the scores by `push_f64`.
fn push_keywords(out: &mut String, keywords: &[KeywordRef<'_>]) {
    out.push('[');
    for (i, keyword) in keywords.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"text\":");
        push_json_str(out, keyword.text);
        out.push_str(",\"score\":");
        push_f64(out, keyword.score);
        out.push('}');
    }
    out.push(']');
}

/// Bytes enough for a document's final record, but for heavy escaping: each part's
/// bytes, and a margin for keys and escapes (a sixteenth of the texts).
fn final_record_room(
    raw: &pith_types::RawDoc,
    doc: &impl FinalDoc,
    feats: &FeaturesJsonRef<'_>,
    keywords: &[KeywordRef<'_>],
) -> usize {
    let text_len = doc.texts().map(|text| text.len() + 2).sum::<usize>();
    let removed_len: usize = doc.removals().map(|r| r.text.len() + r.rule.len() + 64).sum();
    let keywords_len: usize = keywords.iter().map(|k| k.text.len() + 32).sum();
    let heads_len = doc.id().len() + raw.source.path.len() + doc.title().map_or(4, str::len);
    let drop_len = doc.drop().map_or(0, |d| d.reason.len() + d.duplicate_of.as_ref().map_or(4, String::len) + 64);
    let parts = text_len + removed_len + heads_len + keywords_len + drop_len;
    let metadata_len = raw.metadata_json.as_ref().map_or(4, String::len);
    let cluster_len = doc.cluster().map_or(4, str::len);
    parts + parts / 16 + feats.json.len() + cluster_len + metadata_len + 256
}

/// One document's final record (see `render_final`), a line added to `out`; returns the
/// bytes of its text.
fn final_record(
    out: &mut String,
    raw: &pith_types::RawDoc,
    doc: &impl FinalDoc,
    feats: &FeaturesJsonRef<'_>,
    keywords: &[KeywordRef<'_>],
) -> u64 {
    let mut text_len = 0;
    out.push_str("{\"id\":");
    push_json_str(out, doc.id());
    out.push_str(",\"path\":");
    push_json_str(out, &raw.source.path);
    out.push_str(",\"line\":");
    match raw.source.line {
        Some(line) => {
            let _ = write!(out, "{line}");
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"title\":");
    push_opt_json_str(out, doc.title());
    // The text is the blocks joined by a blank line (`DedupedDoc::text`).
    out.push_str(",\"text\":\"");
    for (i, text) in doc.texts().enumerate() {
        if i > 0 {
            out.push_str("\\n\\n");
            text_len += 2;
        }
        push_json_str_contents(out, text);
        text_len += text.len();
    }
    out.push_str("\",\"removed\":[");
    for (i, r) in doc.removals().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"stage\":");
        push_json_str(out, r.stage);
        out.push_str(",\"kind\":");
        push_json_str(out, r.kind);
        out.push_str(",\"text\":");
        push_json_str(out, r.text);
        out.push_str(",\"rule\":");
        push_json_str(out, r.rule);
        out.push('}');
    }
    out.push_str("],\"features\":");
    feats.write(out, doc.cluster(), keywords);
    out.push_str(",\"metadata\":");
    push_metadata(out, raw.metadata_json.as_deref());
    if let Some(drop) = doc.drop() {
        out.push_str(",\"reason\":");
        push_json_str(out, &drop.reason);
        out.push_str(",\"duplicate_of\":");
        push_opt_json_str(out, drop.duplicate_of.as_deref());
        out.push_str(",\"similarity\":");
        match drop.similarity {
            Some(similarity) => push_f64(out, similarity),
            None => out.push_str("null"),
        }
    }
    out.push_str("}\n");
    text_len as u64
}

/// A JSONL record's other fields as the reader stored them (`RawDoc::metadata_json`, which
/// only the reader makes: serde_json's compact text of a map), or `null`.
///
/// Records used to carry them parsed into a `serde_json::Value` and written again. On the
/// reader's text that round trip is the identity: keys keep their order
/// (`preserve_order`), a string is written back with the escapes it was written with, an
/// integer with its digits (every integer the reader writes fits an `i64` or a `u64`:
/// larger ones became floats). Only floats rest on parsing (`float_roundtrip`), so text
/// with a float still takes the round trip.
fn push_metadata(out: &mut String, metadata_json: Option<&str>) {
    match metadata_json {
        None => out.push_str("null"),
        Some(text) if !has_float(text) => out.push_str(text),
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => out.push_str(&json(&value)),
            Err(_) => out.push_str("null"),
        },
    }
}

/// Whether JSON text has a number with a fraction or an exponent (outside strings).
fn has_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'.' => return true,
                // In JSON an exponent's `e` follows a digit; the `e` of `true` and `false`
                // does not.
                b'e' | b'E' if i > 0 && bytes[i - 1].is_ascii_digit() => return true,
                _ => {}
            }
        }
        i += 1;
    }
    false
}

pub(crate) fn render_stage<T: Serialize>(shard: &RawShard, slots: &[Slot<T>], _stage: &str) -> ShardLines {
    let mut out = ShardLines::default();
    per_entry(shard, slots, &mut out, |out, raw, slot| match slot {
        Slot::Ok(record) => out.push(DOCUMENTS, &stage_record(raw, record), 0),
        Slot::Failed(f) => out.failure(&raw.source, &f.stage, &f.error, Some(&raw.id)),
    });
    out
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
///
/// The record files are written by a thread of their own (`writer`): a shard's lines are
/// handed over as they are and written in chunks while the workers go on with the next
/// batch (which waited for them to be copied before); and a second thread
/// asks the disk to catch up every `SYNC_EVERY` bytes (`syncer`), so that `finish`'s
/// `sync_all` waits for the last few megabytes instead of the whole output.
pub(crate) struct RunOutput {
    dir: PathBuf,
    /// To the writer thread: lines, or bytes of a file.
    to_writer: Option<SyncSender<ToWriter>>,
    writer: Option<JoinHandle<anyhow::Result<[File; 3]>>>,
}

/// What the writer thread writes, in the order sent.
enum ToWriter {
    /// A shard's records, each to its file.
    Lines(ShardLines),
    /// Bytes of file `.0` (another run's records, `append`).
    Bytes(usize, Vec<u8>),
}

const FILES: [&str; 3] = ["documents.jsonl", "dropped.jsonl", "failures.jsonl"];
/// Bytes the writer thread writes at a time (and `append` reads).
const CHUNK: usize = 1 << 20;
/// Messages on their way to the writer thread, at most: a batch of shards (a worker's
/// two) may wait for the writer while the next is made.
const IN_FLIGHT: usize = 4;
/// A file's bytes written between two requests to the disk to catch up.
const SYNC_EVERY: u64 = 32 << 20;

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
        let paths = FILES.map(|name| tmp_name(dir, name));
        let mut files = Vec::with_capacity(3);
        for path in &paths {
            files.push(File::create(path).with_context(|| format!("{}: cannot write", path.display()))?);
        }
        let files: [File; 3] = files.try_into().expect("three files");
        let (to_writer, from_run) = std::sync::mpsc::sync_channel::<ToWriter>(IN_FLIGHT);
        let writer = std::thread::Builder::new()
            .name("pith-writer".into())
            .spawn(move || writer(files, &paths, &from_run))
            .context("cannot start the output writer thread")?;
        Ok(RunOutput { dir: dir.to_owned(), to_writer: Some(to_writer), writer: Some(writer) })
    }

    fn send(&mut self, message: ToWriter) -> anyhow::Result<()> {
        let sent = self.to_writer.as_ref().is_some_and(|tx| tx.send(message).is_ok());
        if sent { Ok(()) } else { self.join().map(|_| ()) }
    }

    /// Stops the writer thread (after the messages sent) and gives its files back, or the
    /// error that stopped it.
    fn join(&mut self) -> anyhow::Result<[File; 3]> {
        self.to_writer = None;
        match self.writer.take() {
            Some(writer) => writer.join().unwrap_or_else(|_| anyhow::bail!("the output writer thread panicked")),
            None => anyhow::bail!("the output writer thread stopped"),
        }
    }

    /// Writes what is left, flushes and renames the files into place, then writes
    /// `summary.json` last.
    pub(crate) fn finish(mut self, summary: &serde_json::Value) -> anyhow::Result<()> {
        let files = self.join()?;
        let dir = &self.dir;
        for (file, name) in files.into_iter().zip(FILES) {
            file.sync_all().ok();
            fs::rename(tmp_name(dir, name), dir.join(name))
                .with_context(|| format!("{}: cannot write", dir.join(name).display()))?;
        }
        let path = dir.join("summary.json");
        let tmp = tmp_name(dir, "summary.json");
        let mut text = serde_json::to_string_pretty(summary)?;
        text.push('\n');
        fs::write(&tmp, text).with_context(|| format!("{}: cannot write", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))?;
        Ok(())
    }

    /// Appends the record files of another run's output folder (a plan shard's).
    pub(crate) fn append(&mut self, dir: &Path) -> anyhow::Result<()> {
        use std::io::Read;
        for (index, name) in FILES.iter().enumerate() {
            let path = dir.join(name);
            let mut file = File::open(&path).with_context(|| format!("{}: cannot read", path.display()))?;
            loop {
                let mut buf = Vec::with_capacity(CHUNK);
                let n = match (&mut file).take(CHUNK as u64).read_to_end(&mut buf) {
                    Ok(n) => n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err).with_context(|| format!("{}: cannot read", path.display())),
                };
                if n == 0 {
                    break;
                }
                self.send(ToWriter::Bytes(index, buf))?;
            }
        }
        Ok(())
    }
}

/// The writer thread's work: each message written, in the order sent, a shard's text as
/// it is and smaller ones through a buffer per file (a few large writes cost the kernel
/// less than many small ones); every
/// `SYNC_EVERY` bytes of a file, the syncer thread is asked to start it on its way to the
/// disk (a request is dropped when one is pending: the next covers it).
fn writer(mut files: [File; 3], paths: &[PathBuf; 3], messages: &Receiver<ToWriter>) -> anyhow::Result<[File; 3]> {
    let mut clones = Vec::with_capacity(3);
    for (file, path) in files.iter().zip(paths) {
        clones.push(file.try_clone().with_context(|| format!("{}: cannot write", path.display()))?);
    }
    let (sync_tx, sync_rx) = std::sync::mpsc::sync_channel::<usize>(1);
    let syncer = std::thread::Builder::new()
        .name("pith-syncer".into())
        .spawn(move || {
            for index in sync_rx {
                // Only a head start: `finish` syncs each file and stops at an error there.
                let _ = clones[index].sync_data();
            }
        })
        .context("cannot start the output syncer thread")?;
    let mut buffers: [Vec<u8>; 3] = Default::default();
    let mut unsynced = [0u64; 3];
    let mut write = |index: usize, bytes: &[u8], buffers: &mut [Vec<u8>; 3]| -> anyhow::Result<()> {
        let buffer = &mut buffers[index];
        if buffer.len() + bytes.len() > CHUNK && !buffer.is_empty() {
            files[index].write_all(buffer).with_context(|| format!("{}: cannot write", paths[index].display()))?;
            unsynced[index] += buffer.len() as u64;
            buffer.clear();
        }
        if bytes.len() >= CHUNK {
            files[index].write_all(bytes).with_context(|| format!("{}: cannot write", paths[index].display()))?;
            unsynced[index] += bytes.len() as u64;
        } else {
            buffer.reserve_exact(CHUNK.saturating_sub(buffer.capacity()));
            buffer.extend_from_slice(bytes);
        }
        if unsynced[index] >= SYNC_EVERY && sync_tx.try_send(index).is_ok() {
            unsynced[index] = 0;
        }
        Ok(())
    };
    for message in messages {
        match message {
            ToWriter::Bytes(index, data) => write(index, &data, &mut buffers)?,
            ToWriter::Lines(lines) => {
                for (index, text) in lines.files.iter().enumerate() {
                    write(index, text.as_bytes(), &mut buffers)?;
                }
            }
        }
    }
    for (index, buffer) in buffers.iter().enumerate() {
        files[index].write_all(buffer).with_context(|| format!("{}: cannot write", paths[index].display()))?;
    }
    drop(sync_tx);
    syncer.join().map_err(|_| anyhow::anyhow!("the output syncer thread panicked"))?;
    Ok(files)
}

impl Sink for RunOutput {
    fn write(&mut self, lines: ShardLines) -> anyhow::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        self.send(ToWriter::Lines(lines))
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
        "keywords": {
            "reused": totals.keywords_reused,
            "certified": totals.keywords_certified,
            "scored": totals.keywords_scored,
        },
        "features_reused": totals.features_reused,
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
    fn write(&mut self, lines: ShardLines) -> anyhow::Result<()> {
        // Kept and dropped documents in the shard's order.
        let mut kept = lines.records(DOCUMENTS);
        let mut written = 0;
        for (dropped, &at) in lines.records(DROPPED).zip(&lines.dropped_at) {
            for record in kept.by_ref().take((at - written) as usize) {
                push_record(&mut self.out, record)?;
            }
            written = at;
            push_record(&mut self.out, dropped)?;
        }
        for record in kept {
            push_record(&mut self.out, record)?;
        }
        self.failures.extend(lines.records(FAILURES).map(str::to_owned));
        Ok(())
    }
}

fn push_record(out: &mut impl Write, record: &str) -> std::io::Result<()> {
    out.write_all(record.as_bytes())?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::tests::{FLOATS, tricky_strings};
    use pith_types::{Block, BlockKind, DocDrop, Entity, Keyword, RawDoc, Removal, Span};

    /// Records as (file, line): every third to each file, some longer than a chunk.
    fn numbered_records(n: usize) -> Vec<(usize, String)> {
        (0..n)
            .map(|i| {
                let pad = "x".repeat(if i % 500 == 7 { CHUNK + 3 } else { i % 997 });
                (i % 3, format!("{{\"n\":{i},\"pad\":\"{pad}\"}}"))
            })
            .collect()
    }

    fn shard_lines(records: &[(usize, String)]) -> ShardLines {
        let mut res = ShardLines::default();
        for (file, json) in records {
            res.push(*file, json, 0);
        }
        res
    }

    /// The writer thread keeps each file's lines in order, across chunks and with lines
    /// longer than a chunk, and `append` adds another folder's files after them.
    #[test]
    fn run_output_writes_every_line_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let records = numbered_records(3000);
        let expected = |index: usize| -> String {
            records.iter().filter(|(file, _)| *file == index).map(|(_, json)| format!("{json}\n")).collect()
        };
        let first = tmp.path().join("first");
        let mut out = RunOutput::create(&first).unwrap();
        // In shards of varied sizes, one of them empty.
        for (k, shard) in records.chunks(700).enumerate() {
            let (a, b) = shard.split_at(shard.len().min(k * 37));
            for part in [a, &[], b] {
                out.write(shard_lines(part)).unwrap();
            }
        }
        out.finish(&json!({})).unwrap();
        for (index, name) in FILES.iter().enumerate() {
            assert!(fs::read_to_string(first.join(name)).unwrap() == expected(index), "{name}");
        }
        let second = tmp.path().join("second");
        let mut out = RunOutput::create(&second).unwrap();
        out.write(shard_lines(&records[..1])).unwrap();
        out.append(&first).unwrap();
        out.finish(&json!({})).unwrap();
        let documents = fs::read_to_string(second.join(FILES[0])).unwrap();
        assert!(documents == format!("{}\n{}", records[0].1, expected(0)));
        assert!(fs::read_to_string(second.join(FILES[2])).unwrap() == expected(2));
    }

    /// A stream of its own gets a shard's kept and dropped records in the shard's order,
    /// failures apart; the counts are the records'.
    #[test]
    fn stage_output_writes_kept_and_dropped_records_in_order() {
        let records = numbered_records(100);
        for shard in [&records[..], &records[..1], &records[1..2], &records[1..3], &[]] {
            let lines = shard_lines(shard);
            let count = |index: usize| shard.iter().filter(|(file, _)| *file == index).count() as u64;
            assert_eq!([lines.kept, lines.dropped, lines.failed], [count(DOCUMENTS), count(DROPPED), count(FAILURES)]);
            let mut out = StageOutput { out: Vec::new(), failures: Vec::new() };
            out.write(lines).unwrap();
            let in_order: String =
                shard.iter().filter(|(file, _)| *file != FAILURES).map(|(_, json)| format!("{json}\n")).collect();
            assert!(String::from_utf8(out.out).unwrap() == in_order);
            let failures: Vec<&String> = shard.iter().filter(|(file, _)| *file == FAILURES).map(|(_, j)| j).collect();
            assert_eq!(out.failures.iter().collect::<Vec<_>>(), failures);
        }
    }

    /// The final record as it was written through serde before `final_record`: the
    /// reference its bytes must equal.
    mod reference {
        use super::*;

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

        pub(super) fn record(raw: &RawDoc, doc: &DedupedDoc, feats: &Features) -> (String, u64) {
            let text = doc.text();
            let removed = doc
                .removed
                .iter()
                .map(|r| RemovedOut { stage: &r.stage, kind: &r.kind, text: &r.text, rule: &r.rule })
                .collect();
            let out = DocOut {
                id: &doc.id,
                path: &raw.source.path,
                line: raw.source.line,
                title: doc.title.as_deref(),
                text: &text,
                removed,
                features: feats,
                metadata: raw.metadata_json.as_deref().and_then(|m| serde_json::from_str(m).ok()),
            };
            let json = match &doc.drop {
                None => json(&out),
                Some(drop) => json(&DroppedOut {
                    doc: out,
                    reason: &drop.reason,
                    duplicate_of: drop.duplicate_of.as_deref(),
                    similarity: drop.similarity,
                }),
            };
            (json, text.len() as u64)
        }
    }

    fn block(index: u32, text: &str) -> Block {
        Block { index, kind: BlockKind::Paragraph, text: text.to_owned(), span: Span { start: 0, end: 0 } }
    }

    /// The metadata the reader stores for JSONL records with odd fields (and none).
    fn reader_metadata() -> Vec<Option<String>> {
        use pith::input::{Compression, Entry, Format, InputFile, Location, ShardReader};
        let lines = [
            r#"{"text": "t"}"#,
            r#"{"text": "t", "source": "gen", "id": "x"}"#,
            r#"{"z": 1, "text": "t", "a": [true, false, null, -5, -0, 18446744073709551615, -9223372036854775808]}"#,
            r#"{"nested": {"e": "1e5", "x.y": "true", "s": "a\"b\\c\u2028\u0001\/\ud83d\ude00", "é": {}}, "text": "t"}"#,
            r#"{"f": 1.5, "g": [0.1, -0.0, 1e300, 5e-324, 123456789.0, 1E2, 0.30000000000000004], "text": "t"}"#,
            r#"{"big": 100000000000000000000000, "neg": -18446744073709551617, "text": "t", "exp": 2.5e-7}"#,
            r#"{"k": 1, "k": 2, "text": "t", "deep": [[[[{"a": [[]]}]]]], "empty": "", "ws" :  { "b" : 1 } }"#,
        ];
        let input = lines.join("\n").into_bytes();
        let files = [InputFile {
            size: input.len() as u64,
            location: Location::Stdin(std::sync::Arc::new(input)),
            rel: "-".into(),
            format: Format::Jsonl(Compression::None),
        }];
        let metadata: Vec<Option<String>> = ShardReader::new(&files, 1 << 20)
            .flat_map(|shard| shard.entries)
            .map(|entry| match entry {
                Entry::Doc(raw) => raw.metadata_json,
                Entry::Unreadable { error, .. } => panic!("{error}"),
            })
            .collect();
        assert_eq!(metadata.len(), lines.len());
        metadata
    }

    #[test]
    fn final_records_are_those_serde_wrote() {
        let texts = tricky_strings();
        let metadata = reader_metadata();
        let features = Features {
            language: Some("eng".into()),
            script: None,
            mean_word_length: 4.123,
            stopword_ratio: f64::NAN,
            duplicate_cluster: Some("c\"1".into()),
            entities: vec![Entity { text: "Bo\\ston\n".into(), kind: "place".into(), count: 3 }],
            keywords: vec![Keyword { text: "é\u{1f}".into(), score: 0.25 }],
            ..Features::default()
        };
        let drops = [
            None,
            Some(DocDrop { reason: "exact_duplicate".into(), duplicate_of: Some("a\tb".into()), similarity: None }),
            Some(DocDrop { reason: "near_duplicate".into(), duplicate_of: None, similarity: Some(0.8333333333333334) }),
            Some(DocDrop { reason: "empty".into(), duplicate_of: None, similarity: Some(f64::INFINITY) }),
        ];
        let mut n = 0;
        for (k, metadata_json) in metadata.iter().enumerate() {
            for (d, drop) in drops.iter().enumerate() {
                for blocks in [0, 1, 2, 5] {
                    n += 1;
                    let pick = |i: usize| texts[(i * 131 + k * 37 + d * 17 + blocks * 7 + n) % texts.len()].as_str();
                    let raw = RawDoc {
                        id: pick(1).to_owned(),
                        source: Source { path: pick(2).to_owned(), line: (blocks % 2 == 0).then_some(n as u64) },
                        text: String::new(),
                        metadata_json: metadata_json.clone(),
                        diags: Vec::new(),
                    };
                    let doc = DedupedDoc {
                        id: pick(3).to_owned(),
                        title: (blocks != 1).then(|| pick(4).to_owned()),
                        blocks: (0..blocks).map(|i| block(i as u32, pick(10 + i))).collect(),
                        removed: (0..blocks % 3)
                            .map(|i| Removal {
                                stage: "strip".into(),
                                kind: pick(20 + i).to_owned().into(),
                                rule: "rule \"x\"".into(),
                                block: i as u32,
                                text: pick(30 + i).to_owned(),
                            })
                            .collect(),
                        raw_bytes: 0,
                        drop: drop.clone(),
                        cluster: None,
                    };
                    // With and without a cluster and keywords, which `FeaturesJson` splices
                    // in (the cluster is the document's, as the pipeline sets it).
                    let features = if n % 2 == 0 {
                        features.clone()
                    } else {
                        Features { duplicate_cluster: None, keywords: Vec::new(), ..features.clone() }
                    };
                    let doc = DedupedDoc { cluster: features.duplicate_cluster.clone(), ..doc };
                    let cached = FeaturesJson::new(features.clone());
                    let keywords: Vec<KeywordRef<'_>> = features.keywords.iter().map(KeywordRef::from).collect();
                    // A line added after those before it.
                    let mut out = String::from("before\n");
                    let bytes_out = final_record(&mut out, &raw, &doc, &cached.borrowed(), &keywords);
                    let (expected, expected_bytes) = reference::record(&raw, &doc, &features);
                    assert_eq!((out.as_str(), bytes_out), (format!("before\n{expected}\n").as_str(), expected_bytes));
                }
            }
        }
    }

    #[test]
    fn keywords_are_written_as_serde_json_writes_them() {
        let texts = tricky_strings();
        for n in 0..40 {
            let keywords: Vec<Keyword> = (0..n % 12)
                .map(|i| Keyword {
                    text: texts[(n * 7 + i * 13) % texts.len()].clone(),
                    score: FLOATS[(n + i * 5) % FLOATS.len()] * (n as f64 + 0.5),
                })
                .collect();
            let mut out = String::from("x");
            push_keywords(&mut out, &keywords.iter().map(KeywordRef::from).collect::<Vec<_>>());
            assert_eq!(out, format!("x{}", json(&keywords)));
        }
    }

    #[test]
    fn floats_are_found_outside_strings_only() {
        assert!(!has_float(r#"{"a":1,"b":[true,false,null],"c":"1.5e3","d":-12}"#));
        assert!(!has_float(r#"{"e":"\"1.5\"","f":"\\"}"#));
        assert!(has_float(r#"{"a":1.5}"#));
        assert!(has_float(r#"{"a":"x\"","b":1e5}"#));
        assert!(has_float(r#"{"a":[2E-3]}"#));
    }
}
