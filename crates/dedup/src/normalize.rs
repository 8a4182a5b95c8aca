//! Text normalisation for comparing headings, blocks and documents.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// NFKC, lower case, one space between words, one style of quotes and dashes.
pub fn normalize(text: &str) -> String {
    let mut res = String::with_capacity(text.len());
    normalize_into(text, &mut res);
    res
}

/// `normalize`, appended to `res` (after a space when `res` is not empty): normalising
/// texts one after another into one buffer gives `normalize` of the texts joined by
/// white space.
pub(crate) fn normalize_into(text: &str, res: &mut String) {
    if text.is_ascii() {
        return normalize_ascii_into(text, res);
    }
    for word in text.split_whitespace() {
        if !res.is_empty() {
            res.push(' ');
        }
        if word.is_ascii() {
            // NFKC leaves ASCII unchanged: skip the (slow) decomposition.
            let at = res.len();
            res.push_str(word);
            res[at..].make_ascii_lowercase();
            if word.contains('`') {
                let folded = res[at..].replace('`', "'");
                res.truncate(at);
                res.push_str(&folded);
            }
        } else if is_nfkc_quick(word.chars()) == IsNormalized::Yes {
            // Already NFKC (curly quotes, accented letters in composed form): only the
            // case and the quote style change.
            for c in word.chars() {
                if c.is_ascii() {
                    res.push(if c == '`' { '\'' } else { c.to_ascii_lowercase() });
                } else {
                    res.extend(c.to_lowercase().map(fold));
                }
            }
        } else {
            res.extend(word.nfkc().flat_map(char::to_lowercase).map(fold));
        }
    }
}

/// `normalize_into` for ASCII text: its words copied whole, then lower-cased in place.
fn normalize_ascii_into(text: &str, res: &mut String) {
    // `char::is_whitespace` on ASCII: unlike `u8::is_ascii_whitespace`, with U+000B.
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let bytes = text.as_bytes();
    let start = res.len();
    res.reserve(text.len() + 1);
    let mut i = 0;
    loop {
        while i < bytes.len() && space(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let word = i;
        while i < bytes.len() && !space(bytes[i]) {
            i += 1;
        }
        if !res.is_empty() {
            res.push(' ');
        }
        res.push_str(&text[word..i]);
    }
    res[start..].make_ascii_lowercase();
    if res[start..].contains('`') {
        let folded = res[start..].replace('`', "'");
        res.truncate(start);
        res.push_str(&folded);
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
#[cfg(test)]
pub(crate) fn normalize_line(text: &str) -> String {
    normalize(text).chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_space_quotes() {
        assert_eq!(normalize("  Cox’s  “Commitment”\u{a0}Here "), "cox's \"commitment\" here");
        assert_eq!(normalize("It`S  ok"), "it's ok");
        assert_eq!(normalize(" \x0bA\tB\x1f c\r\n"), "a b\x1f c");
        assert_eq!(normalize("x\u{85}Y"), "x y", "the non-ASCII path splits on Unicode spaces");
        let mut joined = String::new();
        for part in ["  A b", "", "C\u{a0}ｄ "] {
            normalize_into(part, &mut joined);
        }
        assert_eq!(joined, normalize("  A b\n\n\n\nC\u{a0}ｄ "));
        assert_eq!(normalize("ＦＵＬＬ width"), "full width");
        assert_eq!(normalize_line("Updated May 3, 2024"), "updated may 0, 0000");
    }

    #[test]
    fn ascii_path_is_words_lowered_and_joined() {
        let reference = |text: &str| -> String {
            let words: Vec<String> = text
                .split(char::is_whitespace)
                .filter(|w| !w.is_empty())
                .map(|w| w.to_ascii_lowercase().replace('`', "'"))
                .collect();
            words.join(" ")
        };
        for text in ["", " ", "a", " A  b\t\tC\r\n", "\x0bX`Y`\x0c z ", "It`S  ok!\x1f?", "ab\n\ncd ef "] {
            assert_eq!(normalize(text), reference(text), "{text:?}");
            let mut joined = "prefix".to_owned();
            normalize_ascii_into(text, &mut joined);
            let expected =
                if reference(text).is_empty() { "prefix".to_owned() } else { format!("prefix {}", reference(text)) };
            assert_eq!(joined, expected, "{text:?}");
        }
    }
}
