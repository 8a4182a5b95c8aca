//! Shared text views: lines, paragraphs and the Treebank-like tokens the Gopher
//! signals are defined on.

use crate::interner::Interner;
use crate::readability::{ALNUM, BYTE_CLASSES, LETTER};

/// Where each block starts in the text `join_blocks` makes of them (blocks joined by a
/// blank line).
pub(crate) fn block_starts(blocks: &[pith_types::Block]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(blocks.len());
    let mut at = 0;
    for block in blocks {
        starts.push(at);
        at += block.text.len() + 2;
    }
    starts
}

/// Test documents: one paragraph block per string.
#[cfg(test)]
pub(crate) fn paragraph_blocks(paragraphs: &[&str]) -> Vec<pith_types::Block> {
    paragraphs
        .iter()
        .enumerate()
        .map(|(i, p)| pith_types::Block {
            index: i as u32,
            kind: pith_types::BlockKind::Paragraph,
            text: (*p).into(),
            span: pith_types::Span { start: 0, end: 0 },
        })
        .collect()
}

/// Characters in `s` as Python's `len` counts them (code points).
pub(crate) fn char_len(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().count() }
}

/// The non-blank lines of `text`, `\r` trimmed.
///
/// pith joins blocks with a blank line, so counting blank lines (as datatrove's
/// `splitlines` does on text whose paragraphs are one newline apart) would halve every
/// line share; datatrove's own repetition filter splits on `\n+` for the same reason.
pub(crate) fn lines(text: &str) -> Vec<&str> {
    // `text.split('\n')`, with the memchr crate's vectorised search, into a vector
    // reserved for an article's lines (11 on average on the slice of the generated corpus
    // measured; growing from empty reallocated it three times).
    let mut res = Vec::with_capacity(32);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len())) {
        let line = &text[start..end];
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !line.trim().is_empty() {
            res.push(line);
        }
        start = end + 1;
    }
    res
}

/// Python's `re.split(r"\n{2,}", text.strip())`: paragraphs separated by runs of two or
/// more newlines.
pub(crate) fn paragraphs(text: &str) -> Vec<&str> {
    let text = text.trim();
    let bytes = text.as_bytes();
    // Reserved as in `lines`.
    let mut res = Vec::with_capacity(32);
    let mut start = 0;
    let mut i = 0;
    while let Some(pos) = memchr::memchr(b'\n', &bytes[i..]) {
        let at = i + pos;
        let mut end = at;
        while end < bytes.len() && bytes[end] == b'\n' {
            end += 1;
        }
        if end - at >= 2 {
            res.push(&text[start..at]);
            start = end;
        }
        i = end;
    }
    res.push(&text[start..]);
    res
}

/// datatrove's `find_duplicates`: how many elements repeat an earlier one, and their
/// characters.
///
/// Both are the same whatever the order: each group of `k` equal elements has `k - 1`
/// repeats. So the elements are sorted by length, then bytes (most compares end at the
/// length: most paragraphs and lines of prose have a length of their own), and equal ones
/// counted as neighbours: no hashing, and one vector instead of two tables.
pub(crate) fn find_duplicates(items: &[&str]) -> (usize, usize) {
    let mut sorted = items.to_vec();
    sorted.sort_unstable_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    let (mut n_dup, mut dup_chars) = (0, 0);
    for pair in sorted.windows(2) {
        if pair[0] == pair[1] {
            n_dup += 1;
            dup_chars += char_len(pair[1]);
        }
    }
    (n_dup, dup_chars)
}

/// Whether `c` is in General Punctuation (U+2000 to U+206F: curly quotes and apostrophes,
/// dashes, the ellipsis, spaces), which holds no letter or digit (see the test
/// `general_punctuation_has_no_letter_or_digit`). These are the commonest characters that
/// are not ASCII in English text, and the standard library's Unicode tables answer them
/// slowly (two table searches of about 300 instructions).
#[inline]
fn is_general_punctuation(c: char) -> bool {
    ('\u{2000}'..='\u{206f}').contains(&c)
}

/// `char::is_alphanumeric`, quickly for General Punctuation.
#[inline]
pub(crate) fn is_alphanumeric(c: char) -> bool {
    !is_general_punctuation(c) && c.is_alphanumeric()
}

