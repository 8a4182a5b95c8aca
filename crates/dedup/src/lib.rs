//! Repetition removal at three levels: inside a document (a title printed twice, a
//! paragraph scraped twice), across the corpus (site chrome repeated on many pages), and
//! whole documents (exact and near duplicates).
//!
//! The corpus-wide part is a map and a reduce, so it runs per shard and in any order:
//! `sketch` (map, per document, cached per shard) → `reduce` (merge all sketches into
//! `CorpusStats`) → `dedup` (apply, per document). Invariants: the result depends only on
//! the set of documents and their input order, never on shard sizes or thread count;
//! `dedup` only removes blocks and is idempotent; a dropped duplicate always names a kept
//! document in `duplicate_of`.

mod minhash;
mod normalize;

use normalize::is_ascii_space;
use pith_types::{BlockKind, DedupedDoc, DocDrop, Removal, StrippedDoc};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

pub use normalize::normalize;

/// Bump whenever the output of `sketch`, `reduce` or `dedup` changes for some input.
pub const VERSION: u32 = 10;

pub const STAGE: &str = "dedup";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DedupConfig {
    pub repeated_headings: bool,
    pub repeated_paragraphs: bool,
    /// Remove blocks that recur in many documents (site chrome).
    pub corpus_lines: bool,
    /// A block is chrome when at least this many documents hold it ...
    pub line_min_docs: u32,
    /// ... and at least this share of all documents.
    pub line_min_share: f64,
    /// Blocks longer than this are never counted (chrome is short; prose lines are
    /// mostly unique and would only fill memory).
    pub line_max_chars: usize,
    pub exact: bool,
    pub near: bool,
    /// Estimated Jaccard similarity at or above which two documents are near duplicates.
    pub near_threshold: f64,
    /// Words per shingle.
    pub shingle: usize,
    pub bands: usize,
    pub rows: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            repeated_headings: true,
            repeated_paragraphs: true,
            corpus_lines: true,
            line_min_docs: 10,
            line_min_share: 0.001,
            line_max_chars: 200,
            exact: true,
            near: true,
            near_threshold: 0.8,
            shingle: 5,
            bands: 20,
            rows: 6,
        }
    }
}

impl DedupConfig {
    pub fn n_hashes(&self) -> usize {
        self.bands * self.rows
    }
}

/// What the corpus pass needs to know of one document: fixed-size fingerprints only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sketch {
    pub id: String,
    /// Hash of the normalised kept text; `None` when nothing is left.
    pub exact: Option<u64>,
    /// One hash per LSH band of the MinHash signature of the normalised kept text: all
    /// the corpus pass needs to find candidates (empty when near-dup is off).
    pub bands: Vec<u32>,
    /// Distinct hashes of the document's short blocks, for corpus-wide chrome.
    pub lines: Vec<u64>,
}

/// The merged corpus pass: what `dedup` applies to each document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorpusStats {
    pub n_docs: u64,
    /// Block hashes held by enough documents to be chrome, sorted.
    pub chrome: Vec<u64>,
    /// Verdicts by document ordinal (position in the corpus), sorted by ordinal.
    pub drops: Vec<(u64, DocDrop)>,
    /// Cluster representative id by document ordinal, for every member of a duplicate
    /// cluster, exact or near (the representative included), sorted by ordinal.
    pub clusters: Vec<(u64, String)>,
}

impl CorpusStats {
    /// The part of the verdicts that documents `range` (ordinals) need, with the whole
    /// chrome list: what one shard's apply step reads when shards run as separate tasks.
    pub fn slice(&self, range: std::ops::Range<u64>) -> CorpusStats {
        fn part<T: Clone>(list: &[(u64, T)], range: &std::ops::Range<u64>) -> Vec<(u64, T)> {
            let start = list.partition_point(|(o, _)| *o < range.start);
            let end = list.partition_point(|(o, _)| *o < range.end);
            list[start..end].to_vec()
        }
        CorpusStats {
            n_docs: self.n_docs,
            chrome: self.chrome.clone(),
            drops: part(&self.drops, &range),
            clusters: part(&self.clusters, &range),
        }
    }
}

/// Words as datatrove's MinHash sees them: NFKC, lower case, punctuation dropped. The
/// definition that `DocWords` computes without building the normalised text; kept to
/// check it against.
#[cfg(test)]
fn words(normalized: &str) -> Vec<&str> {
    normalized.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect()
}

/// `normalize` of the document's kept text, block by block into one buffer.
#[cfg(test)]
fn normalized_text(doc: &StrippedDoc) -> String {
    let mut text = Vec::with_capacity(doc.blocks.iter().map(|b| b.text.len() + 1).sum());
    for block in &doc.blocks {
        normalize::normalize_into(&block.text, &mut text);
    }
    String::from_utf8(text).unwrap()
}

/// The words of a document's normalised kept text (`words(&normalized_text(doc))`), joined
/// by single spaces, and each word's xxh3 hash: what `sketch` and `shingle_set` hash.
/// Per thread, so that the buffers keep their capacity from one document to the next.
#[derive(Default)]
struct DocWords {
    /// The words joined by single spaces.
    joined: Vec<u8>,
    /// Each word's xxh3 hash as 8 little-endian bytes, end to end: a shingle's hash is
    /// the hash of a slice of these.
    hashes: Vec<u8>,
    /// A non-ASCII block's normalised text.
    normalized: String,
}

impl DocWords {
    /// Runs `f` on the words of `doc`, in this thread's buffers.
    fn with<T>(doc: &StrippedDoc, f: impl FnOnce(&DocWords) -> T) -> T {
        Self::of_texts(doc.blocks.iter().map(|b| b.text.as_str()), f)
    }

