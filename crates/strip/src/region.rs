//! The main text region: one contiguous run of blocks chosen by prose density.
//!
//! Each block gets a score: long, stop-word-dense, sentence-like blocks add (in
//! proportion to their length), short or link-list-like blocks subtract a little, and
//! end-of-article markers ("12 comments", "Leave a reply", "About the author") subtract
//! a lot. The main text is the run of blocks with the largest sum (Kadane's algorithm);
//! blocks outside it are boilerplate. This is the single strongest signal a text-only
//! cleaner has (jusText's stop-word density, boilerpipe's text density), and it needs no
//! site-specific rule.

use std::sync::LazyLock;

use crate::dfa::Matcher;
use rustc_hash::FxHashMap;

/// The languages whose stop words are known; a document uses the one that matches most
/// of its words.
const LANGUAGES: &[&str] =
    &["en", "de", "fr", "es", "pt", "it", "nl", "ru", "id", "ms", "pl", "tr", "sv", "da", "no", "fi", "cs", "ro"];

/// word → bit set of the languages whose stop lists hold it.
static STOP_WORDS: LazyLock<FxHashMap<&'static str, u32>> = LazyLock::new(|| {
    let mut map: FxHashMap<&'static str, u32> = FxHashMap::default();
    for (bit, code) in LANGUAGES.iter().enumerate() {
        for word in stop_words::lookup(code).unwrap_or_default() {
            *map.entry(word).or_default() |= 1 << bit;
        }
    }
    map
});

/// Headings and markers that end an article's text: what follows is comments, related
/// links or an author box. The shapes CMSs print them in: "3 thoughts on “Title”", "Leave
/// a Reply Cancel reply", "More articles you might enjoy", "About our expert", "Post
/// navigation".
static END_MARKER: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[r"(?ix)^(?:
            \d+\s+(?:comments?|responses?|replies|thoughts)(?:\s+on\s+.{1,200})?
            | comments?(?:\s*\(\d+\))?
            | (?:leave|post|add|write)\ (?:a|your)\ (?:comment|reply)(?:\ cancel\ reply|\ [—–-]\ .{1,60})?
            | (?:readers?|users?|visitors?)(?:'|’)?s?\ (?:comments|responses)
            | join\ the\ (?:conversation|discussion)
            | you(?:'ll|’ll|\ may|\ might|\ will)?\ (?:also\ )?(?:like|enjoy|love)
            | (?:more|other|similar|related|recommended|recent|popular|latest)\ (?:articles|posts|stories|reads|reading|videos|recipes|guides|content)
                \ (?:you|that)\ (?:may|might|will)\ (?:also\ )?(?:like|enjoy|love|interest\ you)
            | about\ (?:the|our|this)\ (?:authors?|experts?|writers?|reviewers?|contributors?)
            | author\ bio
            | post\ navigation
            | what\ to\ read\ next
            | article\ sources
            | citations
            | footnotes
        )\s*[:.…!]*$"],
        2 << 20,
        true,
    )
});

/// Headings that end an article when they stand alone, but also head boxes inside one
/// ("Related Stories" between two paragraphs of a news story). Their short generic forms
/// are what the furniture rules remove as "related" blocks; those cost
/// `WEAK_END_MARKER_PENALTY` (a run crosses one only for more prose than that beyond
/// it), the other forms are walls like `END_MARKER`. "Read more" is no marker at all: it
/// is also the link under every teaser and the "expand" button of a cut article.
static WEAK_END_MARKER: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[r"(?ix)^(?:
            related(?:\ (?:articles|posts|stories|content|news))?
            | (?:more|other|similar|related|recommended|recent|popular|latest)\ (?:articles|posts|stories|reads|reading|videos|recipes|guides|content)
            | more\ from\ .{1,40}
            | recommended(?:\ for\ you|\ stories)?
            | read\ (?:next|this\ next)
            | explore\ more(?:\ articles|\ stories|\ posts)?
            | latest\ (?:news|posts|stories)
            | most\ (?:read|popular|viewed)
        )\s*[:.…!]*$"],
        2 << 20,
        true,
    )
});

fn is_end_marker(text: &str) -> bool {
    END_MARKER.is_match(text.trim())
}

/// Every end marker, strong or weak, starts with a digit or with one of these letters
/// (`3 Comments`, `About the author`, `Leave a reply`, `Related`, `Explore more`, ...):
/// blocks starting with any other ASCII character skip both patterns. A non-ASCII first
/// character does not (under case folding `ſ` is an `s`, and `\d` holds other digits).
fn may_start_marker(text: &str) -> bool {
    match text.trim_start().bytes().next() {
        Some(b) if b.is_ascii() => b.is_ascii_digit() || b"acefjlmoprsuvwy".contains(&b.to_ascii_lowercase()),
        _ => true,
    }
}

/// What the scorer knows of one block.
pub(crate) struct BlockInfo<'a> {
    pub(crate) text: &'a str,
    /// Already removed by an earlier rule.
    pub(crate) removed: bool,
    /// `count_words(text, _)`: strip counts them before the other rules, which read the
    /// white-space-separated word count.
    pub(crate) counts: WordCounts,
}

