//! TF-IDF keywords, the per-document part: terms of a document, corpus document
//! frequencies (`DocFreq`, a mergeable map for the corpus pass) and the top terms of a
//! document against them.
//!
//! A *term* is a word (a run of letters and digits with at least one letter) lower-cased,
//! dropped if it is a stop word of the document's language (the `stop-words` lists), then
//! stemmed with Snowball (`rust-stemmers`) when the language has a stemmer; other languages
//! keep the lower-cased word. Terms are keyed by a 64-bit FNV-1a hash of their text, the
//! same on every platform, so that frequencies computed on different machines merge.
//!
//! `features` leaves `Features::keywords` empty: the document frequencies need the whole
//! corpus, so the driver's corpus pass counts them (`DocFreq` per shard, merged) and sets
//! the keywords afterwards.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

pub mod incremental;

/// The terms of one document, ready for `keywords` and `DocFreq::add_document`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocTerms {
    /// Distinct terms, by ascending hash.
    pub terms: Vec<Term>,
    /// Occurrences of all terms (the denominator of term frequencies).
    pub n_terms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    pub hash: u64,
    /// Occurrences in the document.
    pub count: u64,
    /// The lower-cased word that most often gave this term (the first in byte order on
    /// ties): "elections" rather than the stem "elect".
    pub surface: String,
}

/// Corpus document frequencies: for each term hash, the number of documents containing
/// it, and the number of documents. Merging (`DocFreqSum`) is addition, so any split of the corpus and
/// any merge order give the same value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocFreq {
    pub n_docs: u64,
    /// Sorted by hash, so that the serialised form is the same for equal values.
    #[serde(deserialize_with = "map_at_once")]
    pub doc_counts: BTreeMap<u64, u64>,
}

/// A map read as its entries, then built at once (`BTreeMap::from_iter`: entries that
/// come sorted, as a `BTreeMap` writes them, are built in one pass; a later duplicate key
/// wins, as with `insert`), not inserted one by one, a search down the tree each.
fn map_at_once<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<u64, u64>, D::Error> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = BTreeMap<u64, u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(entry) = map.next_entry::<u64, u64>()? {
                entries.push(entry);
            }
            Ok(entries.into_iter().collect())
        }
    }
    deserializer.deserialize_map(Entries)
}

impl DocFreq {
    pub fn add_document(&mut self, doc: &DocTerms) {
        self.n_docs += 1;
        for term in &doc.terms {
            *self.doc_counts.entry(term.hash).or_default() += 1;
        }
    }

    /// Documents containing the term.
    pub fn doc_count(&self, hash: u64) -> u64 {
        self.doc_counts.get(&hash).copied().unwrap_or(0)
    }

    /// The frequencies of `docs`: `add_document` of each, counted in a hash table first.
    pub fn of_documents(docs: impl IntoIterator<Item = impl std::borrow::Borrow<DocTerms>>) -> DocFreq {
        DocFreq::of_term_hashes(docs.into_iter().map(|doc| doc.borrow().terms.iter().map(|term| term.hash).collect()))
    }

    /// The frequencies of documents given by their distinct term hashes (`term_hashes`).
    pub fn of_term_hashes(docs: impl IntoIterator<Item = Vec<u64>>) -> DocFreq {
        let mut n_docs = 0;
        let mut counts: FxHashMap<u64, u64> = FxHashMap::default();
        for hashes in docs {
            n_docs += 1;
            for hash in hashes {
                *counts.entry(hash).or_default() += 1;
            }
        }
        DocFreq { n_docs, doc_counts: counts.into_iter().collect() }
    }
}

/// A sum of `DocFreq`s (a corpus's shards'), counted in a hash table and sorted once by
/// `finish`: merging thousands of shards into a `BTreeMap` one at a time costs a tree
/// walk per term of each, on the thread that collects them.
#[derive(Debug, Default)]
pub struct DocFreqSum {
    n_docs: u64,
    counts: FxHashMap<u64, u64>,
}

impl DocFreqSum {
    pub fn add(&mut self, doc_freq: &DocFreq) {
        self.n_docs += doc_freq.n_docs;
        for (&hash, &count) in &doc_freq.doc_counts {
            *self.counts.entry(hash).or_default() += count;
        }
    }

    pub fn finish(self) -> DocFreq {
        DocFreq { n_docs: self.n_docs, doc_counts: self.counts.into_iter().collect() }
    }
}

/// A `DocFreq` for lookups: `keywords` asks it for every term of every document.
#[derive(Debug, Clone, Default)]
pub struct DocFreqIndex {
    /// Tells indices apart for the lexicon's memo of idf values (0: none; a clone keeps
    /// its original's, as it holds the same values).
    id: u64,
    n_docs: u64,
    counts: FxHashMap<u64, u64>,
}

impl DocFreqIndex {
    pub fn new(doc_freq: &DocFreq) -> DocFreqIndex {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        DocFreqIndex {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            n_docs: doc_freq.n_docs,
            counts: doc_freq.doc_counts.iter().map(|(&h, &n)| (h, n)).collect(),
        }
    }

    /// The term's inverse document frequency, smoothed: `ln((1 + n_docs) / (1 +
    /// doc_count)) + 1` (never zero or negative, and defined for a term the corpus has not
    /// seen).
    fn idf(&self, hash: u64) -> f64 {
        idf(self.n_docs, self.counts.get(&hash).copied().unwrap_or(0))
    }
}

/// The smoothed inverse document frequency of a term in `doc_count` of `n_docs`
/// documents (see `DocFreqIndex::idf`): the one expression every score is made of.
fn idf(n_docs: u64, doc_count: u64) -> f64 {
    ((1.0 + n_docs as f64) / (1.0 + doc_count as f64)).ln() + 1.0
}

/// A keyword: the term's surface form (see `Term::surface`) and its TF-IDF, rounded to
/// three decimals.
pub use pith_types::Keyword;

/// The stemmer and stop-word list code of an ISO 639-3 language (whatlang's codes).
fn language(code: &str) -> Option<(Algorithm, &'static str)> {
    let res = match code {
        "eng" => (Algorithm::English, "en"),
        "deu" => (Algorithm::German, "de"),
        "fra" => (Algorithm::French, "fr"),
        "spa" => (Algorithm::Spanish, "es"),
        "por" => (Algorithm::Portuguese, "pt"),
        "ita" => (Algorithm::Italian, "it"),
        "nld" => (Algorithm::Dutch, "nl"),
        "rus" => (Algorithm::Russian, "ru"),
        "swe" => (Algorithm::Swedish, "sv"),
        "dan" => (Algorithm::Danish, "da"),
        "nob" | "nno" => (Algorithm::Norwegian, "no"),
        "fin" => (Algorithm::Finnish, "fi"),
        "hun" => (Algorithm::Hungarian, "hu"),
        "ron" => (Algorithm::Romanian, "ro"),
        "tur" => (Algorithm::Turkish, "tr"),
        "ell" => (Algorithm::Greek, "el"),
        "ara" => (Algorithm::Arabic, "ar"),
        "tam" => (Algorithm::Tamil, "ta"),
        _ => return None,
    };
    Some(res)
}

/// FNV-1a, 64 bits: simple, and the same on every platform.
fn term_hash(term: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in term.as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The stop words of a `stop-words` language code, as a set built once.
fn stop_set(code: &'static str) -> &'static FxHashSet<&'static str> {
    static SETS: OnceLock<FxHashMap<&'static str, FxHashSet<&'static str>>> = OnceLock::new();
    static EMPTY: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        let codes = [
            "en", "de", "fr", "es", "pt", "it", "nl", "ru", "sv", "da", "no", "fi", "hu", "ro", "tr", "el", "ar", "ta",
        ];
        codes
            .iter()
            .map(|&code| (code, stop_words::lookup(code).unwrap_or_default().iter().copied().collect()))
            .collect()
    });
    sets.get(code).unwrap_or_else(|| EMPTY.get_or_init(FxHashSet::default))
}