    /// Runs `f` on the words of a document whose blocks' texts are `texts`, in this
    /// thread's buffers.
    fn of_texts<'t, T>(texts: impl IntoIterator<Item = &'t str>, f: impl FnOnce(&DocWords) -> T) -> T {
        thread_local! {
            static WORDS: std::cell::RefCell<DocWords> = std::cell::RefCell::default();
        }
        WORDS.with_borrow_mut(|words| {
            words.joined.clear();
            words.hashes.clear();
            for text in texts {
                words.push_block(text);
            }
            f(words)
        })
    }

    fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Blocks are normalised one by one and joined by a space, so no word spans two
    /// blocks: a document's words are its blocks' words, one after another.
    ///
    /// Normalising is per white-space-separated word, and leaves an ASCII one as it is
    /// but for the case and '`' (which is no letter or digit): the words of an ASCII one
    /// are its runs of ASCII letters and digits, found in the text itself and lower-cased
    /// as they are copied. A non-ASCII character other than white space sends its whole
    /// white-space-separated word through `normalize_word_into` (the words found in it so
    /// far are taken back).
    fn push_block(&mut self, text: &str) {
        let bytes = text.as_bytes();
        // Where the current white-space-separated word began, and the lengths of the
        // buffers then.
        let mut word_start = (0, self.joined.len(), self.hashes.len());
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if ASCII_ALPHANUMERIC[usize::from(b)] {
                // A word of at most seven bytes ends within the eight bytes from its
                // start: found, lower-cased and copied in one go.
                if let Some(chunk) = bytes[i..].first_chunk::<8>() {
                    let x = u64::from_le_bytes(*chunk);
                    let ends = !ascii_alphanumeric(x) & HIGH;
                    if ends != 0 {
                        let len = ends.trailing_zeros() as usize / 8;
                        self.push_lower_word(x, len);
                        i += len;
                        // A space after the word (within the eight bytes) is taken here,
                        // as the white space below takes it.
                        if (x >> (8 * len)) as u8 == b' ' {
                            i += 1;
                            word_start = (i, self.joined.len(), self.hashes.len());
                        }
                        continue;
                    }
                }
                // A longer one: its first eight bytes are letters and digits (or there
                // are fewer left), its end is found eight bytes at a time after them.
                let start = i;
                if bytes.len() >= i + 8 {
                    i += 8;
                }
                i = ascii_word_end(bytes, i);
                self.push_ascii_word(bytes, start, i);
                continue;
            }
            if b < 0x80 {
                i += 1;
                if is_ascii_space(b) {
                    word_start = (i, self.joined.len(), self.hashes.len());
                }
                continue;
            }
            let c = text[i..].chars().next().unwrap_or(' ');
            i += c.len_utf8();
            if c.is_whitespace() {
                word_start = (i, self.joined.len(), self.hashes.len());
                continue;
            }
            // A non-ASCII word: run to its end, then normalise it whole.
            i = normalize::word_end(text, i);
            let (start, joined_len, hashes_len) = word_start;
            self.joined.truncate(joined_len);
            self.hashes.truncate(hashes_len);
            let mut normalized = std::mem::take(&mut self.normalized);
            normalized.clear();
            normalize::normalize_word_into(&text[start..i], &mut normalized);
            for word in normalized.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
                self.push_word(word.as_bytes());
            }
            self.normalized = normalized;
        }
    }

    /// `push_word` of the ASCII letters and digits `text[start..end]`, copied and
    /// lower-cased eight bytes at a time.
    fn push_ascii_word(&mut self, text: &[u8], start: usize, end: usize) {
        if !self.joined.is_empty() {
            self.joined.push(b' ');
        }
        let at = self.joined.len();
        let mut k = start;
        while k < end {
            // Bytes past the word (up to seven) are copied too and cut off below. They may
            // be non-ASCII: an addition below then carries out of such a byte, but only
            // into the bytes after it, never back into the word's.
            let x = match text.get(k..k + 8).and_then(|chunk| <[u8; 8]>::try_from(chunk).ok()) {
                Some(chunk) => u64::from_le_bytes(chunk),
                None => {
                    let mut buf = [0u8; 8];
                    buf[..end - k].copy_from_slice(&text[k..end]);
                    u64::from_le_bytes(buf)
                }
            };
            self.joined.extend_from_slice(&to_lower(x).to_le_bytes());
            k += 8;
        }
        self.joined.truncate(at + (end - start));
        self.hashes.extend_from_slice(&xxh3_64(&self.joined[at..]).to_le_bytes());
    }

    /// `push_word` of the first `len` bytes of `x`, ASCII letters and digits.
    fn push_lower_word(&mut self, x: u64, len: usize) {
        let lower = to_lower(x);
        // The space before the word and the word (of at most seven bytes) stored together.
        let at = if self.joined.is_empty() {
            self.joined.extend_from_slice(&lower.to_le_bytes());
            0
        } else {
            let at = self.joined.len() + 1;
            self.joined.extend_from_slice(&(lower << 8 | u64::from(b' ')).to_le_bytes());
            at
        };
        self.joined.truncate(at + len);
        self.hashes.extend_from_slice(&xxh3_64(&lower.to_le_bytes()[..len]).to_le_bytes());
    }

    /// Appends a word (lower-cased here when it is ASCII: a non-ASCII block's words are).
    fn push_word(&mut self, word: &[u8]) {
        if !self.joined.is_empty() {
            self.joined.push(b' ');
        }
        let start = self.joined.len();
        self.joined.extend_from_slice(word);
        let word = &mut self.joined[start..];
        word.make_ascii_lowercase();
        self.hashes.extend_from_slice(&xxh3_64(word).to_le_bytes());
    }
}

/// The map step: fingerprints of one stripped document.
pub fn sketch(doc: &StrippedDoc, cfg: &DedupConfig) -> Sketch {
    let (exact, bands) = DocWords::with(doc, |words| {
        if words.is_empty() {
            return (None, Vec::new());
        }
        // xxh3 of the words joined by spaces (one call over a buffer: the streaming
        // hasher cost more per word than copying it).
        let exact = Some(xxh3_64(&words.joined));
        let bands = if cfg.near {
            let signature = minhash::signature(minhash::shingle_hashes(&words.hashes, cfg.shingle), cfg.n_hashes());
            minhash::band_hashes(&signature, cfg.bands, cfg.rows)
        } else {
            Vec::new()
        };
        (exact, bands)
    });
    let mut lines: Vec<u64> = if cfg.corpus_lines {
        doc.blocks.iter().filter(|b| b.text.len() <= cfg.line_max_chars).map(|b| line_hash(&b.text)).collect()
    } else {
        Vec::new()
    };
    lines.sort_unstable();
    lines.dedup();
    Sketch { id: doc.id.clone(), exact, bands, lines }
}