/// `char::is_alphabetic`, quickly for General Punctuation.
#[inline]
fn is_alphabetic(c: char) -> bool {
    !is_general_punctuation(c) && c.is_alphabetic()
}

/// A punctuation or symbol character: no letter or digit.
fn is_symbol(c: char) -> bool {
    !is_alphanumeric(c)
}

/// A token is a word (datatrove's "non-symbol word") when one of its characters is a
/// letter or a digit.
pub(crate) fn is_word(token: &str) -> bool {
    token.chars().any(is_alphanumeric)
}

/// Tokens approximating NLTK's Treebank `word_tokenize`, which datatrove's Gopher filters
/// use: white-space separated chunks, with leading and trailing punctuation split off as
/// one token per character (a run of periods stays one token, like `...`). Contractions
/// are not split and inner punctuation stays (`U.S`, `don't`, `e-mail`).
///
/// The token strings themselves are not kept: each token is interned as an id (by its
/// bytes when shorter than 8 bytes, by a 63-bit hash otherwise, which two different long
/// tokens of a document share with negligible probability; see `token_key`), and the
/// Gopher quality counts are taken on the way, so memory is 8 bytes per token.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    /// Each token's id and characters, in one vector: one push a token.
    pub(crate) list: Vec<Token>,
    /// Occurrences of each id.
    pub(crate) counts: Vec<u32>,
    /// Tokens with a letter or a digit (datatrove's non-symbol words), and their characters.
    pub(crate) n_words: usize,
    pub(crate) word_chars: usize,
    /// Tokens with a letter.
    pub(crate) n_alpha: usize,
    /// Tokens equal (case-sensitive) to one of Gopher's stop words.
    pub(crate) n_stop: usize,
}

/// A token, as `Tokens` keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Equal tokens have equal ids.
    pub(crate) id: u32,
    /// Characters.
    pub(crate) chars: u32,
}

/// The interning key of the token at `text[start..start + len]`: its bytes and length when
/// shorter than 8 bytes (exact, and most tokens are), otherwise a 63-bit hash of its bytes
/// with the top bit set.
#[inline(always)]
fn token_key(text: &[u8], start: usize, len: usize) -> u64 {
    if len < 8 {
        // Eight bytes from the token's start, when the text has them, masked to the token.
        let word = match text.get(start..start + 8) {
            Some(eight) => u64::from_le_bytes(eight.try_into().expect("eight bytes")),
            None => {
                let mut buf = [0u8; 8];
                buf[..len].copy_from_slice(&text[start..start + len]);
                u64::from_le_bytes(buf)
            }
        };
        (word & ((1u64 << (8 * len)) - 1)) | (len as u64) << 56
    } else {
        long_token_key(&text[start..start + len])
    }
}

/// `token_key` of a token of 8 bytes or more.
#[inline(never)]
fn long_token_key(token: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(token);
    hasher.finish() | 1 << 63
}

#[cfg(test)]
pub(crate) fn tokens(text: &str) -> Tokens {
    tokens_in(text, Tokens::default(), &mut Interner::default())
}

/// The tokens of `text`, in `res`'s vectors (emptied first) with `interned` as the table:
/// buffers of an earlier document, whose capacity only is reused (see `Scratch`).
pub(crate) fn tokens_in(text: &str, res: Tokens, interned: &mut Interner) -> Tokens {
    let mut sink = Interning::new(text, res, interned);
    sink.between(0, text.len());
    sink.finish()
}

/// What `for_each_token` hands each token to: `token(start, end, characters, word,
/// alpha)` for the token `text[start..end]`. Byte offsets rather than a `&str`: slicing a
/// string checks both ends for character boundaries, a cost a token that the offsets do not
/// have (the tokenizer only cuts at boundaries).
pub(crate) trait TokenSink {
    fn token(&mut self, start: usize, end: usize, chars: u32, word: bool, alpha: bool);
}

impl<F: FnMut(usize, usize, u32, bool, bool)> TokenSink for F {
    #[inline]
    fn token(&mut self, start: usize, end: usize, chars: u32, word: bool, alpha: bool) {
        self(start, end, chars, word, alpha);
    }
}