/// The terms of `text`, a document in language `lang` (ISO 639-3, as in
/// `Features::language`; `None` or an unsupported language: no stop words, no stemming).
pub fn doc_terms(text: &str, lang: Option<&str>) -> DocTerms {
    with_words([text], lang, None, |lexicon| {
        lexicon.gather_terms(None);
        let (terms, n_terms) = lexicon.term_refs(None);
        let mut terms: Vec<Term> =
            terms.into_iter().map(|t| Term { hash: t.hash, count: t.count, surface: t.surface() }).collect();
        terms.sort_unstable_by_key(|t| t.hash);
        DocTerms { terms, n_terms }
    })
}

/// `keywords(&doc_terms(text, lang), doc_freq, k)`, without building every term's surface
/// form: only the top `k` are copied.
pub fn keywords_of(text: &str, lang: Option<&str>, doc_freq: &DocFreqIndex, k: usize) -> Vec<Keyword> {
    with_words([text], lang, None, |lexicon| {
        lexicon.gather_terms(None);
        let (terms, n_terms) = lexicon.term_refs(Some(doc_freq));
        top_terms(&terms, n_terms, k)
    })
}

/// A term whose surface form is borrowed, with its idf.
#[derive(Debug, Clone, Copy)]
struct TermRef<'w> {
    hash: u64,
    count: u64,
    /// The surface form's bytes (a word's: UTF-8), which order as its text does.
    surface: &'w [u8],
    idf: f64,
}

impl TermRef<'_> {
    /// The surface form as a string.
    fn surface(&self) -> String {
        std::str::from_utf8(self.surface).expect("a surface form is a word").to_owned()
    }
}

/// The distinct term hashes of `text` (in no particular order): `doc_terms` without
/// counts and surface forms, which is all that document frequencies need.
pub fn term_hashes(text: &str, lang: Option<&str>) -> Vec<u64> {
    with_words([text], lang, None, |lexicon| lexicon.term_hashes())
}

/// `detect_language(text, cfg)` and `term_hashes` of the text in that language, in one
/// pass over a plainly English text (the common case): its words are taken as English
/// while the pass counts what `plainly_english` needs.
pub fn language_and_term_hashes(text: &str, cfg: &crate::FeaturesConfig) -> (Option<String>, Vec<u64>) {
    language_and_term_hashes_of_blocks([text], cfg)
}

/// `language_and_term_hashes` of the text made of `blocks` joined by blank lines (as
/// `pith_types::join_blocks` joins them), joined only if whatlang is to detect its
/// language: no word spans a blank line, so the blocks' words are the text's.
pub fn language_and_term_hashes_of_blocks<'t>(
    blocks: impl IntoIterator<Item = &'t str, IntoIter: Clone>,
    cfg: &crate::FeaturesConfig,
) -> (Option<String>, Vec<u64>) {
    let blocks = blocks.into_iter();
    let mut english_hashes = None;
    if cfg.language && cfg.fast_english {
        let mut sample = crate::EnglishSample::default();
        let hashes = with_words(blocks.clone(), Some("eng"), Some(&mut sample), |lexicon| lexicon.term_hashes());
        if sample.plainly_english() {
            return (Some("eng".to_owned()), hashes);
        }
        english_hashes = Some(hashes);
    }
    let text = blocks.clone().collect::<Vec<&str>>().join("\n\n");
    let lang = crate::detect_language(&text, cfg);
    // Most texts not plainly English are English all the same: the pass above serves.
    let hashes = match english_hashes {
        Some(hashes) if lang.as_deref() == Some("eng") => hashes,
        _ => with_words(blocks, lang.as_deref(), None, |lexicon| lexicon.term_hashes()),
    };
    (lang, hashes)
}

/// Counts the lower-cased words of `texts` (a document's text, or its blocks: no word
/// spans two) into the lexicon, and calls `f` with it (to gather their terms:
/// `Lexicon::gather_terms`, `Lexicon::term_hashes`).
///
/// Stemming and stop-word lookups are the costly part of terms, and words repeat across
/// documents: each thread keeps a lexicon per language (each word's term, or stop word,
/// in a table slot with its count: see `Lexicon`), so a word of a document costs one
/// lookup. A memo only: the terms are those stemming every word would give.
///
/// `sample`, if given, counts the first words (runs of letters and digits, as
/// `detect_language` splits them) for `EnglishSample::plainly_english`.
fn with_words<'t, R>(
    texts: impl IntoIterator<Item = &'t str>,
    lang: Option<&str>,
    mut sample: Option<&mut crate::EnglishSample>,
    f: impl FnOnce(&mut Lexicon) -> R,
) -> R {
    let lang = lang.and_then(language);
    LEXICONS.with_borrow_mut(|lexicons| {
        let lexicon = lexicons.entry(lang.map(|(_, code)| code)).or_insert_with(|| Lexicon::new(lang));
        lexicon.start_document();
        for text in texts {
            lexicon.count_words(text, sample.as_deref_mut());
        }
        f(lexicon)
    })
}

/// The class of the non-ASCII character `text` starts with (`OTHER_LETTER` or
/// `OTHER_DIGIT`, `None` for a separator) and its length (rare, out of the scan's way).
#[cold]
#[inline(never)]
fn non_ascii_class(text: &str) -> Option<(u8, usize)> {
    // U+2000 to U+203F (dashes, curly quotes, ellipsis: most non-ASCII characters of
    // English text) are punctuation and spaces, told by their first two bytes rather
    // than by Unicode's tables.
    if text.as_bytes().starts_with(&[0xe2, 0x80]) {
        return None;
    }
    let c = text.chars().next().expect("a character starts here");
    if !c.is_alphanumeric() {
        return None;
    }
    Some((if c.is_alphabetic() { OTHER_LETTER } else { OTHER_DIGIT }, c.len_utf8()))
}

// Character classes for words, as bits so that a word's classes are their union.
const SEPARATOR: u8 = 0;
const DIGIT: u8 = 1;
const LOWER: u8 = 2;
const UPPER: u8 = 4;
/// A non-ASCII letter (of any case) or other alphanumeric character.
const OTHER_LETTER: u8 = 8;
const OTHER_DIGIT: u8 = 16;

/// A byte of a character beyond ASCII (in `BYTE_CLASS` only: the character is decoded).
const NON_ASCII: u8 = 32;

/// What each byte is to words (bytes of a character beyond ASCII: `NON_ASCII`).
const BYTE_CLASS: [u8; 256] = {
    let mut table = [SEPARATOR; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'0'..=b'9' => DIGIT,
            b'a'..=b'z' => LOWER,
            b'A'..=b'Z' => UPPER,
            0x80.. => NON_ASCII,
            _ => SEPARATOR,
        };
        b += 1;
    }
    table
};

/// Words a thread's lexicon holds per language before it starts afresh (few in tests, so
/// that they start afresh often).
///
/// 180,000 keeps a long-running thread's table at 2^18 slots (8 MB): it doubles at three
/// quarters full, 196,608 words, which only a document adding 16,000 new words at the
/// end of a full lexicon reaches.
const LEXICON_WORDS: usize = if cfg!(test) { 50 } else { 180_000 };