/// The document's sorted, distinct shingle hashes, to verify a near-duplicate candidate
/// exactly. Computed again from the stripped document for candidates only, instead of
/// being stored for every document.
pub fn shingle_set(doc: &StrippedDoc, cfg: &DedupConfig) -> Vec<u32> {
    shingle_set_of_texts(doc.blocks.iter().map(|b| b.text.as_str()), cfg)
}

/// `shingle_set` of a stripped document whose blocks' texts are `texts`, in order (read
/// from the cache without making the document).
pub fn shingle_set_of_texts<'t>(texts: impl IntoIterator<Item = &'t str>, cfg: &DedupConfig) -> Vec<u32> {
    // 32 bits per shingle are plenty to compare two documents' few hundred shingles.
    let mut set: Vec<u32> = DocWords::of_texts(texts, |words| {
        minhash::shingle_hashes(&words.hashes, cfg.shingle).map(|h| h as u32).collect()
    });
    set.sort_unstable();
    set.dedup();
    set
}

/// Exact Jaccard similarity of two shingle sets from `shingle_set`.
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    minhash::jaccard(a, b)
}

/// Bytes 0x80 of eight bytes at once.
const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// 0x80 in each byte of `x` within `lo..=hi` (ASCII), 0 in the others; a byte of `x` that
/// is not ASCII is never within, but the additions carry out of it into the bytes after it
/// (in little-endian order), whose results are then wrong: callers use the bytes before
/// the first non-ASCII one only.
fn bytes_in(x: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = x.wrapping_add(ONES * u64::from(0x80 - lo));
    let above_hi = x.wrapping_add(ONES * u64::from(0x80 - hi - 1));
    at_least_lo & !above_hi & !x & HIGH
}

/// `u8::is_ascii_alphanumeric` by byte: one load instead of two range checks.
static ASCII_ALPHANUMERIC: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

/// 0x80 in each ASCII letter or digit of `x` (see `bytes_in` for non-ASCII bytes).
fn ascii_alphanumeric(x: u64) -> u64 {
    // A byte with its 0x20 bit set is a lower-case letter just when it was a letter.
    bytes_in(x | (ONES * 0x20), b'a', b'z') | bytes_in(x, b'0', b'9')
}

/// The end of the run of ASCII letters and digits that starts at `i` (or continues there),
/// found eight bytes at a time.
fn ascii_word_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let ends = !ascii_alphanumeric(u64::from_le_bytes(*chunk)) & HIGH;
        if ends != 0 {
            return i + ends.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    i
}

/// `x` with its ASCII capitals lower-cased (see `bytes_in` for non-ASCII bytes).
fn to_lower(x: u64) -> u64 {
    x | (bytes_in(x, b'A', b'Z') >> 2)
}

/// The hash of `normalize_line(text)`, normalised into a reused buffer.
fn line_hash(text: &str) -> u64 {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    if text.is_ascii() {
        return normalize::ascii_line_hash(text.as_bytes());
    }
    BUF.with_borrow_mut(|line| {
        line.clear();
        normalize::normalize_into(text, line);
        normalized_line_hash(line)
    })
}

/// `line_hash` of a text from its `normalize`d form.
fn normalized_line_hash(normalized: &[u8]) -> u64 {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with_borrow_mut(|bytes| {
        bytes.clear();
        // `normalize_line`'s digit folding: ASCII digits are whole characters.
        bytes.extend(normalized.iter().map(|&b| if b.is_ascii_digit() { b'0' } else { b }));
        xxh3_64(bytes)
    })
}

/// How many documents hold each short block: the corpus-wide half of chrome detection.
/// Counting is a sum, so it can be done shard by shard, in any order, and the per-document
/// `Sketch::lines` dropped as soon as they are counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineCounts {
    doc_freq: FxHashMap<u64, u32>,
}

impl LineCounts {
    pub fn add(&mut self, sketch: &Sketch) {
        for &h in &sketch.lines {
            *self.doc_freq.entry(h).or_default() += 1;
        }
    }

    pub fn from_sketches<'a>(sketches: impl IntoIterator<Item = &'a Sketch>) -> LineCounts {
        let mut counts = LineCounts::default();
        for sketch in sketches {
            counts.add(sketch);
        }
        counts
    }

    /// Adds another part of the corpus's counts (a shard's, counted by another process).
    pub fn merge(&mut self, other: LineCounts) {
        if self.doc_freq.len() < other.doc_freq.len() {
            let mine = std::mem::replace(&mut self.doc_freq, other.doc_freq);
            return self.merge(LineCounts { doc_freq: mine });
        }
        for (h, n) in other.doc_freq {
            *self.doc_freq.entry(h).or_default() += n;
        }
    }

    /// Distinct block hashes counted so far.
    pub fn len(&self) -> usize {
        self.doc_freq.len()
    }

    pub fn is_empty(&self) -> bool {
        self.doc_freq.is_empty()
    }
}

/// Exact copies after the first carry its signature: only first copies go to LSH.
fn exact_firsts(sketches: &[&Sketch], cfg: &DedupConfig) -> FxHashMap<u64, usize> {
    let mut first_of_hash: FxHashMap<u64, usize> = FxHashMap::default();
    if cfg.exact {
        for (i, s) in sketches.iter().enumerate() {
            if let Some(h) = s.exact {
                first_of_hash.entry(h).or_insert(i);
            }
        }
    }
    first_of_hash
}

/// Near-duplicate candidates by LSH banding: pairs of ordinals `(i, j)`, `i < j`, sorted.
/// They still need `similarity` before `reduce` joins them.
pub fn candidate_pairs(sketches: &[&Sketch], cfg: &DedupConfig) -> Vec<(u64, u64)> {
    if !cfg.near {
        return Vec::new();
    }
    let first_of_hash = exact_firsts(sketches, cfg);
    let live: Vec<(usize, &[u32])> = sketches
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            s.bands.len() == cfg.bands && s.exact.is_none_or(|h| first_of_hash.get(&h).is_none_or(|f| f == i))
        })
        .map(|(i, s)| (i, s.bands.as_slice()))
        .collect();
    minhash::candidates(&live, cfg.bands).into_iter().map(|(i, j)| (i as u64, j as u64)).collect()
}