/// The tokens of a text as they are made: interned into a table, with the Gopher quality
/// counts taken on the way. Made by `new`, fed the tokens in text order by `between` (the
/// tokenizer on a stretch of the text) and `plain` (a chunk the word scan found), and
/// ended by `finish`.
///
/// As the tokenizer's sink, it is inlined into the tokenizer and counts in registers (a
/// closure was compiled as a function of its own, which kept the counts in memory and
/// saved and restored six registers a token).
pub(crate) struct Interning<'t, 'r> {
    text: &'t str,
    /// `Tokens::list`, owned while it is filled.
    list: Vec<Token>,
    interned: &'r mut Interner,
    n_words: usize,
    word_chars: usize,
    n_alpha: usize,
    /// The rest of the result (its `counts` buffer is the table's while it is filled).
    res: Tokens,
}

impl<'t, 'r> Interning<'t, 'r> {
    /// Starts the tokens of `text` in `res`'s vectors (emptied first) with `interned` as
    /// the table, as `tokens_in` describes.
    pub(crate) fn new(text: &'t str, mut res: Tokens, interned: &'r mut Interner) -> Self {
        // A token per 4 bytes is more than almost any document has (see `words::scan`).
        res.list.clear();
        res.list.reserve(text.len() / 4);
        // About one token in three is new in an article (one in two in a short one: a token
        // per 4 to 5 bytes), where growing the table costs more than reserving; a huge
        // document's table grows as needed.
        let mut counts = std::mem::take(&mut res.counts);
        counts.clear();
        if counts.capacity() > interned.counts.capacity() {
            interned.counts = counts;
        }
        interned.reset((text.len() / 10).min(1 << 14));
        let list = std::mem::take(&mut res.list);
        Interning { text, list, interned, n_words: 0, word_chars: 0, n_alpha: 0, res }
    }

    /// The tokens of `text[from..to]`, whose ends are the text's ends or white space (so
    /// that its chunks are the text's).
    pub(crate) fn between(&mut self, from: usize, to: usize) {
        for_each_token_in(self.text, from, to, &mut *self);
    }

    /// The chunk `text[start..end]`, all ASCII with a letter or digit at both ends: one
    /// token, a word, alphabetic when `alpha`.
    #[inline(always)]
    pub(crate) fn plain(&mut self, start: usize, end: usize, alpha: bool) {
        let len = end - start;
        self.n_words += 1;
        self.word_chars += len;
        self.n_alpha += usize::from(alpha);
        let key = token_key(self.text.as_bytes(), start, len);
        self.list.push(Token { id: self.interned.intern(key), chars: len as u32 });
    }

    /// The ASCII punctuation mark at `text[at]`, which ends a chunk after a letter or a
    /// digit: one token, no word.
    #[inline(always)]
    pub(crate) fn mark(&mut self, at: usize) {
        let key = token_key(self.text.as_bytes(), at, 1);
        self.list.push(Token { id: self.interned.intern(key), chars: 1 });
    }

    pub(crate) fn finish(self) -> Tokens {
        let Interning { list, interned, n_words, word_chars, n_alpha, mut res, .. } = self;
        (res.list, res.n_words, res.word_chars, res.n_alpha) = (list, n_words, word_chars, n_alpha);
        // Gopher's stop words as datatrove compares them ("The" is not one): a token's key
        // is a stop word's `short_word_key` exactly when the token is that word, so they are
        // the occurrences of those keys.
        res.n_stop = crate::GOPHER_STOP_WORDS
            .iter()
            .filter_map(|word| interned.get(crate::short_word_key(word)))
            .map(|id| interned.counts[id as usize] as usize)
            .sum();
        res.counts = std::mem::take(&mut interned.counts);
        res
    }
}

impl TokenSink for &mut Interning<'_, '_> {
    #[inline(always)]
    fn token(&mut self, start: usize, end: usize, chars: u32, word: bool, alpha: bool) {
        if word {
            self.n_words += 1;
            self.word_chars += chars as usize;
        }
        self.n_alpha += usize::from(alpha);
        let key = token_key(self.text.as_bytes(), start, end - start);
        self.list.push(Token { id: self.interned.intern(key), chars });
    }
}