#[cfg(test)]
impl<'a> BlockInfo<'a> {
    fn new(text: &'a str, removed: bool) -> BlockInfo<'a> {
        BlockInfo { text, removed, counts: count_words(text, usize::MAX) }
    }
}

/// Four head words and four lede words, the junction's word shared.
pub(crate) const TEASER_MIN_WORDS: usize = 7;

/// Tunables, kept together so their effect can be measured (`cargo xtask eval`).
const MIN_GOOD_WORDS: usize = 10;
const MIN_STOP_DENSITY: f64 = 0.25;
const SHORT_PENALTY: f64 = 6.0;
const REMOVED_PENALTY: f64 = 2.0;
/// An end marker is a wall: no run crosses one, so a long tail of comments or teasers
/// after it cannot join the article however much prose it holds.
const END_MARKER_SCORE: f64 = f64::NEG_INFINITY;
const WEAK_END_MARKER_PENALTY: f64 = 60.0;
/// Blocks with more words than this are never end markers.
const MAX_MARKER_WORDS: usize = 60;
/// A teaser block (a headline glued to its lede) scores like this many words against.
const TEASER_PENALTY: f64 = 15.0;
/// Glued teasers count only in a river of them: one glued block is more often a brand
/// name written in camel case inside prose than a teaser.
const MIN_TEASERS: usize = 4;
/// A block whose longer words are nearly all capitalised is a headline or a link, not
/// prose, however long it is and whatever its punctuation ("U.S. State Was Just Named
/// ...").
const MAX_TITLE_CASE_SHARE: f64 = 0.95;
/// Blocks after the first end marker that follows the title and some prose weigh this
/// share: a page's later part (a disclaimer, a list of other stories, a comment thread)
/// must hold several times the article's prose to be taken for the main text.
const AFTER_END_WEIGHT: f64 = 0.3;
/// How much prose (in score points, about words) must follow the title before an end
/// marker counts as the article's end.
const MIN_PROSE_BEFORE_END: f64 = 50.0;
/// A lone lede: a prose block shorter than this many words, with no prose block on
/// either side and a Title Case headline one or two blocks before it, is a teaser of
/// another article (headline, maybe a kicker or date line, one paragraph), and counts
/// this share of its score. Articles' paragraphs come in runs, or under sentence-case
/// subheadings.
const LONE_LEDE_MAX_WORDS: f64 = 60.0;
const LONE_LEDE_WEIGHT: f64 = 0.5;
/// A second prose run is kept too when its sum is at least this share of the best one's
/// (pages with two content parts, such as a review list and its FAQ).
const EXTRA_RUN_SHARE: f64 = 0.35;
/// Short sentences next to a run join it from this many words on.
const MIN_SHORT_SENTENCE_WORDS: usize = 7;
/// A run between the title and the best run (an introduction above a table of contents
/// or a product box) needs only this share of the best run's sum: on a long guide or
/// review page the introduction is a few paragraphs against thousands of words.
const INTRO_RUN_SHARE: f64 = 0.05;

/// Per-block scores (for `pith explain`) and the chosen runs `[start, end)`, best first;
/// empty when no block reads like prose (then nothing is removed by this rule).
///
/// `title_at` is the position of the first block after the title (0 when there is none).
pub(crate) fn main_region(blocks: &[BlockInfo<'_>], title_at: usize) -> (Vec<f64>, Vec<(usize, usize)>) {
    let counts: Vec<&WordCounts> = blocks.iter().map(|b| &b.counts).collect();
    let cjk =
        blocks.iter().zip(&counts).map(|(b, c)| cjk_share(b.text, c)).sum::<f64>() / blocks.len().max(1) as f64 > 0.3;
    let lang = dominant_language(&counts);
    let teasers: Vec<bool> =
        blocks.iter().map(|b| b.counts.spaced >= TEASER_MIN_WORDS && glued_teaser_head(b.text)).collect();
    let river = teasers.iter().filter(|&&t| t).count() >= MIN_TEASERS;
    let mut scores: Vec<f64> = blocks
        .iter()
        .zip(&counts)
        .zip(&teasers)
        .map(|((block, counts), &teaser)| {
            // Markers are short: the longest, "12 thoughts on “<title>”", holds at most
            // 200 characters of title.
            let may_be_marker = counts.words <= MAX_MARKER_WORDS && may_start_marker(block.text);
            // Furniture rules remove some end markers ("Leave a comment") first; they
            // still end the article.
            if may_be_marker && is_end_marker(block.text) {
                return END_MARKER_SCORE;
            }
            if may_be_marker && WEAK_END_MARKER.is_match(block.text.trim()) {
                return if block.removed { -WEAK_END_MARKER_PENALTY } else { END_MARKER_SCORE };
            }
            if block.removed {
                return -REMOVED_PENALTY;
            }
            if teaser && river {
                return -TEASER_PENALTY;
            }
            // A headline scores `-SHORT_PENALTY`, as a block that does not read like
            // prose does: only blocks that do are asked (they are most of the blocks that
            // are quick to tell from a headline).
            let prose = prose_score(block.text, counts, cjk, lang);
            if prose != -SHORT_PENALTY && is_headline(block.text, counts.words) { -SHORT_PENALTY } else { prose }
        })
        .collect();
    discount_lone_ledes(&mut scores, |i| is_headline(blocks[i].text, counts[i].words));
    discount_after_end(&mut scores, title_at);
    let runs = match max_sum_run(&scores) {
        Some(best) => {
            let mut runs = vec![best];
            runs.extend(extra_runs(&scores, best, title_at));
            runs
        }
        None => Vec::new(),
    };
    let runs = runs.into_iter().map(|run| extend_by_short_sentences(blocks, &counts, &scores, run)).collect();
    (scores, runs)
}

/// The score of a block that is no end marker, removed block, teaser or headline: its
/// words when it reads like prose (half of them when it does not end like a sentence but
/// is long), else `-SHORT_PENALTY`.
fn prose_score(text: &str, counts: &WordCounts, cjk: bool, lang: Option<usize>) -> f64 {
    // CJK text has no spaces between words: count characters, two per word.
    let n_words = if cjk { alphanumeric_chars(text) / 2 } else { counts.words };
    let density = match lang {
        Some(lang) if !cjk => counts.stop[lang] as f64 / counts.words.max(1) as f64,
        _ => 1.0,
    };
    let sentence_like = ends_like_sentence(text);
    if n_words >= MIN_GOOD_WORDS && density >= MIN_STOP_DENSITY && sentence_like {
        n_words as f64
    } else if n_words >= MIN_GOOD_WORDS * 3 && density >= MIN_STOP_DENSITY {
        n_words as f64 / 2.0
    } else {
        -SHORT_PENALTY
    }
}

/// A run grows over short sentences right next to it: an article's one-line opening
/// ("Social shopping has become a major force in eCommerce.") or closing advice costs
/// `SHORT_PENALTY` like a menu line, but reads like the prose it touches. Only blocks
/// that scored as plain short blocks qualify (no headline, marker, removed block, or
/// block after the article's end), and they must end like a sentence.
fn extend_by_short_sentences(
    blocks: &[BlockInfo<'_>],
    counts: &[&WordCounts],
    scores: &[f64],
    (mut start, mut end): (usize, usize),
) -> (usize, usize) {
    let short_sentence = |i: usize| {
        let text = blocks[i].text.trim_end();
        scores[i] == -SHORT_PENALTY
            && counts[i].words >= MIN_SHORT_SENTENCE_WORDS
            && text.ends_with(['.', '!', '?', ':'])
            && text.starts_with(|c: char| c.is_uppercase())
    };
    while start > 0 && short_sentence(start - 1) {
        start -= 1;
    }
    while end < blocks.len() && short_sentence(end) {
        end += 1;
    }
    (start, end)
}

/// Scales lone ledes (see `LONE_LEDE_MAX_WORDS`) by `LONE_LEDE_WEIGHT`. `headline(i)`
/// is whether block `i` is a headline (asked only of the two blocks before a lone lede).
fn discount_lone_ledes(scores: &mut [f64], headline: impl Fn(usize) -> bool) {
    let prose = |scores: &[f64], j: Option<usize>| j.and_then(|j| scores.get(j)).is_some_and(|&s| s > 0.0);
    let lone: Vec<usize> = (0..scores.len())
        .filter(|&i| {
            scores[i] > 0.0
                && scores[i] < LONE_LEDE_MAX_WORDS
                && !prose(scores, i.checked_sub(1))
                && !prose(scores, Some(i + 1))
                && (1..=2).any(|k| i >= k && headline(i - k))
        })
        .collect();
    for i in lone {
        scores[i] *= LONE_LEDE_WEIGHT;
    }
}

/// Scales every block after the article's end (the first end marker after the title that
/// follows some prose) by `AFTER_END_WEIGHT`. Penalties scale too, so runs after the end
/// keep their shape and only lose against the article.
fn discount_after_end(scores: &mut [f64], title_at: usize) {
    let mut prose = 0.0;
    let mut after_end = false;
    for score in scores.iter_mut().skip(title_at) {
        if *score == END_MARKER_SCORE {
            after_end |= prose >= MIN_PROSE_BEFORE_END;
        } else if after_end {
            *score *= AFTER_END_WEIGHT;
        } else if *score > 0.0 {
            prose += *score;
        }
    }
}

/// Other runs worth keeping besides the best: maximal positive runs whose sum is at least
/// `EXTRA_RUN_SHARE` of the best run's (`INTRO_RUN_SHARE` between the title and it), left
/// and right of it, never across an end marker.
fn extra_runs(scores: &[f64], best: (usize, usize), title_at: usize) -> Vec<(usize, usize)> {
    let best_sum: f64 = scores[best.0..best.1].iter().sum();
    let mut res = Vec::new();
    let mut todo = vec![(0, best.0), (best.1, scores.len())];
    if 0 < title_at && title_at < best.0 {
        todo = vec![(0, title_at), (title_at, best.0), (best.1, scores.len())];
    }
    while let Some((lo, hi)) = todo.pop() {
        let Some((s, e)) = max_sum_run(&scores[lo..hi]) else { continue };
        let (s, e) = (lo + s, lo + e);
        let sum: f64 = scores[s..e].iter().sum();
        let between = if e <= best.0 { e..best.0 } else { best.1..s };
        let share = if 0 < title_at && title_at <= s && e <= best.0 { INTRO_RUN_SHARE } else { EXTRA_RUN_SHARE };
        if sum >= share * best_sum && scores[between].iter().all(|&x| x > END_MARKER_SCORE) {
            res.push((s, e));
            todo.push((lo, s));
            todo.push((e, hi));
        }
    }
    res.sort_unstable();
    res
}

/// Kadane: the `[start, end)` with the largest positive sum, first one on ties.
fn max_sum_run(scores: &[f64]) -> Option<(usize, usize)> {
    let mut best: Option<(f64, usize, usize)> = None;
    let mut sum = 0.0;
    let mut start = 0;
    for (i, &s) in scores.iter().enumerate() {
        if sum <= 0.0 {
            sum = 0.0;
            start = i;
        }
        sum += s;
        if sum > 0.0 && best.is_none_or(|(b, _, _)| sum > b) {
            best = Some((sum, start, i + 1));
        }
    }
    best.map(|(_, start, end)| (start, end))
}

/// A block's word count and, per known language, how many of its words are stop words;
/// also how many of its alphanumeric characters are CJK (most blocks have none, and need
/// no count of their alphanumeric characters: see `alphanumeric_chars`), and its
/// white-space-separated words (`split_whitespace().count()`, up to a limit: the other
/// rules, which read it, and the teaser test look at short blocks).
pub(crate) struct WordCounts {
    words: usize,
    stop: [u32; LANGUAGES.len()],
    cjk: usize,
    pub(crate) spaced: usize,
}

/// `text`'s alphanumeric characters.
fn alphanumeric_chars(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphanumeric()).count()
}

/// The longest stop word, in bytes: longer words need no lookup.
static MAX_STOP_WORD_LEN: LazyLock<usize> = LazyLock::new(|| STOP_WORDS.keys().map(|w| w.len()).max().unwrap_or(0));

/// The ASCII stop words of at most 8 bytes, packed into a `u64` (see `pack_ascii`): most
/// words of most pages are that short, and looking them up this way needs neither a
/// lower-case copy nor string hashing.
static SHORT_STOP_WORDS: LazyLock<PackedWords<{ 1 << 14 }>> = LazyLock::new(|| {
    PackedWords::new(
        STOP_WORDS
            .iter()
            .filter(|(word, _)| word.is_ascii() && word.len() <= 8)
            .map(|(word, &mask)| (pack_ascii(word.as_bytes()), mask)),
    )
});

/// The first eight bytes of the longer ASCII stop words, packed (see `pack_ascii`; the
/// mask is 1): an ASCII word of nine bytes or more can only be a stop word if its first
/// eight, lower-cased, are one of these, which most such words are not.
static LONG_STOP_WORD_STARTS: LazyLock<PackedWords<{ 1 << 11 }>> = LazyLock::new(|| {
    PackedWords::new(
        STOP_WORDS
            .keys()
            .filter(|word| word.is_ascii() && word.len() > 8)
            .map(|word| (pack_ascii(&word.as_bytes()[..8]), 1)),
    )
});

/// A set of packed words (never 0) with a language mask each, looked up without a
/// branch: each word sits in one of its two slots (cuckoo hashing, at most half full),
/// and a lookup reads both. Half of a page's words are stop words and the other half are
/// not, in no pattern a branch predictor learns: with linear probing, whether the first
/// slot held the word or was empty was such a branch. `SLOTS`, a power of two, is fixed
/// so that no index needs a bounds check.
struct PackedWords<const SLOTS: usize> {
    words: Box<[u64; SLOTS]>,
    masks: Box<[u32; SLOTS]>,
}

impl<const SLOTS: usize> PackedWords<SLOTS> {
    const SHIFT: u32 = 64 - SLOTS.trailing_zeros();

    fn new(words: impl Iterator<Item = (u64, u32)>) -> PackedWords<SLOTS> {
        let words: Vec<(u64, u32)> = words.collect();
        assert!(SLOTS.is_power_of_two() && words.len() * 2 <= SLOTS, "{} words in {SLOTS} slots", words.len());
        // Made on the heap: the short words' table is 192 KiB.
        let mut res = PackedWords {
            words: vec![0; SLOTS].into_boxed_slice().try_into().expect("SLOTS long"),
            masks: vec![0; SLOTS].into_boxed_slice().try_into().expect("SLOTS long"),
        };
        for (word, mask) in words {
            match Self::slots(word).into_iter().find(|&i| res.words[i] == word) {
                Some(i) => res.masks[i] |= mask,
                None => res.insert(word, mask),
            }
        }
        res
    }

    /// The two slots a word may sit in.
    #[inline(always)]
    fn slots(word: u64) -> [usize; 2] {
        [
            (word.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> Self::SHIFT) as usize,
            (word.wrapping_mul(0xc2b2_ae3d_27d4_eb4f) >> Self::SHIFT) as usize,
        ]
    }

    /// Puts a new word in its first slot; the word that held it moves to its other slot,
    /// and so on until one finds an empty slot.
    fn insert(&mut self, mut word: u64, mut mask: u32) {
        let mut at = Self::slots(word)[0];
        for _ in 0..SLOTS {
            std::mem::swap(&mut self.words[at], &mut word);
            std::mem::swap(&mut self.masks[at], &mut mask);
            if word == 0 {
                return;
            }
            let [first, second] = Self::slots(word);
            at = if at == first { second } else { first };
        }
        panic!("no room for {word:#x} in {SLOTS} slots");
    }

    /// The language mask of `word`, 0 when it is none of the words.
    #[inline(always)]
    fn get(&self, word: u64) -> u32 {
        let [first, second] = Self::slots(word);
        // Each slot's mask if it holds the word, else 0 (an empty slot's mask is 0).
        let hit = |i: usize| self.masks[i] & u32::from(self.words[i] == word).wrapping_neg();
        hit(first) | hit(second)
    }
}

/// The longest ASCII stop word, in bytes: longer ASCII words need no lookup.
static MAX_ASCII_STOP_WORD_LEN: LazyLock<usize> =
    LazyLock::new(|| STOP_WORDS.keys().filter(|w| w.is_ascii()).map(|w| w.len()).max().unwrap_or(0));

/// Up to 8 ASCII bytes, lower-cased, as one little-endian number (zero-padded: words hold
/// no zero bytes, so no two words share a number).
fn pack_ascii(word: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let len = word.len().min(8);
    buf[..len].copy_from_slice(&word[..len]);
    let x = u64::from_le_bytes(buf);
    // All eight bytes lower-cased at once: a byte is an upper-case letter when adding
    // 0x80 - b'A' carries into its top bit and adding 0x80 - b'Z' - 1 does not (the bytes
    // are ASCII, so no addition carries into the next byte); such bytes get 0x20 added.
    const ONES: u64 = 0x0101_0101_0101_0101;
    let at_least_a = x + ONES * u64::from(0x80 - b'A');
    let above_z = x + ONES * u64::from(0x80 - b'Z' - 1);
    let upper = (at_least_a & !above_z) & (ONES * 0x80);
    x | (upper >> 2)
}

/// Words are runs of alphanumeric characters and apostrophes. One pass over the bytes:
/// eight ASCII bytes at a time, where their word bytes (letters, digits, `'`) are a bit
/// mask and the words' starts and ends the changes along it; byte by byte around
/// non-ASCII characters. This runs on every byte of every page. The same pass counts the
/// white-space-separated words up to `spaced_limit`, as `crate::count_words_upto` does,
/// which then need no scan of their own (and stops counting them there).
pub(crate) fn count_words(text: &str, spaced_limit: usize) -> WordCounts {
    let mut words = WordScan {
        text,
        words: 0,
        start: None,
        ascii: true,
        short_stop_words: &SHORT_STOP_WORDS,
        long_stop_word_starts: &LONG_STOP_WORD_STARTS,
        short_stop: StopTally::default(),
        long: LongWords { stop: [0; LANGUAGES.len()], lower: String::new() },
    };
    let mut cjk = 0;
    let bytes = text.as_bytes();
    // White-space-separated words so far, and whether the byte before is white space (or
    // the text's start).
    let mut spaced = 0;
    let mut after_space = true;
    let mut i = 0;
    while i < bytes.len() {
        while let Some(&chunk) = bytes[i..].first_chunk::<8>()
            && u64::from_le_bytes(chunk) & HIGH == 0
        {
            let x = u64::from_le_bytes(chunk);
            // A white-space-separated word starts at a byte that is no white space right
            // after one that is.
            if spaced < spaced_limit {
                let space = white_space_bytes(x);
                let space_before = (space << 8) | if after_space { 0x80 } else { 0 };
                spaced += crate::count_high_bits(!space & HIGH & space_before);
                after_space = space >> 63 != 0;
            }
            // Setting bit 0x20 lower-cases a letter and maps no other byte onto one.
            let word = crate::ascii_bytes_in(x | LOWER, b'a', b'z')
                | crate::ascii_bytes_in(x, b'0', b'9')
                | crate::ascii_bytes_in(x, b'\'', b'\'');
            // A change at byte k: it is a word byte and the one before is not (a start),
            // or the other way round (an end).
            let before = (word << 8) | if words.start.is_some() { 0x80 } else { 0 };
            let mut changes = word ^ before;
            while changes != 0 {
                let at = i + changes.trailing_zeros() as usize / 8;
                match words.start {
                    Some(start) => words.count(start, at),
                    None => words.start = Some(at),
                }
                changes &= changes - 1;
            }
            i += 8;
        }
        let Some(&b) = bytes.get(i) else { break };
        if b < 0x80 {
            let class = ASCII_WORD_CLASS[usize::from(b)];
            let space = class & SPACE != 0;
            spaced += usize::from(after_space && !space);
            after_space = space;
            if class & WORD != 0 {
                words.start.get_or_insert(i);
            } else if let Some(start) = words.start {
                words.count(start, i);
            }
            i += 1;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        let space = c.is_whitespace();
        spaced += usize::from(after_space && !space);
        after_space = space;
        if c == '’' || crate::is_alphanumeric(c) {
            cjk += usize::from(c != '’' && is_cjk(c));
            words.start.get_or_insert(i);
            words.ascii = false;
        } else if let Some(start) = words.start {
            words.count(start, i);
        }
        i += c.len_utf8();
    }
    if let Some(start) = words.start {
        words.count(start, bytes.len());
    }
    words.short_stop.flush(&mut words.long.stop);
    WordCounts { words: words.words, stop: words.long.stop, cjk, spaced: spaced.min(spaced_limit) }
}

/// `crate::ascii_space_bytes(x)`, sooner for the usual eight bytes with no control
/// character: then the white space is the bytes up to `b' '`.
fn white_space_bytes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte plus 0x5f (0x60) reaches 0x80 unless it is below 0x21 (0x20).
    let up_to_space = !(x + ONES * 0x5f) & HIGH;
    let control = !(x + ONES * 0x60) & HIGH;
    if control == 0 { up_to_space } else { crate::ascii_space_bytes(x) }
}

/// Bytes 0x80 of eight bytes at once.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// Bytes 0x20 of eight bytes at once: the bit that tells a lower-case ASCII letter from
/// its capital, and that every other byte of an ASCII word (a digit, `'`) has set.
const LOWER: u64 = 0x2020_2020_2020_2020;

/// `count_words`' state: the counts so far and the word being read.
struct WordScan<'a> {
    text: &'a str,
    words: usize,
    /// Where the current word started, if the scan is in one.
    start: Option<usize>,
    /// Whether the current word is all ASCII so far.
    ascii: bool,
    short_stop_words: &'a PackedWords<{ 1 << 14 }>,
    long_stop_word_starts: &'a PackedWords<{ 1 << 11 }>,
    /// The stop words among the short ASCII words, not yet in `long.stop`.
    short_stop: StopTally,
    long: LongWords,
}

/// What the out-of-line count of the longer or non-ASCII words writes to: the stop word
/// counts per language, and a lower-case copy of a word with capitals.
struct LongWords {
    stop: [u32; LANGUAGES.len()],
    lower: String,
}

impl WordScan<'_> {
    /// Counts the word `start..end`, and leaves it.
    #[inline(always)]
    fn count(&mut self, start: usize, end: usize) {
        let (ascii, bytes) = (self.ascii, self.text.as_bytes());
        (self.start, self.ascii) = (None, true);
        self.words += 1;
        let len = end - start;
        if !(ascii && len <= 8) {
            // A longer ASCII word can only be a stop word if its first eight bytes (lower-cased
            // as below) start one, which most do not.
            if ascii
                && let Some(&chunk) = bytes[start..].first_chunk::<8>()
                && self.long_stop_word_starts.get(u64::from_le_bytes(chunk) | LOWER) == 0
            {
                return;
            }
            return self.long.count(self.text, start, end, ascii);
        }
        // The eight bytes from the word's start in one load, when the text has them.
        let key = match bytes[start..].first_chunk::<8>() {
            // Lower-cased as `pack_ascii` does: a word's ASCII bytes are letters, digits and `'`.
            Some(&chunk) => (u64::from_le_bytes(chunk) | LOWER) & (u64::MAX >> (64 - 8 * len)),
            None => pack_ascii(&bytes[start..end]),
        };
        // Added without a branch, 0 for a word that is no stop word (see `PackedWords`).
        self.short_stop.add(self.short_stop_words.get(key), &mut self.long.stop);
    }
}

