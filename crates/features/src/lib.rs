//! Per-document signals: `DedupedDoc` -> `Features`.
//!
//! Counts and language; Flesch readability; the inputs of the Gopher quality and
//! repetition, C4 and FineWeb filters (as datatrove defines them); quotations and their
//! speakers; years, dates, money and percentages; named entities. `FEATURES.md` documents
//! every field: meaning, range and definition. `keywords` is the per-document half of TF-IDF
//! keywords (terms and mergeable document frequencies); the driver fills
//! `Features::keywords` after its corpus pass.
//!
//! Invariants: pure and deterministic (no clock, no randomness, no global state beyond
//! immutable tables built once), linear in the document's size, never panics. It knows
//! nothing of IO, the cache or other stages. The title is not part of the body's counts;
//! only the blocks are analysed.
//!
//! Three exceptions to "no global state", all per thread and none changing a result:
//! `keywords`' memo of word stems, whatlang's answers for the first language samples
//! (`detect_sample`), and `Scratch`, a set of work buffers (the text, the
//! words, the tokens and their table, the n-gram levels, the entity pass's vectors) that
//! `features` takes at its start and puts back at its end, so that a thread's documents
//! reuse the memory instead of allocating and zeroing it each time. `Scratch` holds
//! capacity only, never a result: every buffer is emptied (or its table's generation
//! moved on) before use, so the output does not depend on what ran before on the thread.
//! Buffers grown past `SCRATCH_KEEP` bytes by a huge document are dropped rather than kept
//! (its token buffers as soon as the Gopher signals are done, so that it never holds its
//! tokens and its words at once).

mod entities;
mod gopher;
mod interner;
pub mod keywords;
mod lexicon;
mod lines;
mod numbers;
mod quotes;
mod readability;
mod text;
mod words;

use std::cell::{Cell, RefCell};

use pith_types::{BlockKind, DedupedDoc, Features, Readability};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Bump whenever the output of `features` changes for some input.
pub const VERSION: u32 = 3;

pub const STAGE: &str = "features";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeaturesConfig {
    /// Whether to detect the language (the most expensive signal). Without it, the
    /// readability scores, which need English, are `None`.
    pub language: bool,
    /// Whether a document whose words are plainly English skips whatlang: of its first
    /// 400 words, at least `MIN_FAST_ENGLISH_WORDS`, 15% or more of them among very common
    /// English function words, and nine in ten ASCII. It is then `eng`, confidence 1, script
    /// Latin. whatlang costs about 0.1 ms per document, more than all other signals of a
    /// short article; on the dev corpus the shortcut fires on 95% of documents and never
    /// on a non-English one (the highest share there is 0.3%).
    pub fast_english: bool,
    /// How many TF-IDF keywords a document gets (0: none, and no document frequencies
    /// are counted in the corpus pass).
    pub keywords: usize,
}

impl Default for FeaturesConfig {
    fn default() -> Self {
        FeaturesConfig { language: true, fast_english: true, keywords: 10 }
    }
}

/// The language `features` would most likely give `text` (ISO 639-3), for the corpus
/// pass, which counts document frequencies of stemmed terms before features run.
pub fn detect_language(text: &str, cfg: &FeaturesConfig) -> Option<String> {
    if !cfg.language {
        return None;
    }
    let words = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty());
    if cfg.fast_english && plainly_english(words) {
        return Some("eng".to_owned());
    }
    detect_sample(language_sample(text)).map(|found| found.lang.code().to_owned())
}

/// What whatlang finds in a language sample.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Detected {
    lang: whatlang::Lang,
    script: whatlang::Script,
    confidence: f64,
}

/// The samples a thread remembers whatlang's answer for (see `detect_sample`): a
/// sample holds at most `LANGUAGE_SAMPLE` bytes, so the memo at most about 1 MB.
const DETECTED_KEEP: usize = 1024;

thread_local! {
    /// whatlang's answers for the first samples this thread met.
    static DETECTED: RefCell<FxHashMap<Box<str>, Option<Detected>>> = RefCell::new(FxHashMap::default());
}

