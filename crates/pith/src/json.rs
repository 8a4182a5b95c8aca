//! JSON strings written straight into a `String`, byte for byte as serde_json's compact
//! writer (`serde_json::to_string`) writes them, only faster: escapes are looked for a
//! word at a time and the runs between them copied whole.
//!
//! Invariant: every function here writes exactly what serde_json would.

pub(crate) fn push_opt_json_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(out, s),
        None => out.push_str("null"),
    }
}

/// `s` as a JSON string, quoted and escaped exactly as serde_json writes it.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    push_json_str_contents(out, s);
    out.push('"');
}

/// `s` escaped as serde_json escapes a string's contents: `"` and `\` with a backslash,
/// the control characters U+0000..U+001F as `\b`, `\t`, `\n`, `\f`, `\r` or `\u00xx`
/// (lower-case hex), everything else (U+007F, U+2028, any non-ASCII) as it is.
///
/// Escapes are looked for sixteen bytes at a time, then found eight bytes at a time (a
/// short string or a tail is padded to a word), and the runs between them copied whole.
pub(crate) fn push_json_str_contents(out: &mut String, s: &str) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte below 0x20, `"` or `\`, for a word read little-endian. Bits
    // above the first such byte may be wrong (a borrow runs on), but the lowest set bit is
    // exact: no byte before it borrows.
    fn escapes(word: u64) -> u64 {
        let zero_in = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        (word.wrapping_sub(ONES * 0x20) & !word & HIGHS)
            | zero_in(word ^ (ONES * u64::from(b'"')))
            | zero_in(word ^ (ONES * u64::from(b'\\')))
    }
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Sixteen bytes without an escape (most of a text) are passed over at once.
        if let Some(chunk) = bytes.get(i..i + 16) {
            let (a, b) = chunk.split_at(8);
            let a = u64::from_le_bytes(a.try_into().expect("8 bytes"));
            let b = u64::from_le_bytes(b.try_into().expect("8 bytes"));
            if escapes(a) | escapes(b) == 0 {
                i += 16;
                continue;
            }
        }
        let word = match bytes.get(i..i + 8) {
            Some(chunk) => u64::from_le_bytes(chunk.try_into().expect("8 bytes")),
            None => {
                // The tail, padded with bytes that need no escape.
                let mut padded = [b'a'; 8];
                padded[..bytes.len() - i].copy_from_slice(&bytes[i..]);
                u64::from_le_bytes(padded)
            }
        };
        let found = escapes(word);
        if found == 0 {
            i += 8;
            continue;
        }
        let at = i + (found.trailing_zeros() / 8) as usize;
        let b = bytes[at];
        // `b` is ASCII, so it starts and ends a character.
        out.push_str(&s[start..at]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        i = at + 1;
        start = i;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_json_str(&mut out, s);
        out
    }

    /// Strings that put every escape at every position of an 8-byte word, next to
    /// multi-byte characters.
    pub(crate) fn tricky_strings() -> Vec<String> {
        let specials: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain(['"', '\\', '/', '\u{7f}', '\u{80}', 'é', '\u{2028}', '\u{2029}', '\u{feff}', '😀', 'a'])
            .collect();
        let mut res = vec![String::new()];
        for &c in &specials {
            for pad in 0..17 {
                res.push(format!("{}{c}{}", "x".repeat(pad), "y".repeat(17 - pad)));
                res.push(format!("{}{c}{c}é{c}", "ab".repeat(pad)));
            }
        }
        res.push(specials.iter().collect());
        res.push(specials.iter().rev().cycle().take(300).collect());
        res
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in tricky_strings() {
            assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(s in any::<String>()) {
            prop_assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn strings_of_escapes_are_escaped_as_serde_json_escapes_them(
            s in proptest::collection::vec(
                prop_oneof![Just('"'), Just('\\'), Just('\n'), (0u8..0x20).prop_map(char::from), any::<char>()],
                0..40,
            ).prop_map(|cs| cs.into_iter().collect::<String>())
        ) {
            prop_assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