impl LongWords {
    /// `WordScan::count` of a word longer than eight bytes or not ASCII.
    #[inline(never)]
    fn count(&mut self, text: &str, start: usize, end: usize, ascii: bool) {
        // Lower-casing keeps an ASCII word's length (not every word's: `K`, the Kelvin
        // sign, is three bytes, `k` one). (`WordScan::count` has looked up the start.)
        if ascii && end - start > *MAX_ASCII_STOP_WORD_LEN {
            return;
        }
        // Stop lists are lower case; most words already are, and need no copy.
        let word = &text[start..end];
        let upper =
            if ascii { word.bytes().any(|b| b.is_ascii_uppercase()) } else { word.chars().any(char::is_uppercase) };
        let key = if upper {
            self.lower.clear();
            if ascii {
                self.lower.push_str(word);
                self.lower.make_ascii_lowercase();
            } else {
                self.lower.extend(word.chars().flat_map(char::to_lowercase));
            }
            self.lower.as_str()
        } else {
            word
        };
        if key.len() > *MAX_STOP_WORD_LEN {
            return;
        }
        if let Some(&mask) = STOP_WORDS.get(key) {
            add_stop(&mut self.stop, mask);
        }
    }
}

/// Per byte: `WORD` for the ASCII bytes words are made of (letters, digits and the
/// apostrophe), plus `UPPER` for the upper-case letters and `APOSTROPHE` for the
/// apostrophe; `ALPHA` for the letters, `LOWER_CASE` for the lower-case ones and `DIGIT` for
/// the digits; `SPACE` for white space; `NON_ASCII` for the bytes of non-ASCII characters.
static ASCII_WORD_CLASS: [u8; 256] = {
    let mut table = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = 0;
        if c.is_ascii_alphanumeric() || c == b'\'' {
            table[b] = WORD | if c.is_ascii_uppercase() { UPPER } else { 0 } | if c == b'\'' { APOSTROPHE } else { 0 };
        }
        if c.is_ascii_alphabetic() {
            table[b] |= ALPHA;
        }
        if c.is_ascii_digit() {
            table[b] |= DIGIT;
        }
        if c.is_ascii_lowercase() {
            table[b] |= LOWER_CASE;
        }
        // `char::is_whitespace` (which, unlike `u8::is_ascii_whitespace`, takes in `\x0b`).
        if matches!(c, b' ' | b'\t'..=b'\r') {
            table[b] |= SPACE;
        }
        b += 1;
    }
    table
};
const WORD: u8 = 1;
const UPPER: u8 = 2;
const APOSTROPHE: u8 = 4;
const NON_ASCII: u8 = 8;
const ALPHA: u8 = 16;
const DIGIT: u8 = 32;
const SPACE: u8 = 64;
const LOWER_CASE: u8 = 128;

