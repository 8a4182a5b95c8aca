//! The driver's core: runs the stages over shards on the rayon pool, through the cache,
//! and hands rendered records to a sink in input order.
//!
//! Two phases, because dedup needs the whole corpus:
//! 1. per shard: parse → strip → dedup map (sketches); every result cached per shard;
//! 2. reduce all sketches into `CorpusStats`, then per shard: dedup apply → features →
//!    render. Phase 2 takes each shard's strip output and heads (`heads_of`: the shard
//!    without its texts) from the cache, and reads the input again only for a shard the
//!    cache lacks; no phase holds more than a batch of shards' texts in memory.
//!
//! Invariant: the output depends only on the inputs and the config, never on the thread
//! count or timing: shards are processed in batches with `par_iter`, whose `collect`
//! keeps order, and written in order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use pith_cache::{Cache, Key, Lookup, Raw, fingerprint};
use pith_dedup::{CorpusStats, DedupDelta, LineCounts, Sketch};
use pith_features::keywords::incremental::{Candidates, Shift, n_candidates};
use pith_features::keywords::{DocFreq, DocFreqIndex, DocFreqSum};
use pith_types::{DedupedDoc, Failure, Features, Keyword, ParsedDoc, RawDoc, Slot, StrippedDoc};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::config::RunConfig;
use crate::output::{self, FeaturesJson, FeaturesJsonRef, FinalDoc, KeywordRef, RemovedRef, ShardLines};
use crate::progress::Progress;
use pith::input::{Entry, InputFile, RawShard, ReadShard, ShardNamer, ShardReader};

/// The stages a user can stop after, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    Parse,
    Strip,
    Dedup,
    Features,
}

/// Stage names as they appear in the cache and in `summary.json`.
pub(crate) const STAGE_NAMES: [&str; 5] = ["parse", "strip", "dedup_map", "dedup", "features"];
const PARSE: usize = 0;
const STRIP: usize = 1;
const DEDUP_MAP: usize = 2;
const DEDUP: usize = 3;
const FEATURES: usize = 4;

const VERSIONS: [u32; 5] =
    [pith_parse::VERSION, pith_strip::VERSION, pith_dedup::VERSION, pith_dedup::VERSION, pith_features::VERSION];

#[derive(Debug, Default)]
struct StageCounter {
    nanos: AtomicU64,
    docs: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    removed: Mutex<BTreeMap<String, u64>>,
}

/// Where rendered lines go, in input order.
pub(crate) trait Sink {
    /// A shard's lines, in order.
    fn write(&mut self, lines: ShardLines) -> anyhow::Result<()>;
}

/// Totals of a run, for `summary.json` and the closing message.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct Totals {
    pub(crate) documents_in: u64,
    pub(crate) kept: u64,
    pub(crate) dropped: u64,
    pub(crate) failed: u64,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    pub(crate) shards: u64,
    pub(crate) cache_warnings: u64,
    /// The corpus pass: distinct short blocks counted, chrome blocks found, near-duplicate
    /// candidate pairs checked, and those at or above the threshold.
    pub(crate) distinct_blocks: u64,
    pub(crate) chrome_blocks: u64,
    pub(crate) candidate_pairs: u64,
    pub(crate) similar_pairs: u64,
    /// Distinct terms in the corpus's document frequencies (TF-IDF keywords).
    pub(crate) keyword_terms: u64,
    /// Documents whose keywords were taken from the cache as they were (scored against
    /// the same frequencies), certified from their cached candidates against new ones
    /// (`Candidates::rescore`), and scored from their text.
    pub(crate) keywords_reused: u64,
    pub(crate) keywords_certified: u64,
    pub(crate) keywords_scored: u64,
    /// Documents whose features were taken from an earlier run's entry for their shard's
    /// place, where the shard's own missed (`FeaturesLast`).
    pub(crate) features_reused: u64,
    /// Documents the reader repaired, by kind of repair (`input_repairs` in the summary).
    pub(crate) repairs: BTreeMap<String, u64>,
}

impl Totals {
    /// Adds the totals of another part of the run (a planned run's task).
    pub(crate) fn add(&mut self, o: &Totals) {
        self.documents_in += o.documents_in;
        self.kept += o.kept;
        self.dropped += o.dropped;
        self.failed += o.failed;
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
        self.shards += o.shards;
        self.cache_warnings += o.cache_warnings;
        self.distinct_blocks += o.distinct_blocks;
        self.chrome_blocks += o.chrome_blocks;
        self.candidate_pairs += o.candidate_pairs;
        self.similar_pairs += o.similar_pairs;
        self.keyword_terms += o.keyword_terms;
        self.keywords_reused += o.keywords_reused;
        self.keywords_certified += o.keywords_certified;
        self.keywords_scored += o.keywords_scored;
        self.features_reused += o.features_reused;
        for (kind, n) in &o.repairs {
            *self.repairs.entry(kind.clone()).or_default() += n;
        }
    }
}

/// A stage's counters at the end of a run (or of a planned run's task).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct StageStats {
    pub(crate) seconds: f64,
    pub(crate) documents: u64,
    pub(crate) cache_hits: u64,
    pub(crate) cache_misses: u64,
    pub(crate) removed: BTreeMap<String, u64>,
}

impl StageStats {
    pub(crate) fn add(&mut self, o: &StageStats) {
        self.seconds += o.seconds;
        self.documents += o.documents;
        self.cache_hits += o.cache_hits;
        self.cache_misses += o.cache_misses;
        for (kind, n) in &o.removed {
            *self.removed.entry(kind.clone()).or_default() += n;
        }
    }
}

pub(crate) struct Runner<'a> {
    cfg: &'a RunConfig,
    cache: Cache,
    /// Set when a cache write failed (a full disk): the run goes on without the cache.
    cache_broken: AtomicBool,
    counters: [StageCounter; 5],
    /// Documents whose keywords were reused, certified and scored (see `Totals`).
    keyword_docs: [AtomicU64; 3],
    /// Documents whose features were reused (see `Totals`).
    features_reused: AtomicU64,
    cache_warnings: AtomicU64,
    progress: &'a Progress,
}

/// Ways a document gets its keywords, indexing `Runner::keyword_docs`.
const REUSED: usize = 0;
const CERTIFIED: usize = 1;
const SCORED: usize = 2;

/// Shingle sets of candidate documents, by ordinal.
type ShingleSets = Vec<(u64, Vec<u32>)>;

/// A shard's heads and strip output as the cache has them (`Runner::cached_shard`).
type Cached = (Option<RawShard>, Option<Raw>);

/// A shard's strip output in phase 2: as the cache has it, not yet decoded (a shard whose
/// later stages are cached is rendered from it as it is), or made again.
enum Stripped {
    Cached(Raw),
    Made(Vec<Slot<StrippedDoc>>),
}

/// A stripped document as the cache stores it (`StrippedDoc`, field for field), read for
/// its blocks' texts alone: they are borrowed from the payload as bytes (a string's
/// encoding), checked to be UTF-8 only for a document whose texts are asked for, and its
/// removals are passed over.
#[derive(Deserialize)]
struct StrippedTexts<'a> {
    #[serde(borrow)]
    _id: &'a [u8],
    #[serde(borrow)]
    _title: Option<&'a [u8]>,
    #[serde(borrow)]
    blocks: Vec<BlockText<'a>>,
    _removed: Passed<RemovalText<'a>>,
    _raw_bytes: u64,
}

/// `Block`, field for field, its text as bytes.
#[derive(Deserialize)]
struct BlockText<'a> {
    _index: u32,
    _kind: pith_types::BlockKind,
    text: &'a [u8],
    _span: pith_types::Span,
}

/// `Removal`, field for field, its strings as bytes.
#[derive(Deserialize)]
struct RemovalText<'a> {
    _stage: &'a [u8],
    _kind: &'a [u8],
    _rule: &'a [u8],
    _block: u32,
    _text: &'a [u8],
}

impl StrippedTexts<'_> {
    /// The blocks' texts, in order; `None` if one is not UTF-8 (a damaged cache).
    fn texts(&self) -> Option<Vec<&str>> {
        self.blocks.iter().map(|b| std::str::from_utf8(b.text).ok()).collect()
    }
}

/// A `Sketch` as the cache stores it (field for field), read for its short blocks'
/// hashes alone.
#[derive(Deserialize)]
struct SketchLines<'a> {
    #[serde(borrow)]
    _id: &'a [u8],
    _exact: Option<u64>,
    _bands: Passed<u32>,
    lines: Vec<u64>,
}

/// A sequence whose elements are read and dropped one by one, not kept.
struct Passed<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Passed<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Elements<T> {
            type Value = Passed<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Passed<T>, A::Error> {
                while seq.next_element::<T>()?.is_some() {}
                Ok(Passed(std::marker::PhantomData))
            }
        }
        deserializer.deserialize_seq(Elements(std::marker::PhantomData))
    }
}

/// A stripped document as the cache stores it (`StrippedDoc`, field for field), its
/// strings borrowed from the payload.
#[derive(Deserialize)]
struct StrippedRef<'a> {
    id: &'a str,
    #[serde(borrow)]
    title: Option<&'a str>,
    #[serde(borrow)]
    blocks: Vec<BlockRef<'a>>,
    #[serde(borrow)]
    removed: Vec<RemovalRef<'a>>,
    _raw_bytes: u64,
}

/// `Block`, field for field, its text borrowed.
#[derive(Deserialize)]
struct BlockRef<'a> {
    index: u32,
    _kind: pith_types::BlockKind,
    text: &'a str,
    _span: pith_types::Span,
}

/// `Removal`, field for field, its strings borrowed.
#[derive(Deserialize)]
struct RemovalRef<'a> {
    stage: &'a str,
    kind: &'a str,
    rule: &'a str,
    block: u32,
    text: &'a str,
}

/// What phase 2 found in the cache for a shard whose dedup and features are cached.
struct CachedShard<'c, 'a> {
    docs: &'c [Slot<StrippedRef<'a>>],
    deltas: &'c [Slot<DedupDelta>],
    dedup_out: &'c Key,
    features: &'c [Slot<FeaturesJsonRef<'a>>],
}

/// A `DedupedDoc` rebuilt from a borrowed stripped document and its cached delta
/// (`DedupDelta::rebuild`, then `set_verdicts`), its texts still borrowed.
struct DedupedRef<'a> {
    id: &'a str,
    title: Option<&'a str>,
    blocks: Vec<&'a str>,
    /// Block index and fields, in block order.
    removed: Vec<(u32, RemovedRef<'a>)>,
    drop: Option<pith_types::DocDrop>,
    cluster: Option<String>,
}

impl<'a> DedupedRef<'a> {
    fn rebuild(doc: &StrippedRef<'a>, delta: &'a DedupDelta, ordinal: u64, corpus: &CorpusStats) -> DedupedRef<'a> {
        let mut blocks = Vec::with_capacity(doc.blocks.len());
        let mut removed: Vec<(u32, RemovedRef<'a>)> = doc
            .removed
            .iter()
            .map(|r| (r.block, RemovedRef { stage: r.stage, kind: r.kind, rule: r.rule, text: r.text }))
            .collect();
        let mut gone = delta.removed.iter().peekable();
        for block in &doc.blocks {
            match gone.next_if(|(index, ..)| *index == block.index) {
                Some((_, kind, rule)) => {
                    removed.push((block.index, RemovedRef { stage: pith_dedup::STAGE, kind, rule, text: block.text }))
                }
                None => blocks.push(block.text),
            }
        }
        // Stable, as `rebuild`'s.
        removed.sort_by_key(|&(block, _)| block);
        let (drop, cluster) = pith_dedup::verdicts(ordinal, blocks.is_empty(), corpus);
        DedupedRef { id: doc.id, title: doc.title, blocks, removed, drop, cluster }
    }
}

impl FinalDoc for DedupedRef<'_> {
    fn id(&self) -> &str {
        self.id
    }
    fn title(&self) -> Option<&str> {
        self.title
    }
    fn texts(&self) -> impl Iterator<Item = &str> + Clone {
        self.blocks.iter().copied()
    }
    fn removals(&self) -> impl Iterator<Item = RemovedRef<'_>> + Clone {
        self.removed.iter().map(|&(_, r)| r)
    }
    fn drop(&self) -> Option<&pith_types::DocDrop> {
        self.drop.as_ref()
    }
    fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }
}

/// What phase 1 keeps of a shard for phase 2: small, fixed-size data only.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Pass1 {
    strip_key: Key,
    /// The key the sketches are cached under: it stands for them (and so for the
    /// shard's short-block hashes) in the reduce's key.
    sketch_key: Key,
    /// The key the shard's heads (`heads_of`) are cached under: phase 2 takes the shard
    /// from them and the strip output, without reading the input again.
    heads_key: Key,
    sketches: Vec<Option<Sketch>>,
}