/// Slots of a new lexicon table (it doubles when three quarters full; small in tests, so
/// that it grows in the middle of a document).
const LEXICON_SLOTS: usize = if cfg!(test) { 16 } else { 4096 };

thread_local! {
    static LEXICONS: std::cell::RefCell<FxHashMap<Option<&'static str>, Lexicon>> = std::cell::RefCell::default();
}

/// A thread's words of one language (see `with_words`), and their counts in the current
/// document.
///
/// Most words a document holds are seen before, so the lookup is the cost: a word of up
/// to 15 bytes is its own key (`short_key`), and its slot in an open-addressing table
/// holds what counting an occurrence needs (its term, or stop word, and its count), so
/// that a lookup reads one cache line. The table of a long-running thread is several
/// megabytes, and a general hash map with the entry elsewhere read two or three. Each
/// distinct word then adds its count to its term once (`gather_terms`): no sort groups
/// the forms of a stem.
struct Lexicon {
    stemmer: Option<Stemmer>,
    stop: Option<&'static FxHashSet<&'static str>>,
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: a key's hash shifted right by this is its slot.
    slot_shift: u32,
    /// Words in `slots`.
    n_short: usize,
    /// Words longer than 15 bytes, by text (rare: a map and a vector will do).
    long_index: FxHashMap<Box<str>, u32>,
    long: Vec<LongWord>,
    /// The current document's number: a word's `count` is this document's when its
    /// `document` is this.
    document: u32,
    /// The current document's words but stop words, in order of first occurrence: a slot
    /// index, or `LONG | i` for `long[i]`.
    touched: Vec<u32>,
    /// Terms (a word's stem, or the word), each word's by index, and the current
    /// document's (`gather_terms`).
    terms: Vec<TermEntry>,
    term_index: FxHashMap<u64, u32>,
    touched_terms: Vec<u32>,
    /// Occurrences of the current document's terms (`gather_terms`).
    n_terms: u64,
    /// The current document's terms and their scores (`score_bits`), for
    /// `best_term_refs` (kept for the buffer).
    scores: Vec<(u64, u32)>,
    /// A word lower-cased, for `count_other` (kept for the buffer).
    lower: String,
}

/// A term: its hash, and its count and most frequent form in the current document when
/// `document` is the current one.
#[derive(Clone, Copy)]
struct TermEntry {
    hash: u64,
    count: u64,
    document: u32,
    /// The form (in `touched`'s encoding) and its count.
    surface: u32,
    surface_count: u64,
    /// The document whose `term_hashes` listed this term last.
    listed: u32,
    /// The idf in the `DocFreqIndex` whose `id` is `idf_of` (none when 0).
    idf_of: u64,
    idf: f64,
}

const LONG: u32 = 1 << 31;

/// A word of up to 15 bytes: `key` is `short_key`'s (all zero in an empty slot; a word's
/// key has its length in byte 15). `term` indexes `Lexicon::terms`, or is `STOP` for a
/// stop word.
#[derive(Clone, Copy, Default)]
#[repr(align(32))]
struct Slot {
    key: [u8; 16],
    term: u32,
    document: u32,
    count: u64,
}

impl Slot {
    /// One more occurrence of this word, in slot `at`, in `document` (the first: listed in
    /// `touched` unless a stop word).
    ///
    /// Without branches: whether an occurrence is the word's first in the document is
    /// no pattern a branch predictor learns (about one word in three is), so the count
    /// is chosen and the slot always pushed, then dropped again unless it is listed.
    #[inline(always)]
    fn count_in(&mut self, document: u32, at: usize, touched: &mut Vec<u32>) {
        let first = self.document != document;
        self.count = if first { 1 } else { self.count + 1 };
        self.document = document;
        touched.push(at as u32);
        let listed = first & (self.term != STOP);
        touched.truncate(touched.len() - usize::from(!listed));
    }
}

struct LongWord {
    word: Box<str>,
    term: u32,
    document: u32,
    count: u64,
}

/// The `term` of a stop word.
const STOP: u32 = u32::MAX;

/// The `short_key` of the lower-cased word, from that of a word of ASCII letters and
/// digits: bit 5 set in each letter (bit 6 set), which the digits, the padding and the
/// length (at most 15) have clear.
fn ascii_lowercase_key(key: [u8; 16]) -> [u8; 16] {
    let key = u128::from_le_bytes(key);
    (key | (key >> 1) & (u128::MAX / 255 * 0x20)).to_le_bytes()
}

/// Each byte's bit 6, set in ASCII letters (in a `short_key` of a word of ASCII letters
/// and digits: set only if it holds a letter).
const LETTER_BITS: u128 = u128::MAX / 255 * 0x40;

/// How many of the bytes of `chunk` (in little-endian order) are ASCII letters and digits
/// before the first that is not (8 if all are), and the chunk with bit 5 set in every
/// byte: in those first bytes, an ASCII letter lower-cased, a digit as it is.
#[inline(always)]
fn ascii_alphanumeric_prefix(chunk: u64) -> (usize, u64) {
    // Byte-wise comparisons by addition into bit 7. No carry leaves an ASCII byte; a byte
    // beyond ASCII (bit 7 set: not alphanumeric) may carry into the bytes after it, which
    // are past the prefix.
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let folded = chunk | (ONES * 0x20);
    let letter =
        folded.wrapping_add(ONES * (0x80 - u64::from(b'a'))) & !folded.wrapping_add(ONES * (0x7f - u64::from(b'z')));
    let digit =
        chunk.wrapping_add(ONES * (0x80 - u64::from(b'0'))) & !chunk.wrapping_add(ONES * (0x7f - u64::from(b'9')));
    let alphanumeric = (letter | digit) & !chunk & HIGH;
    ((!alphanumeric & HIGH).trailing_zeros() as usize / 8, folded)
}

/// `crate::word_key` of a word of `len` ASCII letters and digits, the first bytes of
/// `folded` (`ascii_alphanumeric_prefix`'s, whose bytes have bit 5 set as the key's do):
/// for two to five bytes, those bytes and the length in the top byte; otherwise 0.
#[inline(always)]
fn ascii_word_key(folded: u64, len: usize) -> u64 {
    if (2..=5).contains(&len) { folded & KEY_MASKS[len] as u64 | (len as u64) << 56 } else { 0 }
}

/// `short_key(&bytes[start..start + len])` for `len` at most 15, from one load of 16
/// bytes when the text holds them.
#[inline(always)]
fn short_key_at(bytes: &[u8], start: usize, len: usize) -> [u8; 16] {
    match bytes.get(start..start + 16) {
        Some(b) => {
            let b = u128::from_le_bytes(b.try_into().expect("sixteen bytes"));
            (b & KEY_MASKS[len] | (len as u128) << 120).to_le_bytes()
        }
        None => short_key_near_the_end(&bytes[start..start + len]),
    }
}

/// The bits of a word of each length up to 15 in its `short_key` (a shift of a `u128` by
/// a variable amount costs branches).
const KEY_MASKS: [u128; 16] = {
    let mut masks = [0; 16];
    let mut len = 1;
    while len < 16 {
        masks[len] = (1 << (8 * len)) - 1;
        len += 1;
    }
    masks
};

#[cold]
fn short_key_near_the_end(word: &[u8]) -> [u8; 16] {
    let word = std::str::from_utf8(word).expect("a word of ASCII bytes");
    short_key(word).expect("at most 15 bytes")
}

