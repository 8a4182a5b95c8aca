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
use crate::readability::{ALNUM, BYTE_CLASSES, LETTER, NON_ASCII, VOWEL, WordStats};
use crate::text::is_ascii_space;

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
    if c.is_ascii() { c.is_ascii_alphanumeric() } else { crate::text::is_alphanumeric(c) && !is_ideograph(c) }
}

/// The ASCII letters and digits of `bytes` from `j`: where they end, and the vowel groups
/// and or-ed byte classes, carried on from the given ones (`gc`: groups in the bits above
/// the lowest eight, classes in those; `prev_vowel`: whether the byte before `j` counts as
/// a vowel), packed the same way. Inlined: the word scan's common path keeps few values
/// alive, so its counters stay in registers (when that path held many more, they lived on
/// the stack, a store and a load a byte, and a call was cheaper).
#[inline(always)]
fn ascii_run(bytes: &[u8], mut j: usize, gc: usize, prev_vowel: bool) -> (usize, usize) {
    let (mut groups, mut classes) = (gc >> 8, gc as u8);
    // A class above `floor` starts a vowel group: `!VOWEL` after a byte that is not a
    // vowel (only a vowel's class is above it), the largest class after a vowel. One
    // compare a byte instead of two tests.
    let mut floor = if prev_vowel { u8::MAX } else { !VOWEL };
    while let Some(&b) = bytes.get(j) {
        let class = BYTE_CLASSES[b as usize];
        if class & ALNUM == 0 {
            break;
        }
        groups += usize::from(class > floor);
        floor = class | !VOWEL;
        classes |= class;
        j += 1;
    }
    (j, groups << 8 | usize::from(classes))
}

/// Whether the byte that ended an ASCII run may continue the word: a byte that is not
/// ASCII, or inner punctuation.
#[inline]
fn may_continue(b: u8) -> bool {
    b >= 0x80 || matches!(b, b'\'' | b'-' | b'.' | b'&')
}

/// The rest of the word at `i` of `s` from `j`, where an ASCII run ended at a byte that
/// `may_continue` it (or, for a word that starts with a character that is not ASCII, at
/// any byte): letters and digits that are not ASCII, inner punctuation followed by a letter
/// or digit, and the ASCII runs after them; then the final period of initials and
/// abbreviations. `gc` as for `ascii_run`. The rare path of the word scan, kept out of it.
#[inline(never)]
fn extend_word(s: &str, i: usize, mut j: usize, mut gc: usize) -> (usize, usize) {
    let bytes = s.as_bytes();
    loop {
        match bytes.get(j) {
            None => break,
            Some(&b) if !may_continue(b) => break,
            Some(_) => {}
        }
        let Some((d, dl)) = char_at(s, j) else { break };
        // A letter or digit, or inner punctuation (none of which is a letter or digit)
        // followed by one.
        let continues = if matches!(d, '\'' | '’' | '-' | '.' | '&') {
            char_at(s, j + dl).is_some_and(|(a, _)| is_word_char(a))
        } else {
            is_word_char(d)
        };
        if !continues {
            break;
        }
        // Inner punctuation, or a letter or digit that is not ASCII.
        if dl > 1 {
            gc |= usize::from(NON_ASCII);
        }
        (j, gc) = ascii_run(bytes, j + dl, gc, false);
    }
    if bytes.get(j) == Some(&b'.') && (is_initials(&s[i..j]) || is_abbreviation(&s[i..j])) {
        j += 1;
    }
    (j, gc)
}

/// A word that starts at `i` of `s` with a character that is not ASCII: its end, `gc` (as
/// for `ascii_run`), the first character's length and whether it is upper- and lower-case;
/// or, when that character starts no word, where it ends.
#[inline(never)]
fn non_ascii_word(s: &str, i: usize) -> Result<(usize, usize, usize, bool, bool), usize> {
    let Some((c, len)) = char_at(s, i) else { return Err(s.len()) };
    let (mut j, mut gc) = (i + len, usize::from(NON_ASCII));
    if is_ideograph(c) {
        // One word.
    } else if !is_word_char(c) {
        return Err(j);
    } else {
        (j, gc) = ascii_run(s.as_bytes(), j, gc, false);
        (j, gc) = extend_word(s, i, j, gc);
    }
    Ok((j, gc, len, c.is_uppercase(), c.is_lowercase()))
}

/// The flags a gap other than one space or a comma and a space gives the word after it,
/// whose first character is lower-case or not.
#[inline(never)]
fn gap_flags(gap: &str, lower: bool) -> u16 {
    // Whether the gap has a line break, a sentence end, an opening mark: in one pass over
    // an ASCII gap (". ", ": ", ".\" "), whose only such characters are these.
    let (newline, end, opening) = if gap.is_ascii() {
        let mut res = (false, false, false);
        for &b in gap.as_bytes() {
            match b {
                b'\n' => (res.0, res.1) = (true, true),
                b'.' | b'!' | b'?' => res.1 = true,
                b'"' | b':' => res.2 = true,
                _ => {}
            }
        }
        res
    } else {
        (gap.contains('\n'), gap.contains(SENTENCE_ENDS), gap.contains(OPENING_MARKS))
    };
    let new_sentence = newline || end && !lower;
    let mut res = 0;
    if new_sentence {
        res |= SENTENCE_START | CAP_INITIAL;
    }
    if opening {
        res |= CAP_INITIAL;
    }
    if gap == "\u{a0}" {
        res |= JOINED;
    }
    res
}