/// The cache's name for the reduce's results (not a stage of its own in `summary.json`:
/// its time counts as dedup's).
const REDUCE: &str = "dedup_reduce";
/// The cache's names for a shard's term document frequencies, its documents' keywords
/// (against one corpus's frequencies), their candidates (`KeywordsEntry`, whatever the
/// frequencies) and a run's corpus document frequencies, by their fingerprint (their
/// time counts as features').
const KEYWORDS_MAP: &str = "keywords_map";
const KEYWORDS: &str = "keywords";
const KEYWORDS_CANDIDATES: &str = "keywords_candidates";
const KEYWORDS_DF: &str = "keywords_df";
/// The cache's name for the features stage's output as `FeaturesJson`.
const FEATURES_JSON: &str = "features_json";
/// The cache's name for the similarities the last reduce over the same input paths
/// measured, by the pairs' exact hashes (see `Runner::similarities`).
const PAIRS: &str = "dedup_pairs";
/// The cache's name for the texts of the candidate documents of the last reduce over
/// the same input paths that measured every pair, by exact hash (`PairTexts`; see
/// `Runner::similarities`).
const PAIR_TEXTS: &str = "dedup_pair_texts";
/// Candidate documents' blocks' texts by exact hash, in corpus order, as
/// `Runner::similarities` keeps them: `None` when they exceeded `--dedup-memory`.
type PairTexts<S> = Option<Vec<(u64, Vec<S>)>>;
/// The candidates' texts a reduce keeps for the next one, to be stored under `key`
/// (`Runner::keep_texts`): the caller stores them beside phase 2, as compressing tens of
/// MB is otherwise the reduce's longest step on one thread.
pub(crate) struct KeptTexts {
    key: Key,
    texts: PairTexts<String>,
}
/// The cache's name for what the last features made for a shard's place in the corpus
/// (its input paths and its position among their shards) were made of (`FeaturesLast`).
const FEATURES_LAST: &str = "features_last";
/// The cache's name for a shard's heads: the shard without its texts (`heads_of`).
const HEADS: &str = "heads";
/// Bump when `RawShard`, `Entry` or `RawDoc` change shape.
const HEADS_VERSION: u32 = 1;

/// A shard's keyword candidates as cached, under the features stage's input alone: each
/// document's against the corpus document frequencies whose fingerprint is `doc_freq`.
/// Against other frequencies, `Candidates::rescore` proves a document's keywords again
/// or its text is scored again. Its cache version is the features stage's: bump
/// `pith_features::VERSION` when `Candidates` change shape.
#[derive(Debug, Serialize, Deserialize)]
struct KeywordsEntry {
    doc_freq: Key,
    docs: Vec<Candidates>,
}

/// What the last features made for a shard's place were made of: the dedup output
/// their entries are stored under (`FEATURES_JSON`, `KEYWORDS_CANDIDATES`) and each
/// document's features input (`doc_inputs`). When the shard's own entries miss, the
/// documents found there again take their features and candidates from those entries
/// (`Earlier`): a change to a few documents of many shards, or to chrome lines many
/// shards hold, computes only the documents it changed.
#[derive(Debug, Serialize, Deserialize)]
struct FeaturesLast {
    dedup_out: Key,
    docs: Vec<Option<u128>>,
}

/// The documents of a shard that an earlier run's entries for its place hold
/// (`FeaturesLast`): the dedup output those are stored under, and for each document the
/// position of the same one (the same features input) there.
struct Earlier {
    dedup_out: Key,
    same: Vec<Option<usize>>,
}

/// A `KeywordsEntry` as the cache holds it, its surface forms borrowed from the payload:
/// certifying a shard's keywords copies only the keywords' texts.
#[derive(Deserialize)]
struct KeywordsEntryRef<'a> {
    doc_freq: Key,
    #[serde(borrow)]
    docs: Vec<Candidates<&'a str>>,
}

/// What phase 2 scores keywords against: the corpus's document frequencies, their
/// fingerprint, and the `Shift` from each earlier run's frequencies that cached entries
/// were scored against (made once, when a shard first needs it; `None` when the cache
/// lacks those frequencies).
struct KeywordsDf<'d> {
    doc_freq: &'d DocFreq,
    index: DocFreqIndex,
    key: Key,
    shifts: Mutex<HashMap<Key, Option<Arc<Shift>>>>,
}

/// The cache keys of the reduce's `PAIRS` and `PAIR_TEXTS`: the dedup settings and the
/// input paths.
struct PairKeys {
    pairs: Key,
    texts: Key,
}

impl PairKeys {
    fn of(groups: &[&[InputFile]], cfg: &pith_dedup::DedupConfig) -> PairKeys {
        let paths = paths_key(groups);
        PairKeys {
            pairs: Key::for_stage(PAIRS, VERSIONS[DEDUP], cfg, &paths),
            texts: Key::for_stage(PAIR_TEXTS, VERSIONS[DEDUP], cfg, &paths),
        }
    }
}

/// The fingerprint of the input paths of `groups`, in order: what the entries a later run
/// over the same inputs finds again are keyed by (`PairKeys`, `FeaturesLast`).
fn paths_key(groups: &[&[InputFile]]) -> Key {
    fingerprint(&groups.iter().flat_map(|g| g.iter().map(|f| f.rel.as_str())).collect::<Vec<_>>())
}

/// What `Runner::remembered` found of the last reduce over the same input paths, and
/// the keys this one stores its own under.
struct Remembered {
    keys: PairKeys,
    /// Its measured similarities, by the pairs' exact hashes.
    known: HashMap<(u64, u64), f64>,
    /// Its `PairTexts`, not yet decoded (only looked up when `known` has some).
    texts_raw: Option<pith_cache::Raw>,
}

/// A group's documents (by position in it) that the reduce gave new ids, to make them
/// unique across groups.
type Renames = Vec<(u64, String)>;

/// What the reduce computes, as cached.
#[derive(Debug, Serialize, Deserialize)]
struct Reduced {
    corpus: CorpusStats,
    renames: Vec<Vec<(u64, String)>>,
    /// Distinct short blocks, chrome blocks, candidate pairs, similar pairs.
    counts: [u64; 4],
}

impl Pass1 {
    /// Documents of the shard that reach the corpus pass (parsed and stripped without
    /// failure): the ordinals it takes up.
    fn docs(&self) -> u64 {
        self.sketches.iter().flatten().count() as u64
    }
}

/// Phase 1's output for a run of shards: what the corpus pass needs of them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct MapOutput {
    pub(crate) shards: Vec<Pass1>,
    pub(crate) lines: LineCounts,
    /// Per document, in order: the hash of the id the input gave and of the id the
    /// reader made of it (they differ where the id was seen before).
    pub(crate) ids: Vec<(u64, u64)>,
    /// The id the input gave, by document position, where `shards` does not tell it:
    /// the reader renamed the document, or it has no sketch.
    pub(crate) id_strings: Vec<(u64, String)>,
    /// Term document frequencies, for TF-IDF keywords.
    pub(crate) doc_freq: DocFreq,
}

impl MapOutput {
    /// Documents that reach the corpus pass (parsed and stripped without failure).
    pub(crate) fn docs(&self) -> u64 {
        self.shards.iter().map(Pass1::docs).sum()
    }

    /// Records what the corpus pass needs to know of a shard's ids.
    fn add_ids(&mut self, shard: &RawShard, sketches: &[Option<Sketch>]) {
        let renamed: HashMap<u32, &str> = shard.renamed.iter().map(|(i, id)| (*i, id.as_str())).collect();
        let docs = shard.entries.iter().enumerate().filter_map(|(i, e)| match e {
            Entry::Doc(raw) => Some((i, raw)),
            Entry::Unreadable { .. } => None,
        });
        for (k, (i, raw)) in docs.enumerate() {
            let given = renamed.get(&(i as u32)).copied().unwrap_or(&raw.id);
            if given != raw.id || sketches.get(k).is_none_or(Option::is_none) {
                self.id_strings.push((self.ids.len() as u64, given.to_owned()));
            }
            self.ids.push((xxh3_64(given.as_bytes()), xxh3_64(raw.id.as_bytes())));
        }
    }

    /// Gives documents (by position) new ids in their sketches.
    fn rename(&mut self, renames: &[(u64, String)]) {
        let mut renames = renames.iter().peekable();
        for (position, sketch) in self.shards.iter_mut().flat_map(|p| p.sketches.iter_mut()).enumerate() {
            if let Some((_, id)) = renames.next_if(|(at, _)| *at == position as u64)
                && let Some(sketch) = sketch
            {
                sketch.id = id.clone();
            }
        }
    }
}

/// Ids as one reader over all the groups' files would have made them unique
/// (`input::unique_id`), where each group's reader could only see its own: per group, the
/// documents (by position) whose id must change, with the new id. Empty for one group.
fn global_renames(maps: &[MapOutput]) -> Vec<Vec<(u64, String)>> {
    if maps.len() <= 1 {
        return vec![Vec::new(); maps.len()];
    }
    let mut seen: HashSet<u64> = HashSet::with_capacity(maps.iter().map(|m| m.ids.len()).sum());
    let mut res = Vec::with_capacity(maps.len());
    for map in maps {
        let strings: HashMap<u64, &str> = map.id_strings.iter().map(|(p, s)| (*p, s.as_str())).collect();
        let sketch_ids: Vec<Option<&str>> =
            map.shards.iter().flat_map(|p| p.sketches.iter().map(|s| s.as_ref().map(|s| s.id.as_str()))).collect();
        // A document without a string of its own was not renamed by its reader and has a
        // sketch: its sketch's id is the one the input gave.
        let given = |position: usize| -> &str {
            strings.get(&(position as u64)).copied().or(sketch_ids[position]).expect("every id is recorded")
        };
        let mut renames = Vec::new();
        for (position, &(given_hash, read_hash)) in map.ids.iter().enumerate() {
            let new = if seen.insert(given_hash) { None } else { pith::input::unique_id(&mut seen, given(position)) };
            let new_hash = new.as_ref().map_or(given_hash, |id| xxh3_64(id.as_bytes()));
            if new_hash != read_hash {
                renames.push((position as u64, new.unwrap_or_else(|| given(position).to_owned())));
            }
        }
        res.push(renames);
    }
    res
}

/// The corpus ordinal of each shard's first document.
fn offsets<'p>(pass1: impl IntoIterator<Item = &'p Pass1>, first: u64) -> Vec<u64> {
    let mut offsets = Vec::new();
    let mut ordinal = first;
    for p in pass1 {
        offsets.push(ordinal);
        ordinal += p.docs();
    }
    offsets
}

impl<'a> Runner<'a> {
    pub(crate) fn new(cfg: &'a RunConfig, cache: Cache, progress: &'a Progress) -> Self {
        Runner {
            cfg,
            cache,
            cache_broken: AtomicBool::new(false),
            counters: Default::default(),
            keyword_docs: Default::default(),
            features_reused: AtomicU64::new(0),
            cache_warnings: AtomicU64::new(0),
            progress,
        }
    }

    /// The stages' counters so far, in `STAGE_NAMES` order.
    pub(crate) fn stage_stats(&self) -> Vec<StageStats> {
        self.counters
            .iter()
            .map(|c| StageStats {
                seconds: c.nanos.load(Ordering::Relaxed) as f64 / 1e9,
                documents: c.docs.load(Ordering::Relaxed),
                cache_hits: c.hits.load(Ordering::Relaxed),
                cache_misses: c.misses.load(Ordering::Relaxed),
                removed: c.removed.lock().expect("counter lock").clone(),
            })
            .collect()
    }

    /// Runs the pipeline up to `until`, writing lines to `sink` in input order.
    pub(crate) fn run(&self, files: &[InputFile], until: Stage, sink: &mut dyn Sink) -> anyhow::Result<Totals> {
        let groups = [files];
        let mut totals = Totals::default();
        let total_bytes: u64 = files.iter().map(|f| f.size).sum();
        self.progress.start(total_bytes, until >= Stage::Dedup);
        let mut map = self.map(&groups, until, sink, &mut totals)?;
        if until >= Stage::Dedup {
            let lines = std::mem::take(&mut map.lines);
            let mut maps = [map];
            let (corpus, renames, kept) = self.reduce(&groups, &mut maps, &lines, &mut totals);
            drop(lines);
            self.progress.restart(&[DEDUP, FEATURES]);
            let map = &maps[0];
            totals.keyword_terms = map.doc_freq.doc_counts.len() as u64;
            std::thread::scope(|scope| {
                if let Some(kept) = kept {
                    scope.spawn(|| self.keep_texts(kept));
                }
                self.apply(&groups, &map.shards, 0, &corpus, &renames[0], &map.doc_freq, until, sink, &mut totals)
            })?;
        }
        self.progress.finish();
        totals.cache_warnings = self.cache_warnings.load(Ordering::Relaxed);
        Ok(totals)
    }