/// `whatlang::detect(sample)`, remembered: the corpus pass detects the language of the
/// documents that are not plainly English (`detect_language`), and `features` does it again
/// on the same text but for the headings dedup removed, most often the same sample. whatlang
/// costs about 0.9 M instructions a call (it scores the text's trigrams against every
/// language of its script), the memo a hash of the sample. A memo only, per thread: the
/// answer is whatlang's either way.
///
/// A full memo takes no more samples, rather than dropping the ones it has: the corpus
/// pass meets all the documents before `features` meets them again in the same order, so
/// the first ones are those it keeps finding (a memo emptied when full would hold the
/// corpus pass's last ones when `features` starts, and none of its first).
fn detect_sample(sample: &str) -> Option<Detected> {
    if let Some(found) = DETECTED.with_borrow(|memo| memo.get(sample).copied()) {
        return found;
    }
    let found = whatlang::detect(sample).map(|info| Detected {
        lang: info.lang(),
        script: info.script(),
        confidence: info.confidence(),
    });
    DETECTED.with_borrow_mut(|memo| {
        if memo.len() < DETECTED_KEEP {
            memo.insert(sample.into(), found);
        }
    });
    found
}

/// The English function words Gopher's quality filter counts.
const GOPHER_STOP_WORDS: [&[u8]; 8] = [b"the", b"be", b"to", b"of", b"and", b"that", b"have", b"with"];

/// A minimal perfect hash of the stop words' `short_word_key`s into eight slots: the top
/// three bits of the key times this odd constant (found by trying).
const GOPHER_STOP_MUL: u64 = 0x9e37_79ba_294b_87b3;

static GOPHER_STOP_TABLE: [u64; 8] = {
    let mut res = [0u64; 8];
    let mut i = 0;
    while i < GOPHER_STOP_WORDS.len() {
        let key = short_word_key(GOPHER_STOP_WORDS[i]);
        let slot = (key.wrapping_mul(GOPHER_STOP_MUL) >> 61) as usize;
        assert!(res[slot] == 0, "GOPHER_STOP_MUL must hash the stop words to distinct slots");
        res[slot] = key;
        i += 1;
    }
    res
};

/// Whether `key` is the `short_word_key` of one of Gopher's stop words (exactly, in lower
/// case): one multiplication, one load, one compare.
#[inline]
pub(crate) fn is_gopher_stop_key(key: u64) -> bool {
    GOPHER_STOP_TABLE[(key.wrapping_mul(GOPHER_STOP_MUL) >> 61) as usize] == key
}

/// One of the English function words Gopher's quality filter counts (the, be, to, of,
/// and, that, have, with), in any case. (The word scan asks `is_gopher_stop_key` of the
/// word's `word_key`, which it shares with `EnglishSample`.)
#[cfg(test)]
fn is_gopher_stop_word_bytes(word: &[u8]) -> bool {
    if !(2..=4).contains(&word.len()) {
        return false;
    }
    // Bit 5 set in every byte: see `common_english_key`.
    is_gopher_stop_key(common_english_key(word))
}

/// Work buffers reused from one document to the next on a thread: see the crate's
/// documentation. No result is kept in them between calls.
#[derive(Default)]
struct Scratch {
    /// The document's text: its blocks joined as `DedupedDoc::text` joins them.
    text: String,
    words: Vec<words::Word>,
    tokens: text::Tokens,
    token_table: interner::Interner,
    ngrams: gopher::NgramScratch,
    entities: entities::EntityScratch,
    /// The text lower-cased, for C4's patterns.
    folded: Vec<u8>,
}

/// A thread keeps its scratch buffers up to this many bytes (a 400 KB document's).
const SCRATCH_KEEP: usize = 4 << 20;

impl Scratch {
    fn footprint(&self) -> usize {
        self.text.capacity()
            + self.words.capacity() * std::mem::size_of::<words::Word>()
            + self.tokens.list.capacity() * std::mem::size_of::<text::Token>()
            + self.tokens.counts.capacity() * 4
            + self.token_table.footprint()
            + self.ngrams.footprint()
            + self.entities.footprint()
            + self.folded.capacity()
    }
}

