//! Plain data that flows between the pipeline stages.
//!
//! Every type here is a passive record with public fields: no IO, no logic beyond tiny
//! helpers. Stages are functions over these types (`parse`, `strip`, `dedup`, `features`);
//! the driver moves them around and the `cache` crate stores them.
//!
//! Invariant: these types go through bincode in the cache, so no serde attribute that
//! changes the shape of the encoding (`skip`, `skip_serializing_if`, `flatten`, `tag`,
//! `untagged`) may be used here. Changing a type means bumping the `VERSION` of every
//! stage that stores it.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Where a document came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The input file relative to the input argument it came from (`-` for stdin).
    pub path: String,
    /// 1-based line for JSONL records, `None` for one-document-per-file inputs.
    pub line: Option<u64>,
}

/// A document as read from the input, before any stage ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawDoc {
    pub id: String,
    pub source: Source,
    pub text: String,
    /// The other fields of a JSONL record, as a JSON object text (`None` for plain files).
    pub metadata_json: Option<String>,
    /// Problems met while reading (lossy UTF-8 repair, BOM, ...).
    pub diags: Vec<Diag>,
}

/// A byte range into `RawDoc::text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlockKind {
    Heading,
    Paragraph,
    ListItem,
    Quote,
    /// Looks like an image caption or photo credit; `strip` decides.
    Caption,
}

impl BlockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Heading => "heading",
            BlockKind::Paragraph => "paragraph",
            BlockKind::ListItem => "list_item",
            BlockKind::Quote => "quote",
            BlockKind::Caption => "caption",
        }
    }
}

/// One block of a document: a run of non-blank lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Position of the block in the parsed document; stable through all later stages.
    pub index: u32,
    pub kind: BlockKind,
    /// The block's lines as in the source (trailing white space and `\r` trimmed).
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diag {
    pub message: String,
    pub span: Option<Span>,
}

/// Output of `parse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedDoc {
    pub id: String,
    pub title: Option<String>,
    /// The block the title was taken from, if any (it is not in `blocks`).
    pub title_block: Option<u32>,
    pub blocks: Vec<Block>,
    pub diags: Vec<Diag>,
    /// Bytes of the raw text, for boilerplate shares.
    pub raw_bytes: u64,
}

/// Why a block went: the stage that removed it, a kind users filter on, and the rule
/// that decided, for `pith explain`. Stages borrow their names, kinds and most rules from
/// constants, not one allocation each per removed block (serialised as strings either way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub stage: Cow<'static, str>,
    pub kind: Cow<'static, str>,
    pub rule: Cow<'static, str>,
    pub block: u32,
    pub text: String,
}

/// Output of `strip`: the kept blocks, in order, and the removed ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrippedDoc {
    pub id: String,
    pub title: Option<String>,
    pub blocks: Vec<Block>,
    pub removed: Vec<Removal>,
    pub raw_bytes: u64,
}

/// Output of `dedup`: like `StrippedDoc`, plus the document-level verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupedDoc {
    pub id: String,
    pub title: Option<String>,
    pub blocks: Vec<Block>,
    pub removed: Vec<Removal>,
    pub raw_bytes: u64,
    /// `Some` when the whole document is dropped.
    pub drop: Option<DocDrop>,
    /// The near-duplicate cluster (the id of the kept representative), if any.
    pub cluster: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocDrop {
    /// `exact_duplicate`, `near_duplicate`, `empty`, ...
    pub reason: String,
    pub duplicate_of: Option<String>,
    pub similarity: Option<f64>,
}

/// A per-document failure: the document is accounted for in `failures.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub stage: String,
    pub error: String,
}

/// A stage's per-document result: either the record, or why it could not be made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Slot<T> {
    Ok(T),
    Failed(Failure),
}

impl<T> Slot<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Slot::Ok(v) => Some(v),
            Slot::Failed(_) => None,
        }
    }
}

impl StrippedDoc {
    /// The kept text: blocks joined by a blank line.
    pub fn text(&self) -> String {
        join_blocks(&self.blocks)
    }
}

impl DedupedDoc {
    pub fn text(&self) -> String {
        join_blocks(&self.blocks)
    }
}

pub fn join_blocks(blocks: &[Block]) -> String {
    let len = blocks.iter().map(|b| b.text.len() + 2).sum();
    let mut res = String::with_capacity(len);
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            res.push_str("\n\n");
        }
        res.push_str(&block.text);
    }
    res
}

/// A direct quotation and, where the text attributes it, its speaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub text: String,
    pub speaker: Option<String>,
}