/// A word of up to 15 bytes as one key: its bytes, then its length in the last byte (so
/// that "a" and "a\0" differ).
fn short_key(word: &str) -> Option<[u8; 16]> {
    let b = word.as_bytes();
    let n = b.len();
    // The bytes as a little-endian integer, from two overlapping loads (a copy of a
    // variable length is a call to `memcpy`).
    let u16_at = |at: usize| u128::from(u16::from_le_bytes([b[at], b[at + 1]]));
    let u32_at = |at: usize| u128::from(u32::from_le_bytes(b[at..at + 4].try_into().expect("four bytes")));
    let u64_at = |at: usize| u128::from(u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes")));
    let bytes = match n {
        0 => 0,
        1 => u128::from(b[0]),
        2..=3 => u16_at(0) | u16_at(n - 2) << (8 * (n - 2)),
        4..=7 => u32_at(0) | u32_at(n - 4) << (8 * (n - 4)),
        8..=15 => u64_at(0) | u64_at(n - 8) << (8 * (n - 8)),
        _ => return None,
    };
    Some((bytes | (n as u128) << 120).to_le_bytes())
}

impl Lexicon {
    fn new(lang: Option<(Algorithm, &'static str)>) -> Lexicon {
        Lexicon {
            stemmer: lang.map(|(algorithm, _)| Stemmer::create(algorithm)),
            stop: lang.map(|(_, code)| stop_set(code)),
            slots: vec![Slot::default(); LEXICON_SLOTS],
            slot_shift: 64 - LEXICON_SLOTS.trailing_zeros(),
            n_short: 0,
            long_index: FxHashMap::default(),
            long: Vec::new(),
            document: 0,
            touched: Vec::new(),
            terms: Vec::new(),
            term_index: FxHashMap::default(),
            touched_terms: Vec::new(),
            n_terms: 0,
            scores: Vec::new(),
            lower: String::new(),
        }
    }

    fn start_document(&mut self) {
        self.touched.clear();
        if self.n_short + self.long.len() > LEXICON_WORDS || self.document == u32::MAX {
            self.slots = vec![Slot::default(); LEXICON_SLOTS];
            self.slot_shift = 64 - LEXICON_SLOTS.trailing_zeros();
            self.n_short = 0;
            self.long_index.clear();
            self.long.clear();
            self.terms.clear();
            self.term_index.clear();
            self.document = 0;
        }
        self.document += 1;
    }

    /// Counts the words of `text` (see `with_words`) in the current document.
    fn count_words(&mut self, text: &str, sample: Option<&mut crate::EnglishSample>) {
        // The words the sample counts, then the rest, by a scan that has no sample to
        // look after.
        let from = match sample {
            Some(sample) => self.scan::<true>(text, 0, sample),
            None => 0,
        };
        self.scan::<false>(text, from, &mut crate::EnglishSample::default());
    }

    /// Counts the words of `text` from byte `i` (the start of a word or of the separators
    /// before one) in the current document; with `SAMPLE`, counts them in `sample` too,
    /// and stops when it is full. Returns where it stopped.
    fn scan<const SAMPLE: bool>(&mut self, text: &str, mut i: usize, sample: &mut crate::EnglishSample) -> usize {
        // Words are runs of alphanumeric characters with at least one letter, found in one
        // pass over the bytes (ASCII by table, other characters decoded).
        let bytes = text.as_bytes();
        let n = bytes.len();
        loop {
            if SAMPLE && sample.is_full() {
                return i;
            }
            // Most words: ASCII letters and digits ended by an ASCII separator, all within
            // the next 16 bytes, told from one load.
            if let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<16>) {
                if BYTE_CLASS[usize::from(chunk[0])] == SEPARATOR {
                    i += 1;
                    continue;
                }
                let start = i;
                // The second half only for a word of 8 bytes or more (few are).
                let half = |at: usize| u64::from_le_bytes(chunk[at..at + 8].try_into().expect("eight bytes"));
                let (mut len, low) = ascii_alphanumeric_prefix(half(0));
                let mut high = 0;
                if len == 8 {
                    let more;
                    (more, high) = ascii_alphanumeric_prefix(half(8));
                    len += more;
                }
                if len < 16 && chunk[len] < 0x80 {
                    if SAMPLE {
                        sample.add(ascii_word_key(low, len), true);
                    }
                    // The word's bytes, lower-cased.
                    let key = (u128::from(high) << 64 | u128::from(low)) & KEY_MASKS[len] | (len as u128) << 120;
                    if key & LETTER_BITS != 0 {
                        self.count_short(key.to_le_bytes());
                    }
                    // Past the separator.
                    i = start + len + 1;
                    continue;
                }
            } else {
                // The last 15 bytes or fewer.
                while i < n && BYTE_CLASS[usize::from(bytes[i])] == SEPARATOR {
                    i += 1;
                }
                if i == n {
                    return i;
                }
            }
            let start = i;
            // A run of word characters, with the classes it holds.
            let mut classes = 0;
            while i < n {
                let class = BYTE_CLASS[usize::from(bytes[i])];
                if class & NON_ASCII == 0 {
                    if class == SEPARATOR {
                        break;
                    }
                    classes |= class;
                    i += 1;
                } else {
                    let Some((class, len)) = non_ascii_class(&text[i..]) else { break };
                    classes |= class;
                    i += len;
                }
            }
            // (A character that is neither a separator nor part of a word ends an empty
            // run: not a word, for the sample as for `detect_language`'s.)
            if SAMPLE && i > start {
                sample.add(crate::word_key(&bytes[start..i]), classes & (OTHER_LETTER | OTHER_DIGIT) == 0);
            }
            if classes & (LOWER | UPPER | OTHER_LETTER) != 0 {
                if classes & (OTHER_LETTER | OTHER_DIGIT) == 0 && i - start <= 15 {
                    // Short ASCII: its key, lower-cased.
                    let key = short_key_at(bytes, start, i - start);
                    self.count_short(if classes & UPPER == 0 { key } else { ascii_lowercase_key(key) });
                } else {
                    self.count_other(&text[start..i]);
                }
            }
            // Past the separator that ended the run (or the end).
            if i < n {
                i += if BYTE_CLASS[usize::from(bytes[i])] == SEPARATOR {
                    1
                } else {
                    text[i..].chars().next().map_or(1, char::len_utf8)
                };
            }
        }
    }

    /// One more occurrence of `word`, lower-cased, in the current document: a word not
    /// both short and ASCII (rare, out of the scan's way).
    #[cold]
    #[inline(never)]
    fn count_other(&mut self, word: &str) {
        let mut lower = std::mem::take(&mut self.lower);
        lower.clear();
        if word.is_ascii() {
            lower.push_str(word);
            lower.make_ascii_lowercase();
        } else {
            lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        self.count(&lower);
        self.lower = lower;
    }

    /// The term of the lower-cased `word` (a new one if need be), or `STOP`.
    fn term_of(&mut self, word: &str) -> u32 {
        if self.stop.is_some_and(|stop| stop.contains(word)) {
            return STOP;
        }
        let hash = match &self.stemmer {
            Some(stemmer) => term_hash(&stemmer.stem(word)),
            None => term_hash(word),
        };
        let terms = &mut self.terms;
        *self.term_index.entry(hash).or_insert_with(|| {
            let term = u32::try_from(terms.len()).ok().filter(|&t| t < STOP).expect("fewer than 2^32 - 1 terms");
            terms.push(TermEntry {
                hash,
                count: 0,
                document: 0,
                surface: 0,
                surface_count: 0,
                listed: 0,
                idf_of: 0,
                idf: 0.0,
            });
            term
        })
    }

    fn slot_of(&self, key: &[u8; 16]) -> usize {
        let lo = u64::from_le_bytes(key[..8].try_into().expect("eight bytes"));
        let hi = u64::from_le_bytes(key[8..].try_into().expect("eight bytes"));
        // Fibonacci hashing of both halves mixed: the top bits of the product.
        let mixed = (lo ^ hi.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed >> self.slot_shift) as usize
    }

    /// One more occurrence of the lower-cased `word` in the current document.
    fn count(&mut self, word: &str) {
        match short_key(word) {
            Some(key) => self.count_short(key),
            None => self.count_long(word),
        }
    }

    /// One more occurrence of the lower-cased word whose `short_key` is `key`.
    #[inline(always)]
    fn count_short(&mut self, key: [u8; 16]) {
        let mask = self.slots.len() - 1;
        let mut at = self.slot_of(&key);
        loop {
            let slot = &mut self.slots[at];
            if slot.key == key {
                break slot.count_in(self.document, at, &mut self.touched);
            }
            if slot.key[15] == 0 {
                let at = self.insert(at, key);
                break self.slots[at].count_in(self.document, at, &mut self.touched);
            }
            at = (at + 1) & mask;
        }
    }

    /// Puts a new word (its `short_key`) in the empty slot `at`; returns where it is (the
    /// table may have grown).
    #[cold]
    #[inline(never)]
    fn insert(&mut self, at: usize, key: [u8; 16]) -> usize {
        let word = std::str::from_utf8(&key[..usize::from(key[15])]).expect("a key holds a word's bytes");
        let term = self.term_of(word);
        self.slots[at] = Slot { key, term, document: 0, count: 0 };
        self.n_short += 1;
        if self.n_short * 4 > self.slots.len() * 3 { self.grow(at) } else { at }
    }

    fn count_long(&mut self, word: &str) {
        let i = match self.long_index.get(word) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(self.long.len()).ok().filter(|&i| i < LONG).expect("fewer than 2^31 long words");
                let term = self.term_of(word);
                self.long.push(LongWord { word: word.into(), term, document: 0, count: 0 });
                self.long_index.insert(word.into(), i);
                i
            }
        };
        let entry = &mut self.long[i as usize];
        if entry.document != self.document {
            entry.document = self.document;
            entry.count = 0;
            if entry.term != STOP {
                self.touched.push(LONG | i);
            }
        }
        entry.count += 1;
    }

    /// Doubles the table; returns where slot `at` went (and moves the current document's
    /// slots in `touched` along).
    fn grow(&mut self, at: usize) -> usize {
        let n_slots = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); n_slots]);
        self.slot_shift -= 1;
        let mask = self.slots.len() - 1;
        let mut moved = vec![0u32; old.len()];
        for (i, slot) in old.iter().enumerate() {
            if slot.key[15] == 0 {
                continue;
            }
            let mut to = self.slot_of(&slot.key);
            while self.slots[to].key[15] != 0 {
                to = (to + 1) & mask;
            }
            self.slots[to] = *slot;
            moved[i] = to as u32;
        }
        for t in &mut self.touched {
            if *t & LONG == 0 {
                *t = moved[*t as usize];
            }
        }
        moved[at] as usize
    }

    /// Sums the current document's words into their terms (`touched_terms`), each with
    /// its most frequent form (on a tie, the first in byte order), and their total count
    /// (`n_terms`); with `doc_freq`, each term's idf there (remembered by the term for the
    /// next document against the same index, as `term_refs` remembers it).
    fn gather_terms(&mut self, doc_freq: Option<&DocFreqIndex>) {
        // The document's terms and their total count in locals, not in `self`, which
        // the loop's stores could otherwise change.
        let mut touched_terms = std::mem::take(&mut self.touched_terms);
        touched_terms.clear();
        let mut n_terms = 0;
        let document = self.document;
        // The index whose idf a term holds when it is remembered (`DocFreqIndex::id`; 0,
        // none, never matches).
        let memo = doc_freq.map_or(0, |doc_freq| doc_freq.id);
        for i in 0..self.touched.len() {
            let t = self.touched[i];
            let (term, count) = if t & LONG == 0 {
                let slot = &self.slots[t as usize];
                (slot.term, slot.count)
            } else {
                let entry = &self.long[(t & !LONG) as usize];
                (entry.term, entry.count)
            };
            n_terms += count;
            let entry = &mut self.terms[term as usize];
            if entry.document != document {
                (entry.document, entry.count, entry.surface, entry.surface_count) = (document, count, t, count);
                if let Some(doc_freq) = doc_freq
                    && (entry.idf_of != memo || memo == 0)
                {
                    (entry.idf_of, entry.idf) = (memo, doc_freq.idf(entry.hash));
                }
                touched_terms.push(term);
                continue;
            }
            entry.count += count;
            let (surface, surface_count) = (entry.surface, entry.surface_count);
            if count > surface_count || count == surface_count && self.bytes(t) < self.bytes(surface) {
                let entry = &mut self.terms[term as usize];
                (entry.surface, entry.surface_count) = (t, count);
            }
        }
        self.touched_terms = touched_terms;
        self.n_terms = n_terms;
    }

    /// The current document's terms (after `gather_terms`), in no particular order, and
    /// their total count; each with its idf in `doc_freq` (0 without), remembered by the
    /// term for the next document against the same index.
    fn term_refs(&mut self, doc_freq: Option<&DocFreqIndex>) -> (Vec<TermRef<'_>>, u64) {
        if let Some(doc_freq) = doc_freq {
            for &term in &self.touched_terms {
                let entry = &mut self.terms[term as usize];
                if entry.idf_of != doc_freq.id || doc_freq.id == 0 {
                    (entry.idf_of, entry.idf) = (doc_freq.id, doc_freq.idf(entry.hash));
                }
            }
        }
        let mut n_terms = 0;
        let terms = self
            .touched_terms
            .iter()
            .map(|&term| {
                let entry = &self.terms[term as usize];
                n_terms += entry.count;
                let idf = if doc_freq.is_some() { entry.idf } else { 0.0 };
                TermRef { hash: entry.hash, count: entry.count, surface: self.bytes(entry.surface), idf }
            })
            .collect();
        (terms, n_terms)
    }

    /// The current document's terms (after `gather_terms(Some(doc_freq))`) that can be
    /// among its best `m + 1` against `doc_freq` (in the order of `keywords`), in no
    /// particular order; their total count (of all terms); and the highest count among the
    /// others (0 when there is none).
    ///
    /// Only the terms that score at least the `m + 1`-th highest score can be among the
    /// best `m + 1`: the others are set aside by their scores alone (cheap to order, where
    /// ties need the surface forms), before their surface forms are looked up.
    fn best_term_refs(&mut self, m: usize) -> (Vec<TermRef<'_>>, u64, u64) {
        let n_terms = self.n_terms;
        let terms = &self.terms;
        let scored = &mut self.scores;
        scored.clear();
        scored.extend(self.touched_terms.iter().map(|&term| {
            let entry = &terms[term as usize];
            (score_bits(score(entry.count, n_terms, entry.idf)), term)
        }));
        let mut rest_count = 0;
        if scored.len() > m {
            // The `m + 1` highest scores first; the rest score at most the last of them,
            // `cut`, and go with the others unless they tie with it.
            let cut = scored.select_nth_unstable_by_key(m, |&(score, _)| std::cmp::Reverse(score)).1.0;
            let mut kept = m + 1;
            for i in m + 1..scored.len() {
                let (score, term) = scored[i];
                if score == cut {
                    scored.swap(kept, i);
                    kept += 1;
                } else {
                    rest_count = rest_count.max(terms[term as usize].count);
                }
            }
            scored.truncate(kept);
        }
        let refs = self
            .scores
            .iter()
            .map(|&(_, term)| {
                let entry = &terms[term as usize];
                TermRef { hash: entry.hash, count: entry.count, surface: self.bytes(entry.surface), idf: entry.idf }
            })
            .collect();
        (refs, n_terms, rest_count)
    }

    /// The current document's distinct term hashes, in no particular order: what
    /// `gather_terms` would gather, without counts and surface forms.
    fn term_hashes(&mut self) -> Vec<u64> {
        let document = self.document;
        let mut hashes = Vec::with_capacity(self.touched.len());
        for &t in &self.touched {
            let term = if t & LONG == 0 { self.slots[t as usize].term } else { self.long[(t & !LONG) as usize].term };
            let entry = &mut self.terms[term as usize];
            if entry.listed != document {
                entry.listed = document;
                hashes.push(entry.hash);
            }
        }
        hashes
    }

    /// The bytes of a word of `touched` (its text's, unchecked: they order as the text
    /// does).
    fn bytes(&self, t: u32) -> &[u8] {
        if t & LONG == 0 {
            let key = &self.slots[t as usize].key;
            &key[..usize::from(key[15])]
        } else {
            self.long[(t & !LONG) as usize].word.as_bytes()
        }
    }
}