/// Counts one stop word for each language in `mask`.
/// Stop word counts per language as bytes of three numbers, one per eight languages: a
/// word's language mask is added in three table lookups and additions, without a
/// branch (a loop over the mask's bits, which follow no pattern the processor could
/// predict, cost more). Moved into `u32` counts before any byte can overflow.
#[derive(Default)]
struct StopTally {
    lanes: [u64; 3],
    /// Masks added since the last `flush`.
    added: u32,
}

const _: () = assert!(LANGUAGES.len() <= 24);

/// Bit k of a byte, moved to the lowest bit of byte k.
static SPREAD_BITS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut k = 0;
        while k < 8 {
            table[b] |= ((b as u64 >> k) & 1) << (8 * k);
            k += 1;
        }
        b += 1;
    }
    table
};

impl StopTally {
    #[inline(always)]
    fn add(&mut self, mask: u32, stop: &mut [u32; LANGUAGES.len()]) {
        for (k, lane) in self.lanes.iter_mut().enumerate() {
            *lane += SPREAD_BITS[((mask >> (8 * k)) & 0xff) as usize];
        }
        self.added += 1;
        if self.added == u32::from(u8::MAX) {
            self.flush(stop);
        }
    }

    fn flush(&mut self, stop: &mut [u32; LANGUAGES.len()]) {
        for (lang, count) in stop.iter_mut().enumerate() {
            *count += ((self.lanes[lang / 8] >> (8 * (lang % 8))) & 0xff) as u32;
        }
        *self = StopTally::default();
    }
}

fn add_stop(stop: &mut [u32; LANGUAGES.len()], mut mask: u32) {
    while mask != 0 {
        stop[mask.trailing_zeros() as usize] += 1;
        mask &= mask - 1;
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7af)
}

/// The share of CJK characters among `text`'s alphanumeric characters.
fn cjk_share(text: &str, counts: &WordCounts) -> f64 {
    if counts.cjk == 0 { 0.0 } else { counts.cjk as f64 / alphanumeric_chars(text) as f64 }
}

/// The language whose stop words cover most words of the document (first on ties).
fn dominant_language(blocks: &[&WordCounts]) -> Option<usize> {
    let mut totals = [0u64; LANGUAGES.len()];
    for block in blocks {
        for (total, &n) in totals.iter_mut().zip(&block.stop) {
            *total += u64::from(n);
        }
    }
    let (lang, &n) = totals.iter().enumerate().max_by_key(|&(i, n)| (*n, usize::MAX - i))?;
    (n > 0).then_some(lang)
}

/// A headline glued to its lede, as a teaser list of other articles reads once its
/// markup is gone: "Customers Leave Without Paying At SteakhouseA party of six left ...".
/// The head is Title Case (every word of four letters or more capitalised, at least four
/// words), the junction is a capital letter right after a run of at least four lower-case
/// letters or after a closing bracket or quote or `?`/`!` (so "TikTok" and "iPhone" are no
/// junction), and the lede goes on in lower case like a sentence.
///
/// The scan stops at the first whole word that is not Title Case: every later junction
/// has it in its head. Prose stops after a word or two.
#[cfg(test)]
fn glued_teaser(text: &str) -> bool {
    // Four head words and four lede words, the junction's word shared.
    crate::count_words_upto(text, TEASER_MIN_WORDS) >= TEASER_MIN_WORDS && glued_teaser_head(text)
}

/// `glued_teaser` of a text known to have enough words. Eight ASCII bytes with no
/// junction among them are read at a time, as bit masks of their classes; other
/// characters one by one, ASCII ones classified by a table.
fn glued_teaser_head(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Whether the character before is a closing `)`, `?`, `!`, `’` or `”`.
    let mut after_close = false;
    let mut lower_run = 0usize;
    // The current white-space-separated word: whether its first alphanumeric character
    // is upper case, and how many alphabetic characters it has.
    let mut first_upper: Option<bool> = None;
    let mut n_alphabetic = 0usize;
    let mut i = 0;
    let mut chars = 0;
    while chars < 200 {
        if chars + 8 <= 200
            && let Some(&chunk) = bytes[i..].first_chunk::<8>()
            && u64::from_le_bytes(chunk) & HIGH == 0
        {
            let x = u64::from_le_bytes(chunk);
            let lower = crate::ascii_bytes_in(x, b'a', b'z');
            let alphabetic = crate::ascii_bytes_in(x | LOWER, b'a', b'z');
            let close = crate::ascii_bytes_in(x, b')', b')')
                | crate::ascii_bytes_in(x, b'?', b'?')
                | crate::ascii_bytes_in(x, b'!', b'!');
            // The lower-case letters of the eight bytes before, as far as the run goes.
            let lower_before = if lower_run >= 8 { HIGH } else { HIGH & !(u64::MAX >> (8 * lower_run)) };
            // The bytes that end a run of four lower-case letters or more.
            let run_end = lower
                & ((lower << 8) | (lower_before >> 56))
                & ((lower << 16) | (lower_before >> 48))
                & ((lower << 24) | (lower_before >> 40));
            let junction_before = (run_end | close) << 8 | if lower_run >= 4 || after_close { 0x80 } else { 0 };
            if junction_before & alphabetic & !lower == 0 {
                let space = white_space_bytes(x);
                let alphanumeric = alphabetic | crate::ascii_bytes_in(x, b'0', b'9');
                for (part, next_space) in word_parts(space) {
                    let first_alphanumeric = alphanumeric & part & (alphanumeric & part).wrapping_neg();
                    if first_upper.is_none() && first_alphanumeric != 0 {
                        first_upper = Some(first_alphanumeric & lower == 0 && first_alphanumeric & alphabetic != 0);
                    }
                    n_alphabetic += crate::count_high_bits(alphabetic & part);
                    if next_space == 0 {
                        break;
                    }
                    if n_alphabetic >= 4 && first_upper != Some(true) {
                        return false;
                    }
                    first_upper = None;
                    n_alphabetic = 0;
                }
                lower_run = if lower == HIGH { lower_run + 8 } else { (!lower & HIGH).leading_zeros() as usize / 8 };
                after_close = close >> 63 != 0;
                i += 8;
                chars += 8;
                continue;
            }
        }
        let Some(&b) = bytes.get(i) else { break };
        let (len, class, close) = if b < 0x80 {
            (1, ASCII_WORD_CLASS[usize::from(b)], matches!(b, b')' | b'?' | b'!'))
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            (c.len_utf8(), char_class(c), matches!(c, '’' | '”'))
        };
        if class & SPACE != 0 {
            if n_alphabetic >= 4 && first_upper != Some(true) {
                return false;
            }
            first_upper = None;
            n_alphabetic = 0;
        } else {
            if first_upper.is_none() && class & (ALPHA | DIGIT) != 0 {
                first_upper = Some(class & UPPER != 0);
            }
            n_alphabetic += usize::from(class & ALPHA != 0);
        }
        let junction = lower_run >= 4 || after_close;
        if junction && class & UPPER != 0 && teaser_at(text, i) {
            return true;
        }
        lower_run = if class & LOWER_CASE != 0 { lower_run + 1 } else { 0 };
        after_close = close;
        i += len;
        chars += 1;
    }
    false
}

