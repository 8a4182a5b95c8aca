//! Shared text views: lines, paragraphs and the Treebank-like tokens the Gopher
//! signals are defined on.

use rustc_hash::{FxHashMap, FxHashSet};

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
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).filter(|l| !l.trim().is_empty()).collect()
}

/// Python's `re.split(r"\n{2,}", text.strip())`: paragraphs separated by runs of two or
/// more newlines.
pub(crate) fn paragraphs(text: &str) -> Vec<&str> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let mut res = Vec::new();
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
/// Only elements whose byte length is shared by another one can repeat, so the others
/// are never hashed: most paragraphs and lines of prose have a length of their own.
pub(crate) fn find_duplicates(items: &[&str]) -> (usize, usize) {
    let mut lengths: FxHashMap<usize, u32> = FxHashMap::default();
    lengths.reserve(items.len());
    for item in items {
        *lengths.entry(item.len()).or_default() += 1;
    }
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let (mut n_dup, mut dup_chars) = (0, 0);
    for item in items {
        if lengths.get(&item.len()).is_some_and(|&n| n > 1) && !seen.insert(item) {
            n_dup += 1;
            dup_chars += char_len(item);
        }
    }
    (n_dup, dup_chars)
}

/// A punctuation or symbol character: no letter or digit.
fn is_symbol(c: char) -> bool {
    !c.is_alphanumeric()
}

/// A token is a word (datatrove's "non-symbol word") when one of its characters is a
/// letter or a digit.
pub(crate) fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

/// Tokens approximating NLTK's Treebank `word_tokenize`, which datatrove's Gopher filters
/// use: white-space separated chunks, with leading and trailing punctuation split off as
/// one token per character (a run of periods stays one token, like `...`). Contractions
/// are not split and inner punctuation stays (`U.S`, `don't`, `e-mail`).
pub(crate) struct Tokens<'a> {
    pub(crate) list: Vec<&'a str>,
    /// Characters of each token.
    pub(crate) chars: Vec<u32>,
}

/// The chunks of `text` between white space (Unicode's), each with whether it is ASCII.
fn chunks<'a>(text: &'a str, mut f: impl FnMut(&'a str, bool)) {
    let b = text.as_bytes();
    let mut i = 0;
    let mut start = None;
    let mut ascii = true;
    while i < b.len() {
        let (space, len) = if b[i] < 0x80 {
            (b[i].is_ascii_whitespace() || b[i] == 0x0b, 1)
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            (c.is_whitespace(), c.len_utf8())
        };
        if space {
            if let Some(s) = start.take() {
                f(&text[s..i], ascii);
            }
        } else if start.is_none() {
            start = Some(i);
            ascii = len == 1;
        } else {
            ascii &= len == 1;
        }
        i += len;
    }
    if let Some(s) = start {
        f(&text[s..], ascii);
    }
}

pub(crate) fn tokens(text: &str) -> Tokens<'_> {
    let mut list = Vec::with_capacity(text.len() / 5);
    let mut chars = Vec::with_capacity(text.len() / 5);
    chunks(text, |chunk, ascii| {
        // Most chunks are a plain word: letters or digits at both ends.
        let (first, last) = (chunk.as_bytes()[0], chunk.as_bytes()[chunk.len() - 1]);
        if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
            list.push(chunk);
            chars.push(if ascii { chunk.len() } else { char_len(chunk) } as u32);
            return;
        }
        let mut push = |token: &'_ str| {
            chars.push(char_len(token) as u32);
        };
        let mut rest = chunk;
        // Leading punctuation.
        while let Some(c) = rest.chars().next() {
            if !is_symbol(c) {
                break;
            }
            let len = run_len(rest, c);
            list.push(&rest[..len]);
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
            list.push(&rest[..end]);
            push(&rest[..end]);
        }
        for token in trailing[..n_trailing].iter().rev() {
            list.push(token);
            push(token);
        }
    });
    Tokens { list, chars }
}

/// Length in bytes of the token starting with `c` at the front of `s`: a run of periods,
/// or the one character.
fn run_len(s: &str, c: char) -> usize {
    if c == '.' { s.bytes().take_while(|&b| b == b'.').count() } else { c.len_utf8() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_edge_punctuation() {
        // Treebank splits "Hello," into "Hello" and "," and keeps "..." whole.
        let t = tokens("“Hello,” he said... (U.S.) #tag don't\u{a0}café");
        assert_eq!(
            t.list,
            ["“", "Hello", ",", "”", "he", "said", "...", "(", "U.S", ".", ")", "#", "tag", "don't", "café"]
        );
        assert_eq!(t.chars, [1, 5, 1, 1, 2, 4, 3, 1, 3, 1, 1, 1, 3, 5, 4]);
        assert_eq!(tokens("... ?! 😀").list, ["...", "?", "!", "😀"]);
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
    }

    #[test]
    fn lines_skip_blank() {
        assert_eq!(lines("a\r\n\n \nb"), ["a", "b"]);
    }
}
