//! Per-document signals: `DedupedDoc` -> `Features`.
//!
//! Invariants: pure and deterministic (no clock, no randomness, no global state), linear
//! in the document's size, never panics. Every field is documented in the README.

use pith_types::{BlockKind, DedupedDoc, Features};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// Bump whenever the output of `features` changes for some input.
pub const VERSION: u32 = 1;

pub const STAGE: &str = "features";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeaturesConfig {
    /// Whether to detect the language (the most expensive signal).
    pub language: bool,
}

impl Default for FeaturesConfig {
    fn default() -> Self {
        FeaturesConfig { language: true }
    }
}

/// The English function words Gopher's quality filter counts.
const GOPHER_STOP_WORDS: &[&str] = &["the", "be", "to", "of", "and", "that", "have", "with"];

pub fn features(doc: &DedupedDoc, cfg: &FeaturesConfig) -> Features {
    let text = doc.text();
    let words: Vec<&str> = text.unicode_words().collect();
    let n_words = words.len() as u64;
    let n_sentences = text.unicode_sentences().filter(|s| s.chars().any(char::is_alphanumeric)).count() as u64;
    let word_chars: usize = words.iter().map(|w| w.chars().count()).sum();
    let n_stop = words.iter().filter(|w| GOPHER_STOP_WORDS.iter().any(|s| s.eq_ignore_ascii_case(w))).count();

    let (language, language_confidence, script) = if cfg.language {
        match whatlang::detect(&text) {
            Some(info) => {
                (Some(info.lang().code().to_owned()), round3(info.confidence()), Some(info.script().name().to_owned()))
            }
            None => (None, 0.0, None),
        }
    } else {
        (None, 0.0, None)
    };

    let kept_bytes: usize = doc.blocks.iter().map(|b| b.text.len()).sum();
    let removed_bytes: usize = doc.removed.iter().map(|r| r.text.len()).sum();
    let total = kept_bytes + removed_bytes;
    Features {
        chars: text.chars().count() as u64,
        words: n_words,
        sentences: n_sentences,
        paragraphs: doc.blocks.iter().filter(|b| b.kind != BlockKind::Heading).count() as u64,
        headings: doc.blocks.iter().filter(|b| b.kind == BlockKind::Heading).count() as u64,
        mean_word_length: round3(ratio(word_chars, words.len())),
        mean_sentence_words: round3(ratio(words.len(), n_sentences as usize)),
        language,
        language_confidence,
        script,
        stopword_ratio: round3(ratio(n_stop, words.len())),
        boilerplate_ratio: round3(ratio(removed_bytes, total)),
        duplicate_cluster: doc.cluster.clone(),
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Three decimals: stable across platforms' float formatting and easy to read.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use pith_types::{Block, Removal, Span};

    #[test]
    fn counts_and_language() {
        let block =
            |i: u32, kind, text: &str| Block { index: i, kind, text: text.into(), span: Span { start: 0, end: 0 } };
        let doc = DedupedDoc {
            id: "d".into(),
            title: None,
            blocks: vec![
                block(0, BlockKind::Heading, "The Heading"),
                block(1, BlockKind::Paragraph, "The cat sat on the mat. It was happy to be there with the dog."),
            ],
            removed: vec![Removal {
                stage: "strip".into(),
                kind: "share".into(),
                rule: String::new(),
                block: 2,
                text: "Share this".into(),
            }],
            raw_bytes: 0,
            drop: None,
            cluster: None,
        };
        let f = features(&doc, &FeaturesConfig::default());
        assert_eq!((f.words, f.sentences, f.paragraphs, f.headings), (17, 3, 1, 1));
        assert_eq!(f.language.as_deref(), Some("eng"));
        // "The", "the", "to", "be", "with", "the", "The": 7 of 17.
        assert_eq!(f.stopword_ratio, 0.412);
        // 10 removed bytes of 10 + 11 + 62.
        assert_eq!(f.boilerplate_ratio, 0.12);
    }
}