/// The `ASCII_WORD_CLASS` bits `glued_teaser` reads, of a non-ASCII character.
fn char_class(c: char) -> u8 {
    let alphabetic = crate::is_alphabetic(c);
    let bit = |yes: bool, bit: u8| if yes { bit } else { 0 };
    bit(c.is_whitespace(), SPACE)
        | bit(alphabetic, ALPHA)
        | bit(!alphabetic && crate::is_alphanumeric(c), DIGIT)
        | bit(c.is_uppercase(), UPPER)
        | bit(c.is_lowercase(), LOWER_CASE)
}

/// Whether `text` reads as a Title Case head of four words or more and a lower-case lede,
/// split at byte `i`.
fn teaser_at(text: &str, i: usize) -> bool {
    let (head, lede) = text.split_at(i);
    let n_head_words = head.split_whitespace().count();
    let title_case = head.split_whitespace().all(|word| {
        let word = word.trim_start_matches(|c: char| !c.is_alphanumeric());
        word.chars().filter(|c| c.is_alphabetic()).count() < 4 || word.starts_with(char::is_uppercase)
    });
    let lower_after = lede.split_whitespace().skip(1).take(6).filter(|w| w.starts_with(char::is_lowercase)).count();
    n_head_words >= 4 && title_case && lower_after >= 3
}

/// The parts of an eight-byte ASCII chunk whose white space bytes `space` marks (by their
/// 0x80 bits), in order, as masks of their bytes' 0x80 bits: each part of a word up to
/// the next white space, with that white space byte (0 for the last part, which runs to
/// the chunk's end).
#[inline(always)]
fn word_parts(space: u64) -> impl Iterator<Item = (u64, u64)> {
    let mut todo = HIGH;
    std::iter::from_fn(move || {
        if todo == 0 {
            return None;
        }
        let spaces = space & todo;
        let next_space = spaces & spaces.wrapping_neg();
        let part = if spaces == 0 { todo } else { todo & (next_space - 1) };
        todo = if spaces == 0 { 0 } else { todo & !(next_space | (next_space - 1)) };
        Some((part, next_space))
    })
}

/// Whether at least `MAX_TITLE_CASE_SHARE` of a block's longer words (four letters or
/// more, at least four of them) start with a capital letter: so do headlines and link
/// texts, not prose (German nouns included).
///
/// One pass over the text, which stops as soon as too many words start in lower case:
/// every longer word still to come needs five bytes (four letters and a space), and
/// holds one of the block's `max_words` (`count_words`' words: each white-space-separated
/// word with a letter holds one of its own), so the share can no longer reach the bar.
/// Prose stops after a few words. Eight ASCII bytes are read at a time, as bit masks of
/// their classes, a word's part in them at once; other characters one by one.
fn is_headline(text: &str, max_words: usize) -> bool {
    let bytes = text.as_bytes();
    let mut scan = HeadlineScan { len: text.len(), max_words, n: 0, caps: 0, first_upper: None, n_alphabetic: 0 };
    let mut i = 0;
    while i < bytes.len() {
        while let Some(&chunk) = bytes[i..].first_chunk::<8>()
            && u64::from_le_bytes(chunk) & HIGH == 0
        {
            let x = u64::from_le_bytes(chunk);
            let space = white_space_bytes(x);
            let alphabetic = crate::ascii_bytes_in(x | LOWER, b'a', b'z');
            let alphanumeric = alphabetic | crate::ascii_bytes_in(x, b'0', b'9');
            for (part, next_space) in word_parts(space) {
                let first_alphanumeric = alphanumeric & part & (alphanumeric & part).wrapping_neg();
                scan.word_part(first_alphanumeric != 0, || {
                    // Its 0x80 bit is bit 7 of its byte.
                    ((x >> (first_alphanumeric.trailing_zeros() - 7)) as u8).is_ascii_uppercase()
                });
                scan.n_alphabetic += crate::count_high_bits(alphabetic & part);
                if next_space == 0 {
                    break;
                }
                if !scan.space(i + next_space.trailing_zeros() as usize / 8) {
                    return false;
                }
            }
            i += 8;
        }
        let Some(&b) = bytes.get(i) else { break };
        let (len, space, alphanumeric, alphabetic) = if b < 0x80 {
            let class = ASCII_WORD_CLASS[usize::from(b)];
            (1, class & SPACE != 0, class & (ALPHA | DIGIT) != 0, class & ALPHA != 0)
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            (c.len_utf8(), c.is_whitespace(), crate::is_alphanumeric(c), crate::is_alphabetic(c))
        };
        if space {
            if !scan.space(i) {
                return false;
            }
        } else {
            scan.word_part(alphanumeric, || {
                if b < 0x80 {
                    ASCII_WORD_CLASS[usize::from(b)] & UPPER != 0
                } else {
                    text[i..].starts_with(char::is_uppercase)
                }
            });
            scan.n_alphabetic += usize::from(alphabetic);
        }
        i += len;
    }
    scan.word_end();
    scan.n >= 4 && scan.caps as f64 / scan.n as f64 >= MAX_TITLE_CASE_SHARE
}

/// `is_headline`'s counts.
struct HeadlineScan {
    len: usize,
    max_words: usize,
    /// The longer words so far, and those of them that start with a capital letter.
    n: usize,
    caps: usize,
    /// The current word (white space separated): whether its first alphanumeric character
    /// is upper case, and how many alphabetic characters it has.
    first_upper: Option<bool>,
    n_alphabetic: usize,
}

impl HeadlineScan {
    /// A part of the current word: `alphanumeric` when it holds an alphanumeric character,
    /// and `upper()` whether the first is upper case.
    #[inline(always)]
    fn word_part(&mut self, alphanumeric: bool, upper: impl FnOnce() -> bool) {
        if self.first_upper.is_none() && alphanumeric {
            self.first_upper = Some(upper());
        }
    }

    /// Counts the current word if it is a longer one.
    #[inline(always)]
    fn word_end(&mut self) {
        if self.n_alphabetic >= 4 {
            self.n += 1;
            self.caps += usize::from(self.first_upper == Some(true));
        }
    }

    /// White space at byte `i`: ends the current word. False when the share of capitalised
    /// words can no longer reach the bar.
    #[inline(always)]
    fn space(&mut self, i: usize) -> bool {
        if self.n_alphabetic >= 4 {
            self.word_end();
            let max_n = (self.n + (self.len - i) / 5 + 1).min(self.max_words);
            if (self.n - self.caps) as f64 > (1.0 - MAX_TITLE_CASE_SHARE) * max_n as f64 + 1.0 {
                return false;
            }
        }
        self.first_upper = None;
        self.n_alphabetic = 0;
        true
    }
}

