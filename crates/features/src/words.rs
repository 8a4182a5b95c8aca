//! The word scan every word-based signal shares: counts, sentences, readability,
//! entities and quote attribution.
//!
//! A word is a run of letters and digits, with inner `'`, `’`, `-`, `.` or `&` between two
//! of them ("don’t", "e-mail", "U.S", "AT&T"); the final period of initials and of common
//! abbreviations belongs to the word ("U.S.", "Mr."). A Chinese or Japanese character is a
//! word on its own, as in Unicode's word boundaries (UAX #29).
//!
//! A sentence starts at a block's first word, after a line break, and after `. ! ? …` or
//! their CJK forms unless the next word starts in lower case ("e.g. this"), as in UAX #29.

use pith_types::{Block, BlockKind};

use crate::lexicon::is_abbreviation;
use crate::readability::{ALNUM, BYTE_CLASSES, NON_ASCII, VOWEL, WordStats};

/// A word: its byte range in the document text and what the scan learnt about it, in 12
/// bytes (documents of many millions of words keep all of them).
///
/// Offsets are `u32`: a text over 4 GiB has its words scanned in its first 4 GiB only.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Word {
    start: u32,
    end: u32,
    flags: u16,
}

/// Starts with an upper-case letter and has two characters or more.
const CAP: u16 = 1;
const ACRONYM: u16 = 1 << 1;
/// Capitalised by convention: a sentence start, or the first word of a quote.
const CAP_INITIAL: u16 = 1 << 2;
/// One space (or no-break space) from the previous word of the same block.
const JOINED: u16 = 1 << 3;
/// In a heading, or a block that looks like one: capitals mean nothing there.
const HEADING: u16 = 1 << 4;
const IN_QUOTE: u16 = 1 << 5;
/// The first word of a sentence.
const SENTENCE_START: u16 = 1 << 6;
/// The first word of a block.
const BLOCK_START: u16 = 1 << 7;
/// Ends with a possessive "’s" (4 bytes) or "'s" (2 bytes), which is not part of its name.
const POSSESSIVE_CURLY: u16 = 1 << 8;
const POSSESSIVE_STRAIGHT: u16 = 1 << 9;

impl Word {
    /// Byte offsets in the document text.
    pub(crate) fn start(&self) -> usize {
        self.start as usize
    }

    pub(crate) fn end(&self) -> usize {
        self.end as usize
    }

    /// `end` without a possessive "’s".
    pub(crate) fn name_end(&self) -> usize {
        if self.flags & POSSESSIVE_CURLY != 0 {
            self.end() - "’s".len()
        } else if self.flags & POSSESSIVE_STRAIGHT != 0 {
            self.end() - "'s".len()
        } else {
            self.end()
        }
    }

    fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    pub(crate) fn cap(&self) -> bool {
        self.has(CAP)
    }

    pub(crate) fn acronym(&self) -> bool {
        self.has(ACRONYM)
    }

    pub(crate) fn cap_initial(&self) -> bool {
        self.has(CAP_INITIAL)
    }

    pub(crate) fn joined(&self) -> bool {
        self.has(JOINED)
    }

    pub(crate) fn heading(&self) -> bool {
        self.has(HEADING)
    }

    pub(crate) fn in_quote(&self) -> bool {
        self.has(IN_QUOTE)
    }

    pub(crate) fn sentence_start(&self) -> bool {
        self.has(SENTENCE_START)
    }

    pub(crate) fn block_start(&self) -> bool {
        self.has(BLOCK_START)
    }
}

/// Capital letters separated by single periods ("U.S", "D.C") or one capital letter (an
/// initial).
fn is_initials(word: &str) -> bool {
    let mut expect_letter = true;
    for c in word.chars() {
        if expect_letter && !c.is_uppercase() || !expect_letter && c != '.' {
            return false;
        }
        expect_letter = !expect_letter;
    }
    !expect_letter
}