/// Whether the ASCII byte `b` is white space (bytes that are not ASCII are not): one
/// look-up in a table of every byte.
#[inline]
pub(crate) fn is_ascii_space(b: u8) -> bool {
    static TABLE: [bool; 256] = {
        let mut res = [false; 256];
        let mut i = 0;
        while i < 128 {
            res[i] = ASCII_SPACE[i];
            i += 1;
        }
        res
    };
    TABLE[b as usize]
}

/// The ASCII bytes that are white space (as `char::is_whitespace`), all below `!`.
static ASCII_SPACE: [bool; 128] = {
    let mut res = [false; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        res[i] = b.is_ascii_whitespace() || b == 0x0b;
        i += 1;
    }
    res
};

/// The character at byte `i` of `text` (a char boundary), for the non-ASCII path.
fn char_from(text: &str, i: usize) -> char {
    text[i..].chars().next().unwrap_or(' ')
}

/// A mask with the high bit of each byte of `word` that is below `!` (white space, among
/// others) or not ASCII. Only the lowest flagged byte is sure to be one (the subtraction's
/// borrows can flag bytes above it), which is all `chunks` needs.
#[inline]
fn space_or_non_ascii(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    (word | (word.wrapping_sub(ONES * 0x21) & !word)) & (ONES * 0x80)
}

/// The chunks of `text` between white space (Unicode's), each as its byte range (which
/// starts and ends at character boundaries) and whether it is ASCII.
fn chunks(text: &str, mut f: impl FnMut(usize, usize, bool)) {
    let b = text.as_bytes();
    let n = b.len();
    let mut i = 0;
    loop {
        // White space.
        while i < n {
            if b[i] < 0x80 {
                if !ASCII_SPACE[b[i] as usize] {
                    break;
                }
                i += 1;
            } else {
                let c = char_from(text, i);
                if !c.is_whitespace() {
                    break;
                }
                i += c.len_utf8();
            }
        }
        if i >= n {
            return;
        }
        let start = i;
        let mut ascii = true;
        // The chunk's end; `i` moves past the white space that ends it, which the loop
        // above need not test again.
        let end = loop {
            if i >= n {
                break n;
            }
            // Eight bytes at a time to the first one that may end the chunk: below `!` or
            // not ASCII.
            if let Some(eight) = b.get(i..i + 8) {
                let mask = space_or_non_ascii(u64::from_le_bytes(eight.try_into().expect("eight bytes")));
                if mask == 0 {
                    i += 8;
                    continue;
                }
                i += mask.trailing_zeros() as usize / 8;
            }
            if b[i] < 0x80 {
                if ASCII_SPACE[b[i] as usize] {
                    i += 1;
                    break i - 1;
                }
                i += 1;
            } else {
                let c = char_from(text, i);
                let len = c.len_utf8();
                i += len;
                if c.is_whitespace() {
                    break i - len;
                }
                ascii = false;
            }
        };
        f(start, end, ascii);
    }
}

/// Calls `f(start, end, characters, word, alpha)` for every token `text[start..end]`, in
/// order: `word` when one of its characters is a letter or a digit, `alpha` when one is a
/// letter.
#[cfg(test)]
pub(crate) fn for_each_token(text: &str, f: impl TokenSink) {
    for_each_token_in(text, 0, text.len(), f);
}