thread_local! {
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

pub fn features(doc: &DedupedDoc, cfg: &FeaturesConfig) -> Features {
    let mut scratch = SCRATCH.with(Cell::take).unwrap_or_default();
    // `DedupedDoc::text`, into the reused buffer.
    let mut text = std::mem::take(&mut scratch.text);
    text.clear();
    text.reserve(doc.blocks.iter().map(|b| b.text.len() + 2).sum());
    for (i, block) in doc.blocks.iter().enumerate() {
        if i > 0 {
            text.push_str("\n\n");
        }
        text.push_str(&block.text);
    }
    let res = features_with(doc, &text, cfg, &mut scratch);
    scratch.text = text;
    if scratch.footprint() <= SCRATCH_KEEP {
        SCRATCH.with(|cell| cell.set(Some(scratch)));
    }
    res
}

/// Documents up to this many bytes are cut into words and tokens by one scan (see
/// `words::scan_into`); a larger one makes its tokens first and drops them before its words
/// are made, so that it never holds both.
const ONE_SCAN_MAX: usize = SCRATCH_KEEP;

/// The Gopher quality and repetition signals and the number of tokens; the tokens' buffers
/// go back to `scratch`.
fn token_signals(
    text: &str,
    n_chars: usize,
    tokens: text::Tokens,
    lines: &[&str],
    line_duplicates: (usize, usize),
    scratch: &mut Scratch,
) -> (pith_types::GopherSignals, pith_types::RepetitionSignals, usize) {
    let gopher = gopher::quality(text, &tokens, lines);
    let repetition = gopher::repetition(text, n_chars, &tokens, lines, line_duplicates, &mut scratch.ngrams);
    let n_tokens = tokens.list.len();
    scratch.tokens = tokens;
    (gopher, repetition, n_tokens)
}

fn features_with(doc: &DedupedDoc, text: &str, cfg: &FeaturesConfig, scratch: &mut Scratch) -> Features {
    debug_assert_eq!(text, doc.text());
    // Characters are the bytes that do not continue a UTF-8 sequence. Counted in runs of
    // 255 bytes into `u8`s, which the compiler turns into wide vector additions.
    let (mut n_chars, mut n_digits) = (0, 0);
    for run in text.as_bytes().chunks(255) {
        let (mut chars, mut digits) = (0u8, 0u8);
        for &b in run {
            chars += u8::from(b & 0xc0 != 0x80);
            digits += u8::from(b.is_ascii_digit());
        }
        n_chars += usize::from(chars);
        n_digits += usize::from(digits);
    }

    let lines = text::lines(text);
    let line_duplicates = text::find_duplicates(&lines);
    let starts = text::block_starts(&doc.blocks);
    let quote_spans = quotes::find(text, &doc.blocks, &starts);
    let quote_ranges: Vec<(usize, usize)> = quote_spans.iter().map(|q| (q.inner_start, q.inner_end)).collect();
    let words = std::mem::take(&mut scratch.words);
    let ((gopher, repetition, n_tokens), (words, stats)) = if text.len() <= ONE_SCAN_MAX {
        // One scan cuts the text into words and tokens.
        let mut interning = text::Interning::new(text, std::mem::take(&mut scratch.tokens), &mut scratch.token_table);
        let scanned = words::scan_into(text, &doc.blocks, &starts, &quote_ranges, words, &mut interning);
        let tokens = interning.finish();
        (token_signals(text, n_chars, tokens, &lines, line_duplicates, scratch), scanned)
    } else {
        // The token-based signals first, so that the tokens are gone before the words are
        // made: a huge document never holds both.
        let tokens = text::tokens_in(text, std::mem::take(&mut scratch.tokens), &mut scratch.token_table);
        let signals = token_signals(text, n_chars, tokens, &lines, line_duplicates, scratch);
        if scratch.footprint() > SCRATCH_KEEP {
            // A huge document's token buffers go now, so that it never holds its tokens and
            // its words at once.
            (scratch.tokens, scratch.token_table, scratch.ngrams) = Default::default();
        }
        (signals, words::scan_into(text, &doc.blocks, &starts, &quote_ranges, words, &mut ()))
    };
    let c4 = lines::c4(text, &lines, &mut scratch.folded);
    let fineweb = lines::fineweb(text, n_chars, &lines, line_duplicates, n_tokens);
    drop(lines);
    let numbers = numbers::numbers(text);

    let n_words = words.len();
    let n_sentences = words::count_sentences(&words);
    let (word_chars, n_stop) = (stats.chars, stats.stop_words);

    let (language, language_confidence, script) = if !cfg.language {
        (None, 0.0, None)
    } else if cfg.fast_english && stats.english_sample.plainly_english() {
        (Some("eng".to_owned()), 1.0, Some(whatlang::Script::Latin.name().to_owned()))
    } else {
        match detect_sample(language_sample(text)) {
            Some(found) => {
                (Some(found.lang.code().to_owned()), round3(found.confidence), Some(found.script.name().to_owned()))
            }
            None => (None, 0.0, None),
        }
    };
    let readability = if language.as_deref() == Some("eng") {
        readability::scores(stats.syllable_words, stats.syllables, n_sentences)
    } else {
        Readability::default()
    };

    let names = entities::analyse_in(text, words, &mut scratch.entities);

    let quotes = quotes::attribute(&names, &quote_spans);
    let mut entities = entities::entities_in(&names, &mut scratch.entities);
    scratch.words = names.recycle(&mut scratch.entities);
    if matches!(language.as_deref(), Some("deu" | "ltz")) {
        // Every German noun is capitalised: only names with a known kind are names.
        entities.retain(|e| e.kind != entities::OTHER);
    }

    let kept_bytes: usize = doc.blocks.iter().map(|b| b.text.len()).sum();
    let removed_bytes: usize = doc.removed.iter().map(|r| r.text.len()).sum();
    let total = kept_bytes + removed_bytes;
    Features {
        chars: n_chars as u64,
        words: n_words as u64,
        sentences: n_sentences as u64,
        paragraphs: doc.blocks.iter().filter(|b| b.kind != BlockKind::Heading).count() as u64,
        headings: doc.blocks.iter().filter(|b| b.kind == BlockKind::Heading).count() as u64,
        mean_word_length: round3(ratio(word_chars, n_words)),
        mean_sentence_words: round3(ratio(n_words, n_sentences)),
        language,
        language_confidence,
        script,
        stopword_ratio: round3(ratio(n_stop, n_words)),
        boilerplate_ratio: round3(ratio(removed_bytes, total)),
        duplicate_cluster: doc.cluster.clone(),
        digit_ratio: round3(ratio(n_digits, n_chars)),
        readability,
        gopher,
        repetition,
        c4,
        fineweb,
        quotes,
        years: numbers.years,
        dates: numbers.dates,
        money: numbers.money,
        percentages: numbers.percentages,
        entities,
        // Set by the driver's corpus pass (see `keywords`).
        keywords: Vec::new(),
    }
}

const MIN_FAST_ENGLISH_WORDS: usize = 50;
const FAST_ENGLISH_SAMPLE_WORDS: usize = 400;

/// The very common English function words `plainly_english` counts, lower-case.
const COMMON_ENGLISH: [&[u8]; 35] = [
    b"the", b"of", b"and", b"to", b"is", b"that", b"for", b"it", b"was", b"with", b"are", b"be", b"by", b"this",
    b"have", b"from", b"not", b"but", b"or", b"were", b"which", b"has", b"they", b"their", b"he", b"she", b"his",
    b"her", b"we", b"you", b"will", b"would", b"been", b"had", b"its",
];

/// The bytes of `b` (two to eight of them) as a little-endian `u64`, from two overlapping
/// loads.
#[inline]
fn load_le(b: &[u8]) -> u64 {
    let n = b.len();
    debug_assert!((2..=8).contains(&n));
    if n >= 4 {
        let head = u64::from(u32::from_le_bytes(b[..4].try_into().expect("four bytes")));
        let tail = u64::from(u32::from_le_bytes(b[n - 4..].try_into().expect("four bytes")));
        head | tail << (8 * (n - 4))
    } else {
        let head = u64::from(u16::from_le_bytes(b[..2].try_into().expect("two bytes")));
        let tail = u64::from(u16::from_le_bytes(b[n - 2..].try_into().expect("two bytes")));
        head | tail << (8 * (n - 2))
    }
}

/// The key of a word of one to seven bytes: its bytes, little-endian, and its length in
/// the top byte.
const fn short_word_key(word: &[u8]) -> u64 {
    let mut res = (word.len() as u64) << 56;
    let mut i = 0;
    while i < word.len() {
        res |= (word[i] as u64) << (8 * i);
        i += 1;
    }
    res
}

/// The key of a word of two to six bytes, which equals `short_word_key` of a lower-case
/// word of letters when it is that word in any case: bit 5 set in every byte lower-cases A to Z, and
/// makes no other byte a lower-case letter (see `is_gopher_stop_word_bytes`).
#[inline]
fn common_english_key(b: &[u8]) -> u64 {
    (load_le(b) | (0x2020_2020_2020 >> (8 * (6 - b.len())))) | (b.len() as u64) << 56
}

/// `common_english_key` of a word of two to five bytes (the longest of `COMMON_ENGLISH`
/// and of Gopher's stop words), otherwise 0, which is no word's key: computed once per word
/// for both lists.
#[inline]
pub(crate) fn word_key(word: &[u8]) -> u64 {
    if (2..=5).contains(&word.len()) { common_english_key(word) } else { 0 }
}

/// A perfect hash of `COMMON_ENGLISH`'s keys into 128 slots: the top seven bits of the
/// key times this odd constant, which (found by trying) sends no two words to one slot.
const COMMON_ENGLISH_MUL: u64 = 0x9e37_79bf_df54_8535;

const fn common_english_slot(key: u64) -> usize {
    (key.wrapping_mul(COMMON_ENGLISH_MUL) >> 57) as usize
}

/// Each slot holds the key of the word hashed there, or 0 (no key is 0).
static COMMON_ENGLISH_TABLE: [u64; 128] = {
    let mut res = [0u64; 128];
    let mut i = 0;
    while i < COMMON_ENGLISH.len() {
        let key = short_word_key(COMMON_ENGLISH[i]);
        let slot = common_english_slot(key);
        assert!(res[slot] == 0, "COMMON_ENGLISH_MUL must hash the words to distinct slots");
        res[slot] = key;
        i += 1;
    }
    res
};

/// What `plainly_english` counts of a document's first `FAST_ENGLISH_SAMPLE_WORDS` words:
/// the word scan counts it on the way.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct EnglishSample {
    pub(crate) words: usize,
    pub(crate) ascii: usize,
    /// Among `COMMON_ENGLISH`, in any case.
    pub(crate) common: usize,
}