/// The `k` terms of `doc` with the highest TF-IDF against `doc_freq`, highest first; ties
/// go to the smaller surface form, then the smaller hash.
///
/// `tf = count / doc.n_terms`, `idf = ln((1 + n_docs) / (1 + doc_count)) + 1` (the
/// smoothed form: never zero or negative, and defined for a term the corpus has not seen).
pub fn keywords(doc: &DocTerms, doc_freq: &DocFreqIndex, k: usize) -> Vec<Keyword> {
    let terms: Vec<TermRef<'_>> = doc
        .terms
        .iter()
        .map(|t| TermRef { hash: t.hash, count: t.count, surface: t.surface.as_bytes(), idf: doc_freq.idf(t.hash) })
        .collect();
    top_terms(&terms, doc.n_terms, k)
}

/// A term's TF-IDF: `count / n_terms × idf` (the expression every score is made of, so
/// that scores computed apart are the same bits).
fn score(count: u64, n_terms: u64, idf: f64) -> f64 {
    let tf = count as f64 / n_terms.max(1) as f64;
    tf * idf
}

/// The bits of a score, which order as `total_cmp` orders scores (a score is neither
/// negative nor NaN: the bits of such floats order as their values).
fn score_bits(score: f64) -> u64 {
    debug_assert!(score.is_sign_positive() && !score.is_nan(), "{score}");
    score.to_bits()
}