/// `for_each_token` on `text[from..to]`, whose ends are the text's ends or white space;
/// offsets in `text`.
fn for_each_token_in(text: &str, from: usize, to: usize, mut f: impl TokenSink) {
    let b = text.as_bytes();
    chunks(&text[from..to], |start, end, ascii| {
        let (start, end) = (from + start, from + end);
        let chunk = &b[start..end];
        // Most chunks are a plain word: letters or digits at both ends.
        let (first, last) = (chunk[0], chunk[chunk.len() - 1]);
        // Byte classes: two look-ups instead of range tests.
        let first_class = BYTE_CLASSES[first as usize];
        if first_class & BYTE_CLASSES[last as usize] & ALNUM != 0 {
            if ascii {
                // A letter, most often the first byte, makes it alphabetic.
                let alpha = first_class & LETTER != 0 || chunk.iter().any(u8::is_ascii_alphabetic);
                f.token(start, end, chunk.len() as u32, true, alpha);
                return;
            }
        } else if ascii && first_class & ALNUM != 0 {
            // The next most common: an ASCII word with trailing punctuation ("said," "U.S.)").
            // As below, without decoding: each trailing byte is a token, but a run of
            // periods is one, and at most eight are split off. Offsets in the chunk.
            let mut stop = chunk.len();
            let mut trailing = [(0, 0); 8];
            let mut n_trailing = 0;
            while n_trailing < trailing.len() && !chunk[stop - 1].is_ascii_alphanumeric() {
                let mut from = stop - 1;
                if chunk[from] == b'.' {
                    while chunk[from - 1] == b'.' {
                        from -= 1;
                    }
                }
                trailing[n_trailing] = (from, stop);
                n_trailing += 1;
                stop = from;
            }
            // The first byte is a letter or a digit, so `stop` stays above 0.
            let alpha = first_class & LETTER != 0 || chunk[..stop].iter().any(u8::is_ascii_alphabetic);
            f.token(start, start + stop, stop as u32, true, alpha);
            for &(from, to) in trailing[..n_trailing].iter().rev() {
                f.token(start + from, start + to, (to - from) as u32, false, false);
            }
            return;
        }
        other_chunk(text, start, end, ascii, &mut f);
    });
}

/// `for_each_token`'s rarer chunks, out of its loop: a word that is not ASCII, and chunks
/// with leading punctuation or trailing punctuation that is not ASCII. The chunk is
/// `text[chunk_start..chunk_end]`.
#[inline(never)]
fn other_chunk(text: &str, chunk_start: usize, chunk_end: usize, ascii: bool, f: &mut impl TokenSink) {
    let chunk = &text[chunk_start..chunk_end];
    let (first, last) = (chunk.as_bytes()[0], chunk.as_bytes()[chunk.len() - 1]);
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        f.token(chunk_start, chunk_end, char_len(chunk) as u32, true, chunk.chars().any(is_alphabetic));
        return;
    }
    // A token's offsets in `text`, from its slice of `chunk`.
    let mut push = |token: &str| {
        let start = chunk_start + (token.as_ptr() as usize - chunk.as_ptr() as usize);
        let end = start + token.len();
        if ascii || token.is_ascii() {
            let b = token.as_bytes();
            let word = b.iter().any(u8::is_ascii_alphanumeric);
            f.token(start, end, token.len() as u32, word, word && b.iter().any(u8::is_ascii_alphabetic));
        } else {
            f.token(start, end, char_len(token) as u32, is_word(token), token.chars().any(is_alphabetic));
        }
    };
    let mut rest = chunk;
    // Leading punctuation.
    while let Some(c) = rest.chars().next() {
        if !is_symbol(c) {
            break;
        }
        let len = run_len(rest, c);
        push(&rest[..len]);
        rest = &rest[len..];
    }
    if rest.is_empty() {
        return;
    }
    // Trailing punctuation, collected back to front.
    let mut end = rest.len();
    let mut trailing: [&str; 8] = [""; 8];
    let mut n_trailing = 0;
    while let Some(c) = rest[..end].chars().next_back() {
        if !is_symbol(c) || n_trailing == trailing.len() {
            break;
        }
        let mut start = end - c.len_utf8();
        if c == '.' {
            while start > 0 && rest.as_bytes()[start - 1] == b'.' {
                start -= 1;
            }
        }
        trailing[n_trailing] = &rest[start..end];
        n_trailing += 1;
        end = start;
    }
    if end > 0 {
        push(&rest[..end]);
    }
    for token in trailing[..n_trailing].iter().rev() {
        push(token);
    }
}