    /// The shards of `groups` of files, in order. A group is read on its own: a local run
    /// is one group, a planned run one group per plan shard.
    fn read<'f>(&self, groups: &'f [&'f [InputFile]]) -> impl Iterator<Item = RawShard> + 'f {
        let max = self.cfg.max_doc_bytes;
        groups.iter().flat_map(move |files| ShardReader::new(files, max))
    }

    /// Like `read`, but a JSONL shard whose heads the cache keeps (`known_heads`) comes
    /// as those heads, unparsed: phase 1 parses it only if a stage misses.
    fn read_known<'f>(&'f self, groups: &'f [&'f [InputFile]]) -> impl Iterator<Item = RawShard> + 'f {
        let max = self.cfg.max_doc_bytes;
        let known: pith::input::Known<'f> = self;
        groups.iter().flat_map(move |files| ShardReader::with_known(files, max, known))
    }

    /// Phase 1 over `groups`: parse, strip and the dedup map step, per shard. Up to strip,
    /// the records go to `sink`; otherwise only the corpus pass's state is returned.
    pub(crate) fn map(
        &self,
        groups: &[&[InputFile]],
        until: Stage,
        sink: &mut dyn Sink,
        totals: &mut Totals,
    ) -> anyhow::Result<MapOutput> {
        let mut out = MapOutput::default();
        let mut doc_freq_sum = DocFreqSum::default();
        self.in_batches(groups, |shards| {
            let results: Vec<(Pass1, ShardLines, DocFreq)> =
                shards.par_iter().map(|shard| self.phase1(shard, until)).collect();
            for (shard, (mut p1, lines, doc_freq)) in shards.iter().zip(results) {
                doc_freq_sum.add(&doc_freq);
                // Block hashes are counted now and dropped: the corpus state held until
                // the reduce is the id, the exact hash and the band hashes of each
                // document.
                for sketch in p1.sketches.iter_mut().flatten() {
                    out.lines.add(sketch);
                    sketch.lines = Vec::new();
                }
                if until >= Stage::Dedup {
                    out.add_ids(shard, &p1.sketches);
                }
                totals.shards += 1;
                totals.bytes_in += shard.bytes;
                count_repairs(shard, &mut totals.repairs);
                if until <= Stage::Strip {
                    write_lines(sink, lines, totals)?;
                }
                out.shards.push(p1);
            }
            Ok(())
        })?;
        out.doc_freq = doc_freq_sum.finish();
        Ok(out)
    }

    /// The corpus pass's reduce over the map output of each of `groups` (in order): ids
    /// made unique across groups, LSH candidates verified on exact shingle sets, then
    /// clusters and chrome. Returns the corpus verdicts, each group's id renames and the
    /// candidates' texts to keep for the next reduce (`keep_texts`).
    pub(crate) fn reduce(
        &self,
        groups: &[&[InputFile]],
        maps: &mut [MapOutput],
        lines: &LineCounts,
        totals: &mut Totals,
    ) -> (CorpusStats, Vec<Renames>, Option<KeptTexts>) {
        let started = Instant::now();
        let cfg = &self.cfg.stages.dedup;
        // The reduce is cached as a whole, under what it is made of: every shard's
        // sketches (by their keys) and ids, so a warm run skips the candidates' check.
        let input = fingerprint(&(
            maps.iter().flat_map(|m| m.shards.iter().map(|p| p.sketch_key)).collect::<Vec<_>>(),
            maps.iter().map(|m| (&m.ids, &m.id_strings)).collect::<Vec<_>>(),
        ));
        let key = Key::for_stage(REDUCE, VERSIONS[DEDUP], cfg, &input);
        let cached: Option<Reduced> = self.lookup_as(REDUCE, VERSIONS[DEDUP], &key).map(|(r, _)| r);
        let mut kept = None;
        let reduced = match cached {
            Some(reduced) => reduced,
            None => {
                let renames = global_renames(maps);
                for (map, renames) in maps.iter_mut().zip(&renames) {
                    map.rename(renames);
                }
                let pass1: Vec<&Pass1> = maps.iter().flat_map(|m| &m.shards).collect();
                let offsets = offsets(pass1.iter().copied(), 0);
                let all: Vec<&Sketch> = pass1.iter().flat_map(|p| p.sketches.iter().flatten()).collect();
                // The last reduce's similarities and texts are read (the texts are one
                // zstd frame of a few MB) while the candidates are found: each takes tens
                // of milliseconds on one thread, in a touched run's otherwise serial reduce.
                let keys = PairKeys::of(groups, cfg);
                let (pairs, remembered) =
                    rayon::join(|| pith_dedup::candidate_pairs(&all, cfg), || self.remembered(keys));
                let similar;
                (similar, kept) = self.similarities(groups, &pass1, &offsets, &all, &pairs, remembered);
                let n_pairs = pairs.len() as u64;
                drop(pairs);
                let corpus = pith_dedup::reduce(&all, lines, &similar, cfg);
                let counts = [
                    lines.len() as u64,
                    corpus.chrome.len() as u64,
                    n_pairs,
                    similar.iter().filter(|(_, _, sim)| *sim >= cfg.near_threshold).count() as u64,
                ];
                let reduced = Reduced { corpus, renames, counts };
                self.store_for_later(REDUCE, VERSIONS[DEDUP], &key, &reduced);
                reduced
            }
        };
        let Reduced { corpus, renames, counts: [distinct, chrome, candidates, similar] } = reduced;
        totals.distinct_blocks = distinct;
        totals.chrome_blocks = chrome;
        totals.candidate_pairs = candidates;
        totals.similar_pairs = similar;
        self.counters[DEDUP].nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        (corpus, renames, kept)
    }

    /// Stores the candidates' texts a reduce kept (`PAIR_TEXTS`).
    pub(crate) fn keep_texts(&self, kept: KeptTexts) {
        self.store_for_later(PAIR_TEXTS, VERSIONS[DEDUP], &kept.key, &kept.texts);
    }

    /// Phase 2 over `groups`, whose documents are numbered from `first` in the corpus:
    /// dedup apply, features and rendering, per shard, written to `sink` in order.
    /// `renames` gives documents (by position in `groups`) the ids `reduce` made unique.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply(
        &self,
        groups: &[&[InputFile]],
        pass1: &[Pass1],
        first: u64,
        corpus: &CorpusStats,
        renames: &[(u64, String)],
        doc_freq: &DocFreq,
        until: Stage,
        sink: &mut dyn Sink,
        totals: &mut Totals,
    ) -> anyhow::Result<()> {
        let offsets = offsets(pass1, first);
        let doc_freq = KeywordsDf {
            doc_freq,
            index: DocFreqIndex::new(doc_freq),
            key: fingerprint(doc_freq),
            shifts: Mutex::default(),
        };
        if until >= Stage::Features && self.cfg.stages.features.keywords > 0 && self.kept_for_later() {
            // The next run's keywords are certified against these frequencies: kept once
            // per run (a planned run's apply tasks all hold the same), unless the cache is
            // a scratch one that no later run will see.
            let version = VERSIONS[FEATURES];
            if self.checked(self.cache.output_key(KEYWORDS_DF, version, &doc_freq.key)).is_none() {
                self.store_as(KEYWORDS_DF, version, &doc_freq.key, doc_freq.doc_freq);
            }
        }
        let mut position = 0u64;
        let chrome_key = fingerprint(&corpus.chrome);
        // Each shard's place, for `FeaturesLast`: the input paths and its position among
        // their shards.
        let paths = paths_key(groups);
        let fcfg = &self.cfg.stages.features;
        let place = |at: usize| Key::for_stage(FEATURES_LAST, VERSIONS[FEATURES], fcfg, &fingerprint(&(&paths, at)));
        // The input is read only for shards whose heads or strip output the cache lacks,
        // in order and at most a shard ahead of the one needed.
        let mut reader = self.read(groups);
        let mut read = 0;
        let batch = rayon::current_num_threads() * 2;
        for index in (0..pass1.len()).step_by(batch) {
            let p1 = &pass1[index..(index + batch).min(pass1.len())];
            let found: Vec<Cached> = p1.par_iter().map(|p| self.cached_shard(p)).collect();
            let mut shards = Vec::with_capacity(found.len());
            for (i, (heads, stripped)) in found.into_iter().enumerate() {
                let shard = match (heads, &stripped) {
                    (Some(heads), Some(_)) => heads,
                    _ => {
                        let skip = index + i - read;
                        let shard =
                            reader.nth(skip).context("the inputs hold fewer shards than the corpus pass saw")?;
                        read = index + i + 1;
                        shard
                    }
                };
                shards.push((shard, stripped));
            }
            // Each shard's renames, by position in the shard.
            let shard_renames: Vec<Vec<(u64, String)>> = shards
                .iter()
                .map(|(shard, _)| {
                    let n = shard.docs().count() as u64;
                    let range = position..position + n;
                    position += n;
                    renames
                        .iter()
                        .filter(|(at, _)| range.contains(at))
                        .map(|(at, id)| (at - range.start, id.clone()))
                        .collect()
                })
                .collect();
            let results: Vec<ShardLines> = shards
                .into_par_iter()
                .zip(&shard_renames)
                .enumerate()
                .map(|(i, ((shard, stripped), renames))| {
                    let p1 = &pass1[index + i];
                    // `cached_shard` asked the cache already: without its strip output
                    // (or with a damaged one, warned about once), strip the shard again.
                    let stripped = match stripped {
                        Some(raw) => Stripped::Cached(raw),
                        None => Stripped::Made(strip_shard(parse_shard(&shard), &self.cfg.stages.strip)),
                    };
                    // Only if the cached strip output cannot be decoded after all.
                    let restrip = || match self.read(groups).nth(index + i) {
                        Some(shard) => strip_shard(parse_shard(&shard), &self.cfg.stages.strip),
                        None => Vec::new(),
                    };
                    self.phase2(
                        &shard,
                        stripped,
                        &restrip,
                        p1,
                        offsets[index + i],
                        corpus,
                        &chrome_key,
                        renames,
                        &doc_freq,
                        until,
                        &place(index + i),
                    )
                })
                .collect();
            for lines in results {
                write_lines(sink, lines, totals)?;
            }
        }
        let [reused, certified, scored] = &self.keyword_docs;
        totals.keywords_reused += reused.swap(0, Ordering::Relaxed);
        totals.keywords_certified += certified.swap(0, Ordering::Relaxed);
        totals.keywords_scored += scored.swap(0, Ordering::Relaxed);
        totals.features_reused += self.features_reused.swap(0, Ordering::Relaxed);
        Ok(())
    }

    /// A shard's heads and strip output from the cache, each `None` where the cache lacks
    /// it: phase 2 skips reading the shard from the input only when it has both.
    fn cached_shard(&self, pass1: &Pass1) -> Cached {
        let heads = self.lookup_as::<RawShard>(HEADS, HEADS_VERSION, &pass1.heads_key).map(|(heads, _)| heads);
        let stripped = self.checked(self.cache.get_raw(STAGE_NAMES[STRIP], VERSIONS[STRIP], &pass1.strip_key));
        (heads, stripped)
    }

    /// Calls `each` with the shards of `groups` in order, a batch at a time (two per
    /// worker). With more than one worker, two threads of their own make the next batch
    /// meanwhile, one reading (and hashing) the shards' bytes, the other making them
    /// entries (JSON parsing; the ids): reading is the one sequential part of a phase. With
    /// one worker, reading waits, so that `--threads 1` uses one core.
    fn in_batches(
        &self,
        groups: &[&[InputFile]],
        mut each: impl FnMut(Vec<RawShard>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let threads = rayon::current_num_threads();
        let batch = threads * 2;
        if threads == 1 {
            let mut reader = self.read_known(groups);
            loop {
                let shards: Vec<RawShard> = reader.by_ref().take(batch).collect();
                if shards.is_empty() {
                    return Ok(());
                }
                each(shards)?;
            }
        }
        // What the reading thread hands the naming one: a group's namer, then the shards
        // of that group.
        enum Read<'a> {
            Group(ShardNamer<'a>),
            Shard(ReadShard),
        }
        let max = self.cfg.max_doc_bytes;
        let known: pith::input::Known<'_> = self;
        std::thread::scope(|scope| {
            let (read_tx, read_rx) = std::sync::mpsc::sync_channel::<Read<'_>>(batch);
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<RawShard>>(1);
            scope.spawn(move || {
                for files in groups {
                    let (bytes, namer) = ShardReader::with_known(files, max, known).split();
                    if read_tx.send(Read::Group(namer)).is_err() {
                        return;
                    }
                    for read in bytes {
                        if read_tx.send(Read::Shard(read)).is_err() {
                            return;
                        }
                    }
                }
            });
            scope.spawn(move || {
                let mut namer = None;
                let mut shards = read_rx.into_iter().filter_map(|read| match read {
                    Read::Group(next) => {
                        namer = Some(next);
                        None
                    }
                    Read::Shard(read) => Some(namer.as_mut().expect("a group's namer comes first").name(read)),
                });
                loop {
                    let shards: Vec<RawShard> = shards.by_ref().take(batch).collect();
                    if shards.is_empty() || tx.send(shards).is_err() {
                        break;
                    }
                }
            });
            // On an error `rx` goes, the naming thread's next send fails and it stops,
            // and so does the reading one.
            rx.into_iter().try_for_each(&mut each)
        })
    }

    /// What the last reduce over the same input paths left for this one: the similarities
    /// it measured, by exact hashes, and (when there are some) the candidates' texts it kept.
    fn remembered(&self, keys: PairKeys) -> Remembered {
        let known: HashMap<(u64, u64), f64> = self
            .lookup_as::<Vec<(u64, u64, f64)>>(PAIRS, VERSIONS[DEDUP], &keys.pairs)
            .map(|(memo, _)| memo.into_iter().map(|(a, b, sim)| ((a, b), sim)).collect())
            .unwrap_or_default();
        let texts_raw = if known.is_empty() {
            None
        } else {
            self.checked(self.cache.get_raw(PAIR_TEXTS, VERSIONS[DEDUP], &keys.texts))
        };
        Remembered { keys, known, texts_raw }
    }

    /// The exact similarity of each candidate pair: remembered from the last reduce over
    /// the same input paths when both documents are unchanged, otherwise measured
    /// (`verify`). A document's shingle set is a function of its normalised words, which
    /// its exact hash stands for (as it does for exact duplicates), so a pair of exact
    /// hashes has one similarity. When 1% of the documents change, only their pairs are
    /// measured again.
    ///
    /// Their unchanged partners' shingle sets come from the texts of the candidate
    /// documents, by exact hash, that the last reduce which measured every pair kept
    /// (`PAIR_TEXTS`: a few MB, near-duplicates compress to little), instead of from
    /// their shards' strip output, of which a changed document's partners need most. The
    /// first of each set of exact copies is kept too: a change to one of its copies makes
    /// it a candidate (of that copy). Without those texts, or when they lack more than an
    /// eighth of the candidates (documents changed since), every pair is measured and the
    /// texts kept again: returned, for the caller to store (`keep_texts`).
    fn similarities(
        &self,
        groups: &[&[InputFile]],
        pass1: &[&Pass1],
        offsets: &[u64],
        sketches: &[&Sketch],
        pairs: &[(u64, u64)],
        remembered: Remembered,
    ) -> (Vec<(u64, u64, f64)>, Option<KeptTexts>) {
        let cfg = &self.cfg.stages.dedup;
        let exact = |ordinal: u64| sketches.get(ordinal as usize)?.exact;
        let exact_pair = |&(i, j): &(u64, u64)| {
            let (a, b) = (exact(i)?, exact(j)?);
            Some((a.min(b), a.max(b)))
        };
        let Remembered { keys: PairKeys { pairs: key, texts: texts_key }, mut known, texts_raw } = remembered;
        let texts: Option<PairTexts<&str>> = texts_raw.as_ref().and_then(|raw| self.checked(raw.decode()));
        let memo: Option<HashMap<u64, &[&str]>> = match &texts {
            Some(Some(list)) => Some(list.iter().map(|(hash, texts)| (*hash, texts.as_slice())).collect()),
            _ => None,
        };
        let candidates: HashSet<u64> = pairs.iter().flat_map(|&(i, j)| [i, j]).filter_map(exact).collect();
        let covered = memo.as_ref().map_or(0, |memo| candidates.iter().filter(|h| memo.contains_key(h)).count());
        // (`Some(None)`: the last full check's texts exceeded `--dedup-memory`.)
        let stale = !matches!(texts, Some(None)) && covered * 8 < candidates.len() * 7;
        if stale {
            known.clear();
        }
        // Kept with the candidates' texts: the first of each set of exact copies, which a
        // change to another copy makes a candidate (its copies are no longer exact ones).
        let copied: Option<HashSet<u64>> = (stale && self.kept_for_later()).then(|| {
            let mut copies: HashMap<u64, (u64, bool)> = HashMap::new();
            for (o, hash) in sketches.iter().enumerate().filter_map(|(o, s)| Some((o as u64, s.exact?))) {
                copies.entry(hash).and_modify(|(_, copied)| *copied = true).or_insert((o, false));
            }
            copies.into_values().filter(|&(_, copied)| copied).map(|(first, _)| first).collect()
        });
        let remembered = |pair: &(u64, u64)| exact_pair(pair).and_then(|e| known.get(&e)).copied();
        // Millions of pairs on a large corpus: the measured ones come back in the order of
        // `pairs` and are merged in by walking both, not through a map.
        let unknown: Vec<(u64, u64)>;
        let to_measure = if known.is_empty() {
            pairs
        } else {
            unknown = pairs.iter().filter(|pair| remembered(pair).is_none()).copied().collect();
            &unknown
        };
        // The sets of the documents to measure whose texts were kept, by ordinal.
        let kept_sets: HashMap<u64, Vec<u32>> = match (&memo, stale) {
            (Some(memo), false) => {
                let mut from_texts: Vec<u64> = to_measure.iter().flat_map(|&(i, j)| [i, j]).collect();
                from_texts.sort_unstable();
                from_texts.dedup();
                from_texts
                    .par_iter()
                    .filter_map(|&o| {
                        let texts = memo.get(&exact(o)?)?;
                        Some((o, pith_dedup::shingle_set_of_texts(texts.iter().copied(), cfg)))
                    })
                    .collect()
            }
            _ => HashMap::new(),
        };
        drop(memo);
        drop(texts);
        drop(texts_raw);
        let (measured, collected) = self.verify(groups, pass1, offsets, to_measure, &kept_sets, copied.as_ref());
        drop(kept_sets);
        let kept = copied.is_some().then(|| {
            // Each exact hash once, in corpus order (where near-duplicates' repeats lie
            // close enough for the compressor to find).
            let mut seen = HashSet::new();
            let texts = collected.map(|texts| {
                texts
                    .into_iter()
                    .filter_map(|(o, texts)| Some((exact(o)?, texts)))
                    .filter(|(h, _)| seen.insert(*h))
                    .collect()
            });
            KeptTexts { key: texts_key, texts }
        });
        let mut measured = measured.into_iter().peekable();
        let similar: Vec<(u64, u64, f64)> = pairs
            .iter()
            .filter_map(|&(i, j)| match remembered(&(i, j)) {
                Some(sim) => Some((i, j, sim)),
                None => {
                    // (`verify` leaves out pairs it could not measure.)
                    while measured.next_if(|&(a, b, _)| (a, b) < (i, j)).is_some() {}
                    measured.next_if(|&(a, b, _)| (a, b) == (i, j)).map(|(_, _, sim)| (i, j, sim))
                }
            })
            .collect();
        drop(measured);
        let mut memo: Vec<(u64, u64, f64)> =
            similar.iter().filter_map(|&(i, j, sim)| exact_pair(&(i, j)).map(|(a, b)| (a, b, sim))).collect();
        memo.sort_unstable_by_key(|&(a, b, _)| (a, b));
        memo.dedup_by(|x, y| (x.0, x.1) == (y.0, y.1));
        self.store_for_later(PAIRS, VERSIONS[DEDUP], &key, &memo);
        (similar, kept)
    }

    /// The exact similarity of each candidate pair, from the candidates' shingle sets:
    /// those of `kept_sets` (by ordinal), the others computed from the strip output (read
    /// back from the cache, or recomputed from the input where the cache has none). With
    /// `collect`, also the texts of the documents read and of those it holds, by ordinal
    /// in corpus order, unless they exceed `--dedup-memory` (`None`).
    ///
    /// Only candidates' shingle sets are held, and about `--dedup-memory` of them at most:
    /// a corpus whose candidates need more (millions of near-duplicate documents) is
    /// checked in windows of shards. A window holds the sets of its shards; the pairs
    /// whose first document lies in it and whose second lies beyond it read those later
    /// shards a batch at a time, holding only that batch's sets. Pairs come out in order.
    #[allow(clippy::type_complexity)]
    fn verify(
        &self,
        groups: &[&[InputFile]],
        pass1: &[&Pass1],
        offsets: &[u64],
        pairs: &[(u64, u64)],
        kept_sets: &HashMap<u64, Vec<u32>>,
        collect: Option<&HashSet<u64>>,
    ) -> (Vec<(u64, u64, f64)>, Option<Vec<(u64, Vec<String>)>>) {
        let needed: HashSet<u64> =
            pairs.iter().flat_map(|&(i, j)| [i, j]).filter(|o| !kept_sets.contains_key(o)).collect();
        let shard_of = |ordinal: u64| offsets.partition_point(|&o| o <= ordinal) - 1;
        let mut wanted: Vec<usize> = needed.iter().chain(collect.into_iter().flatten()).map(|&o| shard_of(o)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let batch = rayon::current_num_threads() * 2;
        // NaN where a pair has no similarity (a set is missing): `Option<f64>` would take
        // twice the room in a window's list.
        let similarity = |a: Option<&Vec<u32>>, b: Option<&Vec<u32>>| match (a, b) {
            (Some(a), Some(b)) => pith_dedup::similarity(a, b),
            _ => f64::NAN,
        };
        fn set_of<'s>(
            kept: &'s HashMap<u64, Vec<u32>>,
            sets: &'s HashMap<u64, Vec<u32>>,
            o: u64,
        ) -> Option<&'s Vec<u32>> {
            kept.get(&o).or_else(|| sets.get(&o))
        }
        // In shingle hashes, of 4 bytes.
        let budget = usize::try_from(self.cfg.dedup_memory / 4).unwrap_or(usize::MAX);
        let mut texts = collect.map(|_| Vec::new());
        let texts_of = |o: u64| needed.contains(&o) || collect.is_some_and(|extra| extra.contains(&o));
        let mut text_bytes = 0u64;
        let mut res = Vec::with_capacity(pairs.len());
        let (mut rest, mut next, mut windows, mut cut) = (pairs, 0, 0, false);
        while !rest.is_empty() {
            // The window: the next shards that hold candidates (a batch at least), until
            // their sets reach the budget.
            let mut sets: HashMap<u64, Vec<u32>> = HashMap::new();
            let mut held = 0;
            windows += 1;
            loop {
                let shards = &wanted[next..(next + batch).min(wanted.len())];
                let with_texts: Option<&(dyn Fn(u64) -> bool + Sync)> = texts.is_some().then_some(&texts_of);
                for (found, found_texts) in
                    self.shingle_sets(groups, pass1, offsets, shards, &|o| needed.contains(&o), with_texts)
                {
                    held += found.iter().map(|(_, set)| set.len()).sum::<usize>();
                    sets.extend(found);
                    text_bytes += found_texts.iter().flat_map(|(_, t)| t).map(|t| t.len() as u64).sum::<u64>();
                    if let Some(texts) = &mut texts {
                        texts.extend(found_texts);
                    }
                }
                if text_bytes > self.cfg.dedup_memory {
                    texts = None;
                }
                next += shards.len();
                if next == wanted.len() {
                    break;
                }
                if held >= budget {
                    cut = true;
                    break;
                }
            }
            // Ordinals from `end` on lie beyond the window (documents of `kept_sets` lie
            // in every window).
            let end = wanted.get(next).map_or(u64::MAX, |&shard| offsets[shard]);
            let (window, later) = rest.split_at(rest.partition_point(|&(i, _)| i < end));
            rest = later;
            let within = |j: u64| j < end || kept_sets.contains_key(&j);
            let mut sims: Vec<f64> = window
                .par_iter()
                .map(|&(i, j)| {
                    if within(j) {
                        similarity(set_of(kept_sets, &sets, i), set_of(kept_sets, &sets, j))
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            // The pairs reaching beyond the window (by position in it), by second document.
            let mut beyond: Vec<(u64, usize)> =
                window.iter().enumerate().filter(|(_, (_, j))| !within(*j)).map(|(k, &(_, j))| (j, k)).collect();
            beyond.sort_unstable();
            let far: HashSet<u64> = beyond.iter().map(|&(j, _)| j).collect();
            let mut far_shards: Vec<usize> = far.iter().map(|&j| shard_of(j)).collect();
            far_shards.sort_unstable();
            far_shards.dedup();
            for shards in far_shards.chunks(batch) {
                let last = *shards.last().expect("chunks are not empty");
                let (lo, hi) = (offsets[shards[0]], offsets.get(last + 1).copied().unwrap_or(u64::MAX));
                let far_sets: HashMap<u64, Vec<u32>> = self
                    .shingle_sets(groups, pass1, offsets, shards, &|o| far.contains(&o), None)
                    .into_iter()
                    .flat_map(|(found, _)| found)
                    .collect();
                let from = beyond.partition_point(|&(j, _)| j < lo);
                let to = beyond.partition_point(|&(j, _)| j < hi);
                let measured: Vec<(usize, f64)> = beyond[from..to]
                    .par_iter()
                    .map(|&(j, k)| (k, similarity(set_of(kept_sets, &sets, window[k].0), far_sets.get(&j))))
                    .collect();
                for (k, sim) in measured {
                    sims[k] = sim;
                }
            }
            res.extend(window.iter().zip(sims).filter(|(_, sim)| !sim.is_nan()).map(|(&(i, j), sim)| (i, j, sim)));
        }
        if cut {
            self.progress.info(&format!(
                "near-duplicate check: the shingle sets of {} candidate documents exceed --dedup-memory {} MB; \
                 checked in {windows} window(s) of shards",
                needed.len(),
                self.cfg.dedup_memory >> 20
            ));
        }
        (res, texts)
    }

    /// The shingle sets of the documents `keep` picks in shards `shards` (ascending), from
    /// the cached strip output, or from the input where the cache has none; and the texts
    /// of those `with_texts` picks (by ordinal, in order).
    #[allow(clippy::type_complexity)]
    fn shingle_sets(
        &self,
        groups: &[&[InputFile]],
        pass1: &[&Pass1],
        offsets: &[u64],
        shards: &[usize],
        keep: &(dyn Fn(u64) -> bool + Sync),
        with_texts: Option<&(dyn Fn(u64) -> bool + Sync)>,
    ) -> Vec<(ShingleSets, Vec<(u64, Vec<String>)>)> {
        let cfg = &self.cfg.stages.dedup;
        // The sets of the documents `keep` picks in one shard's strip output (numbered from
        // `first` among the documents strip kept), each made from the blocks' texts that
        // `texts` gives (`None` if it cannot), and the texts of those `with_texts` picks.
        fn picked<D>(
            stripped: &[Slot<D>],
            first: u64,
            keep: &dyn Fn(u64) -> bool,
            texts: impl Fn(&D) -> Option<Vec<&str>>,
            with_texts: Option<&(dyn Fn(u64) -> bool + Sync)>,
            cfg: &pith_dedup::DedupConfig,
        ) -> Option<(ShingleSets, Vec<(u64, Vec<String>)>)> {
            let mut sets = Vec::new();
            let mut kept = Vec::new();
            for (o, doc) in stripped.iter().filter_map(Slot::ok).enumerate().map(|(k, doc)| (first + k as u64, doc)) {
                let (set, text) = (keep(o), with_texts.is_some_and(|pick| pick(o)));
                if !set && !text {
                    continue;
                }
                let texts = texts(doc)?;
                if set {
                    sets.push((o, pith_dedup::shingle_set_of_texts(texts.iter().copied(), cfg)));
                }
                if text {
                    kept.push((o, texts.into_iter().map(str::to_owned).collect()));
                }
            }
            Some((sets, kept))
        }
        fn block_texts(doc: &StrippedDoc) -> Option<Vec<&str>> {
            Some(doc.blocks.iter().map(|b| b.text.as_str()).collect())
        }
        // From the cache, the strip output is read for the picked documents' texts alone
        // (`StrippedTexts`), borrowed from the payload: a shard holds a few candidates.
        let cached_sets_of = |index: usize| {
            let raw = self.checked(self.cache.get_raw(STAGE_NAMES[STRIP], VERSIONS[STRIP], &pass1[index].strip_key))?;
            let stripped = self.checked(raw.decode::<Vec<Slot<StrippedTexts<'_>>>>())?;
            picked(&stripped, offsets[index], keep, StrippedTexts::texts, with_texts, cfg)
        };
        let mut found: Vec<Option<_>> = shards.par_iter().map(|&i| cached_sets_of(i)).collect();
        let missing: HashMap<usize, usize> =
            shards.iter().enumerate().filter(|&(k, _)| found[k].is_none()).map(|(k, &i)| (i, k)).collect();
        if let Some(&last) = missing.keys().max() {
            for (index, shard) in self.read(groups).enumerate().take(last + 1) {
                if let Some(&k) = missing.get(&index) {
                    let stripped = strip_shard(parse_shard(&shard), &self.cfg.stages.strip);
                    found[k] = picked(&stripped, offsets[index], keep, block_texts, with_texts, cfg);
                }
            }
        }
        found.into_iter().flatten().collect()
    }

    /// Phase 1 for one shard. Keys chain on the stages' outputs (DESIGN.md, cache), read
    /// from the cache files' headers: a warm run decodes only the sketches here.
    fn phase1(&self, shard: &RawShard, until: Stage) -> (Pass1, ShardLines, DocFreq) {
        let n_docs = shard.docs().count() as u64;
        // The shard as the stages need it: a shard the reader knew has no texts until one
        // misses.
        let full = std::cell::OnceCell::new();
        let texts = || &**full.get_or_init(|| shard.with_texts());
        // Parse output is not stored, only its output key: parsing again is about as
        // fast as reading it back, and the cache stays a third smaller.
        let shard_key = shard_key(shard);
        let parse_key = Key::for_stage(STAGE_NAMES[PARSE], VERSIONS[PARSE], &(), &shard_key);
        let mut parsed = None;
        let parse_out = match self.output_key(PARSE, &parse_key) {
            Some(out) => out,
            None => {
                let value = self.compute(PARSE, || parse_shard(texts()));
                let out = fingerprint(&value);
                if self.kept_for_later() {
                    self.store(PARSE, &parse_key, &(), &out);
                }
                parsed = Some(value);
                out
            }
        };
        self.counters[PARSE].docs.fetch_add(n_docs, Ordering::Relaxed);
        self.progress.advance(PARSE, shard.bytes);
        if until == Stage::Parse {
            let parsed = parsed.unwrap_or_else(|| parse_shard(texts()));
            let p1 = Pass1 { strip_key: parse_key, sketch_key: parse_key, heads_key: parse_key, sketches: Vec::new() };
            return (p1, render_stage(texts(), &parsed, "parse"), DocFreq::default());
        }

        let scfg = &self.cfg.stages.strip;
        let strip_key = Key::for_stage(STAGE_NAMES[STRIP], VERSIONS[STRIP], scfg, &parse_out);
        let mut stripped = None;
        let known = if until == Stage::Strip { None } else { self.output_key(STRIP, &strip_key) };
        let strip_out = match known {
            Some(out) => out,
            None => {
                let found = if until == Stage::Strip { self.lookup(STRIP, &strip_key) } else { None };
                let (value, out) = match found {
                    Some(found) => {
                        self.counters[STRIP].hits.fetch_add(1, Ordering::Relaxed);
                        found
                    }
                    None => {
                        let parsed = parsed.take().unwrap_or_else(|| parse_shard(texts()));
                        let value = self.compute(STRIP, || strip_shard(parsed, scfg));
                        let out = self.store_own(STRIP, &strip_key, &value);
                        (value, out)
                    }
                };
                stripped = Some(value);
                out
            }
        };
        self.counters[STRIP].docs.fetch_add(n_docs, Ordering::Relaxed);
        self.progress.advance(STRIP, shard.bytes);
        if until == Stage::Strip {
            let stripped = stripped.expect("the strip output is at hand up to strip");
            self.count_removed(STRIP, &stripped, |d| d.removed.iter().map(|r| &*r.kind));
            return (
                Pass1 { strip_key, sketch_key: strip_key, heads_key: strip_key, sketches: Vec::new() },
                render_stage(texts(), &stripped, "strip"),
                DocFreq::default(),
            );
        }

        let dcfg = &self.cfg.stages.dedup;
        let sketch_key = Key::for_stage(STAGE_NAMES[DEDUP_MAP], VERSIONS[DEDUP_MAP], dcfg, &strip_out);
        let sketches = match self.lookup(DEDUP_MAP, &sketch_key) {
            Some((value, _)) => {
                self.counters[DEDUP_MAP].hits.fetch_add(1, Ordering::Relaxed);
                value
            }
            None => {
                let stripped = stripped.get_or_insert_with(|| self.strip_output(texts(), &strip_key));
                let value: Vec<Option<Sketch>> = self.compute(DEDUP_MAP, || {
                    stripped.par_iter().map(|s| s.ok().map(|doc| pith_dedup::sketch(doc, dcfg))).collect()
                });
                self.store(DEDUP_MAP, &sketch_key, &value, &sketch_key);
                value
            }
        };
        self.counters[DEDUP_MAP].docs.fetch_add(sketches.len() as u64, Ordering::Relaxed);
        let doc_freq = self.doc_freq(&texts, &strip_key, &strip_out, &mut stripped);
        let heads_key = Key::for_stage(HEADS, HEADS_VERSION, &(), &shard_key);
        // A shard that lacks its texts came from these very heads (`KnownHeads::heads`
        // looks them up under this key: such a shard renames no id).
        if !shard.lacks_texts() && self.checked(self.cache.output_key(HEADS, HEADS_VERSION, &heads_key)).is_none() {
            self.store_as(HEADS, HEADS_VERSION, &heads_key, &heads_of(shard));
        }
        self.progress.advance(DEDUP_MAP, shard.bytes);
        (Pass1 { strip_key, sketch_key, heads_key, sketches }, ShardLines::default(), doc_freq)
    }

    /// The shard's term document frequencies, for TF-IDF keywords (none when they are
    /// off): the corpus pass's map step for features, cached like a stage's output.
    fn doc_freq<'s>(
        &self,
        texts: &dyn Fn() -> &'s RawShard,
        strip_key: &Key,
        strip_out: &Key,
        stripped: &mut Option<Vec<Slot<StrippedDoc>>>,
    ) -> DocFreq {
        let fcfg = &self.cfg.stages.features;
        if fcfg.keywords == 0 {
            return DocFreq::default();
        }
        let key = Key::for_stage(KEYWORDS_MAP, VERSIONS[FEATURES], &(fcfg.language, fcfg.fast_english), strip_out);
        if let Some((value, _)) = self.lookup_as(KEYWORDS_MAP, VERSIONS[FEATURES], &key) {
            return value;
        }
        let stripped = stripped.get_or_insert_with(|| self.strip_output(texts(), strip_key));
        // The documents' terms in parallel, as the stages before counted theirs: a shard
        // computed among cached ones would otherwise leave the other workers idle here.
        let value = self.timed(FEATURES, || {
            let hashes: Vec<Vec<u64>> = stripped
                .par_iter()
                .filter_map(Slot::ok)
                .map(|doc| {
                    let blocks = doc.blocks.iter().map(|block| block.text.as_str());
                    pith_features::keywords::language_and_term_hashes_of_blocks(blocks, fcfg).1
                })
                .collect();
            DocFreq::of_term_hashes(hashes)
        });
        self.store_for_later(KEYWORDS_MAP, VERSIONS[FEATURES], &key, &value);
        value
    }

    #[allow(clippy::too_many_arguments)]
    fn phase2(
        &self,
        shard: &RawShard,
        stripped: Stripped,
        restrip: &dyn Fn() -> Vec<Slot<StrippedDoc>>,
        pass1: &Pass1,
        offset: u64,
        corpus: &CorpusStats,
        chrome_key: &Key,
        renames: &[(u64, String)],
        doc_freq: &KeywordsDf<'_>,
        until: Stage,
        place: &Key,
    ) -> ShardLines {
        let cfg = &self.cfg.stages.dedup;
        let renamed;
        let shard = if renames.is_empty() {
            shard
        } else {
            renamed = rename_docs(shard, renames);
            &renamed
        };
        // The apply step's input: this shard's strip output and the chrome lines its
        // documents hold. The corpus pass's verdicts (drops and clusters) are set after,
        // on a hit too, so that a change elsewhere in the corpus leaves this shard's apply,
        // and features, cached.
        let chrome_key = self.shard_chrome_key(pass1, corpus).unwrap_or(*chrome_key);
        let input = fingerprint(&(&pass1.strip_key, &chrome_key));
        let dedup_key = Key::for_stage(STAGE_NAMES[DEDUP], VERSIONS[DEDUP], cfg, &input);
        let fcfg = &self.cfg.stages.features;
        let features_key = |dedup_out: &Key| Key::for_stage(STAGE_NAMES[FEATURES], VERSIONS[FEATURES], fcfg, dedup_out);
        // Stored as deltas over the strip output (no text twice), rebuilt on a hit.
        let found_deltas = self.lookup::<Vec<Slot<DedupDelta>>>(DEDUP, &dedup_key);
        let mut found_features = None;
        let stripped = match stripped {
            Stripped::Made(stripped) => stripped,
            Stripped::Cached(raw) => {
                // A shard whose dedup and features are cached is rendered from its strip
                // output as the cache has it, without making its documents.
                if until >= Stage::Features
                    && let Some((deltas, dedup_out)) = &found_deltas
                {
                    let key = features_key(dedup_out);
                    let found = self.checked(self.cache.get_raw(FEATURES_JSON, VERSIONS[FEATURES], &key));
                    let features =
                        found.as_ref().and_then(|raw| self.checked(raw.decode::<Vec<Slot<FeaturesJsonRef<'_>>>>()));
                    // (Damaged features, warned about, are made again.)
                    let damaged = found.is_some() && features.is_none();
                    if let Some(features) = &features {
                        match self.checked(raw.decode::<Vec<Slot<StrippedRef<'_>>>>()) {
                            Some(docs) if docs.len() == deltas.len() => {
                                let cached = CachedShard { docs: &docs, deltas, dedup_out, features };
                                return self.render_cached(shard, &cached, offset, corpus, renames, doc_freq);
                            }
                            Some(_) => {}
                            None => {
                                return self.phase2_made(
                                    shard,
                                    restrip(),
                                    None,
                                    None,
                                    offset,
                                    corpus,
                                    renames,
                                    doc_freq,
                                    until,
                                    &dedup_key,
                                    place,
                                );
                            }
                        }
                    }
                    drop(features);
                    found_features = found.filter(|_| !damaged).map(|found| (found, key));
                }
                self.checked(raw.decode()).unwrap_or_else(restrip)
            }
        };
        self.phase2_made(
            shard,
            stripped,
            found_deltas,
            found_features,
            offset,
            corpus,
            renames,
            doc_freq,
            until,
            &dedup_key,
            place,
        )
    }

    /// Phase 2 for a shard whose dedup and features are cached, from its strip output as
    /// the cache has it: the documents are rebuilt as `phase2_made` rebuilds them, but
    /// with their texts borrowed from the payload.
    #[allow(clippy::too_many_arguments)]
    fn render_cached(
        &self,
        shard: &RawShard,
        cached: &CachedShard<'_, '_>,
        offset: u64,
        corpus: &CorpusStats,
        renames: &[(u64, String)],
        doc_freq: &KeywordsDf<'_>,
    ) -> ShardLines {
        self.counters[DEDUP].hits.fetch_add(1, Ordering::Relaxed);
        // A document's ordinal counts the documents strip kept before it.
        let mut ordinal = offset;
        let mut deduped: Vec<Slot<DedupedRef<'_>>> = cached
            .docs
            .iter()
            .zip(cached.deltas)
            .map(|pair| match pair {
                (Slot::Ok(doc), Slot::Ok(delta)) => {
                    ordinal += 1;
                    Slot::Ok(DedupedRef::rebuild(doc, delta, ordinal - 1, corpus))
                }
                (Slot::Failed(f), _) => Slot::Failed(f.clone()),
                (Slot::Ok(_), Slot::Failed(f)) => {
                    ordinal += 1;
                    Slot::Failed(f.clone())
                }
            })
            .collect();
        for (position, id) in renames {
            if let Some(Slot::Ok(doc)) = deduped.get_mut(*position as usize) {
                doc.id = id;
            }
        }
        self.count_deduped(shard, &deduped);
        self.counters[FEATURES].hits.fetch_add(1, Ordering::Relaxed);
        let features = cached.features;
        self.counters[FEATURES].docs.fetch_add(features.len() as u64, Ordering::Relaxed);
        self.progress.advance(FEATURES, shard.bytes);
        self.render_with_keywords(shard, &deduped, features, cached.dedup_out, doc_freq, None)
    }

    /// Phase 2 for one shard whose strip output is at hand as documents; `found_deltas`
    /// and `found_features` are what `phase2` found in the cache already.
    #[allow(clippy::too_many_arguments)]
    fn phase2_made(
        &self,
        shard: &RawShard,
        stripped: Vec<Slot<StrippedDoc>>,
        found_deltas: Option<(Vec<Slot<DedupDelta>>, Key)>,
        found_features: Option<(Raw, Key)>,
        offset: u64,
        corpus: &CorpusStats,
        renames: &[(u64, String)],
        doc_freq: &KeywordsDf<'_>,
        until: Stage,
        dedup_key: &Key,
        place: &Key,
    ) -> ShardLines {
        let cfg = &self.cfg.stages.dedup;
        // Stored as deltas over the strip output (no text twice), rebuilt on a hit.
        // Each document's ordinal in the corpus pass, which counts the documents strip kept
        // (a failed one, which has none, gets the next one's; it is never read).
        let ordinals: Vec<u64> = stripped
            .iter()
            .scan(offset, |next, slot| {
                let at = *next;
                *next += u64::from(slot.ok().is_some());
                Some(at)
            })
            .collect();
        // Each document's features input, when made here (`doc_inputs`).
        let mut inputs = None;
        let (mut deduped, dedup_out) = match found_deltas {
            Some((deltas, out)) if deltas.len() == stripped.len() => {
                self.counters[DEDUP].hits.fetch_add(1, Ordering::Relaxed);
                let deduped = stripped
                    .into_iter()
                    .zip(&deltas)
                    .map(|pair| match pair {
                        (Slot::Ok(doc), Slot::Ok(delta)) => Slot::Ok(delta.rebuild(doc)),
                        (Slot::Failed(f), _) => Slot::Failed(f),
                        (_, Slot::Failed(f)) => Slot::Failed(f.clone()),
                    })
                    .collect::<Vec<_>>();
                (deduped, out)
            }
            _ => {
                let deduped: Vec<Slot<DedupedDoc>> = self.compute(DEDUP, || {
                    stripped
                        .into_par_iter()
                        .zip(&ordinals)
                        .map(|(slot, &at)| match slot {
                            Slot::Ok(doc) => guarded("dedup", || pith_dedup::dedup(doc, at, corpus, cfg)),
                            Slot::Failed(f) => Slot::Failed(f),
                        })
                        .collect()
                });
                let out = features_input(&deduped, inputs.insert(doc_inputs(&deduped)));
                let deltas: Vec<Slot<DedupDelta>> = deduped
                    .iter()
                    .map(|slot| match slot {
                        Slot::Ok(doc) => Slot::Ok(DedupDelta::of(doc)),
                        Slot::Failed(f) => Slot::Failed(f.clone()),
                    })
                    .collect();
                if self.kept_for_later() {
                    self.store(DEDUP, dedup_key, &deltas, &out);
                }
                (deduped, out)
            }
        };
        // The verdicts, on a cache hit too (a cached delta holds none). A document dedup
        // kept is one strip kept, so its ordinal is its own.
        for (slot, ordinal) in deduped.iter_mut().zip(ordinals) {
            if let Slot::Ok(doc) = slot {
                pith_dedup::set_verdicts(doc, ordinal, corpus);
            }
        }
        for (position, id) in renames {
            if let Some(Slot::Ok(doc)) = deduped.get_mut(*position as usize) {
                doc.id = id.clone();
            }
        }
        self.count_deduped(shard, &deduped);
        if until == Stage::Dedup {
            return render_stage(shard, &deduped, "dedup");
        }
        let fcfg = &self.cfg.stages.features;
        let features_key = Key::for_stage(STAGE_NAMES[FEATURES], VERSIONS[FEATURES], fcfg, &dedup_out);
        // Cached as JSON (`FeaturesJson`): the duplicate cluster and the keywords, which
        // the cache does not hold (see `features_input`), are spliced in when rendering.
        let found = match found_features {
            Some((raw, key)) if key == features_key => self.checked(raw.decode()),
            _ => self
                .lookup_as::<Vec<Slot<FeaturesJson>>>(FEATURES_JSON, VERSIONS[FEATURES], &features_key)
                .map(|(value, _)| value),
        };
        let mut earlier = None;
        let features: Vec<Slot<FeaturesJson>> = match found {
            Some(value) => {
                self.counters[FEATURES].hits.fetch_add(1, Ordering::Relaxed);
                value
            }
            None => {
                let inputs = inputs.unwrap_or_else(|| doc_inputs(&deduped));
                earlier = self.earlier(place, &dedup_out, &inputs);
                // The documents an earlier entry for this place holds are taken from it.
                let found: Option<Vec<Slot<FeaturesJson>>> = earlier.as_ref().and_then(|earlier| {
                    let key = Key::for_stage(STAGE_NAMES[FEATURES], VERSIONS[FEATURES], fcfg, &earlier.dedup_out);
                    self.lookup_as(FEATURES_JSON, VERSIONS[FEATURES], &key).map(|(value, _)| value)
                });
                let earlier_features = |i: usize| -> Option<&FeaturesJson> {
                    let j = earlier.as_ref()?.same[i]?;
                    found.as_ref()?.get(j)?.ok()
                };
                let value: Vec<Slot<FeaturesJson>> = self.compute(FEATURES, || {
                    deduped
                        .par_iter()
                        .enumerate()
                        .map(|(i, slot)| match (slot, earlier_features(i)) {
                            (Slot::Ok(_), Some(feats)) => Slot::Ok(feats.clone()),
                            (Slot::Ok(doc), None) => {
                                guarded("features", || FeaturesJson::new(pith_features::features(doc, fcfg)))
                            }
                            (Slot::Failed(f), _) => Slot::Failed(f.clone()),
                        })
                        .collect()
                });
                let reused = (0..deduped.len()).filter(|&i| deduped[i].ok().is_some() && earlier_features(i).is_some());
                self.features_reused.fetch_add(reused.count() as u64, Ordering::Relaxed);
                self.store_for_later(FEATURES_JSON, VERSIONS[FEATURES], &features_key, &value);
                self.store_for_later(
                    FEATURES_LAST,
                    VERSIONS[FEATURES],
                    place,
                    &FeaturesLast { dedup_out, docs: inputs },
                );
                value
            }
        };
        self.counters[FEATURES].docs.fetch_add(features.len() as u64, Ordering::Relaxed);
        self.progress.advance(FEATURES, shard.bytes);
        let features: Vec<Slot<FeaturesJsonRef<'_>>> = features
            .iter()
            .map(|slot| match slot {
                Slot::Ok(feats) => Slot::Ok(feats.borrowed()),
                Slot::Failed(f) => Slot::Failed(f.clone()),
            })
            .collect();
        self.render_with_keywords(shard, &deduped, &features, &dedup_out, doc_freq, earlier.as_ref())
    }

    /// The shard's final records, with each document's keywords (none when they are
    /// off): cached against the corpus's frequencies, read without copying their texts,
    /// or else made by `keywords`.
    fn render_with_keywords<D: FinalDoc + Sync>(
        &self,
        shard: &RawShard,
        deduped: &[Slot<D>],
        features: &[Slot<FeaturesJsonRef<'_>>],
        dedup_out: &Key,
        doc_freq: &KeywordsDf<'_>,
        earlier: Option<&Earlier>,
    ) -> ShardLines {
        let fcfg = &self.cfg.stages.features;
        if fcfg.keywords == 0 {
            return output::render_final(shard, deduped, features, &[]);
        }
        let version = VERSIONS[FEATURES];
        let key = Key::for_stage(KEYWORDS, version, fcfg, &fingerprint(&(dedup_out, &doc_freq.key)));
        let raw = self.checked(self.cache.get_raw(KEYWORDS, version, &key));
        let cached = raw
            .as_ref()
            .and_then(|raw| self.checked(raw.decode::<Vec<Vec<KeywordRef<'_>>>>()))
            .filter(|value| value.len() == deduped.len());
        if let Some(keywords) = cached {
            self.keyword_docs[REUSED].fetch_add(keywords.len() as u64, Ordering::Relaxed);
            return output::render_final(shard, deduped, features, &keywords);
        }
        self.keywords(shard, deduped, features, dedup_out, doc_freq, &key, earlier)
    }

    /// What an earlier run's entries for the shard's place (`FeaturesLast`) hold of its
    /// documents, whose features inputs are `inputs`: `None` without such entries, when
    /// they are this dedup output's own, or when they hold none of the documents.
    fn earlier(&self, place: &Key, dedup_out: &Key, inputs: &[Option<u128>]) -> Option<Earlier> {
        let (last, _) = self.lookup_as::<FeaturesLast>(FEATURES_LAST, VERSIONS[FEATURES], place)?;
        if last.dedup_out == *dedup_out {
            return None;
        }
        let at: HashMap<u128, usize> =
            last.docs.iter().enumerate().filter_map(|(j, input)| Some(((*input)?, j))).collect();
        let same: Vec<Option<usize>> = inputs.iter().map(|input| at.get(&(*input)?).copied()).collect();
        same.iter().any(Option::is_some).then_some(Earlier { dedup_out: last.dedup_out, same })
    }

    /// The key of the chrome lines that this shard's documents hold, when its sketches
    /// (with their short-block hashes) are in the cache: only those lines matter to the
    /// shard's apply step, so a change of chrome elsewhere in the corpus leaves its dedup
    /// and features cached. `None` (use the whole chrome's key) without them.
    fn shard_chrome_key(&self, pass1: &Pass1, corpus: &CorpusStats) -> Option<Key> {
        if corpus.chrome.is_empty() {
            return None;
        }
        let raw = self.checked(self.cache.get_raw(STAGE_NAMES[DEDUP_MAP], VERSIONS[DEDUP_MAP], &pass1.sketch_key))?;
        let sketches = self.checked(raw.decode::<Vec<Option<SketchLines<'_>>>>())?;
        let mut held: Vec<u64> = sketches
            .iter()
            .flatten()
            .flat_map(|sketch| &sketch.lines)
            .filter(|hash| corpus.chrome.binary_search(hash).is_ok())
            .copied()
            .collect();
        held.sort_unstable();
        held.dedup();
        Some(fingerprint(&("chrome held by the shard", held)))
    }

    /// The shard's final records with the documents' TF-IDF keywords against the
    /// corpus's document frequencies, which are cached per shard under `key` (of the dedup
    /// output, the frequencies and the features settings), where `render_with_keywords`
    /// found none.
    ///
    /// Since the corpus changed, the shard's candidates, cached under the dedup
    /// output and the settings alone (`KeywordsEntry`), certify each document's keywords
    /// against the new frequencies where they provably have not changed; the others are
    /// scored from the text; then both entries are stored against the new frequencies.
    /// Without the shard's own candidates, those of an earlier entry for its place serve
    /// the documents it holds (`earlier`).
    #[allow(clippy::too_many_arguments)]
    fn keywords<D: FinalDoc + Sync>(
        &self,
        shard: &RawShard,
        deduped: &[Slot<D>],
        features: &[Slot<FeaturesJsonRef<'_>>],
        dedup_out: &Key,
        doc_freq: &KeywordsDf<'_>,
        key: &Key,
        earlier: Option<&Earlier>,
    ) -> ShardLines {
        let fcfg = &self.cfg.stages.features;
        let version = VERSIONS[FEATURES];
        let (k, m) = (fcfg.keywords, n_candidates(fcfg.keywords));
        let candidates_key = Key::for_stage(KEYWORDS_CANDIDATES, version, fcfg, dedup_out);
        let raw = self.checked(self.cache.get_raw(KEYWORDS_CANDIDATES, version, &candidates_key));
        let own = raw
            .as_ref()
            .and_then(|raw| self.checked(raw.decode::<KeywordsEntryRef<'_>>()))
            .filter(|entry| entry.docs.len() == deduped.len());
        let earlier = earlier.filter(|_| own.is_none());
        let earlier_raw = earlier.and_then(|earlier| {
            let key = Key::for_stage(KEYWORDS_CANDIDATES, version, fcfg, &earlier.dedup_out);
            self.checked(self.cache.get_raw(KEYWORDS_CANDIDATES, version, &key))
        });
        // Each document's cached candidates are at its own position in its own entry, or
        // where `same` says in the earlier one.
        let (found, same) = match (own, &earlier_raw) {
            (Some(own), _) => (Some(own), None),
            (None, Some(raw)) => (self.checked(raw.decode::<KeywordsEntryRef<'_>>()), earlier.map(|e| &e.same)),
            (None, None) => (None, None),
        };
        let score = |i: usize| match (&deduped[i], &features[i]) {
            (Slot::Ok(doc), Slot::Ok(feats)) => pith_features::keywords::incremental::candidates_of_blocks(
                doc.texts(),
                feats.language,
                &doc_freq.index,
                k,
                m,
            ),
            _ => (Vec::new(), Candidates::default()),
        };
        let shift = found.as_ref().and_then(|entry| self.shift(doc_freq, &entry.doc_freq));
        let (value, docs): (Vec<Vec<Keyword>>, Vec<Candidates>) = match (found, shift) {
            (Some(entry), Some(shift)) => {
                fn borrowed<'c>(text: &&'c str, score: f64) -> KeywordRef<'c> {
                    KeywordRef { text, score }
                }
                let rescored: Vec<_> = self.timed(FEATURES, || {
                    (0..deduped.len())
                        .map(|i| {
                            let j = match same {
                                None => i,
                                Some(same) => same[i]?,
                            };
                            entry.docs.get(j)?.rescore_with(&doc_freq.index, &shift, k, borrowed)
                        })
                        .collect()
                });
                let certified = rescored.iter().flatten().count() as u64;
                self.keyword_docs[CERTIFIED].fetch_add(certified, Ordering::Relaxed);
                self.keyword_docs[SCORED].fetch_add(rescored.len() as u64 - certified, Ordering::Relaxed);
                // (Certified from an earlier entry, they are stored as this shard's own.)
                if same.is_none() && certified == rescored.len() as u64 {
                    // Every document certified: the cached candidates still serve (against
                    // their own frequencies, whose snapshot stays in the cache), and are not
                    // written again, which a small change to the corpus would otherwise do
                    // for every shard. The keywords stay borrowed from them.
                    let keywords: Vec<Vec<KeywordRef<'_>>> =
                        rescored.into_iter().flatten().map(|(keywords, _)| keywords).collect();
                    self.store_for_later(KEYWORDS, version, key, &keywords);
                    return output::render_final(shard, deduped, features, &keywords);
                }
                self.timed(FEATURES, || {
                    let owned = |k: KeywordRef<'_>| Keyword { text: k.text.to_owned(), score: k.score };
                    rescored
                        .into_iter()
                        .enumerate()
                        .map(|(i, found)| match found {
                            Some((keywords, record)) => {
                                (keywords.into_iter().map(owned).collect(), record.into_owned())
                            }
                            None => score(i),
                        })
                        .unzip()
                })
            }
            _ => {
                self.keyword_docs[SCORED].fetch_add(deduped.len() as u64, Ordering::Relaxed);
                let scored: Vec<_> = self.timed(FEATURES, || (0..deduped.len()).into_par_iter().map(score).collect());
                scored.into_iter().unzip()
            }
        };
        self.store_for_later(KEYWORDS, version, key, &value);
        if self.kept_for_later() {
            let entry = KeywordsEntry { doc_freq: doc_freq.key, docs };
            self.store_as(KEYWORDS_CANDIDATES, version, &candidates_key, &entry);
        }
        let keywords: Vec<Vec<KeywordRef<'_>>> =
            value.iter().map(|doc| doc.iter().map(KeywordRef::from).collect()).collect();
        output::render_final(shard, deduped, features, &keywords)
    }

    /// The shift from the document frequencies whose fingerprint is `old` (an earlier
    /// run's, from the cache) to this run's; `None` without them.
    fn shift(&self, doc_freq: &KeywordsDf<'_>, old: &Key) -> Option<Arc<Shift>> {
        let mut shifts = doc_freq.shifts.lock().expect("shifts lock");
        shifts
            .entry(*old)
            .or_insert_with(|| {
                self.timed(FEATURES, || {
                    let (old, _) = self.lookup_as::<DocFreq>(KEYWORDS_DF, VERSIONS[FEATURES], old)?;
                    Some(Arc::new(Shift::new(&old, doc_freq.doc_freq)))
                })
            })
            .clone()
    }

    /// A shard's strip output: from the cache, or computed again (uncounted: the work
    /// was counted when it was first done).
    fn strip_output(&self, shard: &RawShard, strip_key: &Key) -> Vec<Slot<StrippedDoc>> {
        match self.lookup(STRIP, strip_key) {
            Some((value, _)) => value,
            None => strip_shard(parse_shard(shard), &self.cfg.stages.strip),
        }
    }

    /// Counts a shard's documents out of dedup, and the removals of strip and dedup they
    /// carry (strip's are counted here, where every run has them at hand).
    fn count_deduped<D: FinalDoc>(&self, shard: &RawShard, deduped: &[Slot<D>]) {
        self.counters[DEDUP].docs.fetch_add(deduped.len() as u64, Ordering::Relaxed);
        for (stage, name) in [(STRIP, pith_strip::STAGE), (DEDUP, pith_dedup::STAGE)] {
            self.count_removed(stage, deduped, |d| d.removals().filter(move |r| r.stage == name).map(|r| r.kind));
        }
        self.progress.advance(DEDUP, shard.bytes);
    }

    fn count_removed<'d, T: 'd, I: Iterator<Item = &'d str>>(
        &self,
        stage: usize,
        slots: &'d [Slot<T>],
        kinds: impl Fn(&'d T) -> I,
    ) {
        let mut removed = self.counters[stage].removed.lock().expect("counter lock");
        for doc in slots.iter().filter_map(Slot::ok) {
            for kind in kinds(doc) {
                match removed.get_mut(kind) {
                    Some(n) => *n += 1,
                    None => {
                        removed.insert(kind.to_owned(), 1);
                    }
                }
            }
        }
    }

    /// Runs a stage's work on a cache miss, counting the miss and its time.
    fn compute<T>(&self, stage: usize, work: impl FnOnce() -> T) -> T {
        self.counters[stage].misses.fetch_add(1, Ordering::Relaxed);
        self.timed(stage, work)
    }

    /// Runs work that belongs to a stage, counting its time.
    fn timed<T>(&self, stage: usize, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let value = work();
        self.counters[stage].nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        value
    }

    /// A value cached under a name of its own (not a stage's output).
    fn lookup_as<T: DeserializeOwned>(&self, name: &str, version: u32, key: &Key) -> Option<(T, Key)> {
        self.checked(self.cache.get(name, version, key))
    }

    /// Stores a stage's output; a failed write (a full disk) turns the cache off.
    fn store<T: Serialize>(&self, stage: usize, key: &Key, value: &T, output: &Key) {
        self.store_with(|| self.cache.put(STAGE_NAMES[stage], VERSIONS[stage], key, value, output));
    }

    /// `store` of a value under its own fingerprint as its output key, which it returns
    /// (the value encoded once for both).
    fn store_own<T: Serialize>(&self, stage: usize, key: &Key, value: &T) -> Key {
        if self.cache_broken.load(Ordering::Relaxed) {
            return fingerprint(value);
        }
        let (out, stored) = self.cache.put_own(STAGE_NAMES[stage], VERSIONS[stage], key, value);
        self.store_with(|| stored);
        out
    }

    /// Whether the cache outlives the run: a run without one (`--no-cache`, whose scratch
    /// cache carries only what phase 2 reads of phase 1: strip output, sketches, heads)
    /// stores nothing that only a later run would read.
    fn kept_for_later(&self) -> bool {
        self.cfg.cache_dir.is_some()
    }

    /// `store_as` for a value only a later run reads (see `kept_for_later`).
    fn store_for_later<T: Serialize>(&self, name: &str, version: u32, key: &Key, value: &T) {
        if self.kept_for_later() {
            self.store_as(name, version, key, value);
        }
    }

    /// Stores a value that is not a stage's output (it stands for itself).
    fn store_as<T: Serialize>(&self, name: &str, version: u32, key: &Key, value: &T) {
        self.store_with(|| self.cache.put(name, version, key, value, key));
    }

    fn store_with(&self, put: impl FnOnce() -> Result<(), pith_cache::CacheError>) {
        if !self.cache_broken.load(Ordering::Relaxed)
            && let Err(err) = put()
            && !self.cache_broken.swap(true, Ordering::Relaxed)
        {
            self.progress.warn(&format!("{err}; going on without the cache"));
            self.cache_warnings.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The output key stored under `key`, from the file's header (a hit when found).
    fn output_key(&self, stage: usize, key: &Key) -> Option<Key> {
        let found = self.checked(self.cache.output_key(STAGE_NAMES[stage], VERSIONS[stage], key));
        if found.is_some() {
            self.counters[stage].hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// The value stored under `key` and its output key (not counted: callers count).
    fn lookup<T: DeserializeOwned>(&self, stage: usize, key: &Key) -> Option<(T, Key)> {
        self.checked(self.cache.get(STAGE_NAMES[stage], VERSIONS[stage], key))
    }

    fn checked<T>(&self, lookup: Lookup<T>) -> Option<T> {
        match lookup {
            Lookup::Hit(value) => Some(value),
            Lookup::Miss => None,
            Lookup::Corrupt(err) => {
                self.progress.warn(&format!("{err}; recomputing"));
                self.cache_warnings.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

/// What the features stage reads of the dedup output, as the key its cached output
/// hangs on: everything but the ids and the verdicts (`drop`, `cluster`). A change
/// elsewhere in the corpus that only moves a document in or out of a cluster leaves its
/// shard's features cached; the one feature that reads the cluster is set afterwards.
///
/// It is made of each document's features input (`doc_inputs`), which `FeaturesLast`
/// keeps.
fn features_input(deduped: &[Slot<DedupedDoc>], inputs: &[Option<u128>]) -> Key {
    fingerprint(
        &deduped
            .iter()
            .zip(inputs)
            .map(|(slot, input)| match slot {
                Slot::Ok(_) => Ok(input.expect("a document's input")),
                Slot::Failed(f) => Err(f),
            })
            .collect::<Vec<_>>(),
    )
}

/// Each document's features input (`None` for a failed one): the first 128 bits of the
/// fingerprint of what its features are made of (see `features_input`).
fn doc_inputs(deduped: &[Slot<DedupedDoc>]) -> Vec<Option<u128>> {
    deduped
        .par_iter()
        .map(|slot| {
            let d = slot.ok()?;
            let key = fingerprint(&(&d.title, &d.blocks, &d.removed, d.raw_bytes));
            Some(u128::from_le_bytes(key.0[..16].try_into().expect("16 bytes")))
        })
        .collect()
}

/// Counts the reader's repairs of the shard's documents (each kind once per document).
fn count_repairs(shard: &RawShard, repairs: &mut BTreeMap<String, u64>) {
    for raw in shard.docs() {
        let mut kinds: Vec<&str> = raw.diags.iter().map(|d| pith::input::repair_kind(&d.message)).collect();
        kinds.dedup();
        for kind in kinds {
            *repairs.entry(kind.to_owned()).or_default() += 1;
        }
    }
}

/// What a shard's parse stage is cached under: what its entries are made of. For a JSONL
/// shard that is its digest (a function of its lines) and the ids the reader renamed (a
/// function of the shards before it too); otherwise the entries themselves.
fn shard_key(shard: &RawShard) -> Key {
    let Some(digest) = shard.digest() else { return fingerprint(shard) };
    let renamed: Vec<(u32, &str, &str)> = shard
        .renamed
        .iter()
        .map(|(i, given)| {
            let id = match shard.entries.get(*i as usize) {
                Some(Entry::Doc(doc)) => doc.id.as_str(),
                _ => "",
            };
            (*i, given.as_str(), id)
        })
        .collect();
    fingerprint(&(digest, renamed))
}

/// The reader asks the cache for the heads phase 1 kept of a JSONL shard, under the key
/// the shard has when the reader renames none of its ids (the usual case; a shard with
/// renamed ids is parsed every run). The reader checks the ids against its own.
impl pith::input::KnownHeads for Runner<'_> {
    fn heads(&self, digest: &[u8; 32]) -> Option<RawShard> {
        self.lookup_as::<RawShard>(HEADS, HEADS_VERSION, &heads_key_of(digest)).map(|(heads, _)| heads)
    }

    /// By the heads' cache file header alone (a damaged file is warned about by `heads`).
    fn knows(&self, digest: &[u8; 32]) -> bool {
        matches!(self.cache.output_key(HEADS, HEADS_VERSION, &heads_key_of(digest)), Lookup::Hit(_))
    }
}

/// The key of the heads of a JSONL shard with `digest` whose ids the reader renamed none
/// of (see `shard_key`).
fn heads_key_of(digest: &[u8; 32]) -> Key {
    let no_renames: Vec<(u32, &str, &str)> = Vec::new();
    Key::for_stage(HEADS, HEADS_VERSION, &(), &fingerprint(&(digest, no_renames)))
}

/// What phase 2 needs of a shard when the strip output is at hand: the shard without
/// its documents' texts (ids, sources, metadata, diagnostics, unreadable entries).
/// Small next to the shard, so it is cached per shard for phase 2 not to read the input
/// again; it must never be parsed.
fn heads_of(shard: &RawShard) -> RawShard {
    let entries = shard
        .entries
        .iter()
        .map(|entry| match entry {
            Entry::Doc(raw) => Entry::Doc(RawDoc {
                id: raw.id.clone(),
                source: raw.source.clone(),
                text: String::new(),
                metadata_json: raw.metadata_json.clone(),
                diags: raw.diags.clone(),
            }),
            Entry::Unreadable { .. } => entry.clone(),
        })
        .collect();
    RawShard { entries, bytes: shard.bytes, renamed: shard.renamed.clone(), raw: None }
}

/// The shard with documents (by position) renamed.
fn rename_docs(shard: &RawShard, renames: &[(u64, String)]) -> RawShard {
    let mut shard = shard.clone();
    let docs = shard.entries.iter_mut().filter_map(|e| match e {
        Entry::Doc(raw) => Some(raw),
        Entry::Unreadable { .. } => None,
    });
    for (position, raw) in docs.enumerate() {
        if let Ok(i) = renames.binary_search_by_key(&(position as u64), |(at, _)| *at) {
            raw.id = renames[i].1.clone();
        }
    }
    shard
}

fn strip_shard(parsed: Vec<Slot<ParsedDoc>>, cfg: &pith_strip::StripConfig) -> Vec<Slot<StrippedDoc>> {
    parsed
        .into_par_iter()
        .map(|slot| match slot {
            Slot::Ok(doc) => guarded("strip", || pith_strip::strip(doc, cfg)),
            Slot::Failed(f) => Slot::Failed(f),
        })
        .collect()
}

fn parse_shard(shard: &RawShard) -> Vec<Slot<ParsedDoc>> {
    let docs: Vec<&RawDoc> = shard.docs().collect();
    docs.par_iter().map(|raw| guarded("parse", || pith_parse::parse(raw))).collect()
}

/// Runs one stage on one document, turning a panic into a per-document failure.
pub(crate) fn guarded<T>(stage: &str, f: impl FnOnce() -> T) -> Slot<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Slot::Ok(value),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Slot::Failed(Failure { stage: stage.to_owned(), error: format!("panic: {message}") })
        }
    }
}

fn render_stage<T: Serialize>(shard: &RawShard, slots: &[Slot<T>], stage: &str) -> ShardLines {
    output::render_stage(shard, slots, stage)
}

fn write_lines(sink: &mut dyn Sink, lines: ShardLines, totals: &mut Totals) -> anyhow::Result<()> {
    totals.kept += lines.kept;
    totals.bytes_out += lines.bytes_out;
    totals.dropped += lines.dropped;
    totals.failed += lines.failed;
    totals.documents_in = totals.kept + totals.dropped + totals.failed;
    sink.write(lines)
}

/// Stage outputs of one document, for `pith explain`.
pub(crate) struct Explained {
    pub(crate) parsed: Slot<ParsedDoc>,
    pub(crate) deduped: Option<Slot<DedupedDoc>>,
    pub(crate) features: Option<Slot<Features>>,
}

impl Runner<'_> {
    /// Runs every stage on the given files (as a corpus of their own) and returns each
    /// document's intermediate results, in order.
    pub(crate) fn explain(&self, files: &[InputFile]) -> Vec<(Entry, Explained)> {
        let shards: Vec<RawShard> = ShardReader::new(files, self.cfg.max_doc_bytes).collect();
        let cfg = &self.cfg.stages.dedup;
        let mut per_shard = Vec::new();
        for shard in &shards {
            let parsed = parse_shard(shard);
            let stripped = strip_shard(parsed.clone(), &self.cfg.stages.strip);
            per_shard.push((parsed, stripped));
        }
        let docs: Vec<&StrippedDoc> = per_shard.iter().flat_map(|(_, s)| s.iter().filter_map(Slot::ok)).collect();
        let corpus = pith_dedup::reduce_in_memory(&docs, cfg);
        drop(docs);
        let mut res = Vec::new();
        let mut ordinal = 0;
        for (shard, (parsed, stripped)) in shards.iter().zip(per_shard) {
            let mut slots = parsed.into_iter().zip(stripped);
            for entry in &shard.entries {
                let explained = match entry {
                    Entry::Unreadable { .. } => None,
                    Entry::Doc(_) => slots.next().map(|(parsed, stripped)| {
                        let deduped = match stripped {
                            Slot::Ok(doc) => {
                                ordinal += 1;
                                guarded("dedup", || pith_dedup::dedup(doc, ordinal - 1, &corpus, cfg))
                            }
                            Slot::Failed(f) => Slot::Failed(f),
                        };
                        let features = match &deduped {
                            Slot::Ok(doc) => {
                                guarded("features", || pith_features::features(doc, &self.cfg.stages.features))
                            }
                            Slot::Failed(f) => Slot::Failed(f.clone()),
                        };
                        Explained { parsed, deduped: Some(deduped), features: Some(features) }
                    }),
                };
                res.push((
                    entry.clone(),
                    explained.unwrap_or(Explained {
                        parsed: Slot::Failed(Failure { stage: "read".into(), error: String::new() }),
                        deduped: None,
                        features: None,
                    }),
                ));
            }
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_stage_becomes_that_document_s_failure() {
        let failed = |slot: Slot<()>| match slot {
            Slot::Failed(f) => (f.stage, f.error),
            Slot::Ok(()) => panic!("no failure"),
        };
        assert_eq!(failed(guarded("strip", || panic!("boom"))), ("strip".to_owned(), "panic: boom".to_owned()));
        let n = 3;
        assert_eq!(failed(guarded("features", || panic!("index {n}"))).1, "panic: index 3");
        assert!(matches!(guarded("parse", || 7), Slot::Ok(7)));
    }

    /// A cached shard rendered from its borrowed strip output (`DedupedRef::rebuild`) has
    /// the fields of the `DedupedDoc` that `DedupDelta::rebuild` and `set_verdicts` make.
    #[test]
    fn borrowed_rebuild_agrees_with_the_deduped_doc() {
        use pith_types::{Block, BlockKind, DocDrop, Removal, Span};
        let block = |i: u32| Block {
            index: i,
            kind: BlockKind::Paragraph,
            text: format!("block {i} é \"{}\"", "x".repeat(i as usize)),
            span: Span { start: i, end: i + 1 },
        };
        let removal = |i: u32| Removal {
            stage: "strip".into(),
            kind: "address".into(),
            rule: format!("rule {i}").into(),
            block: i,
            text: format!("removed {i}"),
        };
        // Documents of 0..6 blocks; strip removed every third block, dedup some others.
        let docs: Vec<StrippedDoc> = (0..7u32)
            .map(|d| StrippedDoc {
                id: format!("doc-{d}"),
                title: (d % 2 == 1).then(|| format!("title {d}")),
                blocks: (0..d).filter(|i| i % 3 != 2).map(block).collect(),
                removed: (0..d).filter(|i| i % 3 == 2).map(removal).collect(),
                raw_bytes: 10,
            })
            .collect();
        let deltas: Vec<DedupDelta> = (0..7u32)
            .map(|d| DedupDelta {
                removed: (0..d)
                    .filter(|i| i % 3 != 2 && (i + d) % 2 == 0)
                    .map(|i| (i, format!("chrome {i}"), "corpus_line".to_owned()))
                    .collect(),
            })
            .collect();
        let corpus = CorpusStats {
            n_docs: 7,
            chrome: Vec::new(),
            drops: vec![(
                2,
                DocDrop { reason: "near_duplicate".into(), duplicate_of: Some("doc-1".into()), similarity: Some(0.9) },
            )],
            clusters: vec![(1, "doc-1".into()), (2, "doc-1".into())],
        };
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = fingerprint("strip output");
        cache.put(STAGE_NAMES[STRIP], 1, &key, &docs, &key).unwrap();
        let Lookup::Hit(raw) = cache.get_raw(STAGE_NAMES[STRIP], 1, &key) else { panic!("a hit") };
        let Lookup::Hit(read) = raw.decode::<Vec<StrippedRef<'_>>>() else { panic!("decodes") };
        for (ordinal, ((doc, delta), read)) in docs.iter().zip(&deltas).zip(&read).enumerate() {
            let mut want = delta.rebuild(doc.clone());
            pith_dedup::set_verdicts(&mut want, ordinal as u64, &corpus);
            let got = DedupedRef::rebuild(read, delta, ordinal as u64, &corpus);
            assert_eq!(got.id(), want.id());
            assert_eq!(got.title(), want.title());
            assert_eq!(got.texts().collect::<Vec<_>>(), want.texts().collect::<Vec<_>>());
            let fields =
                |r: RemovedRef<'_>| (r.stage.to_owned(), r.kind.to_owned(), r.rule.to_owned(), r.text.to_owned());
            assert_eq!(got.removals().map(fields).collect::<Vec<_>>(), want.removals().map(fields).collect::<Vec<_>>());
            assert_eq!(got.drop(), want.drop());
            assert_eq!(got.cluster(), want.cluster());
        }
    }

    /// A cached `KeywordsEntry` read back with its surface forms borrowed
    /// (`KeywordsEntryRef`) holds the same candidates, encodes to the same bytes, and
    /// rescores as the owned one does, to keywords that encode as the owned ones do.
    #[test]
    fn keyword_candidates_read_borrowed_rescore_as_the_owned_ones() {
        use pith_features::keywords::{incremental, term_hashes};
        let stems = ["über", "straße", "café", "東京", "tower", "city", "river", "news", "x\"y", "zebra"];
        let words: Vec<String> =
            (0..120).map(|i| format!("{}{}", stems[i % stems.len()], "q".repeat(i / 10))).collect();
        // xorshift: a seeded sequence of words, a few of them much more frequent.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut text = |len: usize| -> String {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as usize
            };
            (0..len)
                .map(|_| {
                    let w = next();
                    words[if w % 3 == 0 { w / 3 % 8 } else { w / 3 % words.len() }].as_str()
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let texts: Vec<String> = (0..80).map(|d| text(2 + d % 50)).collect();
        let old = DocFreq::of_term_hashes(texts.iter().map(|t| term_hashes(t, None)));
        // Some documents gone, others changed.
        let changed: Vec<String> =
            texts.iter().skip(10).enumerate().map(|(d, t)| if d % 4 == 0 { text(30) } else { t.clone() }).collect();
        let new = DocFreq::of_term_hashes(changed.iter().map(|t| term_hashes(t, None)));
        let (old_index, new_index) = (DocFreqIndex::new(&old), DocFreqIndex::new(&new));
        let docs: Vec<Candidates> = texts
            .iter()
            .map(|t| incremental::candidates_of(t, None, &old_index, 2, n_candidates(2)).1)
            .chain([Candidates::default()])
            .collect();
        let entry = KeywordsEntry { doc_freq: fingerprint(&old), docs };
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = fingerprint("candidates");
        cache.put(KEYWORDS_CANDIDATES, 1, &key, &entry, &key).unwrap();
        let Lookup::Hit(raw) = cache.get_raw(KEYWORDS_CANDIDATES, 1, &key) else { panic!("a hit") };
        let Lookup::Hit(read) = raw.decode::<KeywordsEntryRef<'_>>() else { panic!("decodes") };
        assert_eq!(read.doc_freq, entry.doc_freq);
        assert_eq!(fingerprint(&read.docs), fingerprint(&entry.docs));
        let shift = Shift::new(&old, &new);
        let mut certified = 0;
        for (borrowed, owned) in read.docs.iter().zip(&entry.docs) {
            assert_eq!(&borrowed.clone().into_owned(), owned);
            let (got, want) = (borrowed.rescore(&new_index, &shift, 2), owned.rescore(&new_index, &shift, 2));
            certified += usize::from(want.is_some());
            assert_eq!(got.map(|(keywords, record)| (keywords, record.into_owned())), want);
            // Kept borrowed, the keywords are the same and encode to the same bytes.
            let borrowed = borrowed.rescore_with(&new_index, &shift, 2, |text, score| (text.to_string(), score));
            let texts = |keywords: &[Keyword]| keywords.iter().map(|k| (k.text.clone(), k.score)).collect::<Vec<_>>();
            assert_eq!(borrowed.map(|(keywords, _)| keywords), want.as_ref().map(|(keywords, _)| texts(keywords)));
            if let Some((keywords, _)) = &want {
                let refs: Vec<KeywordRef<'_>> = keywords.iter().map(KeywordRef::from).collect();
                assert_eq!(fingerprint(&refs), fingerprint(keywords));
            }
        }
        assert!(certified > 0 && certified < entry.docs.len(), "{certified} of {} certified", entry.docs.len());
    }

    /// Sketches read back for their lines (`SketchLines`) give every sketch's lines.
    #[test]
    fn sketches_read_for_their_lines_give_each_sketch_s_lines() {
        let sketches: Vec<Option<Sketch>> = (0..9u64)
            .map(|d| {
                (d % 4 != 3).then(|| Sketch {
                    id: format!("doc-é-{d}"),
                    exact: (d % 2 == 0).then_some(d * 7),
                    bands: (0..d as u32 * 3).collect(),
                    lines: (0..d).map(|i| i * 1_000_003 + d).collect(),
                })
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = fingerprint("sketches");
        cache.put(STAGE_NAMES[DEDUP_MAP], 1, &key, &sketches, &key).unwrap();
        let Lookup::Hit(raw) = cache.get_raw(STAGE_NAMES[DEDUP_MAP], 1, &key) else { panic!("a hit") };
        let Lookup::Hit(read) = raw.decode::<Vec<Option<SketchLines<'_>>>>() else { panic!("decodes") };
        let lines: Vec<Option<&Vec<u64>>> = read.iter().map(|s| s.as_ref().map(|s| &s.lines)).collect();
        assert_eq!(lines, sketches.iter().map(|s| s.as_ref().map(|s| &s.lines)).collect::<Vec<_>>());
    }

    /// The strip output read back for its texts (`StrippedTexts`) gives every document's
    /// blocks' texts, and so its shingle set, as the whole `StrippedDoc` does.
    #[test]
    fn strip_output_read_for_its_texts_gives_the_documents_shingle_sets() {
        use pith_types::{Block, BlockKind, Removal, Span};
        let texts = ["", "a b c d e f", "Café au lait, s'il vous plaît", "東京 タワー ２０２４年", "x\n\"y\"\u{0}z"];
        let block = |i: usize| Block {
            index: i as u32,
            kind: [BlockKind::Heading, BlockKind::Paragraph, BlockKind::Caption][i % 3],
            text: texts[i % texts.len()].repeat(i % 4 + 1),
            span: Span { start: i as u32, end: 2 * i as u32 },
        };
        let removal = |i: usize| Removal {
            stage: "strip".into(),
            kind: "address".into(),
            rule: format!("rule {i}").into(),
            block: i as u32,
            text: texts[(i + 2) % texts.len()].into(),
        };
        let docs: Vec<Slot<StrippedDoc>> = (0..12)
            .map(|d| match d % 5 {
                4 => Slot::Failed(Failure { stage: "strip".into(), error: "panic: é".into() }),
                _ => Slot::Ok(StrippedDoc {
                    id: format!("doc-{d}"),
                    title: (d % 2 == 0).then(|| texts[d % texts.len()].to_owned()),
                    blocks: (0..d).map(|i| block(i + d)).collect(),
                    removed: (0..d % 3).map(removal).collect(),
                    raw_bytes: d as u64 * 100,
                }),
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = fingerprint("strip output");
        cache.put(STAGE_NAMES[STRIP], 1, &key, &docs, &key).unwrap();
        let Lookup::Hit(raw) = cache.get_raw(STAGE_NAMES[STRIP], 1, &key) else { panic!("a hit") };
        let Lookup::Hit(read) = raw.decode::<Vec<Slot<StrippedTexts<'_>>>>() else { panic!("decodes") };
        assert_eq!(read.len(), docs.len());
        let cfg = pith_dedup::DedupConfig { shingle: 2, ..Default::default() };
        for (doc, read) in docs.iter().zip(&read) {
            match (doc, read) {
                (Slot::Ok(doc), Slot::Ok(read)) => {
                    let texts = read.texts().unwrap();
                    assert_eq!(texts, doc.blocks.iter().map(|b| b.text.as_str()).collect::<Vec<_>>());
                    assert_eq!(pith_dedup::shingle_set_of_texts(texts, &cfg), pith_dedup::shingle_set(doc, &cfg));
                }
                (Slot::Failed(a), Slot::Failed(b)) => assert_eq!(a, b),
                _ => panic!("slots differ"),
            }
        }
    }
}