fn ends_like_sentence(text: &str) -> bool {
    let t = text.trim_end();
    let last = t.chars().last().unwrap_or(' ');
    matches!(last, '.' | '!' | '?' | '"' | '”' | '’' | '»' | '。' | '！' | '？' | ')' | ':' | '…') || t.contains(". ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(texts: &[&str]) -> Option<(usize, usize)> {
        let blocks: Vec<BlockInfo<'_>> = texts.iter().map(|t| BlockInfo::new(t, false)).collect();
        main_region(&blocks, 0).1.first().copied()
    }

    const P1: &str =
        "The council met on Tuesday and voted to approve the new budget for the coming year, after a long debate.";
    const P2: &str =
        "Most of the money will go to schools and roads, and the rest will be kept in reserve for the winter.";

    #[test]
    fn picks_the_prose_run() {
        assert_eq!(run(&["Home", "News", "Sports", P1, "A heading", P2, "Contact", "Privacy"]), Some((3, 6)));
    }

    #[test]
    fn end_markers_cut_comment_threads() {
        let comment =
            "I think the council should have spent more of the money on the parks, which are in a sorry state.";
        assert_eq!(run(&[P1, P2, "3 Comments", comment, comment]), Some((0, 2)));
    }

    #[test]
    fn end_marker_shapes() {
        for marker in [
            "3 thoughts on “A working mom seeks balance”",
            "Leave a Reply Cancel reply",
            "More Articles You Might Enjoy",
            "You May Also Enjoy:",
            "About Our Expert",
            "Post navigation",
            "What to read next",
            "Add Your Comment",
            "Post A Comment — I'd Love To Hear From You!",
            "Reader Comments",
            "Article Sources",
            "Footnotes",
        ] {
            assert!(is_end_marker(marker), "{marker:?}");
            assert!(may_start_marker(marker), "{marker:?}");
        }
        for weak in ["Related", "More Stories", "More from Example", "Recommended for you", "Read next", "Explore more"]
        {
            assert!(WEAK_END_MARKER.is_match(weak) && may_start_marker(weak), "{weak:?}");
        }
        assert!(!may_start_marker("Home") && !may_start_marker("  News") && may_start_marker("ſimilar"));
        for prose in [
            "More articles are planned for next year, the editor said.",
            "About the author's new book, critics were divided.",
            "You will also like the view from the top.",
            "Readers' comments poured in after the first episode aired.",
            "Citations for speeding rose by a third last year.",
        ] {
            assert!(!is_end_marker(prose), "{prose:?}");
        }
    }

    #[test]
    fn no_run_crosses_an_end_marker() {
        // The tail after the marker is worth more than the marker used to cost.
        let comment =
            "I think the council should have spent more of the money on the parks, which are in a sorry state.";
        let page = [P1, P2, P1, P2, P1, "Leave a Reply Cancel reply", comment, comment, comment, comment];
        assert_eq!(run(&page), Some((0, 5)));
    }

    #[test]
    fn removed_markers_end_the_article_only_when_unambiguous() {
        let comment =
            "I think the council should have spent more of the money on the parks, which are in a sorry state.";
        let region = |texts: &[&str], removed: usize| {
            let blocks: Vec<BlockInfo<'_>> =
                texts.iter().enumerate().map(|(i, t)| BlockInfo::new(t, i == removed)).collect();
            main_region(&blocks, 0).1
        };
        // "Leave a comment", removed as furniture, still stops the run.
        let page = [P1, P2, P1, P2, P1, "Leave a comment", comment, comment, comment, comment];
        assert_eq!(region(&page, 5), vec![(0, 5)]);
        // A "Related Stories" box removed as furniture inside a story does not cut it,
        // but a short tail after one stays out.
        let page = [P1, P2, P1, "Related Stories", P1, P2, P1];
        assert_eq!(region(&page, 3), vec![(0, 7)]);
        let page = [P1, P2, P1, P2, P1, P2, "Related Stories", comment];
        assert_eq!(region(&page, 6), vec![(0, 6)]);
    }

    #[test]
    fn the_part_after_the_article_end_weighs_less() {
        // A disclaimer and promotions after "About the author" hold more prose than the
        // short article, which still wins; without a title before it, the marker at the
        // top of the page is no article end.
        let promo = "Sign up today and you will get access to a free online course on diet, which can lower the risk of disease.";
        let page = [P1, P2, P1, "About the Author", promo, promo, promo, promo, promo];
        assert_eq!(run(&page), Some((0, 3)));
        let blocks: Vec<BlockInfo<'_>> = ["Related", P1, P2, P1].iter().map(|t| BlockInfo::new(t, false)).collect();
        assert_eq!(main_region(&blocks, 0).1, vec![(1, 4)]);
    }

    #[test]
    fn an_introduction_after_the_title_is_kept() {
        // An introduction under the title, then a table of contents, then the article.
        let mut page = vec!["Menu", P1, P2];
        page.extend(["Contents", "Step one", "Step two", "Step three", "Step four", "Step five", "Step six", "FAQ"]);
        page.extend([P1, P2, P1, P2, P1, P2, P1, P2]);
        let blocks: Vec<BlockInfo<'_>> = page.iter().map(|t| BlockInfo::new(t, false)).collect();
        assert_eq!(main_region(&blocks, 1).1, vec![(11, 19), (1, 3)]);
        // Without a title there is no telling an introduction from a teaser.
        assert_eq!(main_region(&blocks, 0).1, vec![(11, 19)]);
        // A one-paragraph introduction above a long guide (about 6% of its sum) is kept;
        // one short sentence (under 5%) is not.
        let mut page = vec!["Menu", P1, "Contents", "Step one", "Step two", "Step three", "Step four"];
        page.extend([P1, P2].repeat(8));
        let blocks: Vec<BlockInfo<'_>> = page.iter().map(|t| BlockInfo::new(t, false)).collect();
        assert_eq!(main_region(&blocks, 1).1, vec![(7, 23), (1, 2)]);
        let short = "The council met on Tuesday and voted for the new plan in the end.";
        page[1] = short;
        let blocks: Vec<BlockInfo<'_>> = page.iter().map(|t| BlockInfo::new(t, false)).collect();
        assert_eq!(main_region(&blocks, 1).1, vec![(7, 23)]);
    }

    #[test]
    fn runs_grow_over_short_sentences() {
        let opening = "Social shopping has become a major force in commerce.";
        let page = [
            "Menu",
            "June 26, 2025",
            opening,
            P1,
            P2,
            "Avoid agencies that promise you guaranteed results!",
            "About us",
        ];
        assert_eq!(run(&page), Some((2, 6)));
        // Short lines that are no sentences, or too short, stay out.
        let page = ["Menu", "Weather: sunny", "Read the full story.", P1, P2, "Contact us"];
        assert_eq!(run(&page), Some((3, 5)));
    }

    #[test]
    fn non_english_prose_counts() {
        let de = "Der Stadtrat hat am Dienstag mit großer Mehrheit beschlossen, einen neuen Radweg entlang des Flusses zu bauen.";
        assert_eq!(run(&["Startseite", de, de, "Impressum"]), Some((1, 3)));
    }

    #[test]
    fn a_second_strong_run_is_kept() {
        let blocks: Vec<BlockInfo<'_>> = [P1, P2, "Menu", "Home", "News", "Sports", "Weather", P1]
            .iter()
            .map(|t| BlockInfo::new(t, false))
            .collect();
        assert_eq!(main_region(&blocks, 0).1, vec![(0, 2), (7, 8)]);
    }

    #[test]
    fn glued_teasers() {
        assert!(glued_teaser(
            "Customers Leave Without Paying $690 Bill At Troy SteakhouseA party of six left the restaurant after a fight."
        ));
        assert!(glued_teaser("First Forecast Weather November 20 (This Morning)Some sunshine by the end of the day."));
        // Camel-case names inside prose.
        assert!(!glued_teaser("Platforms like Instagram, TikTok, and Facebook aren’t just for engagement anymore."));
        assert!(!glued_teaser("Since August, all GitHub Actions jobs have run on our new architecture."));
    }

    #[test]
    fn a_teaser_river_is_not_the_main_text() {
        let teaser = "Harvick Fails To Rally Overmatched Ford In NASCAR FinaleFord v Toyota flopped for the blue oval at the track on Sunday, and fans were not pleased.";
        let teaser2 = "Police Say Two In Custody After Death Of Local Student-AthleteA woman and a man have been arrested in connection with the death of a student.";
        let story = "Health officials said on Monday that the victim was one of two people who caught the virus, and that the death occurred on Saturday.";
        assert_eq!(run(&[teaser, teaser2, teaser, "Weather", story, story, "Sports", teaser2, teaser]), Some((4, 6)));
        // A product name in camel case looks glued, but two such blocks are no river: they
        // score as prose.
        let product =
            "The Philips Sonicare ProtectiveClean 4100 was one of our favorite brushes overall, and it is cheap.";
        assert!(glued_teaser(product));
        assert_eq!(run(&[product, story, product]), Some((0, 3)));
    }

    #[test]
    fn title_case_blocks_are_headlines() {
        let headline = "This Midwestern City Was Just Ranked One of the Best Places to Retire in the U.S.—and It's Also the Happiest City in America";
        assert!(headline_of(headline));
        assert_eq!(run(&[P1, headline, headline, headline, headline]), Some((0, 1)));
        // Prose with many names, and German prose with its capitalised nouns, are not.
        let names =
            "Senator Smith met President Jones and Governor Brown in Boston on Tuesday to talk about the budget.";
        let de = "Der Stadtrat hat am Dienstag mit großer Mehrheit beschlossen, einen neuen Radweg entlang des Flusses zu bauen.";
        assert!(!headline_of(names));
        assert!(!headline_of(de));
    }

    #[test]
    fn lone_ledes_under_headlines_are_teasers() {
        let headline = "Watching This Koala Get Rescued From A Bushfire Is Heart-Wrenching";
        let lede = "Dozens of bushfires are spreading across Australia, burning across more than two million acres.";
        let long = "The analysis, published online by the journal, used 97 earlier research reviews involving more than 1,000 trials with many thousands of adults, and it found that walking, resistance training and yoga all helped people with mild depression feel better within weeks, the authors said.";
        // The story is one long paragraph; the teasers' ledes would outweigh it at full score.
        let page = [long, "Menu", headline, lede, headline, "2 hours ago", lede, headline, lede, headline, lede];
        assert_eq!(run(&page), Some((0, 1)));
        // The same paragraphs under sentence-case subheadings, as in a listicle, stay prose.
        let subhead = "Feels like a proper design tool";
        let page = [long, "Menu", subhead, lede, subhead, "2 hours ago", lede, subhead, lede, subhead, lede];
        assert_eq!(run(&page), Some((0, 11)));
    }

    #[test]
    fn headlines_and_junctions_match_plain_scans() {
        // The plain forms the fast ones must agree with.
        let title_case_share = |text: &str| {
            let mut n = 0usize;
            let mut caps = 0usize;
            for word in text.split_whitespace() {
                let word = word.trim_start_matches(|c: char| !c.is_alphanumeric());
                if word.chars().filter(|c| c.is_alphabetic()).take(4).count() < 4 {
                    continue;
                }
                n += 1;
                caps += usize::from(word.starts_with(char::is_uppercase));
            }
            if n < 4 { 0.0 } else { caps as f64 / n as f64 }
        };
        let junction = |text: &str| {
            let mut prev = ' ';
            text.chars().take(200).any(|c| {
                let res = c.is_uppercase() && (prev.is_lowercase() || matches!(prev, ')' | '?' | '!' | '’' | '”'));
                prev = c;
                res
            })
        };
        let long = "The analysis, published online by the journal, used 97 earlier research reviews involving more than 1,000 trials.";
        for text in [
            "This Midwestern City Was Just Ranked One of the Best Places to Retire in the U.S.—and It's Also the Happiest",
            "Senator Smith met President Jones and Governor Brown in Boston on Tuesday to talk about the budget.",
            "Der Stadtrat hat am Dienstag mit großer Mehrheit beschlossen, einen neuen Radweg zu bauen.",
            "Customers Leave Without Paying At SteakhouseA party of six left the restaurant after a fight.",
            "Ünited Ärzte Öffnen Überall Wieder (Heute)Ärzte öffnen heute wieder in der ganzen Stadt",
            "Who Said What?Nobody knows who said what at the meeting on Tuesday night",
            "It’s “Quoted”Then it goes on",
            "ALL CAPS HEADLINE WITH MANY WORDS IN IT",
            "Four Long Words here",
            "",
            long,
            &long.repeat(5),
        ] {
            assert_eq!(headline_of(text), title_case_share(text) >= MAX_TITLE_CASE_SHARE, "{text:?}");
            assert!(!glued_teaser(text) || junction(text), "{text:?}");
        }
    }

    /// `is_headline` as `main_region` asks it, with the block's word count.
    fn headline_of(text: &str) -> bool {
        is_headline(text, count_words(text, 0).words)
    }

    /// `is_headline` as it was first written, character by character.
    fn is_headline_reference(text: &str) -> bool {
        let mut n = 0usize;
        let mut caps = 0usize;
        let mut first_upper: Option<bool> = None;
        let mut n_alphabetic = 0usize;
        for (i, c) in text.char_indices() {
            if c.is_whitespace() {
                if n_alphabetic >= 4 {
                    n += 1;
                    caps += usize::from(first_upper == Some(true));
                    let max_n = n + (text.len() - i) / 5 + 1;
                    if (n - caps) as f64 > (1.0 - MAX_TITLE_CASE_SHARE) * max_n as f64 + 1.0 {
                        return false;
                    }
                }
                first_upper = None;
                n_alphabetic = 0;
                continue;
            }
            if first_upper.is_none() && c.is_alphanumeric() {
                first_upper = Some(c.is_uppercase());
            }
            n_alphabetic += usize::from(c.is_alphabetic());
        }
        if n_alphabetic >= 4 {
            n += 1;
            caps += usize::from(first_upper == Some(true));
        }
        n >= 4 && caps as f64 / n as f64 >= MAX_TITLE_CASE_SHARE
    }

    #[test]
    fn ascii_classes_are_the_char_classes() {
        for b in 0..128u8 {
            let (c, class) = (char::from(b), ASCII_WORD_CLASS[usize::from(b)]);
            assert_eq!(class & SPACE != 0, c.is_whitespace(), "{b}");
            assert_eq!(class & ALPHA != 0, c.is_alphabetic(), "{b}");
            assert_eq!(class & (ALPHA | DIGIT) != 0, c.is_alphanumeric(), "{b}");
            assert_eq!(class & UPPER != 0, c.is_uppercase(), "{b}");
            assert_eq!(class & LOWER_CASE != 0, c.is_lowercase(), "{b}");
            assert_eq!(class & WORD != 0, c.is_alphanumeric() || c == '\'', "{b}");
        }
    }

    #[test]
    fn headlines_match_the_char_by_char_scan() {
        let pieces = [
            "Word",
            "word",
            "Über",
            "über",
            "ÜBER",
            "Straße",
            "東京都庁舎",
            "İstanbul",
            "ǅemal",
            "x",
            "Q9",
            "123",
            "1999s",
            "'Tis",
            "“Quoted”",
            "(Note)",
            " ",
            " ",
            " ",
            "\t",
            "\n",
            "\x0b",
            "\x0c",
            "\r",
            "\x1c",
            "\u{a0}",
            "\u{2003}",
            "\u{85}",
            "-",
            ".",
            "—",
            "é",
            "É",
            "ſ",
        ];
        let mut n_headlines = 0;
        for text in crate::pieced_texts(&pieces, 20000, 40) {
            let want = is_headline_reference(&text);
            assert_eq!(headline_of(&text), want, "{text:?}");
            assert_eq!(is_headline(&text, usize::MAX), want, "{text:?}");
            n_headlines += usize::from(want);
        }
        assert!(n_headlines > 100, "{n_headlines}");
    }

    /// `glued_teaser` as it was first written: every junction in the first 200 characters
    /// is tried.
    fn glued_teaser_reference(text: &str) -> bool {
        if text.split_whitespace().count() < TEASER_MIN_WORDS {
            return false;
        }
        let mut prev = ' ';
        let mut lower_run = 0usize;
        for (i, c) in text.char_indices().take(200) {
            let junction = lower_run >= 4 || matches!(prev, ')' | '?' | '!' | '’' | '”');
            if junction && c.is_uppercase() {
                let (head, lede) = text.split_at(i);
                let n_head_words = head.split_whitespace().count();
                let title_case = head.split_whitespace().all(|word| {
                    let word = word.trim_start_matches(|c: char| !c.is_alphanumeric());
                    word.chars().filter(|c| c.is_alphabetic()).count() < 4 || word.starts_with(char::is_uppercase)
                });
                let lower_after =
                    lede.split_whitespace().skip(1).take(6).filter(|w| w.starts_with(char::is_lowercase)).count();
                if n_head_words >= 4 && title_case && lower_after >= 3 {
                    return true;
                }
            }
            lower_run = if c.is_lowercase() { lower_run + 1 } else { 0 };
            prev = c;
        }
        false
    }

    #[test]
    fn glued_teasers_match_the_scan_of_every_junction() {
        let pieces = [
            "Word",
            "Words",
            "word",
            "words",
            "Über",
            "über",
            "ÜBER",
            "Straße",
            "Ärzte",
            "東京都",
            "x",
            "At",
            "of",
            "Q9",
            "1999",
            "(Note)",
            "Why?",
            "Now!",
            "“Quoted”",
            "‘It’s’",
            "SteakhouseA",
            "heuteÄrzte",
            "TikTok",
            "iPhone",
            "ǅemal",
            "ſ",
            " ",
            " ",
            " ",
            " ",
            "\t",
            "\n",
            "\u{a0}",
            "\u{2003}",
            "-",
            ".",
            "—",
            "'",
        ];
        let mut n_teasers = 0;
        for text in crate::pieced_texts(&pieces, 30000, 60) {
            assert_eq!(glued_teaser(&text), glued_teaser_reference(&text), "{text:?}");
            n_teasers += usize::from(glued_teaser(&text));
        }
        // Title Case heads glued to lower-case ledes, at every length around 200 characters.
        let lede = " a party of six left the restaurant after a fight over the bill";
        for n_head in 1..60 {
            let head = ["Customers"; 60][..n_head].join(" ");
            for junction in ["SteakhouseA", "SteakhouseÄ", "Why?A", "(Note)A", "hereA"] {
                let text = format!("{head} {junction}{lede}");
                assert_eq!(glued_teaser(&text), glued_teaser_reference(&text), "{text:?}");
                n_teasers += usize::from(glued_teaser(&text));
            }
        }
        assert!(n_teasers > 50, "{n_teasers}");
    }

    #[test]
    fn packed_words_are_lower_cased() {
        let plain = |word: &[u8]| {
            let mut buf = [0u8; 8];
            for (dst, b) in buf.iter_mut().zip(word) {
                *dst = b.to_ascii_lowercase();
            }
            u64::from_le_bytes(buf)
        };
        for b in 1..128u8 {
            for pos in 0..8 {
                let mut word = *b"AbcDEfgZ";
                word[pos] = b;
                for len in 1..=8 {
                    assert_eq!(pack_ascii(&word[..len]), plain(&word[..len]), "{:?}", &word[..len]);
                }
            }
        }
    }

    /// `SHORT_STOP_WORDS` as a hash map.
    static REFERENCE_SHORT_STOP_WORDS: LazyLock<FxHashMap<u64, u32>> = LazyLock::new(|| {
        STOP_WORDS
            .iter()
            .filter(|(word, _)| word.is_ascii() && word.len() <= 8)
            .map(|(word, &mask)| (pack_ascii(word.as_bytes()), mask))
            .collect()
    });

    #[test]
    fn packed_stop_words_are_the_short_stop_words() {
        for (&word, &mask) in REFERENCE_SHORT_STOP_WORDS.iter() {
            assert_eq!(SHORT_STOP_WORDS.get(word), mask, "{word:x}");
        }
        for word in ["zebra", "council", "x", "q", "thee", "the'", "budget", "aaaaaaaa"] {
            let key = pack_ascii(word.as_bytes());
            assert_eq!(SHORT_STOP_WORDS.get(key), REFERENCE_SHORT_STOP_WORDS.get(&key).copied().unwrap_or(0), "{word}");
        }
    }

    /// `count_words` as it was first written, byte by byte: the reference it is checked against.
    /// Words are runs of alphanumeric characters and apostrophes. One pass over the bytes,
    /// with ASCII handled without decoding and each word scanned in a tight loop: this runs
    /// on every byte of every page.
    struct ReferenceCounts {
        words: usize,
        stop: [u32; LANGUAGES.len()],
        alphanumeric: usize,
        cjk: usize,
    }

    fn count_words_reference(text: &str) -> ReferenceCounts {
        let mut res = ReferenceCounts { words: 0, stop: [0; LANGUAGES.len()], alphanumeric: 0, cjk: 0 };
        let max_len = *MAX_STOP_WORD_LEN;
        let short_stop_words = &*REFERENCE_SHORT_STOP_WORDS;
        let mut lower = String::new();
        let bytes = text.as_bytes();
        let mut count = |start: usize, end: usize, ascii: bool, upper: bool, res: &mut ReferenceCounts| {
            res.words += 1;
            let word = &text[start..end];
            if ascii && word.len() <= 8 {
                // The eight bytes from the word's start in one load, when the text has them.
                let key = match bytes.get(start..start + 8).and_then(|chunk| <[u8; 8]>::try_from(chunk).ok()) {
                    Some(chunk) => {
                        let keep = u64::MAX >> (64 - 8 * word.len());
                        let x = u64::from_le_bytes(chunk) & keep;
                        x | (crate::ascii_bytes_in(x, b'A', b'Z') >> 2)
                    }
                    None => pack_ascii(word.as_bytes()),
                };
                if let Some(&mask) = short_stop_words.get(&key) {
                    add_stop(&mut res.stop, mask);
                }
                return;
            }
            // Stop lists are lower case; most words already are, and need no copy.
            let key = if upper {
                lower.clear();
                if ascii {
                    lower.push_str(word);
                    lower.make_ascii_lowercase();
                } else {
                    lower.extend(word.chars().flat_map(char::to_lowercase));
                }
                lower.as_str()
            } else {
                word
            };
            if key.len() > max_len {
                return;
            }
            if let Some(&mask) = STOP_WORDS.get(key) {
                add_stop(&mut res.stop, mask);
            }
        };
        let mut i = 0;
        while i < bytes.len() {
            // Between words: skip to the next word character, ASCII bytes in a tight loop.
            while bytes.get(i).is_some_and(|&b| ASCII_WORD_CLASS[usize::from(b)] & (WORD | NON_ASCII) == 0) {
                i += 1;
            }
            let Some(&b) = bytes.get(i) else { break };
            if b >= 0x80 {
                let c = text[i..].chars().next().unwrap_or(' ');
                if !(c.is_alphanumeric() || c == '’') {
                    i += c.len_utf8();
                    continue;
                }
            }
            // A word starts at `i`: run to its end in a tight loop over its ASCII bytes, which
            // only collects their classes; apostrophes (rare) are counted afterwards.
            let start = i;
            let mut ascii = true;
            let mut upper = false;
            loop {
                let run_start = i;
                let mut classes = 0u8;
                while let Some(&b) = bytes.get(i) {
                    let class = ASCII_WORD_CLASS[usize::from(b)];
                    if class & WORD == 0 {
                        break;
                    }
                    classes |= class;
                    i += 1;
                }
                let run = &bytes[run_start..i];
                let apostrophes =
                    if classes & APOSTROPHE != 0 { run.iter().filter(|&&b| b == b'\'').count() } else { 0 };
                res.alphanumeric += run.len() - apostrophes;
                upper |= classes & UPPER != 0;
                // An ASCII byte that is no word byte, or the end, ends the word; a non-ASCII
                // character may go on with it.
                if bytes.get(i).is_none_or(|&b| b < 0x80) {
                    break;
                }
                let c = text[i..].chars().next().unwrap_or(' ');
                let alphanumeric = c.is_alphanumeric();
                if !(alphanumeric || c == '’') {
                    break;
                }
                if alphanumeric {
                    res.alphanumeric += 1;
                    res.cjk += usize::from(is_cjk(c));
                }
                ascii = false;
                upper |= c.is_uppercase();
                i += c.len_utf8();
            }
            count(start, i, ascii, upper, &mut res);
        }
        res
    }

    #[test]
    fn word_counts_match_the_byte_by_byte_scan() {
        let mut texts: Vec<String> = [
            "The council's budget, AND the mayor’s: über Straße İstanbul 東京都 K\u{212a}elvin it's",
            "  leading and trailing  ",
            "Der Stadtrat hat am Dienstag beschlossen; la ville a voté.",
            "",
            "’'",
            "THE AND OF Über ǅemal Ǆ ǆ ÜBER DIE",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa WHEREAS nevertheless NEVERTHELESS",
        ]
        .map(String::from)
        .to_vec();
        // More stop words of one language than `StopTally` holds between flushes.
        texts.push("the de la und in a ".repeat(300));
        // Mixed strings at every alignment, from a small pseudo-random generator, with
        // stop words of several languages among them.
        let pieces = [
            "the",
            "The",
            "AND",
            "of",
            "der",
            "die",
            "und",
            "le",
            "la",
            "et",
            "über",
            "Über",
            "было",
            "Было",
            "x",
            "Q9",
            "don't",
            "’",
            "'",
            " ",
            " ",
            " ",
            ",",
            ".",
            "\n",
            "é",
            "東京",
            "\u{a0}",
            "-",
            "através",
            "ÜBERALL",
            "dessen",
            "nevertheless",
            "because",
            // White space and control characters, for the white-space-separated count.
            "\t",
            "\x0b",
            "\r\n",
            "\x1f",
            "\x00",
            "\x7f",
            "\u{2003}",
            "\u{3000}",
            "\u{85}",
        ];
        texts.extend(crate::pieced_texts(&pieces, 5000, 24));
        for text in &texts {
            for spaced_limit in [usize::MAX, 0, 7, 20] {
                let (got, want) = (count_words(text, spaced_limit), count_words_reference(text));
                assert_eq!(
                    (got.words, got.stop, alphanumeric_chars(text), got.cjk, got.spaced),
                    (
                        want.words,
                        want.stop,
                        want.alphanumeric,
                        want.cjk,
                        text.split_whitespace().count().min(spaced_limit)
                    ),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn white_space_bytes_are_the_ascii_space_bytes() {
        for b in 0..128u8 {
            for pos in 0..8 {
                let mut bytes = *b"a b\nc.Z ";
                bytes[pos] = b;
                let x = u64::from_le_bytes(bytes);
                assert_eq!(white_space_bytes(x), crate::ascii_space_bytes(x), "{bytes:?}");
            }
        }
    }

    #[test]
    fn word_counts_match_a_plain_split() {
        // The byte scanner must see the same words as splitting on characters does.
        for text in [
            "The council's budget, AND the mayor’s: über Straße İstanbul 東京都 K\u{212a}elvin it's",
            "  leading and trailing  ",
            "Der Stadtrat hat am Dienstag beschlossen; la ville a voté.",
            "",
            "’'",
        ] {
            let words: Vec<&str> =
                text.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’').filter(|w| !w.is_empty()).collect();
            let mut stop = [0u32; LANGUAGES.len()];
            for word in &words {
                let key: String = word.chars().flat_map(char::to_lowercase).collect();
                if let Some(&mask) = STOP_WORDS.get(key.as_str()) {
                    for (lang, n) in stop.iter_mut().enumerate() {
                        *n += (mask >> lang) & 1;
                    }
                }
            }
            let counts = count_words(text, usize::MAX);
            assert_eq!((counts.words, counts.stop), (words.len(), stop), "{text:?}");
            assert_eq!(alphanumeric_chars(text), text.chars().filter(|c| c.is_alphanumeric()).count());
        }
    }

    #[test]
    fn no_prose_no_region() {
        assert_eq!(run(&["Home", "News"]), None);
    }
}
