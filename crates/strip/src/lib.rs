//! Boilerplate removal: `ParsedDoc` -> `StrippedDoc`.
//!
//! Invariants: strip only removes whole blocks, never rewrites one; kept blocks keep
//! their order; every removed block is recorded with a `kind` users filter on and the
//! `rule` that decided, so `pith explain` can say why. Rules look at one document only
//! (corpus-wide repetition is dedup's job) and never at a site's name, URL or id.

mod address;
mod caption;
mod dfa;
mod furniture;
mod region;

pub(crate) use pith_text::{ascii_bytes_in, ascii_space_bytes, count_high_bits, count_words_upto};
use std::borrow::Cow;

use pith_types::{Block, BlockKind, ParsedDoc, Removal, StrippedDoc};
use serde::{Deserialize, Serialize};

/// Bump whenever the output of `strip` changes for some input.
pub const VERSION: u32 = 21;

pub const STAGE: &str = "strip";

/// Which rule families run. Part of the cache key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StripConfig {
    pub addresses: bool,
    pub captions: bool,
    pub furniture: bool,
    /// Keep only the main text region (the densest run of prose blocks).
    pub main_region: bool,
}

impl Default for StripConfig {
    fn default() -> Self {
        StripConfig { addresses: true, captions: true, furniture: true, main_region: true }
    }
}

/// A verdict on one block: why it goes.
struct Verdict {
    kind: &'static str,
    rule: Cow<'static, str>,
}

pub fn strip(doc: ParsedDoc, cfg: &StripConfig) -> StrippedDoc {
    let mut verdicts: Vec<Option<Verdict>> = doc.blocks.iter().map(|_| None).collect();
    // Address, caption and furniture rules look at short blocks (or lines) only, and the
    // region scorer's teaser test at longer ones: count words once, up to the longest
    // block any looks at.
    let max_words =
        address::MAX_LINE_WORDS.max(caption::MAX_WORDS).max(furniture::MAX_RULE_WORDS).max(region::TEASER_MIN_WORDS);
    // The region scorer's scan of every byte counts them as well.
    let counts: Vec<region::WordCounts> = if cfg.main_region {
        doc.blocks.iter().map(|b| region::count_words(&b.text, max_words + 1)).collect()
    } else {
        Vec::new()
    };
    let n_words: Vec<usize> = if cfg.main_region {
        counts.iter().map(|c| c.spaced).collect()
    } else {
        doc.blocks.iter().map(|b| count_words_upto(&b.text, max_words + 1)).collect()
    };

    if cfg.addresses {
        mark_addresses(&doc.blocks, &n_words, &mut verdicts);
    }
    for ((block, verdict), &n_words) in doc.blocks.iter().zip(verdicts.iter_mut()).zip(&n_words) {
        if verdict.is_some() {
            continue;
        }
        // Both rule families look at short blocks only, and for literals in one lower-cased
        // copy.
        if n_words > caption::MAX_WORDS.max(furniture::MAX_RULE_WORDS) {
            continue;
        }
        *verdict = with_ascii_lowercase(&block.text, |lower| {
            if cfg.captions
                && let Some(rule) = caption::classify(&block.text, n_words, lower)
            {
                return Some(Verdict { kind: "image_caption", rule: rule.into() });
            }
            if cfg.furniture
                && let Some(kind) = furniture::classify(&block.text, n_words, lower)
            {
                return Some(Verdict { kind, rule: [kind, " phrase in a short block"].concat().into() });
            }
            None
        });
    }

    if cfg.main_region {
        // The title was taken out of the blocks: count the blocks that stood before it.
        let title_at = doc.title_block.map_or(0, |t| doc.blocks.iter().take_while(|b| b.index < t).count());
        mark_outside_main_region(&doc.blocks, counts, doc.title.as_deref(), title_at, &mut verdicts);
    }

    // The blocks are moved, not copied.
    let ParsedDoc { id, title, blocks: all, raw_bytes, .. } = doc;
    let mut blocks = Vec::with_capacity(all.len());
    let mut removed = Vec::new();
    for (block, verdict) in all.into_iter().zip(verdicts) {
        match verdict {
            None => blocks.push(block),
            Some(Verdict { kind, rule }) => removed.push(Removal {
                stage: STAGE.into(),
                kind: kind.into(),
                rule,
                block: block.index,
                text: block.text,
            }),
        }
    }
    StrippedDoc { id, title, blocks, removed, raw_bytes }
}