/// Output of `features`: per-document signals. Serialised as the `features` object of
/// `documents.jsonl`; every field is documented in `crates/features/FEATURES.md`.
///
/// Lines, where a signal needs them, are the non-blank lines of `DedupedDoc::text()`.
/// Every float is rounded to three decimals; ranges are in FEATURES.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Features {
    pub chars: u64,
    pub words: u64,
    pub sentences: u64,
    pub paragraphs: u64,
    pub headings: u64,
    pub mean_word_length: f64,
    pub mean_sentence_words: f64,
    pub language: Option<String>,
    pub language_confidence: f64,
    pub script: Option<String>,
    pub stopword_ratio: f64,
    /// Share of the block bytes (title aside) that strip and dedup removed (0..1).
    pub boilerplate_ratio: f64,
    pub duplicate_cluster: Option<String>,
    /// Share of the characters that are decimal digits (0..1).
    pub digit_ratio: f64,
    pub readability: Readability,
    pub gopher: GopherSignals,
    pub repetition: RepetitionSignals,
    pub c4: C4Signals,
    pub fineweb: FineWebSignals,
    /// Direct quotations in document order.
    pub quotes: Vec<Quote>,
    /// Distinct years 1900..=2099 mentioned, ascending.
    pub years: Vec<u32>,
    /// Distinct full dates mentioned, as ISO `YYYY-MM-DD`, ascending.
    pub dates: Vec<String>,
    /// Money amounts in document order.
    pub money: Vec<Money>,
    /// Percentages in document order (`12.5%` is `12.5`).
    pub percentages: Vec<f64>,
    /// Named entities, most mentioned first, then by text.
    pub entities: Vec<Entity>,
    /// The document's top terms by TF-IDF against the corpus's document frequencies,
    /// highest first (set by the driver after the corpus pass; empty when turned off).
    pub keywords: Vec<Keyword>,
}

/// A keyword: a term's most frequent surface form and its TF-IDF score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    pub text: String,
    pub score: f64,
}

/// Flesch scores; `None` unless the document is English with enough words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Readability {
    pub flesch_reading_ease: Option<f64>,
    pub flesch_kincaid_grade: Option<f64>,
}

/// The inputs of Gopher's quality filter (Rae et al. 2021, as in datatrove).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GopherSignals {
    /// Tokens with at least one character that is not punctuation.
    pub words: u64,
    /// All tokens, punctuation included: the denominator of the ratios below.
    pub tokens: u64,
    pub mean_word_length: f64,
    pub hash_ratio: f64,
    pub ellipsis_ratio: f64,
    pub bullet_lines_ratio: f64,
    pub ellipsis_lines_ratio: f64,
    pub alpha_words_ratio: f64,
    pub stop_words: u64,
}

/// The inputs of Gopher's repetition filter (as in datatrove).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RepetitionSignals {
    pub dup_line_frac: f64,
    pub dup_line_char_frac: f64,
    pub dup_para_frac: f64,
    pub dup_para_char_frac: f64,
    pub top_2gram_char_frac: f64,
    pub top_3gram_char_frac: f64,
    pub top_4gram_char_frac: f64,
    pub dup_5gram_char_frac: f64,
    pub dup_6gram_char_frac: f64,
    pub dup_7gram_char_frac: f64,
    pub dup_8gram_char_frac: f64,
    pub dup_9gram_char_frac: f64,
    pub dup_10gram_char_frac: f64,
}

/// The inputs of C4's line and document rules (Raffel et al. 2020, as in datatrove).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct C4Signals {
    pub lines: u64,
    pub lines_no_terminal_punct: u64,
    pub no_terminal_punct_ratio: f64,
    pub lines_few_words: u64,
    pub few_words_ratio: f64,
    pub lines_javascript: u64,
    pub lines_policy: u64,
    /// Lines that pass every C4 line rule.
    pub lines_kept: u64,
    pub has_lorem_ipsum: bool,
    pub has_curly_brace: bool,
    pub has_javascript: bool,
    pub has_policy: bool,
}

/// The inputs of FineWeb's quality filter (Penedo et al. 2024, as in datatrove).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FineWebSignals {
    pub line_punct_ratio: f64,
    pub short_line_ratio: f64,
    pub dup_line_char_ratio: f64,
    pub newline_word_ratio: f64,
}

/// A money amount as written, its currency (ISO 4217 where known) and its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Money {
    pub text: String,
    pub currency: String,
    pub amount: f64,
}

/// A named entity: a capitalised span with a kind (`person`, `organisation`, `place`,
/// `other`) and its number of mentions in the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub text: String,
    /// One of four names: borrowed when made, not one allocation per entity (serialised
    /// as a string either way).
    pub kind: Cow<'static, str>,
    pub count: u64,
}
