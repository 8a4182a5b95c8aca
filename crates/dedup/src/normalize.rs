//! Text normalisation for comparing headings, blocks and documents.

use unicode_normalization::UnicodeNormalization;

/// NFKC, lower case, one space between words, one style of quotes and dashes.
pub fn normalize(text: &str) -> String {
    let mut res = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !res.is_empty() {
            res.push(' ');
        }
        if word.is_ascii() {
            // NFKC leaves ASCII unchanged: skip the (slow) decomposition.
            res.extend(word.chars().map(|c| fold(c.to_ascii_lowercase())));
        } else {
            res.extend(word.nfkc().flat_map(char::to_lowercase).map(fold));
        }
    }
    res
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
/// (as CCNet does for its line hashes).
pub(crate) fn normalize_line(text: &str) -> String {
    normalize(text).chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_space_quotes() {
        assert_eq!(normalize("  Cox’s  “Commitment”\u{a0}Here "), "cox's \"commitment\" here");
        assert_eq!(normalize("ＦＵＬＬ width"), "full width");
        assert_eq!(normalize_line("Updated May 3, 2024"), "updated may 0, 0000");
    }
}