impl EnglishSample {
    /// Whether the sample holds `FAST_ENGLISH_SAMPLE_WORDS` words: `add` counts no more.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.words == FAST_ENGLISH_SAMPLE_WORDS
    }

    /// Counts a word, given its `word_key`, if the sample is not full yet.
    #[inline]
    pub(crate) fn add(&mut self, key: u64, ascii: bool) {
        if self.is_full() {
            return;
        }
        self.words += 1;
        self.ascii += usize::from(ascii);
        self.common += usize::from(key != 0 && COMMON_ENGLISH_TABLE[common_english_slot(key)] == key);
    }

    /// See `FeaturesConfig::fast_english`.
    pub(crate) fn plainly_english(&self) -> bool {
        self.words >= MIN_FAST_ENGLISH_WORDS
            && self.common * 100 >= self.words * 15
            && self.ascii * 10 >= self.words * 9
    }
}

/// See `FeaturesConfig::fast_english`.
fn plainly_english<'a>(words: impl Iterator<Item = &'a str>) -> bool {
    let mut sample = EnglishSample::default();
    // The first words tell as well as all of them.
    for word in words.take(FAST_ENGLISH_SAMPLE_WORDS) {
        sample.add(word_key(word.as_bytes()), word.is_ascii());
    }
    sample.plainly_english()
}