/// The reduce step over all sketches in corpus order (ordinal = position), with the block
/// counts of the same documents and the similarity of each candidate pair.
///
/// Clusters: exact copies join their first copy; then, in corpus order, a document joins
/// the cluster of the most similar earlier *kept* document, when that similarity (or, via
/// a dropped neighbour, its lower bound by the triangle inequality of Jaccard distance)
/// reaches the threshold. Every dropped document is therefore within the threshold of the
/// document it names: no chains of near-near-duplicates drifting apart. `similarity` in
/// the verdict is that value (a lower bound when reached through a neighbour).
pub fn reduce(sketches: &[&Sketch], lines: &LineCounts, similar: &[(u64, u64, f64)], cfg: &DedupConfig) -> CorpusStats {
    let n_docs = sketches.len() as u64;

    let mut chrome = Vec::new();
    if cfg.corpus_lines {
        let min_docs = (cfg.line_min_docs as f64).max((cfg.line_min_share * n_docs as f64).ceil()) as u32;
        chrome = lines.doc_freq.iter().filter(|&(_, &n)| n >= min_docs).map(|(&h, _)| h).collect();
        chrome.sort_unstable();
    }

    let first_of_hash = exact_firsts(sketches, cfg);
    // root[i]: the kept document of i's cluster; sim_to_root[i]: their similarity.
    let mut root: Vec<usize> = (0..sketches.len()).collect();
    let mut sim_to_root: Vec<f64> = vec![1.0; sketches.len()];
    // Similar earlier documents of each document, from the verified candidates.
    let mut earlier: FxHashMap<usize, Vec<(usize, f64)>> = FxHashMap::default();
    if cfg.near {
        for &(i, j, sim) in similar {
            if sim >= cfg.near_threshold {
                earlier.entry(j as usize).or_default().push((i as usize, sim));
            }
        }
    }
    for i in 0..sketches.len() {
        if let Some(&first) = sketches[i].exact.and_then(|h| first_of_hash.get(&h))
            && first != i
        {
            root[i] = root[first];
            sim_to_root[i] = sim_to_root[first];
            continue;
        }
        // i joins a kept document: an earlier similar one that is kept, or the kept root of
        // an earlier similar one when the triangle inequality of Jaccard distance
        // guarantees i is within the threshold of that root too.
        let best = earlier
            .get(&i)
            .into_iter()
            .flatten()
            .filter_map(|&(e, sim)| {
                let r = root[e];
                let bound = if r == e { sim } else { sim + sim_to_root[e] - 1.0 };
                (bound >= cfg.near_threshold).then_some((r, bound))
            })
            .fold(None::<(usize, f64)>, |best, (r, sim)| match best {
                Some((b, bsim)) if bsim > sim || (bsim == sim && b < r) => Some((b, bsim)),
                _ => Some((r, sim)),
            });
        if let Some((e, sim)) = best {
            root[i] = e;
            sim_to_root[i] = sim;
        }
    }

    let mut has_members: FxHashSet<usize> = FxHashSet::default();
    for (i, &r) in root.iter().enumerate() {
        if r != i {
            has_members.insert(r);
        }
    }
    let mut drops: Vec<(u64, DocDrop)> = Vec::new();
    let mut clusters = Vec::new();
    for (i, &r) in root.iter().enumerate() {
        if r == i && !has_members.contains(&i) {
            continue;
        }
        let rep = &sketches[r];
        if r != i {
            let same_text = sketches[i].exact.is_some() && sketches[i].exact == rep.exact;
            let (reason, similarity) =
                if same_text { ("exact_duplicate", 1.0) } else { ("near_duplicate", sim_to_root[i]) };
            drops.push((
                i as u64,
                DocDrop {
                    reason: reason.to_owned(),
                    duplicate_of: Some(rep.id.clone()),
                    similarity: Some((similarity * 1000.0).round() / 1000.0),
                },
            ));
        }
        clusters.push((i as u64, rep.id.clone()));
    }
    CorpusStats { n_docs, chrome, drops, clusters }
}

/// The whole corpus pass in memory, from the stripped documents: sketches, candidates,
/// their similarity, reduce. For small corpora, tests and `pith explain`; the driver runs
/// the steps itself to bound memory.
pub fn reduce_in_memory(docs: &[&StrippedDoc], cfg: &DedupConfig) -> CorpusStats {
    let sketches: Vec<Sketch> = docs.iter().map(|d| sketch(d, cfg)).collect();
    let refs: Vec<&Sketch> = sketches.iter().collect();
    let similar: Vec<(u64, u64, f64)> = candidate_pairs(&refs, cfg)
        .into_iter()
        .map(|(i, j)| {
            let (a, b) = (shingle_set(docs[i as usize], cfg), shingle_set(docs[j as usize], cfg));
            (i, j, similarity(&a, &b))
        })
        .collect();
    reduce(&refs, &LineCounts::from_sketches(&sketches), &similar, cfg)
}

fn lookup<T>(list: &[(u64, T)], ordinal: u64) -> Option<&T> {
    list.binary_search_by_key(&ordinal, |(i, _)| *i).ok().map(|i| &list[i].1)
}