/// Length in bytes of the token starting with `c` at the front of `s`: a run of periods,
/// or the one character.
fn run_len(s: &str, c: char) -> usize {
    if c == '.' { s.bytes().take_while(|&b| b == b'.').count() } else { c.len_utf8() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_list(text: &str) -> Vec<&str> {
        let mut res = Vec::new();
        for_each_token(text, |start, end, _, _, _| res.push(&text[start..end]));
        res
    }

    #[test]
    fn tokens_split_edge_punctuation() {
        // Treebank splits "Hello," into "Hello" and "," and keeps "..." whole.
        let text = "“Hello,” he said... (U.S.) #tag don't\u{a0}café";
        assert_eq!(
            token_list(text),
            ["“", "Hello", ",", "”", "he", "said", "...", "(", "U.S", ".", ")", "#", "tag", "don't", "café"]
        );
        let chars: Vec<u32> = tokens(text).list.iter().map(|t| t.chars).collect();
        assert_eq!(chars, [1, 5, 1, 1, 2, 4, 3, 1, 3, 1, 1, 1, 3, 5, 4]);
        assert_eq!(token_list("... ?! 😀"), ["...", "?", "!", "😀"]);
        // Equal tokens share an id: "a", "b", "a", ".".
        let t = tokens("a b a.");
        let ids: Vec<u32> = t.list.iter().map(|t| t.id).collect();
        assert_eq!((ids, t.counts), (vec![0, 1, 0, 2], vec![2, 1, 1]));
    }

    #[test]
    fn chunks_end_at_white_space_only() {
        // Long chunks are scanned eight bytes at a time: a control character inside one
        // is not white space; no-break space and NEL are.
        let text = "abcdefghijklmnop\u{1}q rst\u{a0}uvwxyz0123456789.\u{85}x\tyy\u{2003}zz\u{b}0123456789012";
        assert_eq!(
            token_list(text),
            ["abcdefghijklmnop\u{1}q", "rst", "uvwxyz0123456789", ".", "x", "yy", "zz", "0123456789012"]
        );
        // Trailing punctuation of an ASCII word: one token a byte, a run of periods one, at
        // most eight split off.
        assert_eq!(
            token_list("said, U.S.) x... 42.. ok.!?!?!?!?!?"),
            ["said", ",", "U.S", ".", ")", "x", "...", "42", "..", "ok.!?", "!", "?", "!", "?", "!", "?", "!", "?"]
        );
        // Alphabetic tokens: a letter anywhere.
        assert_eq!(tokens("12345678901 1a2 abc 7 x1").n_alpha, 3);
    }

    #[test]
    fn general_punctuation_has_no_letter_or_digit() {
        for c in '\u{2000}'..='\u{206f}' {
            assert!(!c.is_alphanumeric() && !c.is_alphabetic(), "{c:?}");
        }
        for c in ['a', 'é', 'ß', '東', '٣', '\u{2071}', '\u{1fff}'] {
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{c:?}");
            assert_eq!(is_alphabetic(c), c.is_alphabetic(), "{c:?}");
        }
    }

    #[test]
    fn paragraphs_like_python_split() {
        // re.split(r"\n{2,}", "a\n\n\nb\nc\n\nd".strip()) == ["a", "b\nc", "d"]
        assert_eq!(paragraphs("\na\n\n\nb\nc\n\nd\n"), ["a", "b\nc", "d"]);
        assert_eq!(paragraphs(""), [""]);
    }

    #[test]
    fn duplicates_like_datatrove() {
        // find_duplicates(["ab", "cd", "ab", "ab", "x"]) == (2, 4): two repeats of "ab".
        assert_eq!(find_duplicates(&["ab", "cd", "ab", "ab", "x"]), (2, 4));
        assert_eq!(find_duplicates(&["é", "é"]), (1, 1));
        // datatrove's loop: a set of the elements seen so far.
        let reference = |items: &[&str]| {
            let mut seen = std::collections::HashSet::new();
            let (mut n, mut chars) = (0, 0);
            for item in items {
                if !seen.insert(*item) {
                    n += 1;
                    chars += item.chars().count();
                }
            }
            (n, chars)
        };
        let pieces = ["", "a", "b", "ab", "ba", "é", "ée", "e\u{301}", "abc", "cab", "x y", "ab"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for n in 0..40 {
            let items: Vec<&str> = (0..n).map(|_| pieces[crate::next_index(&mut seed, pieces.len())]).collect();
            assert_eq!(find_duplicates(&items), reference(&items), "{items:?}");
        }
    }

    #[test]
    fn lines_skip_blank() {
        assert_eq!(lines("a\r\n\n \nb"), ["a", "b"]);
    }
}