/// The language is detected on the first `LANGUAGE_SAMPLE` bytes (cut at a word
/// boundary): whatlang's trigram scores settle long before that, and the detection is the
/// most expensive signal.
const LANGUAGE_SAMPLE: usize = 1024;

fn language_sample(text: &str) -> &str {
    if text.len() <= LANGUAGE_SAMPLE {
        return text;
    }
    let mut end = LANGUAGE_SAMPLE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    // Back to the last white space, unless the text has none (Chinese, Japanese).
    match head.rfind(char::is_whitespace) {
        Some(space) if space > LANGUAGE_SAMPLE / 2 => &head[..space],
        _ => head,
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Three decimals: stable across platforms' float formatting and easy to read.
fn round3(x: f64) -> f64 {
    let res = (x * 1000.0).round() / 1000.0;
    // No NaN, infinity or negative zero in the output.
    if res.is_finite() && res != 0.0 { res } else { 0.0 }
}

/// The next of a fixed xorshift sequence, as an index below `len`: the same picks on
/// every run, for tests that hold a fast path against its reference.
#[cfg(test)]
pub(crate) fn next_index(seed: &mut u64, len: usize) -> usize {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % len as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use pith_types::{Block, Removal, Span};

    fn block(index: u32, kind: BlockKind, text: &str) -> Block {
        Block { index, kind, text: text.into(), span: Span { start: 0, end: 0 } }
    }

    fn doc(blocks: Vec<Block>) -> DedupedDoc {
        DedupedDoc { id: "d".into(), title: None, blocks, removed: Vec::new(), raw_bytes: 0, drop: None, cluster: None }
    }

    #[test]
    fn counts_and_language() {
        let mut d = doc(vec![
            block(0, BlockKind::Heading, "The Heading"),
            block(1, BlockKind::Paragraph, "The cat sat on the mat. It was happy to be there with the dog."),
        ]);
        d.removed.push(Removal {
            stage: "strip".into(),
            kind: "share".into(),
            rule: "".into(),
            block: 2,
            text: "Share this".into(),
        });
        let f = features(&d, &FeaturesConfig::default());
        assert_eq!((f.words, f.sentences, f.paragraphs, f.headings), (17, 3, 1, 1));
        assert_eq!(f.language.as_deref(), Some("eng"));
        // "The", "the", "to", "be", "with", "the", "The": 7 of 17.
        assert_eq!(f.stopword_ratio, 0.412);
        // 10 removed bytes of 10 + 11 + 62.
        assert_eq!(f.boilerplate_ratio, 0.12);
        // 17 words is below readability's 20-word floor.
        assert_eq!(f.readability, Readability::default());
    }

    fn seed_doc() -> DedupedDoc {
        let raw = include_str!("../../../corpus/000_c8cfb4c10c946031.txt");
        let paragraphs: Vec<&str> = raw.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
        // Drop the address, its two lines, the caption and the title and its repetition:
        // "Physical Address", "304 North ... 02124", "Flick International ...", then the
        // title twice.
        assert!(paragraphs[0].starts_with("Physical Address"));
        assert!(paragraphs[2].starts_with("Flick International"));
        assert_eq!(paragraphs[3], paragraphs[4]);
        let title = paragraphs[3].to_owned();
        let blocks = paragraphs[5..]
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // Headings are the short lines without final punctuation.
                let kind = if p.len() < 60 && !p.ends_with('.') { BlockKind::Heading } else { BlockKind::Paragraph };
                block(i as u32, kind, p)
            })
            .collect();
        DedupedDoc { title: Some(title), ..doc(blocks) }
    }

    #[test]
    fn seed_article() {
        let f = features(&seed_doc(), &FeaturesConfig::default());
        assert_eq!(f.language.as_deref(), Some("eng"));
        assert_eq!(f.headings, 9);
        assert!(f.years.contains(&2014) && f.years.contains(&2017), "{:?}", f.years);

        let speaker = |start: &str| {
            let quote = f.quotes.iter().find(|q| q.text.starts_with(start)).unwrap_or_else(|| panic!("{start}"));
            quote.speaker.clone().unwrap_or_default()
        };
        assert!(speaker("we don’t enforce civil immigration detainers filed by ICE.").ends_with("Cox"));
        assert!(speaker("Elections have consequences,").ends_with("Wu"));
        assert!(speaker("The Boston Police Department has pretty defined rules").ends_with("Cox"));
        assert!(speaker("It’s defined here in the state").ends_with("Cox"));
        assert!(speaker("From our perspective").ends_with("Cox"));
        assert!(speaker("We just don’t have the authority").ends_with("Cox"));
        assert!(speaker("We could not be as safe").ends_with("Cox"));
        // Names of shows and laws in quotation marks are not quotations.
        assert!(f.quotes.iter().all(|q| !q.text.starts_with("On the Record") && !q.text.starts_with("Trust Act")));

        let kind_of = |text: &str| {
            f.entities.iter().find(|e| e.text == text).map(|e| &*e.kind).unwrap_or_else(|| panic!("{text}"))
        };
        assert_eq!(kind_of("Michael Cox"), entities::PERSON);
        assert_eq!(kind_of("Michelle Wu"), entities::PERSON);
        assert_eq!(kind_of("ICE"), entities::ORGANISATION);
        assert_eq!(kind_of("Boston Police Department"), entities::ORGANISATION);
        assert_eq!(kind_of("Boston"), entities::PLACE);
        // Sentence-initial words are not entities.
        assert!(f.entities.iter().all(|e| !["Critics", "Despite", "She", "Local"].contains(&e.text.as_str())));

        let r = &f.readability;
        assert!(r.flesch_reading_ease.is_some_and(|x| (0.0..60.0).contains(&x)), "{r:?}");
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let long_word = "x".repeat(5000);
        let many_quotes = "“".repeat(1000) + &"\"".repeat(1001);
        let repeated = "the same line again.\n".repeat(500);
        let odd = [
            "",
            " ",
            "\n\n\n",
            "😀😀😀 🎉",
            "中文文本「引用です」と言った。東京で2019年3月3日",
            "„Zitat hier drin“, sagte Merkel. «Citation ici même», a dit Macron.",
            "\u{feff}\u{200b}\u{0301}é\u{0300}",
            "$ € £ ¥ % # ... … - • \" ' “ ” « » 「 」",
            "$1,2,3.4.5 million 99% 1900 2099 2100 -2014- 20140 0000-00-00 2019-02-29 2020-02-29",
            "March 32, 2019 31 February 2019 May 0, 2000 Mar. 3rd, 1999",
            "“unclosed quote and “another, he said",
            "He said, “",
            "”reversed“ marks, said Cox",
            "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z",
            "U.S.A.B.C.D. Mr. Dr. St. Jr. Inc. vs. e.g. i.e.",
            "’s 's ’ ' & - . , ;",
            "Mayor Mayor Mayor Commissioner",
            "ICE ICE ICE. BREAKING NEWS NOW",
            "\r\n\r\n\r",
            &long_word,
            &many_quotes,
            &repeated,
        ];
        for text in odd {
            for kind in [BlockKind::Paragraph, BlockKind::Heading, BlockKind::ListItem] {
                let d = doc(vec![block(0, kind, text), block(1, BlockKind::Paragraph, text)]);
                let f = features(&d, &FeaturesConfig::default());
                // Round trip through JSON: no NaN or infinity.
                let json = serde_json::to_string(&f).expect("serialises");
                let back: Features = serde_json::from_str(&json).expect("parses");
                assert_eq!(back, f, "{text:?}");
            }
        }
        let f = features(&doc(Vec::new()), &FeaturesConfig::default());
        assert_eq!(f.words, 0);
    }

    #[test]
    fn long_text_without_sentence_ends() {
        // Thousands of attributed quotes in one "sentence", and one huge block: the
        // attribution looks a bounded number of words back, so this stays fast.
        let text = "Mayor Jane Roe said, “we will do this now,” and ".repeat(5000);
        let f = features(&doc(vec![block(0, BlockKind::Paragraph, &text)]), &FeaturesConfig::default());
        assert_eq!(f.quotes.len(), 5000);
        assert!(f.quotes.iter().all(|q| q.speaker.as_deref() == Some("Jane Roe")));
    }

    /// The tokens `features` makes in the word scan are the tokenizer's.
    #[test]
    fn one_scan_tokens_like_tokenizer() {
        let pieces = [
            "word",
            "Word",
            "U.S.",
            "said,",
            "end.",
            "(the",
            "x)",
            "“Hello,”",
            "don’t",
            "it's",
            "e-mail",
            "3.5",
            "$5",
            "#tag",
            "C#",
            "...",
            "a...",
            "—",
            "café",
            "東京",
            "\u{a0}",
            "\u{2003}",
            " ",
            " ",
            " ",
            "  ",
            "\n",
            "\t",
            ",",
            ".",
            "\"",
            "'",
            "x.",
            "Mr.",
            "a-",
            "-a",
            "1,000",
            "AT&T",
            "said.\"",
            "q!?",
            "\u{1}",
            "k\u{b}",
        ];
        let check = |blocks: &[&str]| {
            let d = doc(blocks.iter().enumerate().map(|(i, t)| block(i as u32, BlockKind::Paragraph, t)).collect());
            let text = d.text();
            let starts = text::block_starts(&d.blocks);
            let (mut table_a, mut table_b) = (interner::Interner::default(), interner::Interner::default());
            let want = text::tokens_in(&text, text::Tokens::default(), &mut table_a);
            let mut interning = text::Interning::new(&text, text::Tokens::default(), &mut table_b);
            words::scan_into(&text, &d.blocks, &starts, &[], Vec::new(), &mut interning);
            let got = interning.finish();
            let list = |t: &text::Tokens| t.list.iter().map(|t| (t.id, t.chars)).collect::<Vec<_>>();
            assert_eq!(list(&got), list(&want), "{blocks:?}");
            assert_eq!(got.counts, want.counts, "{blocks:?}");
            let sums = |t: &text::Tokens| (t.n_words, t.word_chars, t.n_alpha, t.n_stop);
            assert_eq!(sums(&got), sums(&want), "{blocks:?}");
        };
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    check(&[&format!("{a}{b}{c}")]);
                    check(&[&format!("{a} {b}"), c]);
                }
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..3000 {
            let mut blocks = Vec::new();
            for _ in 0..3 {
                let mut text = String::new();
                for _ in 0..10 {
                    text.push_str(pieces[crate::next_index(&mut seed, pieces.len())]);
                }
                blocks.push(text);
            }
            let refs: Vec<&str> = blocks.iter().map(String::as_str).collect();
            check(&refs);
        }
        let seed_doc = seed_doc();
        let seed_blocks: Vec<&str> = seed_doc.blocks.iter().map(|b| b.text.as_str()).collect();
        check(&seed_blocks);
    }

    #[test]
    fn deterministic() {
        let d = seed_doc();
        let a = features(&d, &FeaturesConfig::default());
        let b = features(&d, &FeaturesConfig::default());
        assert_eq!(a, b);
    }

    /// The remembered answers are whatlang's, also once the memo is full.
    #[test]
    fn detect_sample_is_whatlang() {
        let whatlang = |sample: &str| {
            whatlang::detect(sample).map(|info| Detected {
                lang: info.lang(),
                script: info.script(),
                confidence: info.confidence(),
            })
        };
        let samples = [
            "",
            "123 456",
            "The cats sat on the mat.",
            "Die Häuser und das Haus sind in der Stadt, und die Stadt ist alt und schön.",
            "Le chat est sur le tapis, et le chien est dans la maison avec les enfants.",
            "中文文本「引用です」と言った。",
            "Привет, как дела? Всё хорошо.",
        ];
        for round in 0..2 {
            for sample in samples {
                assert_eq!(detect_sample(sample), whatlang(sample), "{round} {sample:?}");
            }
        }
        for i in 0..=DETECTED_KEEP {
            detect_sample(&format!("word {i}"));
        }
        assert_eq!(DETECTED.with_borrow(|memo| memo.len()), DETECTED_KEEP);
        let late = "Ein später Satz, den das volle Gedächtnis nicht mehr aufnimmt.";
        assert_eq!(detect_sample(late), whatlang(late));
        for sample in samples {
            assert_eq!(detect_sample(sample), whatlang(sample), "{sample:?}");
        }
    }

    #[test]
    fn config_is_strict() {
        let cfg: FeaturesConfig = serde_json::from_str("{}").expect("defaults");
        assert_eq!(cfg, FeaturesConfig::default());
        assert!(serde_json::from_str::<FeaturesConfig>(r#"{"nope": 1}"#).is_err());
    }

    #[test]
    fn word_lists_any_case() {
        // Each common word in three cases counts; near misses, longer and shorter words
        // and words with non-letters in the same bit positions do not.
        for word in COMMON_ENGLISH {
            let word = std::str::from_utf8(word).expect("ASCII");
            for form in [word.to_owned(), word.to_uppercase(), word[..1].to_uppercase() + &word[1..]] {
                let key = common_english_key(form.as_bytes());
                assert_eq!(COMMON_ENGLISH_TABLE[common_english_slot(key)], key, "{form}");
            }
        }
        for word in ["th", "thee", "@he", "th\u{e9}", "i\u{f4}", "from.", "wer", "them", "hi", "1he", "The!"] {
            let b = word.as_bytes();
            if (2..=5).contains(&b.len()) {
                let key = common_english_key(b);
                assert_ne!(COMMON_ENGLISH_TABLE[common_english_slot(key)], key, "{word}");
            }
        }
        for word in ["the", "THE", "tHe", "be", "To", "OF", "and", "thaT", "HAVE", "With"] {
            assert!(is_gopher_stop_word_bytes(word.as_bytes()), "{word}");
        }
        for word in ["t", "th", "thee", "@nd", "b\u{e9}", "wit", "withs", "the.", "0f"] {
            assert!(!is_gopher_stop_word_bytes(word.as_bytes()), "{word}");
        }
        // Tokens compare exactly.
        for word in GOPHER_STOP_WORDS {
            assert!(is_gopher_stop_key(short_word_key(word)));
        }
        for word in ["The", "THE", "Be", "thee", "a", "withs"] {
            assert!(!is_gopher_stop_key(short_word_key(word.as_bytes())), "{word}");
        }
    }
}