/// Two to six capital letters, possibly with periods or `&` ("ICE", "U.S.", "AT&T").
fn is_acronym(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut letters = 0;
    for c in name.chars() {
        if c.is_alphabetic() {
            if !c.is_uppercase() {
                return false;
            }
            letters += 1;
        } else if c != '.' && c != '&' {
            return false;
        }
    }
    (2..=6).contains(&letters)
}

/// A one-line block in title case without final punctuation ("Commitment to Local
/// Laws", "Safety and Partnership with Federal Authorities"): every word of five letters
/// or more is capitalised.
fn looks_like_heading(text: &str) -> bool {
    // The ending first: most paragraphs end with punctuation, and the line-break test reads
    // the whole block.
    if text.trim_end().ends_with(['.', '!', '?', ':', ';', '"', '”', '»']) || text.contains('\n') {
        return false;
    }
    let (mut n_long, mut n_capitalised) = (0, 0);
    for (i, word) in text.split_whitespace().enumerate() {
        if i == 15 {
            return false;
        }
        if word.chars().filter(|c| c.is_alphabetic()).count() > 4 {
            n_long += 1;
            n_capitalised += usize::from(word.starts_with(char::is_uppercase));
        }
    }
    n_long > 0 && n_capitalised == n_long
}

/// Whether `head`, which ends with `/`, ends with a URL: its last white-space separated
/// chunk has a period before its first slash ("t.co/", "https://www.x.com/a/").
fn in_url(head: &str) -> bool {
    let chunk = head.rsplit(char::is_whitespace).next().unwrap_or(head);
    chunk.split('/').next().is_some_and(|host| host.contains('.') || host.ends_with(':'))
}

/// Han, kana: one character, one word.
fn is_ideograph(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// Marks that open a quotation, after which the first word is capitalised by convention.
const OPENING_MARKS: &[char] = &['“', '«', '„', '「', '"', '‘', ':'];

const SENTENCE_ENDS: &[char] = &['.', '!', '?', '\n', '…', '。', '！', '？'];

/// The character at byte `i` of `s` and its length, with a fast path for ASCII.
#[inline]
fn char_at(s: &str, i: usize) -> Option<(char, usize)> {
    let b = *s.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((b as char, 1));
    }
    s[i..].chars().next().map(|c| (c, c.len_utf8()))
}

#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_alphanumeric() } else { c.is_alphanumeric() && !is_ideograph(c) }
}

/// The ASCII letters and digits of `bytes` from `j`: where they end, and the vowel groups
/// and or-ed byte classes, carried on from the given ones (`prev_vowel`: whether the byte
/// before `j` counts as a vowel). Not inlined: in the word scan's large body its counters lived on the stack, a
/// store and a load per byte.
#[inline(never)]
fn ascii_run(
    bytes: &[u8],
    mut j: usize,
    mut groups: usize,
    mut prev_vowel: bool,
    mut classes: u8,
) -> (usize, usize, u8) {
    while let Some(&b) = bytes.get(j) {
        let class = BYTE_CLASSES[b as usize];
        if class & ALNUM == 0 {
            break;
        }
        let vowel = class & VOWEL != 0;
        groups += usize::from(vowel && !prev_vowel);
        prev_vowel = vowel;
        classes |= class;
        j += 1;
    }
    (j, groups, classes)
}

/// Cuts every block into words. `blocks[i]` starts at `starts[i]` in `text`; `quotes`
/// are the (start, end) byte ranges of quotations, in order.
#[cfg(test)]
pub(crate) fn scan(
    text: &str,
    blocks: &[Block],
    starts: &[usize],
    quotes: &[(usize, usize)],
) -> (Vec<Word>, WordStats) {
    scan_into(text, blocks, starts, quotes, Vec::new())
}

