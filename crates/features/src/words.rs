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

use crate::lexicon::ABBREVIATIONS;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Word {
    /// Byte offsets in the document text.
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// `end` without a possessive "’s".
    pub(crate) name_end: usize,
    pub(crate) block: u32,
    /// Starts with an upper-case letter and has two characters or more.
    pub(crate) cap: bool,
    pub(crate) acronym: bool,
    /// Capitalised by convention: a sentence start, or the first word of a quote.
    pub(crate) cap_initial: bool,
    /// One space (or no-break space) from the previous word of the same block.
    pub(crate) joined: bool,
    /// In a heading, or a block that looks like one: capitals mean nothing there.
    pub(crate) heading: bool,
    pub(crate) in_quote: bool,
    /// The run (index in `Names::runs`) the word belongs to, if any; set by `entities`.
    pub(crate) run: Option<u32>,
    /// The index of the first word of the word's sentence.
    pub(crate) sentence_start: u32,
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
    if text.contains('\n') || text.trim_end().ends_with(['.', '!', '?', ':', ';', '"', '”', '»']) {
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

/// Cuts every block into words. `blocks[i]` starts at `starts[i]` in `text`; `quotes`
/// are the (start, end) byte ranges of quotations, in order.
pub(crate) fn scan(text: &str, blocks: &[Block], starts: &[usize], quotes: &[(usize, usize)]) -> Vec<Word> {
    let mut words = Vec::with_capacity(text.len() / 6);
    let mut quote_at = 0;
    for (block_index, (block, &block_start)) in blocks.iter().zip(starts).enumerate() {
        let heading = block.kind == BlockKind::Heading || looks_like_heading(&block.text);
        let s = &text[block_start..block_start + block.text.len()];
        let mut prev_end: Option<usize> = None;
        let mut sentence_start = words.len() as u32;
        let mut i = 0;
        let bytes = s.as_bytes();
        loop {
            // Skip ASCII spaces and punctuation quickly.
            while i < bytes.len() && bytes[i] < 0x80 && !bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let Some((c, len)) = char_at(s, i) else { break };
            let mut j = i + len;
            if is_ideograph(c) {
                // One word, below.
            } else if !is_word_char(c) {
                i = j;
                continue;
            } else {
                loop {
                    while j < bytes.len() && bytes[j].is_ascii_alphanumeric() {
                        j += 1;
                    }
                    let Some((d, dl)) = char_at(s, j) else { break };
                    // A letter or digit, or inner punctuation followed by one.
                    let inner = matches!(d, '\'' | '’' | '-' | '.' | '&')
                        && char_at(s, j + dl).is_some_and(|(a, _)| is_word_char(a));
                    if !is_word_char(d) && !inner {
                        break;
                    }
                    j += dl;
                }
                let bare = &s[i..j];
                if s.as_bytes().get(j) == Some(&b'.') && (is_initials(bare) || ABBREVIATIONS.contains(&bare)) {
                    j += 1;
                }
            }
            let word = &s[i..j];
            let name_len = word
                .strip_suffix("’s")
                .or_else(|| word.strip_suffix("'s"))
                .filter(|n| !n.is_empty())
                .map_or(word.len(), str::len);
            let name = &word[..name_len];
            let gap = &s[prev_end.unwrap_or(0)..i];
            let (new_sentence, opening, joined) = match prev_end {
                None => (true, false, false),
                // The common case: one space.
                Some(_) if gap == " " => (false, false, true),
                Some(_) => (
                    gap.contains('\n') || gap.contains(SENTENCE_ENDS) && !c.is_lowercase(),
                    gap.contains(OPENING_MARKS),
                    gap == "\u{a0}",
                ),
            };
            if new_sentence {
                sentence_start = words.len() as u32;
            }
            let start = block_start + i;
            while quote_at < quotes.len() && quotes[quote_at].1 <= start {
                quote_at += 1;
            }
            let in_quote = quote_at < quotes.len() && quotes[quote_at].0 <= start;
            // A handle or hashtag ("@MattBevin", "#MeToo") names nothing.
            let handle = i > 0 && matches!(s.as_bytes()[i - 1], b'@' | b'#');
            // "I'd", "I’ll": the pronoun.
            let pronoun = c == 'I' && matches!(s.as_bytes().get(i + 1), Some(b'\'' | 0xe2));
            let cap = c.is_uppercase() && name.len() > len && !handle && !pronoun;
            words.push(Word {
                start,
                end: block_start + j,
                name_end: start + name_len,
                block: block_index as u32,
                cap,
                acronym: cap && is_acronym(name),
                cap_initial: new_sentence || opening,
                joined,
                heading,
                in_quote,
                run: None,
                sentence_start,
            });
            prev_end = Some(j);
            i = j;
        }
    }
    words
}

/// The number of sentences: words that start one.
pub(crate) fn count_sentences(words: &[Word]) -> usize {
    words.iter().enumerate().filter(|(i, w)| w.sentence_start as usize == *i).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pith_types::Span;

    fn scan_text(text: &str) -> (Vec<String>, usize) {
        let block = Block { index: 0, kind: BlockKind::Paragraph, text: text.into(), span: Span { start: 0, end: 0 } };
        let words = scan(text, &[block], &[0], &[]);
        (words.iter().map(|w| text[w.start..w.end].to_owned()).collect(), count_sentences(&words))
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