/// Blocks outside the main text regions. A heading right before a second region stays:
/// it is the region's own heading ("Frequently asked questions"), unless it is an
/// end-of-article marker ("More articles you might enjoy"). The heading right before the
/// main region does not: it is a kicker, a byline or a date line far more often than a
/// section heading; only a repeat of the title stays, for dedup to remove as such.
fn mark_outside_main_region(
    blocks: &[Block],
    counts: Vec<region::WordCounts>,
    title: Option<&str>,
    title_at: usize,
    verdicts: &mut [Option<Verdict>],
) {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let infos: Vec<region::BlockInfo<'_>> = blocks
        .iter()
        .zip(verdicts.iter())
        .zip(counts)
        .map(|((b, v), counts)| region::BlockInfo { text: &b.text, removed: v.is_some(), counts })
        .collect();
    let (scores, mut runs) = region::main_region(&infos, title_at);
    let Some(&(best_start, best_end)) = runs.first() else { return };
    for (k, run) in runs.iter_mut().enumerate() {
        if run.0 > 0
            && blocks[run.0 - 1].kind == BlockKind::Heading
            && verdicts[run.0 - 1].is_none()
            && scores[run.0 - 1].is_finite()
            // Last: most pages have no heading there, and need no normalised texts.
            && (k > 0 || title.is_some_and(|t| norm(&blocks[run.0 - 1].text) == norm(t)))
        {
            run.0 -= 1;
        }
    }
    // The rule reads "outside the main text region (block score -6; main region is blocks
    // 12..40)"; it is written for most blocks of most pages, so in pieces, not with `format!`.
    let region_end = format!("; main region is blocks {best_start}..{best_end})");
    for (i, verdict) in verdicts.iter_mut().enumerate() {
        if verdict.is_none() && !runs.iter().any(|&(s, e)| (s..e).contains(&i)) {
            let mut rule = String::with_capacity(80);
            rule.push_str("outside the main text region (");
            if scores[i].is_finite() {
                rule.push_str("block score ");
                push_rounded(&mut rule, scores[i]);
            } else {
                rule.push_str("an end-of-article marker");
            }
            rule.push_str(&region_end);
            *verdict = Some(Verdict { kind: "outside_main_text", rule: rule.into() });
        }
    }
}

/// `c.is_alphanumeric()`, without a Unicode table lookup for the punctuation most text
/// holds (curly quotes, dashes, the ellipsis): the General Punctuation block has no letter
/// or digit.
pub(crate) fn is_alphanumeric(c: char) -> bool {
    !GENERAL_PUNCTUATION.contains(&c) && c.is_alphanumeric()
}

/// `c.is_alphabetic()`, as `is_alphanumeric`.
pub(crate) fn is_alphabetic(c: char) -> bool {
    !GENERAL_PUNCTUATION.contains(&c) && c.is_alphabetic()
}

const GENERAL_PUNCTUATION: std::ops::RangeInclusive<char> = '\u{2000}'..='\u{206f}';

/// Lower-case literals, looked for in a lower-cased copy of a block (`ascii_case_insensitive`
/// would cost a byte-by-byte automaton): in groups, a packed searcher (Teddy) each, used
/// directly (`AhoCorasick` may choose a slower search for rare bytes, and its wrapping
/// costs as much as a search of a short block), or where the processor has no Teddy,
/// one automaton of all.
pub(crate) enum Literals {
    Packed(Vec<aho_corasick::packed::Searcher>),
    Automaton(aho_corasick::AhoCorasick),
}

