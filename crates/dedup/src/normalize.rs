//! Text normalisation for comparing headings, blocks and documents.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// NFKC, lower case, one space between words, one style of quotes and dashes.
pub fn normalize(text: &str) -> String {
    let mut res = Vec::with_capacity(text.len());
    normalize_into(text, &mut res);
    String::from_utf8(res).expect("normalize_into writes whole characters")
}

/// Bytes 0x80 of eight bytes at once.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// `normalize` as UTF-8, appended to `res` (after a space when `res` is not empty):
/// normalising texts one after another into one buffer gives `normalize` of the texts
/// joined by white space.
///
/// Normalising is per white-space-separated word, and leaves an ASCII word as it is but
/// for the case and '`': ASCII bytes are mapped one by one (eight at a time where they
/// are plain: no white space but single spaces, no '`', no control character), and a
/// non-ASCII character other than white space sends its whole word through
/// `normalize_word_into` (its bytes written so far are taken back).
pub(crate) fn normalize_into(text: &str, res: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    res.reserve(text.len() + 1);
    let mut state = Spacing { in_space: true, space_written: false };
    // Where the current word starts, in `text` and in `res`.
    let (mut word_in, mut word_out) = (0, res.len());
    let mut i = 0;
    while i < bytes.len() {
        // Eight plain bytes: only lower-cased. A space among them that follows a word byte
        // (no two spaces are adjacent, and the first byte is no space after white space)
        // is the one space between two words; one last is written ahead of the next word.
        if let Some(chunk) = bytes[i..].first_chunk::<8>()
            && u64::from_le_bytes(*chunk) & HIGH == 0
        {
            let x = u64::from_le_bytes(*chunk);
            let spaces = ascii_bytes_eq(x, b' ');
            // White space but ' ', '`', and the other control characters (which go byte by
            // byte as well, unchanged).
            let special = ascii_bytes_below(x, b' ') | ascii_bytes_eq(x, b'`');
            if special == 0 && spaces & (spaces >> 8) == 0 && !(state.in_space && spaces & 0x80 != 0) {
                if state.in_space {
                    state.start_word(res);
                    (word_in, word_out) = (i, res.len());
                }
                res.extend_from_slice(&(x | (ascii_bytes_in(x, b'A', b'Z') >> 2)).to_le_bytes());
                if spaces != 0 {
                    let after_last_space = (64 - spaces.leading_zeros() as usize) / 8;
                    word_in = i + after_last_space;
                    word_out = res.len() - 8 + after_last_space;
                }
                state.in_space = spaces >> 56 != 0;
                state.space_written = state.in_space;
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            if is_ascii_space(b) {
                state.in_space = true;
                continue;
            }
            if state.in_space {
                state.start_word(res);
                (word_in, word_out) = (i - 1, res.len());
            }
            res.push(if b == b'`' { b'\'' } else { b.to_ascii_lowercase() });
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            state.in_space = true;
            i += c.len_utf8();
            continue;
        }
        if state.in_space {
            state.start_word(res);
            (word_in, word_out) = (i, res.len());
        }
        // A non-ASCII word: run to its end, then normalise it whole.
        i += c.len_utf8();
        i = word_end(text, i);
        res.truncate(word_out);
        normalize_word_into(&text[word_in..i], res);
    }
    if state.space_written {
        // No word came after the space written ahead.
        res.pop();
    }
}

/// `normalize_into`'s white space state.
struct Spacing {
    /// In white space (before the first word, too): the next word byte starts a word.
    in_space: bool,
    /// In white space, and the space the next word needs is written already.
    space_written: bool,
}

impl Spacing {
    /// Starts a word after white space: a space first, unless it is written already or
    /// the word is the first of all.
    fn start_word(&mut self, res: &mut Vec<u8>) {
        if !self.space_written && !res.is_empty() {
            res.push(b' ');
        }
        (self.in_space, self.space_written) = (false, false);
    }
}

/// `char::is_whitespace` on ASCII: unlike `u8::is_ascii_whitespace`, with U+000B.
pub(crate) fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// 0x80 in each byte of `x` (eight ASCII bytes) within `lo..=hi`, 0 in the others. No
/// sum carries across bytes: each stays under 0x100 for bytes under 0x80.
fn ascii_bytes_in(x: u64, lo: u8, hi: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let at_least_lo = (x + ONES * u64::from(0x80 - lo)) & HIGH;
    let above_hi = (x + ONES * u64::from(0x80 - hi - 1)) & HIGH;
    at_least_lo & !above_hi
}

/// 0x80 in each byte of `x` (eight ASCII bytes) equal to `c`, 0 in the others: a byte's
/// xor with `c` is zero just when they are equal, and adding 0x7f to it sets its top bit
/// otherwise (without a carry: both are under 0x80).
fn ascii_bytes_eq(x: u64, c: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    !((x ^ (ONES * u64::from(c))) + ONES * 0x7f) & HIGH
}

/// 0x80 in each byte of `x` (eight ASCII bytes) under `c`, 0 in the others.
fn ascii_bytes_below(x: u64, c: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    !(x + ONES * u64::from(0x80 - c)) & HIGH
}

/// A fingerprint of `normalize(text)`, mostly without normalising: its count of characters
/// other than spaces, so that texts whose normalised forms are equal have equal
/// fingerprints (the converse need not hold).
///
/// Normalising keeps each ASCII byte other than white space as one byte (lower-cased,
/// '`' as '\''), counted here sixteen or eight at a time, and each character of a word whose
/// characters are all ASCII or `plain_lower` as one character; only another word is
/// normalised (`normalize_word_into`) to count its characters.
pub(crate) fn fingerprint(text: &str) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    thread_local! {
        static WORD: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    let bytes = text.as_bytes();
    let mut kept = 0;
    let mut i = 0;
    while i < bytes.len() {
        // ASCII, sixteen and then eight bytes at a time.
        let white = |x| ascii_bytes_eq(x, b' ') | ascii_bytes_in(x, b'\t', b'\r');
        while let Some(chunk) = bytes[i..].first_chunk::<16>() {
            let a = u64::from_le_bytes(chunk[..8].try_into().unwrap());
            let b = u64::from_le_bytes(chunk[8..].try_into().unwrap());
            if (a | b) & HIGH != 0 {
                break;
            }
            // One per white space byte, summed in the top byte.
            kept += 16 - ((((white(a) >> 7) + (white(b) >> 7)).wrapping_mul(ONES)) >> 56) as usize;
            i += 16;
        }
        while let Some(chunk) = bytes[i..].first_chunk::<8>()
            && u64::from_le_bytes(*chunk) & HIGH == 0
        {
            kept += 8 - (((white(u64::from_le_bytes(*chunk)) >> 7).wrapping_mul(ONES)) >> 56) as usize;
            i += 8;
        }
        let Some(&b) = bytes.get(i) else { break };
        if b < 0x80 {
            kept += usize::from(!is_ascii_space(b));
            i += 1;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        // A non-ASCII word: its ASCII bytes so far (counted above) are taken back, and
        // the word counted whole.
        let start = bytes[..i].iter().rposition(|&b| !b.is_ascii() || is_ascii_space(b)).map_or(0, |p| p + 1);
        let end = word_end(text, i + c.len_utf8());
        let word = &text[start..end];
        kept -= i - start;
        kept += if word.chars().all(|c| c.is_ascii() || plain_lower(c).is_some()) {
            word.chars().count()
        } else {
            WORD.with_borrow_mut(|normalized| {
                normalized.clear();
                normalize_word_into(word, normalized);
                normalized.chars().filter(|&c| c != ' ').count()
            })
        };
        i = end;
    }
    kept
}

/// Where normalised characters go: a `String`, or UTF-8 bytes.
pub(crate) trait PushChar {
    fn push_char(&mut self, c: char);
}

impl PushChar for String {
    fn push_char(&mut self, c: char) {
        self.push(c);
    }
}

impl PushChar for Vec<u8> {
    fn push_char(&mut self, c: char) {
        if c.is_ascii() {
            self.push(c as u8);
        } else {
            self.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
}

/// A word (no white space in it) that is not ASCII, normalised onto `res`.
pub(crate) fn normalize_word_into(word: &str, res: &mut impl PushChar) {
    if word.chars().all(|c| c.is_ascii() || plain_lower(c).is_some()) {
        // The common case (accented Latin letters, curly quotes, dashes), without the
        // table look-ups below: the quick check would say yes.
        for c in word.chars() {
            res.push_char(match plain_lower(c) {
                Some(lower) => lower,
                None if c == '`' => '\'',
                None => c.to_ascii_lowercase(),
            });
        }
    } else if is_nfkc_quick(word.chars()) == IsNormalized::Yes {
        // Already NFKC (curly quotes, accented letters in composed form): only the case
        // and the quote style change.
        for c in word.chars() {
            if c.is_ascii() {
                res.push_char(if c == '`' { '\'' } else { c.to_ascii_lowercase() });
            } else {
                for c in c.to_lowercase() {
                    res.push_char(fold(c));
                }
            }
        }
    } else {
        for c in word.nfkc().flat_map(char::to_lowercase) {
            res.push_char(fold(c));
        }
    }
}

/// The xxh3 hash of `normalize_line` of ASCII text, in one pass over its bytes into a
/// reused buffer: white space collapsed, letters lower-cased, digits folded to 0.
pub(crate) fn ascii_line_hash(text: &[u8]) -> u64 {
    /// Each ASCII byte's normalised form; `SPACE` for white space.
    const SPACE: u8 = 0xff;
    static MAP: [u8; 128] = {
        let mut map = [0u8; 128];
        let mut b = 0;
        while b < 128 {
            let c = b as u8;
            map[b] = match c {
                b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' => SPACE,
                b'0'..=b'9' => b'0',
                b'`' => b'\'',
                _ => c.to_ascii_lowercase(),
            };
            b += 1;
        }
        map
    };
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with_borrow_mut(|line| {
        line.clear();
        let mut space = false;
        let mut i = 0;
        while i < text.len() {
            // Eight bytes with no white space but single spaces between other bytes: at
            // most the space before them, then each mapped, eight at a time.
            if let Some(chunk) = text[i..].first_chunk::<8>()
                && u64::from_le_bytes(*chunk) & HIGH == 0
            {
                let x = u64::from_le_bytes(*chunk);
                let spaces = ascii_bytes_eq(x, b' ');
                // White space but ' ', '`', and the other control characters (which go byte by
                // byte as well, unchanged).
                let special = ascii_bytes_below(x, b' ') | ascii_bytes_eq(x, b'`');
                // No space first or last, and none next to another.
                if special == 0 && spaces & ((spaces >> 8) | 0x80 | (0x80 << 56)) == 0 {
                    if space {
                        line.push(b' ');
                        space = false;
                    }
                    let lower = x | (ascii_bytes_in(x, b'A', b'Z') >> 2);
                    // A digit's low four bits cleared: '0'.
                    let digits = ascii_bytes_in(x, b'0', b'9');
                    line.extend_from_slice(&(lower & !((digits >> 7) * 0x0f)).to_le_bytes());
                    i += 8;
                    continue;
                }
            }
            let b = text[i];
            i += 1;
            let m = MAP[usize::from(b & 0x7f)];
            if m == SPACE {
                space = !line.is_empty();
            } else {
                if space {
                    line.push(b' ');
                    space = false;
                }
                line.push(m);
            }
        }
        xxhash_rust::xxh3::xxh3_64(line)
    })
}

/// For a non-ASCII character that is NFKC whatever its neighbours (its NFKC quick check
/// is yes and its combining class 0) and whose lower case is one character: that lower
/// case, folded. `None` for any other character. What `normalize_word_into` makes of such
/// a character, without looking it up in the normalisation and case tables.
fn plain_lower(c: char) -> Option<char> {
    match c {
        'À'..='Þ' if c != '×' => char::from_u32(u32::from(c) + 0x20),
        '×'
        | 'ß'..='ÿ'
        | '‘'
        | '’'
        | '‚'
        | '‛'
        | '“'
        | '”'
        | '„'
        | '‟'
        | '«'
        | '»'
        | '‐'
        | '‒'
        | '–'
        | '—'
        | '―'
        | '•'
        | '©'
        | '®'
        | '°'
        | '€'
        | '£' => Some(fold(c)),
        _ => None,
    }
}

fn fold(c: char) -> char {
    match c {
        '‘' | '’' | '‚' | '‛' | '`' | '´' => '\'',
        '“' | '”' | '„' | '‟' | '«' | '»' => '"',
        '‐' | '‑' | '‒' | '–' | '—' | '―' => '-',
        c => c,
    }
}

/// `normalize`, and digits folded to 0, so "Updated 3 May 2024" lines count together
/// (as CCNet does for its line hashes). `line_hash` hashes this without building it;
/// kept to check that against.
/// Where the word that goes on at byte `i` of `text` ends: at the next white space (ASCII
/// or Unicode) or the end of the text.
pub(crate) fn word_end(text: &str, mut i: usize) -> usize {
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if bytes[i] < 0x80 {
            if is_ascii_space(bytes[i]) {
                break;
            }
            i += 1;
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            if c.is_whitespace() {
                break;
            }
            i += c.len_utf8();
        }
    }
    i
}

#[cfg(test)]
pub(crate) fn normalize_line(text: &str) -> String {
    normalize(text).chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_bytes_eq_and_below_mark_each_byte() {
        for b in 0..0x80u8 {
            for at in 0..8 {
                for filler in [b'a', b' ', b'`', 0, 0x7f] {
                    let mut bytes = [filler; 8];
                    bytes[at] = b;
                    let x = u64::from_le_bytes(bytes);
                    for c in [b' ', b'`', 0, 0x7f] {
                        let want = bytes.map(|b| if b == c { 0x80 } else { 0 });
                        assert_eq!(ascii_bytes_eq(x, c).to_le_bytes(), want, "{bytes:?} == {c}");
                        let want = bytes.map(|b| if b < c { 0x80 } else { 0 });
                        assert_eq!(ascii_bytes_below(x, c).to_le_bytes(), want, "{bytes:?} < {c}");
                    }
                }
            }
        }
    }

    #[test]
    fn folds_case_space_quotes() {
        assert_eq!(normalize("  Cox’s  “Commitment”\u{a0}Here "), "cox's \"commitment\" here");
        assert_eq!(normalize("It`S  ok"), "it's ok");
        assert_eq!(normalize(" \x0bA\tB\x1f c\r\n"), "a b\x1f c");
        assert_eq!(normalize("x\u{85}Y"), "x y", "the non-ASCII path splits on Unicode spaces");
        let mut joined = Vec::new();
        for part in ["  A b", "", "C\u{a0}ｄ "] {
            normalize_into(part, &mut joined);
        }
        assert_eq!(joined, normalize("  A b\n\n\n\nC\u{a0}ｄ ").as_bytes());
        assert_eq!(normalize("ＦＵＬＬ width"), "full width");
        assert_eq!(normalize_line("Updated May 3, 2024"), "updated may 0, 0000");
    }

    #[test]
    fn plain_lower_is_the_table_path() {
        use unicode_normalization::char::canonical_combining_class;
        let mut plain = 0;
        for c in (0x80..0x3000).filter_map(char::from_u32) {
            let Some(lower) = plain_lower(c) else { continue };
            plain += 1;
            assert_eq!(is_nfkc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(c.to_lowercase().map(fold).collect::<Vec<_>>(), vec![lower], "{c:?}");
        }
        assert_eq!(plain, 85);
    }

    #[test]
    fn fingerprint_counts_the_characters_of_the_normalised_text_but_spaces() {
        // Long ASCII runs (every white space byte, control characters, '`') at every
        // alignment, now and then a non-ASCII character (white space, plain, NFKC).
        let ascii: Vec<char> = "abcXYZ019 `'.,-\t\n\x0b\x0c\r\x1f\x00\x7f".chars().collect();
        let other: Vec<char> = "é’“\u{a0}\u{85}\u{2003}ﬁＡ¨\u{301}İ東".chars().collect();
        let mut state = 12345u64;
        let mut next = |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        for _ in 0..5000 {
            let len = next(120);
            let text: String = (0..len)
                .map(|_| if next(40) == 0 { other[next(other.len())] } else { ascii[next(ascii.len())] })
                .collect();
            let want = normalize(&text).chars().filter(|&c| c != ' ').count();
            assert_eq!(fingerprint(&text), want, "{text:?}");
        }
    }

    /// `normalize` as it was written first: word by word, each word's characters.
    fn reference(text: &str) -> String {
        let mut res = String::new();
        for word in text.split_whitespace() {
            if !res.is_empty() {
                res.push(' ');
            }
            if word.is_ascii() {
                res.push_str(&word.to_ascii_lowercase().replace('`', "'"));
            } else {
                res.extend(word.nfkc().flat_map(char::to_lowercase).map(fold));
            }
        }
        res
    }

    #[test]
    fn byte_path_is_the_reference() {
        let mut texts: Vec<String> = [
            "",
            " ",
            "a",
            " A  b\t\tC\r\n",
            "\x0bX`Y`\x0c z ",
            "It`S  ok!\x1f?",
            "ab\n\ncd ef ",
            "The Quick Brown Fox Jumps Over The Lazy Dog, Again And AGAIN.",
            "plain words in a row with single spaces only here and there x",
            "Ab cd ef gh  ij kl mn op q`r st uv wx yz AB CD EF GH\tIJ KL",
            "Cox’s  “Commitment”\u{a0}Here and there: CAFÉ e\u{301} ¨x ﬁne",
        ]
        .map(String::from)
        .to_vec();
        // Mixed strings at every alignment, from a small pseudo-random generator.
        let alphabet: Vec<char> = "aZ9 \t\n\x0b`'.-\x1f\u{a0}\u{85}\u{2003}é’“ﬁＡ\u{301}İΣ東¨".chars().collect();
        // Mostly letters and spaces, as in text, so that the eight-byte path runs.
        let weights: Vec<usize> = (0..alphabet.len()).map(|k| [8, 8, 4, 12].get(k).copied().unwrap_or(1)).collect();
        let mut state = 12345u64;
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..(state % 40) {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let mut pick = (state >> 33) as usize % weights.iter().sum::<usize>();
                let mut k = 0;
                while pick >= weights[k] {
                    pick -= weights[k];
                    k += 1;
                }
                text.push(alphabet[k]);
            }
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            texts.push(text);
        }
        for text in &texts {
            assert_eq!(normalize(text), reference(text), "{text:?}");
            let chars = normalize(text).chars().filter(|&c| c != ' ').count();
            assert_eq!(fingerprint(text), chars, "{text:?}");
            let mut joined = b"prefix".to_vec();
            normalize_into(text, &mut joined);
            let expected =
                if reference(text).is_empty() { "prefix".to_owned() } else { format!("prefix {}", reference(text)) };
            assert_eq!(String::from_utf8(joined).unwrap(), expected, "{text:?}");
        }
    }
}