/// `scan`, into `words` (emptied first): an earlier document's vector, whose capacity only
/// is reused (see `Scratch`).
pub(crate) fn scan_into(
    text: &str,
    blocks: &[Block],
    starts: &[usize],
    quotes: &[(usize, usize)],
    mut words: Vec<Word>,
) -> (Vec<Word>, WordStats) {
    // A word per 5 bytes is more than most documents have (one in five of the generated
    // corpus's has more than one per 6 bytes, and grew the vector by copying it); a huge
    // document's untouched capacity costs address space, not memory.
    words.clear();
    words.reserve(text.len() / 5);
    let mut stats = WordStats::default();
    let mut quote_at = 0;
    for (block, &block_start) in blocks.iter().zip(starts) {
        let heading = block.kind == BlockKind::Heading || looks_like_heading(&block.text);
        let s = &text[block_start..block_start + block.text.len()];
        let mut prev_end: Option<usize> = None;
        let mut i = 0;
        let bytes = s.as_bytes();
        loop {
            // Skip ASCII spaces and punctuation quickly: one table look-up a byte.
            while i < bytes.len() && BYTE_CLASSES[bytes[i] as usize] & (ALNUM | NON_ASCII) == 0 {
                i += 1;
            }
            let Some((c, len)) = char_at(s, i) else { break };
            let mut j = i + len;
            // For `WordStats`, on the way: vowel groups and byte classes of ASCII words.
            let (mut groups, mut prev_vowel, mut classes) = (0usize, false, NON_ASCII);
            // An ASCII character here is a letter or a digit (the skip stops at nothing
            // else), so only the others need the Unicode tests.
            if len > 1 && is_ideograph(c) {
                // One word, below.
            } else if len > 1 && !is_word_char(c) {
                i = j;
                continue;
            } else {
                if len == 1 {
                    classes = BYTE_CLASSES[bytes[i] as usize];
                    prev_vowel = classes & VOWEL != 0;
                    groups = usize::from(prev_vowel);
                }
                loop {
                    (j, groups, classes) = ascii_run(bytes, j, groups, prev_vowel, classes);
                    // Most words end at an ASCII space or punctuation mark that cannot be
                    // inner punctuation (the ASCII letters and digits were taken above).
                    match bytes.get(j) {
                        None => break,
                        Some(&b) if b < 0x80 && !matches!(b, b'\'' | b'-' | b'.' | b'&') => break,
                        Some(_) => {}
                    }
                    let Some((d, dl)) = char_at(s, j) else { break };
                    // A letter or digit, or inner punctuation followed by one.
                    let inner = matches!(d, '\'' | '’' | '-' | '.' | '&')
                        && char_at(s, j + dl).is_some_and(|(a, _)| is_word_char(a));
                    if !is_word_char(d) && !inner {
                        break;
                    }
                    // Inner punctuation, or a letter or digit that is not ASCII.
                    prev_vowel = false;
                    if dl > 1 {
                        classes |= NON_ASCII;
                    }
                    j += dl;
                }
                if bytes.get(j) == Some(&b'.') && (is_initials(&s[i..j]) || is_abbreviation(&s[i..j])) {
                    j += 1;
                }
            }
            if block_start + j > u32::MAX as usize {
                // See `Word`: offsets are 32-bit.
                return (words, stats);
            }
            // The word's bytes: byte tests need no character boundary checks.
            let word = &bytes[i..j];
            let possessive = if word.last() != Some(&b's') {
                0
            } else if word.strip_suffix("’s".as_bytes()).is_some_and(|n| !n.is_empty()) {
                POSSESSIVE_CURLY
            } else if word.strip_suffix(b"'s").is_some_and(|n| !n.is_empty()) {
                POSSESSIVE_STRAIGHT
            } else {
                0
            };
            let name_len = match possessive {
                POSSESSIVE_CURLY => word.len() - "’s".len(),
                POSSESSIVE_STRAIGHT => word.len() - "'s".len(),
                _ => word.len(),
            };
            let (new_sentence, opening, joined) = match prev_end {
                None => (true, false, false),
                // The common case: one space.
                Some(end) if i == end + 1 && bytes[end] == b' ' => (false, false, true),
                // The next most common: a comma and a space.
                Some(end) if i == end + 2 && bytes[end] == b',' && bytes[end + 1] == b' ' => (false, false, false),
                Some(end) => {
                    let gap = &s[end..i];
                    (
                        gap.contains('\n') || gap.contains(SENTENCE_ENDS) && !c.is_lowercase(),
                        gap.contains(OPENING_MARKS),
                        gap == "\u{a0}",
                    )
                }
            };
            let start = block_start + i;
            while quote_at < quotes.len() && quotes[quote_at].1 <= start {
                quote_at += 1;
            }
            let in_quote = quote_at < quotes.len() && quotes[quote_at].0 <= start;
            // A handle or hashtag ("@MattBevin", "#MeToo") or a piece of a URL
            // ("t.co/XPxUJuyIAC", not the photo credit "REUTERS/Maria Lopez") names nothing.
            // Looked at only for a capitalised word, the only one it matters for.
            let handle = || {
                i > 0
                    && match s.as_bytes()[i - 1] {
                        b'@' | b'#' => true,
                        b'/' => in_url(&s[..i]),
                        _ => false,
                    }
            };
            // "I'd", "I’ll": the pronoun.
            let pronoun = c == 'I' && matches!(s.as_bytes().get(i + 1), Some(b'\'' | 0xe2));
            let cap = c.is_uppercase() && name_len > len && !pronoun && !handle();
            let flag = |on: bool, flag: u16| if on { flag } else { 0 };
            let flags = flag(cap, CAP)
                | flag(cap && is_acronym(&s[i..i + name_len]), ACRONYM)
                | flag(new_sentence || opening, CAP_INITIAL)
                | flag(joined, JOINED)
                | flag(heading, HEADING)
                | flag(in_quote, IN_QUOTE)
                | flag(new_sentence, SENTENCE_START)
                | flag(prev_end.is_none(), BLOCK_START)
                | possessive;
            words.push(Word { start: start as u32, end: (block_start + j) as u32, flags });
            // `classes` has NON_ASCII exactly when a byte of the word is not ASCII.
            let key = crate::word_key(word);
            stats.english_sample.add(key, classes & NON_ASCII == 0);
            if classes & NON_ASCII != 0 {
                stats.add_non_ascii(&s[i..j]);
            } else {
                stats.add_ascii(word, key, groups, classes);
            }
            prev_end = Some(j);
            i = j;
        }
    }
    (words, stats)
}

/// The number of sentences: words that start one.
pub(crate) fn count_sentences(words: &[Word]) -> usize {
    words.iter().filter(|w| w.sentence_start()).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pith_types::Span;

    fn scan_text(text: &str) -> (Vec<String>, usize) {
        let block = Block { index: 0, kind: BlockKind::Paragraph, text: text.into(), span: Span { start: 0, end: 0 } };
        let (words, _) = scan(text, &[block], &[0], &[]);
        (words.iter().map(|w| text[w.start()..w.end()].to_owned()).collect(), count_sentences(&words))
    }

    #[test]
    fn words_and_sentences() {
        // Inner apostrophes, hyphens and periods join; initials and "Mr." keep their period;
        // "e.g." followed by a lower-case word does not end the sentence; "Cox’s" is one
        // word whose name part is "Cox".
        let (words, n) = scan_text("Mr. Cox’s U.S. e-mail, e.g. this. It’s 3.5 km! 東京");
        assert_eq!(words, ["Mr.", "Cox’s", "U.S.", "e-mail", "e.g", "this", "It’s", "3.5", "km", "東", "京"]);
        // "Mr. ... this." / "It’s 3.5 km!" / "東京".
        assert_eq!(n, 3);
    }
}