/// `CAP` and `ACRONYM` for the word at `i..i + name_len` of `s` (its name part, without a
/// possessive), which starts with an upper-case character and has more than one: not the
/// pronoun "I" ("I'd", "I’ll"), nor a handle, hashtag or piece of a URL.
#[inline(never)]
fn cap_flags(s: &str, block_start: usize, i: usize, name_len: usize) -> u16 {
    let bytes = s.as_bytes();
    // "I'd", "I’ll": the pronoun.
    if bytes[i] == b'I' && matches!(bytes.get(i + 1), Some(b'\'' | 0xe2)) {
        return 0;
    }
    // A handle or hashtag ("@MattBevin", "#MeToo") or a piece of a URL
    // ("t.co/XPxUJuyIAC", not the photo credit "REUTERS/Maria Lopez") names nothing.
    let handle = i > block_start
        && match bytes[i - 1] {
            b'@' | b'#' => true,
            b'/' => in_url(&s[block_start..i]),
            _ => false,
        };
    if handle {
        return 0;
    }
    if is_acronym(&s[i..i + name_len]) { CAP | ACRONYM } else { CAP }
}

/// Where the word scan hands the Gopher tokens when it makes them too (see `scan_into`):
/// `()` for none.
pub(crate) trait WordTokens {
    /// Whether the scan makes tokens.
    const ON: bool;
    /// See `Interning::plain`.
    fn plain(&mut self, start: usize, end: usize, alpha: bool);
    /// See `Interning::mark`.
    fn mark(&mut self, at: usize);
    /// See `Interning::between`.
    fn between(&mut self, from: usize, to: usize);
}

impl WordTokens for () {
    const ON: bool = false;
    fn plain(&mut self, _: usize, _: usize, _: bool) {}
    fn mark(&mut self, _: usize) {}
    fn between(&mut self, _: usize, _: usize) {}
}

impl WordTokens for crate::text::Interning<'_, '_> {
    const ON: bool = true;
    #[inline(always)]
    fn plain(&mut self, start: usize, end: usize, alpha: bool) {
        crate::text::Interning::plain(self, start, end, alpha);
    }
    #[inline(always)]
    fn mark(&mut self, at: usize) {
        crate::text::Interning::mark(self, at);
    }
    #[inline(never)]
    fn between(&mut self, from: usize, to: usize) {
        crate::text::Interning::between(self, from, to);
    }
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
    scan_into(text, blocks, starts, quotes, Vec::new(), &mut ())
}