impl Literals {
    /// `packed: false` takes the automaton in any case (for tests).
    pub(crate) fn new(groups: &[&[&str]], packed: bool) -> Literals {
        use aho_corasick::packed;
        let build = |group: &[&str]| {
            packed::Config::new().match_kind(packed::MatchKind::LeftmostFirst).builder().extend(group).build()
        };
        match groups.iter().map(|group| build(group)).collect::<Option<Vec<_>>>() {
            Some(searchers) if packed => Literals::Packed(searchers),
            _ => Literals::Automaton(
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .build(groups.concat())
                    .expect("literals build"),
            ),
        }
    }

    pub(crate) fn is_match(&self, haystack: &[u8]) -> bool {
        match self {
            Literals::Packed(searchers) => searchers.iter().any(|group| group.find(haystack).is_some()),
            Literals::Automaton(automaton) => automaton.is_match(haystack),
        }
    }
}

/// Calls `f` with `text`'s bytes, ASCII letters lower-cased (in a buffer on the stack for
/// the short blocks most are): a literal search of lower-case cues in them needs no case
/// folding.
pub(crate) fn with_ascii_lowercase<R>(text: &str, f: impl FnOnce(&[u8]) -> R) -> R {
    const STACK_BYTES: usize = 512;
    if text.len() > STACK_BYTES {
        return f(text.to_ascii_lowercase().as_bytes());
    }
    let mut buf = [0u8; STACK_BYTES];
    let lower = &mut buf[..text.len()];
    lower.copy_from_slice(text.as_bytes());
    lower.make_ascii_lowercase();
    f(lower)
}

/// Appends `format!("{x:.0}")` to `out`. Formatting a float with a precision is slow (it
/// often falls back to big-number arithmetic), and most scores are integers: only ties
/// (`2.5`) and huge values go through the float formatter.
fn push_rounded(out: &mut String, x: f64) {
    use std::fmt::Write;
    let rounded = x.round();
    if (x - rounded).abs() == 0.5 || rounded.abs() >= 1e15 || !x.is_finite() {
        let _ = write!(out, "{x:.0}");
    } else if rounded == 0.0 {
        // `{:.0}` keeps the sign of small negative numbers: "-0".
        out.push_str(if x.is_sign_negative() { "-0" } else { "0" });
    } else {
        let _ = write!(out, "{}", rounded as i64);
    }
}

/// Address blocks, plus the labels and contact lines right next to them.
fn mark_addresses(blocks: &[Block], n_words: &[usize], verdicts: &mut [Option<Verdict>]) {
    use address::AddressBlock;
    let classes: Vec<AddressBlock> = blocks.iter().zip(n_words).map(|(b, &n)| address::classify(&b.text, n)).collect();
    for (i, class) in classes.iter().enumerate() {
        let rule = match class {
            AddressBlock::Address => "postal or contact lines",
            AddressBlock::Attached => {
                let near = |j: Option<usize>| j.and_then(|j| classes.get(j)) == Some(&AddressBlock::Address);
                if near(i.checked_sub(1)) || near(Some(i + 1)) {
                    "label or contact line next to an address"
                } else {
                    continue;
                }
            }
            AddressBlock::No => continue,
        };
        verdicts[i] = Some(Verdict { kind: "address", rule: rule.into() });
    }
}