/// The apply step for the document at `ordinal`: its blocks are moved into the result,
/// kept or removed, not copied.
///
/// A block can repeat, or be repeated by, only a block of its kind (the title counts as a
/// heading) whose normalised text is the same: first each block gets a fingerprint of its
/// normalised text, mostly without normalising (`normalize::fingerprint`), and only the
/// blocks whose fingerprint another block of their kind shares are normalised and hashed
/// to look for repeats.
pub fn dedup(doc: StrippedDoc, ordinal: u64, stats: &CorpusStats, cfg: &DedupConfig) -> DedupedDoc {
    let StrippedDoc { id, title, blocks: doc_blocks, mut removed, raw_bytes } = doc;
    /// Normalised texts seen, by their 128-bit hashes, normalised into one buffer, and the
    /// fingerprints. Per thread, so that they keep their capacity from one document to
    /// the next.
    #[derive(Default)]
    struct Seen {
        headings: FxHashSet<u128>,
        paragraphs: FxHashSet<u128>,
        normalized: Vec<u8>,
        /// (is a heading, fingerprint, position) of the title (position: the block count)
        /// and the blocks that a repeat of their kind could remove.
        fingerprints: Vec<(bool, usize, usize)>,
        /// By position: whether another block of its kind has its fingerprint.
        shared: Vec<bool>,
    }
    thread_local! {
        static SEEN: std::cell::RefCell<Seen> = std::cell::RefCell::default();
    }
    let Seen {
        headings: mut seen_headings,
        paragraphs: mut seen_paragraphs,
        mut normalized,
        mut fingerprints,
        mut shared,
    } = SEEN.take();
    seen_headings.clear();
    seen_paragraphs.clear();
    fn normalize_to<'b>(text: &str, buf: &'b mut Vec<u8>) -> &'b [u8] {
        buf.clear();
        normalize::normalize_into(text, buf);
        buf
    }
    let n_blocks = doc_blocks.len();
    fingerprints.clear();
    if let Some(title) = title.as_deref().filter(|_| cfg.repeated_headings) {
        fingerprints.push((true, normalize::fingerprint(title), n_blocks));
    }
    for (at, block) in doc_blocks.iter().enumerate() {
        let heading = block.kind == BlockKind::Heading;
        if (heading && cfg.repeated_headings) || (!heading && cfg.repeated_paragraphs) {
            fingerprints.push((heading, normalize::fingerprint(&block.text), at));
        }
    }
    fingerprints.sort_unstable();
    shared.clear();
    shared.resize(n_blocks + 1, false);
    for run in fingerprints.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).filter(|run| run.len() > 1) {
        for &(_, _, at) in run {
            shared[at] = true;
        }
    }
    if let Some(title) = title.as_deref().filter(|_| shared[n_blocks]) {
        seen_headings.insert(xxhash_rust::xxh3::xxh3_128(normalize_to(title, &mut normalized)));
    }
    // The kept blocks stay where they are, in the document's own vector; a removed one's
    // text moves to its removal.
    let mut blocks = doc_blocks;
    let mut at = 0;
    blocks.retain_mut(|block| {
        let heading = block.kind == BlockKind::Heading;
        // The block's normalised text, when it is made.
        let mut made = None;
        let mut repeat = None;
        if shared[at] {
            let normalized = normalize_to(&block.text, &mut normalized);
            let (key, key_len) = (xxhash_rust::xxh3::xxh3_128(normalized), normalized.len());
            if heading && !seen_headings.insert(key) {
                repeat = Some(("repeated_heading", "heading repeats the title or an earlier heading"));
            } else if !heading && key_len >= 20 && !seen_paragraphs.insert(key) {
                repeat = Some(("repeated_paragraph", "block repeats an earlier block"));
            }
            made = Some(normalized);
        }
        at += 1;
        let (kind, rule) = match repeat {
            Some(repeat) => repeat,
            None if cfg.corpus_lines
                && block.text.len() <= cfg.line_max_chars
                && !stats.chrome.is_empty()
                && stats
                    .chrome
                    .binary_search(&made.map_or_else(|| line_hash(&block.text), normalized_line_hash))
                    .is_ok() =>
            {
                ("corpus_repeated_line", "block recurs in many documents of the corpus")
            }
            None => return true,
        };
        removed.push(Removal {
            stage: STAGE.into(),
            kind: kind.into(),
            rule: rule.into(),
            block: block.index,
            text: std::mem::take(&mut block.text),
        });
        false
    });
    removed.sort_by_key(|r| r.block);
    // Sets grown large by a document of very many blocks would cost every later document
    // a clear over all their capacity: those are dropped instead.
    if seen_headings.capacity() + seen_paragraphs.capacity() <= 1 << 12 {
        SEEN.set(Seen { headings: seen_headings, paragraphs: seen_paragraphs, normalized, fingerprints, shared });
    }

    let mut res = DedupedDoc { id, title, blocks, removed, raw_bytes, drop: None, cluster: None };
    set_verdicts(&mut res, ordinal, stats);
    res
}

/// `dedup` as it was before fingerprints: every block normalised and hashed. The
/// reference.
#[cfg(test)]
fn dedup_normalizing_every_block(doc: StrippedDoc, ordinal: u64, stats: &CorpusStats, cfg: &DedupConfig) -> DedupedDoc {
    let StrippedDoc { id, title, blocks: doc_blocks, mut removed, raw_bytes } = doc;
    /// Normalised texts seen, by their 128-bit hashes, normalised into one buffer. Per
    /// thread, so that they keep their capacity from one document to the next.
    #[derive(Default)]
    struct Seen {
        headings: FxHashSet<u128>,
        paragraphs: FxHashSet<u128>,
        normalized: Vec<u8>,
    }
    thread_local! {
        static SEEN: std::cell::RefCell<Seen> = std::cell::RefCell::default();
    }
    let Seen { headings: mut seen_headings, paragraphs: mut seen_paragraphs, mut normalized } = SEEN.take();
    seen_headings.clear();
    seen_paragraphs.clear();
    fn normalize_to<'b>(text: &str, buf: &'b mut Vec<u8>) -> &'b [u8] {
        buf.clear();
        normalize::normalize_into(text, buf);
        buf
    }
    if let Some(title) = &title {
        seen_headings.insert(xxhash_rust::xxh3::xxh3_128(normalize_to(title, &mut normalized)));
    }
    // The kept blocks stay where they are, in the document's own vector; a removed one's
    // text moves to its removal.
    let mut blocks = doc_blocks;
    blocks.retain_mut(|block| {
        let normalized = normalize_to(&block.text, &mut normalized);
        let (key, key_len) = (xxhash_rust::xxh3::xxh3_128(normalized), normalized.len());
        let (kind, rule) = if block.kind == BlockKind::Heading && cfg.repeated_headings && !seen_headings.insert(key) {
            ("repeated_heading", "heading repeats the title or an earlier heading")
        } else if block.kind != BlockKind::Heading
            && cfg.repeated_paragraphs
            && key_len >= 20
            && !seen_paragraphs.insert(key)
        {
            ("repeated_paragraph", "block repeats an earlier block")
        } else if cfg.corpus_lines
            && block.text.len() <= cfg.line_max_chars
            && stats.chrome.binary_search(&normalized_line_hash(normalized)).is_ok()
        {
            ("corpus_repeated_line", "block recurs in many documents of the corpus")
        } else {
            return true;
        };
        removed.push(Removal {
            stage: STAGE.into(),
            kind: kind.into(),
            rule: rule.into(),
            block: block.index,
            text: std::mem::take(&mut block.text),
        });
        false
    });
    removed.sort_by_key(|r| r.block);
    // Sets grown large by a document of very many blocks would cost every later document
    // a clear over all their capacity: those are dropped instead.
    if seen_headings.capacity() + seen_paragraphs.capacity() <= 1 << 12 {
        SEEN.set(Seen { headings: seen_headings, paragraphs: seen_paragraphs, normalized });
    }

    let mut res = DedupedDoc { id, title, blocks, removed, raw_bytes, drop: None, cluster: None };
    set_verdicts(&mut res, ordinal, stats);
    res
}