/// `scan`, into `words` (emptied first): an earlier document's vector, whose capacity only
/// is reused (see `Scratch`).
///
/// The loop over a block's words keeps the common case (a word of ASCII letters and digits
/// after one space, or a comma and a space) in few values and builds its flags as it goes;
/// the rare cases (characters that are not ASCII, inner punctuation, final periods, other
/// gaps, capitalised words) are functions of their own.
///
/// With `tokens`, the scan also makes the text's Gopher tokens (`text::tokens_in`'s, in
/// the same order), so that the text is cut once for both: a word that is a whole chunk
/// (ASCII, white space or a block's end on both sides, a letter or digit last) is that
/// chunk's one token, and the tokenizer cuts the rest of the text, between such words.
pub(crate) fn scan_into<T: WordTokens>(
    text: &str,
    blocks: &[Block],
    starts: &[usize],
    quotes: &[(usize, usize)],
    mut words: Vec<Word>,
    tokens: &mut T,
) -> (Vec<Word>, WordStats) {
    // A word per 5 bytes is more than most documents have (one in five of the generated
    // corpus's has more than one per 6 bytes, and grew the vector by copying it); a huge
    // document's untouched capacity costs address space, not memory.
    words.clear();
    words.reserve(text.len() / 5);
    let mut stats = WordStats::default();
    // The first quotation that ends after the current word starts (none: never).
    let mut quote_at = 0;
    let (mut quote_start, mut quote_end) = quotes.first().copied().unwrap_or((usize::MAX, usize::MAX));
    for (block, &block_start) in blocks.iter().zip(starts) {
        let heading = block.kind == BlockKind::Heading || looks_like_heading(&block.text);
        let block_flags = if heading { HEADING } else { 0 };
        // Offsets are in `text`: `s` is the text up to the block's end.
        let block_end = block_start + block.text.len();
        let s = &text[..block_end];
        let bytes = s.as_bytes();
        let mut prev_end: Option<usize> = None;
        let mut i = block_start;
        // The tokens of the text before this are made.
        let mut tokens_end = block_start;
        loop {
            // Skip ASCII spaces and punctuation quickly: one table look-up a byte.
            while i < bytes.len() && BYTE_CLASSES[bytes[i] as usize] & (ALNUM | NON_ASCII) == 0 {
                i += 1;
            }
            let Some(&b) = bytes.get(i) else { break };
            // The word's end; its vowel groups and byte classes, for `WordStats` (see
            // `ascii_run`); its first character's length and case.
            let (j, gc, len, upper, lower) = if b < 0x80 {
                // A letter or a digit: the skip stops at nothing else.
                let class = BYTE_CLASSES[b as usize];
                let vowel = class & VOWEL != 0;
                let (mut j, mut gc) = ascii_run(bytes, i + 1, usize::from(vowel) << 8 | usize::from(class), vowel);
                // Most words end at an ASCII space or punctuation mark that cannot be inner
                // punctuation.
                if bytes.get(j).is_some_and(|&e| may_continue(e)) {
                    (j, gc) = extend_word(s, i, j, gc);
                }
                (j, gc, 1, b.is_ascii_uppercase(), b.is_ascii_lowercase())
            } else {
                match non_ascii_word(s, i) {
                    Ok(word) => word,
                    Err(next) => {
                        i = next;
                        continue;
                    }
                }
            };
            if j > u32::MAX as usize {
                // See `Word`: offsets are 32-bit.
                if T::ON {
                    tokens.between(tokens_end, text.len());
                }
                return (words, stats);
            }
            // The word's bytes: byte tests need no character boundary checks.
            let word = &bytes[i..j];
            let mut flags = block_flags;
            // A possessive "’s" or "'s" ends a word of more than it.
            let mut name_len = word.len();
            if word[word.len() - 1] == b's' {
                if word.len() > 4 && word.ends_with("’s".as_bytes()) {
                    flags |= POSSESSIVE_CURLY;
                    name_len -= 4;
                } else if word.len() > 2 && word[word.len() - 2] == b'\'' {
                    flags |= POSSESSIVE_STRAIGHT;
                    name_len -= 2;
                }
            }
            match prev_end {
                None => flags |= BLOCK_START | SENTENCE_START | CAP_INITIAL,
                // The common case: one space.
                Some(end) if i == end + 1 && bytes[end] == b' ' => flags |= JOINED,
                // The next most common: a comma and a space.
                Some(end) if i == end + 2 && bytes[end] == b',' && bytes[end + 1] == b' ' => {}
                Some(end) => flags |= gap_flags(&s[end..i], lower),
            }
            if i >= quote_end {
                while quote_at < quotes.len() && quotes[quote_at].1 <= i {
                    quote_at += 1;
                }
                (quote_start, quote_end) = quotes.get(quote_at).copied().unwrap_or((usize::MAX, usize::MAX));
            }
            if i >= quote_start {
                flags |= IN_QUOTE;
            }
            if upper && name_len > len {
                // Most capitalised words have a lower-case ASCII letter second (no acronym,
                // no pronoun) and no handle mark before them.
                let plain = bytes[i + 1].is_ascii_lowercase()
                    && (i == block_start || !matches!(bytes[i - 1], b'@' | b'#' | b'/'));
                flags |= if plain { CAP } else { cap_flags(s, block_start, i, name_len) };
            }
            words.push(Word { start: i as u32, end: j as u32, flags });
            if T::ON
                && gc & usize::from(NON_ASCII) == 0
                && BYTE_CLASSES[word[word.len() - 1] as usize] & ALNUM != 0
                && (i == 0 || is_ascii_space(bytes[i - 1]))
            {
                // The word starts a chunk. When it is the whole chunk, or the chunk but for
                // one punctuation mark ("said,"), its tokens are made here, after those
                // before it (none when one space separates it from the last token).
                let chunk_end = match bytes.get(j) {
                    None => Some(j),
                    Some(&e) if is_ascii_space(e) => Some(j),
                    Some(&e) if e < 0x80 && bytes.get(j + 1).is_none_or(|&f| is_ascii_space(f)) => Some(j + 1),
                    Some(_) => None,
                };
                if let Some(chunk_end) = chunk_end {
                    if i > tokens_end && !(i == tokens_end + 1 && bytes[tokens_end] == b' ') {
                        tokens.between(tokens_end, i);
                    }
                    tokens.plain(i, j, gc as u8 & LETTER != 0);
                    if chunk_end > j {
                        tokens.mark(j);
                    }
                    tokens_end = chunk_end;
                }
            }
            if gc & usize::from(NON_ASCII) == 0 {
                let key = crate::word_key(word);
                stats.english_sample.add(key, true);
                stats.add_ascii(word, key, gc >> 8, gc as u8);
            } else {
                // No `word_key` of a word with a byte that is not ASCII is a common word's.
                stats.english_sample.add(0, false);
                stats.add_non_ascii(&s[i..j]);
            }
            prev_end = Some(j);
            i = j;
        }
        if T::ON && tokens_end < block_end {
            tokens.between(tokens_end, block_end);
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