/// `n` texts of up to `max_pieces - 1` pieces each, picked by a fixed linear congruential
/// sequence: the same texts on every run, for tests that hold a fast path against its
/// reference.
#[cfg(test)]
pub(crate) fn pieced_texts(pieces: &[&str], n: usize, max_pieces: u64) -> Vec<String> {
    let mut state = 12345u64;
    let next = |state: &mut u64| *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            let mut text = String::new();
            for _ in 0..(state % max_pieces) {
                next(&mut state);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            next(&mut state);
            text
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pith_types::Span;

    fn doc(texts: &[&str]) -> ParsedDoc {
        let blocks = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Block {
                index: i as u32,
                kind: BlockKind::Paragraph,
                text: (*t).to_owned(),
                span: Span { start: 0, end: 0 },
            })
            .collect();
        ParsedDoc { id: "d".into(), title: None, title_block: None, blocks, diags: vec![], raw_bytes: 0 }
    }

    #[track_caller]
    fn check(texts: &[&str], expect: &[(&str, &str)]) {
        let res = strip(doc(texts), &StripConfig::default());
        let got: Vec<(&str, &str)> = res.removed.iter().map(|r| (&*r.kind, r.text.as_str())).collect();
        assert_eq!(got, expect);
        let kept: Vec<u32> = res.blocks.iter().map(|b| b.index).collect();
        let mut all: Vec<u32> = kept.iter().copied().chain(res.removed.iter().map(|r| r.block)).collect();
        all.sort();
        assert_eq!(all, (0..texts.len() as u32).collect::<Vec<_>>(), "every block is kept or removed");
    }

    const PROSE: &str = "The council met on Tuesday and voted to approve the new budget for the coming year.";

    #[test]
    fn seed_shapes() {
        check(
            &["Physical Address", "304 North Cardinal St.\nDorchester Center, MA 02124", PROSE],
            &[("address", "Physical Address"), ("address", "304 North Cardinal St.\nDorchester Center, MA 02124")],
        );
    }

    #[test]
    fn lone_label_is_kept() {
        check(&[PROSE, "Contact", PROSE], &[]);
    }

    #[test]
    fn a_heading_stays_only_before_a_second_region() {
        let long = "The analysis, published online by the journal, used 97 earlier research reviews involving more than 1,000 trials with many thousands of adults, and found that walking, resistance training and yoga all helped.";
        let nav = ["News", "Sports", "Weather", "Opinion", "Travel", "Autos", "Video", "Music"];
        let mut texts = vec!["November 19, 2019", long, long];
        texts.extend(nav);
        texts.extend(["Frequently asked questions", PROSE, PROSE]);
        let mut parsed = doc(&texts);
        for block in &mut parsed.blocks {
            if block.text.split_whitespace().count() <= 3 || block.text.starts_with("Frequently") {
                block.kind = BlockKind::Heading;
            }
        }
        let res = strip(parsed.clone(), &StripConfig::default());
        let kept: Vec<u32> = res.blocks.iter().map(|b| b.index).collect();
        assert_eq!(kept, vec![1, 2, 11, 12, 13]);
        // A repeat of the title stays for dedup, which removes it as a repeated heading.
        parsed.title = Some("November 19, 2019".to_owned());
        let res = strip(parsed, &StripConfig::default());
        assert_eq!(res.blocks.first().map(|b| b.index), Some(0));
    }

    #[test]
    fn general_punctuation_holds_no_letter_or_digit() {
        for c in GENERAL_PUNCTUATION {
            assert!(!c.is_alphanumeric() && !c.is_alphabetic(), "{c:?}");
        }
        for c in ['a', 'Z', '7', 'é', '東', '٣', '\u{1fff}', '\u{2070}', '\u{2071}', '’', ' '] {
            assert_eq!((is_alphanumeric(c), is_alphabetic(c)), (c.is_alphanumeric(), c.is_alphabetic()), "{c:?}");
        }
    }

    #[test]
    fn high_bits_are_counted() {
        for mask in 0..=255u64 {
            let x = (0..8).filter(|i| mask >> i & 1 != 0).map(|i| 0x80u64 << (8 * i)).sum::<u64>();
            assert_eq!(count_high_bits(x), x.count_ones() as usize, "{x:x}");
        }
    }

    #[test]
    fn rounded_scores_read_as_the_float_formatter_writes_them() {
        let mut values = vec![0.0, -0.0, 0.3, -0.3, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994, 1e16, -6.0];
        for i in -3000..3000 {
            for factor in [1.0, 0.5, 0.3, 0.15, 0.1, 0.09] {
                values.push(f64::from(i) * factor);
            }
        }
        for x in values {
            let mut got = String::new();
            push_rounded(&mut got, x);
            assert_eq!(got, format!("{x:.0}"), "{x:?}");
        }
    }

    #[test]
    fn caption_and_furniture() {
        check(
            &["Share this article", PROSE, "Smoke rises over the city. (Photo: Getty Images)"],
            &[("share", "Share this article"), ("image_caption", "Smoke rises over the city. (Photo: Getty Images)")],
        );
    }
}