/// The order of keywords: the higher score first, then the smaller surface form, then the
/// smaller hash.
fn rank(a: (f64, &[u8], u64), b: (f64, &[u8], u64)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)).then_with(|| a.2.cmp(&b.2))
}

fn top_terms(terms: &[TermRef<'_>], n_terms: u64, k: usize) -> Vec<Keyword> {
    let mut scored: Vec<(f64, &TermRef<'_>)> =
        terms.iter().map(|term| (score(term.count, n_terms, term.idf), term)).collect();
    let order = |a: &(f64, &TermRef<'_>), b: &(f64, &TermRef<'_>)| {
        rank((a.0, a.1.surface, a.1.hash), (b.0, b.1.surface, b.1.hash))
    };
    if scored.len() > k && k > 0 {
        scored.select_nth_unstable_by(k - 1, order);
        scored.truncate(k);
    }
    scored.sort_by(order);
    scored
        .into_iter()
        .take(k)
        .map(|(score, term)| Keyword { text: term.surface(), score: crate::round3(score) })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// The first implementation of `doc_terms`, kept to check the faster one against.
    fn doc_terms_reference(text: &str, lang: Option<&str>) -> DocTerms {
        let (stemmer, stop_list) = match lang.and_then(language) {
            Some((algorithm, code)) => (Some(Stemmer::create(algorithm)), stop_words::lookup(code).unwrap_or_default()),
            None => (None, &[][..]),
        };
        let stop: FxHashSet<&str> = stop_list.iter().copied().collect();
        // term text -> (count, surface form -> count)
        let mut terms: FxHashMap<String, (u64, FxHashMap<String, u64>)> = FxHashMap::default();
        let mut n_terms = 0;
        let mut lower = String::new();
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if !word.chars().any(char::is_alphabetic) {
                continue;
            }
            lower.clear();
            if word.is_ascii() {
                lower.push_str(word);
                lower.make_ascii_lowercase();
            } else {
                lower.extend(word.chars().flat_map(char::to_lowercase));
            }
            if stop.contains(lower.as_str()) {
                continue;
            }
            let term: Cow<'_, str> = match &stemmer {
                Some(stemmer) => stemmer.stem(&lower),
                None => Cow::Borrowed(&lower),
            };
            n_terms += 1;
            let entry = match terms.get_mut(term.as_ref()) {
                Some(entry) => entry,
                None => terms.entry(term.into_owned()).or_default(),
            };
            entry.0 += 1;
            match entry.1.get_mut(lower.as_str()) {
                Some(n) => *n += 1,
                None => {
                    entry.1.insert(lower.clone(), 1);
                }
            }
        }
        let mut res: Vec<Term> = terms
            .into_iter()
            .map(|(term, (count, forms))| {
                let surface = forms
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                    .map(|(form, _)| form)
                    .unwrap_or_default();
                Term { hash: term_hash(&term), count, surface }
            })
            .collect();
        res.sort_by(|a, b| a.hash.cmp(&b.hash).then_with(|| a.surface.cmp(&b.surface)));
        DocTerms { terms: res, n_terms }
    }

    #[test]
    fn doc_terms_equals_the_reference() {
        let texts = [
            "The cats sat. Cats! The cat sat on the mat, 42 times.",
            "Die Häuser und das Haus, DIE HÄUSER.",
            "ÉCOLE école Ecole e\u{301}cole 3D d3 ÀÀ",
            "Ünïcödé and ASCII mixed: CAFÉ café Cafe cafe; x1 X1 1x",
            "",
            "123 456",
        ];
        for text in texts {
            for lang in [Some("eng"), Some("deu"), Some("fra"), None, Some("xyz")] {
                assert_eq!(doc_terms(text, lang), doc_terms_reference(text, lang), "{text:?} {lang:?}");
            }
        }
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpus")).expect("corpus/") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("text");
            assert_eq!(doc_terms(&text, Some("eng")), doc_terms_reference(&text, Some("eng")), "{}", path.display());
        }
    }

    /// Texts of words and separators of every kind (ASCII and not, letters, digits, words
    /// up to 20 bytes), from a seeded xorshift.
    fn mixed_texts() -> Vec<String> {
        let pieces = [
            "a",
            "Z",
            "q",
            "7",
            "0",
            "é",
            "Ж",
            "٣",
            "ß",
            "ǅ",
            " ",
            "  ",
            ".",
            ",",
            "\n",
            "-",
            "\u{2014}",
            "\u{201c}",
            "\u{a0}",
            "_",
            "@",
            "[",
            "`",
            "{",
            "/",
            ":",
            "\u{7f}",
            "The",
            "cats",
            "RUNNING",
            "x1",
            "abcdefghijklmno",
            "Elections",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..300)
            .map(|_| {
                let n = next() % 120;
                (0..n).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect()
            })
            .collect()
    }

    #[test]
    fn doc_terms_of_mixed_texts_equal_the_reference() {
        for text in mixed_texts() {
            for lang in [Some("eng"), Some("deu"), None] {
                assert_eq!(doc_terms(&text, lang), doc_terms_reference(&text, lang), "{text:?} {lang:?}");
            }
        }
    }

    #[test]
    fn ascii_alphanumeric_prefixes_are_those_byte_by_byte() {
        let mut chunks = Vec::new();
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut chunk = *b"aZ09zA9y";
                chunk[at] = b;
                chunks.push(chunk);
                let mut chunk = [b; 8];
                chunk[at] = b'k';
                chunks.push(chunk);
            }
        }
        // Random chunks of letters, digits, separators and bytes beyond ASCII (whose
        // additions carry into the next byte).
        let bytes = *b"aZz09Az-. \x7f\x80\xc3\xa9\xe2\xff";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut chunk = [0; 8];
            for b in &mut chunk {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = bytes[(state % bytes.len() as u64) as usize];
            }
            chunks.push(chunk);
        }
        for chunk in chunks {
            let len = chunk.iter().position(|&b| !b.is_ascii_alphanumeric()).unwrap_or(8);
            let (got, folded) = ascii_alphanumeric_prefix(u64::from_le_bytes(chunk));
            assert_eq!(got, len, "{chunk:?}");
            assert_eq!(folded.to_le_bytes()[..len], chunk[..len].to_ascii_lowercase(), "{chunk:?}");
        }
    }

    #[test]
    fn score_bits_order_as_scores() {
        let mut scores =
            vec![0.0, f64::MIN_POSITIVE, 1e-300, 0.1, 0.5, 1.0, 1.0 + f64::EPSILON, 2.0, 1e300, f64::INFINITY];
        scores.extend((1..200).map(|i| score(i % 7 + 1, 50, idf(1000, i * 3))));
        for a in &scores {
            for b in &scores {
                assert_eq!(score_bits(*a).cmp(&score_bits(*b)), a.total_cmp(b), "{a} {b}");
            }
        }
    }

    #[test]
    fn ascii_word_keys_are_word_keys() {
        let text = "aZ09zA9yQq0bXT7mKeAnD";
        for start in 0..text.len() {
            for len in 0..=8.min(text.len() - start) {
                let word = &text[start..start + len];
                let mut chunk = [b'-'; 8];
                chunk[..len].copy_from_slice(word.as_bytes());
                let (_, folded) = ascii_alphanumeric_prefix(u64::from_le_bytes(chunk));
                assert_eq!(ascii_word_key(folded, len), crate::word_key(word.as_bytes()), "{word:?}");
            }
        }
    }

    #[test]
    fn short_keys_at_are_short_keys() {
        let text = "abcdefghijklmnopqrstuvwxyz0123456789";
        for start in 0..text.len() {
            for len in 0..=15.min(text.len() - start) {
                let word = &text[start..start + len];
                assert_eq!(Some(short_key_at(text.as_bytes(), start, len)), short_key(word), "{word:?}");
            }
        }
    }

    #[test]
    fn ascii_lowercase_keys_are_those_of_the_lower_cased_words() {
        for word in ["", "A", "aZ", "Hello", "HELLO42", "x1Y2z3", "ABCDEFGHIJKLMNO", "0123456789", "MixedCase09Zz"] {
            let lower = word.to_ascii_lowercase();
            assert_eq!(short_key(word).map(ascii_lowercase_key), short_key(&lower), "{word:?}");
        }
    }

    #[test]
    fn general_punctuation_is_no_word_character() {
        for c in '\u{2000}'..='\u{203f}' {
            assert!(!c.is_alphanumeric(), "{c:?}");
            assert_eq!(non_ascii_class(&format!("{c}x")), None, "{c:?}");
        }
        for c in ['é', 'Ж', '٣', 'ⁿ', '\u{2070}', '\u{2040}', '\u{2c00}'] {
            let want =
                c.is_alphanumeric().then(|| (if c.is_alphabetic() { OTHER_LETTER } else { OTHER_DIGIT }, c.len_utf8()));
            assert_eq!(non_ascii_class(&format!("{c}x")), want, "{c:?}");
        }
    }

    #[test]
    fn short_keys_are_the_bytes_then_the_length() {
        let text = "abcdefghijklmnopq";
        for n in 0..=text.len() {
            let word = &text[..n];
            let want = (n <= 15).then(|| {
                let mut key = [0u8; 16];
                key[..n].copy_from_slice(word.as_bytes());
                key[15] = n as u8;
                key
            });
            assert_eq!(short_key(word), want, "{word:?}");
        }
    }

    #[test]
    fn language_and_term_hashes_in_one_pass_equal_both_apart() {
        let mut texts: Vec<String> = [
            "",
            "The cats sat on the mat.",
            "Die Häuser und das Haus sind in der Stadt, und die Stadt ist alt und schön.",
            "Le chat est sur le tapis, et le chien est dans la maison avec les enfants.",
        ]
        .iter()
        .map(|t| t.repeat(12))
        .collect();
        // Too short to be plainly English, and English (whatlang's pass reuses the first).
        texts.push("The old lighthouse keeper walked slowly along the rocky shore every evening.".into());
        texts.push("Der alte Leuchtturmwärter ging jeden Abend langsam am felsigen Ufer entlang.".into());
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpus")).expect("corpus/") {
            texts.push(std::fs::read_to_string(entry.expect("entry").path()).expect("text"));
        }
        texts.extend(mixed_texts());
        let configs = [
            crate::FeaturesConfig::default(),
            crate::FeaturesConfig { fast_english: false, ..Default::default() },
            crate::FeaturesConfig { language: false, ..Default::default() },
        ];
        for text in &texts {
            for cfg in &configs {
                let lang = crate::detect_language(text, cfg);
                let hashes = term_hashes(text, lang.as_deref());
                assert_eq!(language_and_term_hashes(text, cfg), (lang, hashes), "{:?}", &text[..text.len().min(40)]);
            }
        }
    }

    /// A document's blocks give what their text, joined by blank lines, gives: in one
    /// block or several (empty ones among them, words of a block at its ends), plainly
    /// English or not.
    #[test]
    fn blocks_give_what_their_joined_text_gives() {
        let mut texts = mixed_texts();
        texts.push("Die Häuser und das Haus sind in der Stadt, und die Stadt ist alt und schön. ".repeat(12));
        texts.push("The cats sat on the mat, and the dog sat on the cats' mat again. ".repeat(40));
        let documents: Vec<Vec<&str>> = (0..texts.len())
            .map(|i| {
                let n = 1 + i % 5;
                (0..n).map(|j| if (i + j) % 7 == 3 { "" } else { texts[(i * 3 + j) % texts.len()].as_str() }).collect()
            })
            .collect();
        let mut df = DocFreq::default();
        for text in &texts {
            df.add_document(&doc_terms(text, Some("eng")));
        }
        let df = DocFreqIndex::new(&df);
        let configs =
            [crate::FeaturesConfig::default(), crate::FeaturesConfig { fast_english: false, ..Default::default() }];
        for blocks in &documents {
            let text = blocks.join("\n\n");
            for cfg in &configs {
                let got = language_and_term_hashes_of_blocks(blocks.iter().copied(), cfg);
                assert_eq!(got, language_and_term_hashes(&text, cfg), "{blocks:?}");
                let lang = got.0.as_deref();
                assert_eq!(
                    incremental::candidates_of_blocks(blocks.iter().copied(), lang, &df, 3, 9),
                    incremental::candidates_of(&text, lang, &df, 3, 9),
                    "{blocks:?}"
                );
            }
        }
    }

    /// The one-pass English sample counts the words `detect_language` counts: quotation
    /// marks and dashes before a word are not words of their own.
    #[test]
    fn the_english_sample_counts_detect_language_s_words() {
        let texts = [
            "“the” “Haus” “of” “Stadt” — “ist” ‘alt’ “der” … “Abend” «ging» ¿jeden? ".repeat(8),
            "The cats sat on the mat. Die Häuser und das Haus, 42 times — «oui».".repeat(3),
        ];
        let mixed = mixed_texts();
        for text in texts.iter().chain(&mixed).map(String::as_str) {
            let mut sample = crate::EnglishSample::default();
            with_words([text], Some("eng"), Some(&mut sample), |_| ());
            let mut expected = crate::EnglishSample::default();
            for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
                expected.add(crate::word_key(word.as_bytes()), word.is_ascii());
            }
            assert_eq!(sample, expected, "{:?}", &text[..text.len().min(40)]);
        }
    }

    #[test]
    fn keywords_of_is_keywords_of_doc_terms() {
        let mut df = DocFreq::default();
        for text in ["cat sat", "cat mat", "dog", "Die Häuser"] {
            df.add_document(&doc_terms(text, Some("eng")));
        }
        let df = DocFreqIndex::new(&df);
        let texts = ["The cats sat. Cats! The cat sat on the mat, 42 times.", "Die Häuser und das Haus", "", "b a c a"];
        for text in texts {
            for (lang, k) in [(Some("eng"), 2), (Some("deu"), 10), (None, 0), (None, 3)] {
                assert_eq!(keywords_of(text, lang, &df, k), keywords(&doc_terms(text, lang), &df, k), "{text:?}");
            }
        }
    }

    #[test]
    fn term_hashes_are_those_of_doc_terms() {
        for text in ["The cats sat. Cats! The cat sat on the mat, 42 times.", "Die Häuser und das Haus", "", "a b a"] {
            for lang in [Some("eng"), Some("deu"), None] {
                let hashes: Vec<u64> = doc_terms(text, lang).terms.iter().map(|t| t.hash).collect();
                let mut got = term_hashes(text, lang);
                got.sort_unstable();
                assert_eq!(got, hashes, "{text:?} {lang:?}");
            }
        }
    }

    /// (surface, count) of the terms, by surface.
    fn terms_of(doc: &DocTerms) -> Vec<(&str, u64)> {
        let mut res: Vec<(&str, u64)> = doc.terms.iter().map(|t| (t.surface.as_str(), t.count)).collect();
        res.sort();
        res
    }

    #[test]
    fn terms_are_stemmed_without_stop_words() {
        // "the", "on" are English stop words. "cats", "Cats", "cat" stem to "cat" (3, whose
        // most frequent lower-cased form is "cats"); "sat" twice; "mat"; "42" has no letter.
        let doc = doc_terms("The cats sat. Cats! The cat sat on the mat, 42 times.", Some("eng"));
        assert_eq!(terms_of(&doc), [("cats", 3), ("mat", 1), ("sat", 2), ("times", 1)]);
        assert_eq!(doc.n_terms, 7);
        // The hash is the stem's: "cats" and "cat" share it.
        let cat = doc.terms.iter().find(|t| t.surface == "cats").expect("cats");
        assert_eq!(cat.hash, term_hash("cat"));
        // Without a language: no stop words, no stemming.
        let doc = doc_terms("The cats sat. Cats!", None);
        assert_eq!(terms_of(&doc), [("cats", 2), ("sat", 1), ("the", 1)]);
        // German: "die" and "und" are stop words; "Häuser" and "Haus" share the stem "haus".
        let doc = doc_terms("Die Häuser und das Haus", Some("deu"));
        // (Snowball's German folds "ä" to "a"); on the tie of forms the smaller, "haus", names it.
        assert_eq!(terms_of(&doc), [("haus", 2)]);
    }

    #[test]
    fn doc_freq_sums_in_any_order() {
        let docs = ["cat sat", "cat mat", "dog"].map(|t| doc_terms(t, Some("eng")));
        let mut all = DocFreq::default();
        for d in &docs {
            all.add_document(d);
        }
        let (mut a, mut b) = (DocFreq::default(), DocFreq::default());
        a.add_document(&docs[0]);
        b.add_document(&docs[2]);
        b.add_document(&docs[1]);
        let sum = |parts: [&DocFreq; 2]| {
            let mut sum = DocFreqSum::default();
            parts.into_iter().for_each(|part| sum.add(part));
            sum.finish()
        };
        let (ab, ba) = (sum([&a, &b]), sum([&b, &a]));
        assert_eq!(ab, all);
        assert_eq!(ba, all);
        assert_eq!(DocFreq::of_documents(&docs), all);
        assert_eq!((all.n_docs, all.doc_count(term_hash("cat")), all.doc_count(term_hash("bird"))), (3, 2, 0));
        // Equal values serialise alike, whatever the merge order.
        assert_eq!(serde_json::to_string(&ab).expect("json"), serde_json::to_string(&ba).expect("json"));
    }

    #[test]
    fn doc_freq_reads_back_as_inserted() {
        let docs = ["cat sat on the mat", "dog", "the cat's hat"].map(|t| doc_terms(t, Some("eng")));
        let doc_freq = DocFreq::of_documents(&docs);
        let json = serde_json::to_string(&doc_freq).expect("json");
        assert_eq!(serde_json::from_str::<DocFreq>(&json).expect("reads"), doc_freq);
        // Entries out of order, and a key twice: the map `insert` would make, the later count kept.
        let read: DocFreq =
            serde_json::from_str(r#"{"n_docs":3,"doc_counts":{"9":1,"2":4,"9":2,"5":3}}"#).expect("reads");
        assert_eq!(read.doc_counts, BTreeMap::from([(2, 4), (5, 3), (9, 2)]));
        assert_eq!(
            serde_json::from_str::<DocFreq>(r#"{"n_docs":0,"doc_counts":{}}"#).expect("reads"),
            DocFreq::default()
        );
    }

    #[test]
    fn top_terms_by_tf_idf() {
        // The document: cat 3, sat 2, mat 1 (6 terms). Corpus of 3 documents: cat in 3,
        // sat in 1, mat in 2.
        // idf = ln(4 / (1 + df)) + 1: cat ln(4/4) + 1 = 1, sat ln(2) + 1 = 1.693147,
        // mat ln(4/3) + 1 = 1.287682.
        // tf-idf: cat 3/6 * 1 = 0.5, sat 2/6 * 1.693147 = 0.564382, mat 1/6 * 1.287682 = 0.214614.
        let doc = doc_terms("cat cat cat sat sat mat", Some("eng"));
        let mut df = DocFreq::default();
        df.add_document(&doc);
        df.add_document(&doc_terms("cat mat", Some("eng")));
        df.add_document(&doc_terms("cat dog", Some("eng")));
        let got = keywords(&doc, &DocFreqIndex::new(&df), 2);
        assert_eq!(got, [Keyword { text: "sat".into(), score: 0.564 }, Keyword { text: "cat".into(), score: 0.5 }]);
        // Ties go to the smaller surface form: "apple" and "pear" once each, unseen.
        let doc = doc_terms("pear apple", Some("eng"));
        let got: Vec<String> = keywords(&doc, &DocFreqIndex::default(), 5).into_iter().map(|k| k.text).collect();
        assert_eq!(got, ["apple", "pear"]);
        assert!(keywords(&doc_terms("", Some("eng")), &DocFreqIndex::new(&df), 3).is_empty());
    }
}