/// The corpus pass's verdicts on the document at `ordinal`: its drop (a duplicate, or
/// `empty` when no block is left) and its duplicate cluster. `dedup` sets them; a driver
/// that cached the rest of `dedup`'s output (which does not depend on them) sets them
/// again for each corpus pass.
pub fn set_verdicts(doc: &mut DedupedDoc, ordinal: u64, stats: &CorpusStats) {
    (doc.drop, doc.cluster) = verdicts(ordinal, doc.blocks.is_empty(), stats);
}

/// `set_verdicts`' drop and cluster for the document at `ordinal`, which has no block
/// left when `empty`.
pub fn verdicts(ordinal: u64, empty: bool, stats: &CorpusStats) -> (Option<DocDrop>, Option<String>) {
    let mut drop = lookup(&stats.drops, ordinal).cloned();
    if drop.is_none() && empty {
        drop = Some(DocDrop { reason: "empty".to_owned(), duplicate_of: None, similarity: None });
    }
    (drop, lookup(&stats.clusters, ordinal).cloned())
}

/// What `dedup` did to one stripped document, without any text and without the corpus
/// pass's verdicts: with that stripped document, `rebuild` and `set_verdicts` give the
/// `DedupedDoc` back. The driver caches this instead of the `DedupedDoc`, which would
/// store the document's text a second time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupDelta {
    /// The blocks dedup removed, in document order: index, kind, rule.
    pub removed: Vec<(u32, String, String)>,
}

impl DedupDelta {
    pub fn of(doc: &DedupedDoc) -> DedupDelta {
        DedupDelta {
            removed: doc
                .removed
                .iter()
                .filter(|r| r.stage == STAGE)
                .map(|r| (r.block, r.kind.to_string(), r.rule.to_string()))
                .collect(),
        }
    }

