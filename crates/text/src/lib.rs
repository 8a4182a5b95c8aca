//! Text scans shared by the stages: word counts and eight-bytes-at-a-time (SWAR) tests
//! of ASCII bytes. Plain functions of a `&str` or a `u64`, no types, no IO; each stage keeps
//! its own rules and uses these where their definitions are the same.

/// `text.split_whitespace().take(limit).count()`, for rules that count the words of every
/// block or line. A word starts at a character that is no white space right after one
/// that is (or at the start); runs of eight ASCII bytes are looked at in one go.
#[inline]
pub fn count_words_upto(text: &str, limit: usize) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let bytes = text.as_bytes();
    let mut n = 0;
    let mut after_space = true;
    let mut i = 0;
    while i < bytes.len() && n < limit {
        if let Some(chunk) = bytes.get(i..i + 8)
            && let Ok(chunk) = <[u8; 8]>::try_from(chunk)
            && u64::from_le_bytes(chunk) & HIGH == 0
        {
            let space = ascii_space_bytes(u64::from_le_bytes(chunk));
            // Little-endian: the byte before byte k sits 8 bits lower.
            let before_space = (space << 8) | if after_space { 0x80 } else { 0 };
            n += count_high_bits(!space & HIGH & before_space);
            after_space = space >> 63 != 0;
            i += 8;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        let space = c.is_whitespace();
        n += usize::from(!space && after_space);
        after_space = space;
        i += c.len_utf8();
    }
    n.min(limit)
}

/// The number of bytes of `x` that are 0x80 (the others being 0): `count_ones`, in three
/// instructions where the target has no `popcnt` (the byte sums never carry).
#[inline]
pub fn count_high_bits(x: u64) -> usize {
    ((x >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
}

/// 0x80 in each byte of `x` (eight ASCII bytes) that is white space (`\t`, `\n`, `\x0b`,
/// `\x0c`, `\r`, ` `), 0 in the others. No sum below carries across bytes: each stays
/// under 0x100 for bytes under 0x80.
#[inline]
pub fn ascii_space_bytes(x: u64) -> u64 {
    ascii_bytes_in(x, b' ', b' ') | ascii_bytes_in(x, b'\t', b'\r')
}

/// 0x80 in each byte of `x` (eight ASCII bytes) within `lo..=hi`, 0 in the others. No
/// sum carries across bytes: each stays under 0x100 for bytes under 0x80.
#[inline]
pub fn ascii_bytes_in(x: u64, lo: u8, hi: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let at_least_lo = (x + ONES * u64::from(0x80 - lo)) & HIGH;
    let above_hi = (x + ONES * u64::from(0x80 - hi - 1)) & HIGH;
    at_least_lo & !above_hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_counts_upto_match_split_whitespace() {
        let mut texts: Vec<String> = (0..128u8).map(|b| format!("a{}b c", char::from(b))).collect();
        texts.extend(
            ["", "  ", "one", " one two  three ", "a\u{a0}b\u{2003}c\u{3000}d\u{85}e\u{200b}f"].map(String::from),
        );
        texts.push("word ".repeat(100));
        // Every character once, between letters.
        texts.push((0..0x3100u32).filter_map(char::from_u32).map(|c| format!("a{c}b ")).collect());
        // Mixed strings at every alignment, from a small pseudo-random generator.
        let alphabet: Vec<char> = "ab Z9\t\n\x0b\x0c\r\x1c\x1f\x7f.'\u{a0}\u{3000}é東\u{2009}".chars().collect();
        let mut state = 12345u64;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(state % 40) {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            texts.push(text);
        }
        for text in &texts {
            for limit in [0, 1, 2, 3, 7, 11, 12, 15, 21, 61] {
                assert_eq!(count_words_upto(text, limit), text.split_whitespace().take(limit).count(), "{text:?}");
            }
        }
    }

    #[test]
    fn byte_ranges_in_eight_bytes() {
        for (lo, hi) in [(b' ', b' '), (b'\t', b'\r'), (b'a', b'z'), (b'A', b'Z'), (b'!', b'!'), (0, 0), (0x7f, 0x7f)] {
            for b in 0..128u8 {
                for pos in 0..8 {
                    let mut bytes = *b"a Z\t!09~";
                    bytes[pos] = b;
                    let x = u64::from_le_bytes(bytes[..8].try_into().unwrap());
                    let expect = bytes[..8]
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| u64::from((lo..=hi).contains(&c)) << (8 * i + 7))
                        .sum::<u64>();
                    assert_eq!(ascii_bytes_in(x, lo, hi), expect, "{lo} {hi} {bytes:?}");
                }
            }
        }
    }
}