    /// The `DedupedDoc` that `dedup` made of `stripped`, but for the verdicts (`drop` and
    /// `cluster` are `None`: `set_verdicts` sets them).
    pub fn rebuild(&self, stripped: StrippedDoc) -> DedupedDoc {
        // Blocks are moved, not copied: a warm run rebuilds every document.
        let StrippedDoc { id, title, blocks: all, mut removed, raw_bytes } = stripped;
        let mut blocks = Vec::with_capacity(all.len());
        let mut gone = self.removed.iter().peekable();
        for block in all {
            match gone.next_if(|(index, ..)| *index == block.index) {
                Some((_, kind, rule)) => removed.push(Removal {
                    stage: STAGE.into(),
                    kind: kind.clone().into(),
                    rule: rule.clone().into(),
                    block: block.index,
                    text: block.text,
                }),
                None => blocks.push(block),
            }
        }
        removed.sort_by_key(|r| r.block);
        DedupedDoc { id, title, blocks, removed, raw_bytes, drop: None, cluster: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pith_types::{Block, Span};

    #[test]
    fn ascii_alphanumeric_marks_the_letters_and_digits_before_any_non_ascii_byte() {
        for b in 0..=255u8 {
            for at in 0..8 {
                for filler in [b'a', b'Z', b'5', b' ', b'@'] {
                    let mut bytes = [filler; 8];
                    bytes[at] = b;
                    let marks = ascii_alphanumeric(u64::from_le_bytes(bytes)).to_le_bytes();
                    let ascii = bytes.iter().position(|b| !b.is_ascii()).unwrap_or(8);
                    for k in 0..=ascii.min(7) {
                        let want = if bytes[k].is_ascii_alphanumeric() { 0x80 } else { 0 };
                        assert_eq!(marks[k], want, "{bytes:?} at {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_alphanumeric_table_is_is_ascii_alphanumeric() {
        for b in 0..=255u8 {
            assert_eq!(ASCII_ALPHANUMERIC[usize::from(b)], b.is_ascii_alphanumeric(), "{b}");
        }
    }

    #[test]
    fn ascii_word_end_is_the_end_of_the_letters_and_digits() {
        let texts = [
            "",
            "a",
            "abcdefgh",
            "abcdefghijklmnopqrstuvwxyz0123456789 tail",
            "Supercalifragilistic, expialidocious",
            "longwordthenaccentédthen",
            "twelvebytes\u{00e9}\u{00e9}",
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ`{@[/:",
            "sixteen_bytes!!!",
        ];
        for text in texts {
            let bytes = text.as_bytes();
            for i in 0..=bytes.len() {
                let mut want = i;
                while want < bytes.len() && bytes[want].is_ascii_alphanumeric() {
                    want += 1;
                }
                assert_eq!(ascii_word_end(bytes, i), want, "{text:?} from {i}");
            }
        }
    }

    #[test]
    fn doc_words_are_the_words_of_the_normalised_text() {
        let texts = [
            "",
            "a",
            "  the cat's 3 mats, e-mail!  x",
            "café école",
            "--",
            "a1b2 ... c3",
            "It`S  OK\tNow\r\n",
            "ＦＵＬＬ width Ⅻ ﬁne",
            "Cox’s “Commitment”\u{a0}Here",
            "MIXED Case, 42nd\x0bStreet\x1fnext",
            "Straße İstanbul ΣΊΣΥΦΟΣ",
            "東京 タワー ２０２４年",
            "e\u{301}cole cafe\u{301}s re\u{301}sume\u{301}-2 x",
            "ab’cd ef“gh”ij\u{2003}kl\u{85}mn o\u{200b}p",
            "\u{a0}",
            "’",
            "a’",
        ];
        // Mixed strings from a small pseudo-random generator.
        let alphabet: Vec<char> = "aZ9 \t\n\x0b`'.-\x1f\u{a0}\u{85}\u{2003}é’“ﬁＡ\u{301}İΣ東".chars().collect();
        let mut state = 12345u64;
        let mut random = Vec::new();
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(state % 30) {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            random.push(text);
        }
        let pairs = texts.iter().flat_map(|&a| texts.iter().map(move |&b| (a, b)));
        let random_pairs = random.iter().zip(random.iter().skip(1)).map(|(a, b)| (a.as_str(), b.as_str()));
        for (a, b) in pairs.chain(random_pairs) {
            {
                let doc =
                    doc("d", None, &[(BlockKind::Paragraph, a), (BlockKind::Heading, b), (BlockKind::Paragraph, a)]);
                let text = normalized_text(&doc);
                let want = words(&text);
                DocWords::with(&doc, |got| {
                    assert_eq!(got.joined, want.join(" ").as_bytes(), "{a:?} {b:?}");
                    let hashes: Vec<u8> = want.iter().flat_map(|w| xxh3_64(w.as_bytes()).to_le_bytes()).collect();
                    assert_eq!(got.hashes, hashes, "{a:?} {b:?}");
                });
            }
        }
    }

    #[test]
    fn dedup_is_dedup_normalizing_every_block() {
        // Texts that normalise alike (case, white space, quotes, NFKC, combining marks),
        // alike but for digits (chrome), with the same fingerprint but different, short
        // and long, ASCII and not.
        let pool = [
            "Big News Today",
            "big  news\ttoday ",
            "ＢＩＧ news\u{a0}today",
            "Today news big",
            "Big Swen Today",
            "Cox’s “Commitment” is here and there",
            "cox's \"commitment\" is here and there",
            "Cox`s \"Commitment\" is HERE and there",
            "café au lait is served here daily",
            "CAFÉ AU LAIT is served here daily",
            "cafe\u{301} au lait is served here daily",
            "caf\u{e9}  au lait is served here daily",
            "ﬁne print is fine print, read it",
            "fine print is fine print, read it",
            "¨x marks the spot in a long line",
            " \u{308}x marks the spot in a long line",
            "a\x1fb paragraph that is long enough",
            "A\x1fB paragraph that is long enough",
            "Share",
            "share",
            "Menu",
            "Sign up for our newsletter",
            "SIGN UP for our\n newsletter",
            "Updated May 3, 2024",
            "Updated May 9, 2021",
            "东京 タワー ２０２４年 の 話",
            "东京 タワー 2024年 の 話",
            "",
            "   ",
        ];
        let chrome: Vec<u64> = {
            let mut chrome: Vec<u64> =
                ["Sign up for our newsletter", "Updated May 3, 2024", "Share", "Menu"].map(line_hash).to_vec();
            chrome.sort_unstable();
            chrome
        };
        let kinds = [BlockKind::Heading, BlockKind::Paragraph, BlockKind::ListItem, BlockKind::Caption];
        let configs = [
            DedupConfig::default(),
            DedupConfig { repeated_headings: false, ..DedupConfig::default() },
            DedupConfig { repeated_paragraphs: false, ..DedupConfig::default() },
            DedupConfig { corpus_lines: false, ..DedupConfig::default() },
            DedupConfig { line_max_chars: 20, ..DedupConfig::default() },
        ];
        let mut state = 12345u64;
        let mut next = |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        for round in 0..3000 {
            let title = match next(3) {
                0 => None,
                _ => Some(pool[next(pool.len())]),
            };
            let blocks: Vec<(BlockKind, &str)> =
                (0..next(12)).map(|_| (kinds[next(kinds.len())], pool[next(pool.len())])).collect();
            let d = doc("d", title, &blocks);
            let cfg = &configs[round % configs.len()];
            for chrome in [&chrome[..], &[]] {
                let stats = CorpusStats { chrome: chrome.to_vec(), ..CorpusStats::default() };
                assert_eq!(
                    dedup(d.clone(), 0, &stats, cfg),
                    dedup_normalizing_every_block(d.clone(), 0, &stats, cfg),
                    "{title:?} {blocks:?}"
                );
            }
        }
    }

    #[test]
    fn exact_is_the_hash_of_the_words_joined_by_spaces() {
        let block = |text: &str| Block {
            index: 0,
            kind: BlockKind::Paragraph,
            text: text.into(),
            span: Span { start: 0, end: 0 },
        };
        let doc = StrippedDoc {
            id: "d".into(),
            title: None,
            blocks: vec![block("The  Cat's mat, 42!"), block("Café — école")],
            removed: Vec::new(),
            raw_bytes: 0,
        };
        let sketch = sketch(&doc, &DedupConfig::default());
        assert_eq!(sketch.exact, Some(xxh3_64(b"the cat s mat 42 caf\xc3\xa9 \xc3\xa9cole")));
    }

    #[test]
    fn line_hash_is_the_hash_of_the_normalised_line() {
        for text in [
            "",
            "Updated May 3, 2024",
            "  Cox’s  “Commitment”\u{a0}Here 12 ",
            "ＦＵＬＬ ９ width",
            "a\tb",
            " \x0bIt`S \x00 OK\x1f\r\n 09 ",
            "\t\n",
        ] {
            assert_eq!(line_hash(text), xxh3_64(normalize::normalize_line(text).as_bytes()), "{text:?}");
        }
        // Longer ones, mostly letters, digits and single spaces, so that the eight-byte
        // path runs.
        let alphabet = b"aZq09 x Y  .,`\t\n\x0b\r\x1f";
        let mut state = 12345u64;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(state % 60) {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let k = (state >> 33) as usize % (3 * alphabet.len());
                text.push(char::from(alphabet[if k < 2 * alphabet.len() { k % 10 } else { k % alphabet.len() }]));
            }
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            assert_eq!(line_hash(&text), xxh3_64(normalize::normalize_line(&text).as_bytes()), "{text:?}");
        }
        for b in 0..128u8 {
            let c = char::from(b);
            for text in [format!("A{c}b 7{c}{c}x"), format!("{c}"), format!(" {c}Q{c} ")] {
                assert_eq!(line_hash(&text), xxh3_64(normalize::normalize_line(&text).as_bytes()), "{text:?}");
            }
        }
    }

    fn doc(id: &str, title: Option<&str>, blocks: &[(BlockKind, &str)]) -> StrippedDoc {
        StrippedDoc {
            id: id.into(),
            title: title.map(Into::into),
            blocks: blocks
                .iter()
                .enumerate()
                .map(|(i, (kind, text))| Block {
                    index: i as u32,
                    kind: *kind,
                    text: (*text).into(),
                    span: Span { start: 0, end: 0 },
                })
                .collect(),
            removed: vec![],
            raw_bytes: 0,
        }
    }

    fn kinds(d: &DedupedDoc) -> Vec<(&str, &str)> {
        d.removed.iter().map(|r| (&*r.kind, r.text.as_str())).collect()
    }

    #[test]
    fn line_counts_merged_by_shard_equal_counts_of_the_whole() {
        let sketch = |lines: &[u64]| Sketch { id: String::new(), exact: None, bands: vec![], lines: lines.to_vec() };
        let all = [sketch(&[1, 2]), sketch(&[2, 3]), sketch(&[2]), sketch(&[4])];
        let whole = LineCounts::from_sketches(&all);
        let mut merged = LineCounts::from_sketches(&all[2..]);
        merged.merge(LineCounts::from_sketches(&all[..2]));
        assert_eq!(merged, whole);
        assert_eq!(merged.doc_freq[&2], 3);
    }

    #[test]
    fn slice_keeps_the_verdicts_of_its_range_and_all_chrome() {
        let drop =
            |of: &str| DocDrop { reason: "exact_duplicate".into(), duplicate_of: Some(of.into()), similarity: None };
        let stats = CorpusStats {
            n_docs: 10,
            chrome: vec![7, 9],
            drops: vec![(2, drop("a")), (5, drop("b")), (8, drop("c"))],
            clusters: vec![(1, "a".into()), (2, "a".into()), (5, "b".into()), (9, "b".into())],
        };
        let part = stats.slice(2..6);
        assert_eq!(part.chrome, vec![7, 9]);
        assert_eq!(part.drops.iter().map(|(o, _)| *o).collect::<Vec<_>>(), vec![2, 5]);
        assert_eq!(part.clusters.iter().map(|(o, _)| *o).collect::<Vec<_>>(), vec![2, 5]);
        assert!(stats.slice(10..12).drops.is_empty());
    }

    #[test]
    fn repeated_title_and_headings() {
        use BlockKind::*;
        let d = doc(
            "a",
            Some("Big News Today"),
            &[
                (Heading, "Big  News Today"),
                (Heading, "Background"),
                (Paragraph, "Some text here that is long."),
                (Heading, "background"),
            ],
        );
        let cfg = DedupConfig::default();
        let out = dedup(d, 0, &CorpusStats::default(), &cfg);
        assert_eq!(kinds(&out), vec![("repeated_heading", "Big  News Today"), ("repeated_heading", "background")]);
        // Idempotent: applying again removes nothing more.
        let again = StrippedDoc {
            id: out.id.clone(),
            title: out.title.clone(),
            blocks: out.blocks.clone(),
            removed: vec![],
            raw_bytes: 0,
        };
        assert!(dedup(again, 0, &CorpusStats::default(), &cfg).removed.is_empty());
    }

    #[test]
    fn exact_and_near_duplicates() {
        use BlockKind::*;
        let long: String = (0..200).map(|i| format!("word{i} ")).collect();
        let near = long.replace("word100 ", "changed ");
        let other: String = (0..200).map(|i| format!("other{i} ")).collect();
        let docs = [
            doc("a", None, &[(Paragraph, &long)]),
            doc("b", None, &[(Paragraph, &long.to_uppercase())]),
            doc("c", None, &[(Paragraph, &near)]),
            doc("d", None, &[(Paragraph, &other)]),
        ];
        let cfg = DedupConfig::default();
        let stats = reduce_in_memory(&docs.iter().collect::<Vec<_>>(), &cfg);
        let verdicts: Vec<Option<(String, Option<String>)>> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| dedup(d.clone(), i as u64, &stats, &cfg).drop.map(|x| (x.reason, x.duplicate_of)))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                None,
                Some(("exact_duplicate".into(), Some("a".into()))),
                Some(("near_duplicate".into(), Some("a".into()))),
                None
            ]
        );
        assert_eq!(stats.clusters, vec![(0, "a".into()), (1, "a".into()), (2, "a".into())]);
    }

    #[test]
    fn chrome_needs_many_documents() {
        use BlockKind::*;
        let cfg = DedupConfig { line_min_docs: 3, ..DedupConfig::default() };
        let docs: Vec<StrippedDoc> = (0..4)
            .map(|i| {
                let name = ["alpha", "beta", "gamma", "delta"][i];
                let body = format!("Unique body {name} with enough words to be itself.");
                let id = format!("d{i}");
                if i < 3 {
                    doc(&id, None, &[(Paragraph, "Sign up for our newsletter"), (Paragraph, &body)])
                } else {
                    doc(&id, None, &[(Paragraph, &body)])
                }
            })
            .collect();
        let stats = reduce_in_memory(&docs.iter().collect::<Vec<_>>(), &cfg);
        let out = dedup(docs[0].clone(), 0, &stats, &cfg);
        assert_eq!(kinds(&out), vec![("corpus_repeated_line", "Sign up for our newsletter")]);
        let cfg4 = DedupConfig { line_min_docs: 4, ..cfg };
        let stats4 = reduce_in_memory(&docs.iter().collect::<Vec<_>>(), &cfg4);
        assert!(dedup(docs[0].clone(), 0, &stats4, &cfg4).removed.is_empty());
    }
}
