//! Gopher's quality and repetition signals (Rae et al. 2021, table A1), with the
//! definitions of datatrove's `gopher_quality_filter.py` and `gopher_repetition_filter.py`.
//!
//! Differences from datatrove, all documented in FEATURES.md: tokens come from
//! `text::tokens` (an approximation of NLTK's tokenizer), lines are the non-blank lines,
//! and duplicate n-grams are compared as token sequences rather than as the concatenated
//! string.

use pith_types::{GopherSignals, RepetitionSignals};

use crate::interner::Interner;
use crate::text::{Tokens, find_duplicates, paragraphs};
use crate::{ratio, round3};

pub(crate) fn quality(text: &str, tokens: &Tokens, lines: &[&str]) -> GopherSignals {
    let n_tokens = tokens.list.len();
    let n_hash = memchr::memchr_iter(b'#', text.as_bytes()).count();
    let n_ellipsis = count_triple_dots(text) + count_ellipses(text);
    let n_bullet = lines
        .iter()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with('•') || l.starts_with('-')
        })
        .count();
    let n_ellipsis_lines = lines
        .iter()
        .filter(|l| {
            let l = l.trim_end();
            l.ends_with("...") || l.ends_with('…')
        })
        .count();
    GopherSignals {
        words: tokens.n_words as u64,
        tokens: n_tokens as u64,
        mean_word_length: round3(ratio(tokens.word_chars, tokens.n_words)),
        hash_ratio: round3(ratio(n_hash, n_tokens)),
        ellipsis_ratio: round3(ratio(n_ellipsis, n_tokens)),
        bullet_lines_ratio: round3(ratio(n_bullet, lines.len())),
        ellipsis_lines_ratio: round3(ratio(n_ellipsis_lines, lines.len())),
        alpha_words_ratio: round3(ratio(tokens.n_alpha, n_tokens)),
        stop_words: tokens.n_stop as u64,
    }
}

/// `text.matches('…').count()`: the character's last byte (E2 80 A6), found with the memchr
/// crate's vectorised search (core's search for it takes about an instruction a byte),
/// after its first two.
fn count_ellipses(text: &str) -> usize {
    let b = text.as_bytes();
    memchr::memchr_iter(0xa6, b).filter(|&at| at >= 2 && b[at - 2] == 0xe2 && b[at - 1] == 0x80).count()
}

/// `line_duplicates` is `find_duplicates(lines)`, shared with FineWeb.
/// Python's `text.count("...")`: non-overlapping, from the left, which the memchr crate's
/// substring search finds (its prefilter looks for two periods at once, so it is not
/// restarted at every full stop as a search for one period was).
fn count_triple_dots(text: &str) -> usize {
    memchr::memmem::find_iter(text.as_bytes(), b"...").count()
}

/// `count_triple_dots` by runs of periods: a run of n holds n / 3 of them.
#[cfg(test)]
fn count_triple_dots_by_runs(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut res, mut run_end) = (0, 0);
    for at in memchr::memchr_iter(b'.', b) {
        if at < run_end {
            continue;
        }
        let len = b[at..].iter().take_while(|&&c| c == b'.').count();
        res += len / 3;
        run_end = at + len;
    }
    res
}

pub(crate) fn repetition(
    text: &str,
    n_chars: usize,
    tokens: &Tokens,
    lines: &[&str],
    line_duplicates: (usize, usize),
    scratch: &mut NgramScratch,
) -> RepetitionSignals {
    let paras = paragraphs(text);
    let (para_dups, para_dup_chars) = find_duplicates(&paras);
    let (line_dups, line_dup_chars) = line_duplicates;
    let ngrams = ngram_fractions(tokens, scratch);
    let frac = |chars: usize| round3(ratio(chars, n_chars));
    RepetitionSignals {
        dup_line_frac: round3(ratio(line_dups, lines.len())),
        dup_line_char_frac: frac(line_dup_chars),
        dup_para_frac: round3(ratio(para_dups, paras.len())),
        dup_para_char_frac: frac(para_dup_chars),
        top_2gram_char_frac: frac(ngrams.top[0]),
        top_3gram_char_frac: frac(ngrams.top[1]),
        top_4gram_char_frac: frac(ngrams.top[2]),
        dup_5gram_char_frac: frac(ngrams.dup[0]),
        dup_6gram_char_frac: frac(ngrams.dup[1]),
        dup_7gram_char_frac: frac(ngrams.dup[2]),
        dup_8gram_char_frac: frac(ngrams.dup[3]),
        dup_9gram_char_frac: frac(ngrams.dup[4]),
        dup_10gram_char_frac: frac(ngrams.dup[5]),
    }
}

/// The n-gram levels' buffers, reused from one document to the next (see `Scratch`): no
/// result is kept in them between calls.
#[derive(Debug, Default)]
pub(crate) struct NgramScratch {
    candidates: Vec<u32>,
    ids: Vec<u32>,
    seen: Vec<bool>,
    pairs: Interner,
}

impl NgramScratch {
    /// Bytes held.
    pub(crate) fn footprint(&self) -> usize {
        (self.candidates.capacity() + self.ids.capacity()) * 4 + self.seen.capacity() + self.pairs.footprint()
    }
}

/// Character counts behind the n-gram signals.
#[derive(Debug, Default, PartialEq)]
struct NgramChars {
    /// For n = 2, 3, 4: characters of the most frequent n-gram (joined by spaces) times its
    /// count, the first one on ties (datatrove's `find_top_duplicate`).
    top: [usize; 3],
    /// For n = 5..=10: characters of the n-grams met again by datatrove's greedy
    /// left-to-right scan (`find_all_duplicate`), which jumps over a repeat.
    dup: [usize; 6],
}

/// Computes every n-gram signal without building n-gram strings.
///
/// Each n-gram gets an exact id by interning the pair (id of its (n-1)-gram prefix, id of
/// its last token). An n-gram can only repeat where both its (n-1)-gram prefix and suffix
/// repeat, so each n only visits the positions whose (n-1)-gram repeats (the
/// *candidates*); every other n-gram occurs once. The work is linear in the number of
/// tokens, and shrinks fast with n on ordinary prose.
fn ngram_fractions(tokens: &Tokens, scratch: &mut NgramScratch) -> NgramChars {
    let mut res = NgramChars::default();
    let n_tokens = tokens.list.len();
    if n_tokens < 2 {
        return res;
    }
    let unigrams = &tokens.list;
    let NgramScratch { candidates, ids, seen, pairs } = scratch;
    let counts = &tokens.counts;
    // Characters of tokens[i..i + n].
    let span_chars = |i: usize, n: usize| unigrams[i..i + n].iter().map(|t| t.chars as usize).sum::<usize>();

    // Tables are sized for an article up front; a huge document's grow as needed rather
    // than reserving one entry per token.
    const RESERVE: usize = 1 << 14;
    pairs.reset((n_tokens / 2).min(RESERVE));
    // The candidates (positions, ascending) and, in step, the id of their n-gram. Filled
    // by plain loops into reserved vectors: collecting a filter grows them by copying.
    // For 2-grams, straight from the tokens: the positions where this token and the next
    // repeat.
    candidates.clear();
    candidates.reserve(n_tokens);
    ids.clear();
    ids.reserve(n_tokens);
    let mut repeats = counts[unigrams[0].id as usize] >= 2;
    for (i, pair) in unigrams.windows(2).enumerate() {
        let next_repeats = counts[pair[1].id as usize] >= 2;
        if repeats && next_repeats {
            candidates.push(i as u32);
            ids.push(pairs.intern((u64::from(pair[0].id) << 32) | u64::from(pair[1].id)));
        }
        repeats = next_repeats;
    }
    for n in 2..=10usize {
        if n > n_tokens {
            break;
        }
        let n_grams = n_tokens - n + 1;
        // The n-grams whose prefix and suffix repeat, compacted in place. Candidates are
        // ascending, so the suffix at i + 1 repeats when the next candidate is i + 1.
        // Slices, whose pointers and lengths stay in registers while `pairs` is written.
        let (cands, level_ids) = (candidates.as_mut_slice(), ids.as_mut_slice());
        let kept = if n == 2 {
            // Made above.
            cands.len()
        } else {
            pairs.clear();
            let mut kept = 0;
            for k in 0..cands.len() {
                let i = cands[k] as usize;
                if i < n_grams && cands.get(k + 1).is_some_and(|&next| next as usize == i + 1) {
                    let key = (u64::from(level_ids[k]) << 32) | u64::from(unigrams[i + n - 1].id);
                    let id = pairs.intern(key);
                    cands[kept] = i as u32;
                    level_ids[kept] = id;
                    kept += 1;
                }
            }
            kept
        };
        // Of those, the ones that repeat.
        let next_counts = pairs.counts.as_slice();
        let mut n_repeats = 0;
        for k in 0..kept {
            // Compacted without a branch: each candidate is written at the next free
            // place, which moves on only for a repeat (unpredictable).
            cands[n_repeats] = cands[k];
            level_ids[n_repeats] = level_ids[k];
            n_repeats += usize::from(next_counts[level_ids[k] as usize] >= 2);
        }
        candidates.truncate(n_repeats);
        ids.truncate(n_repeats);
        // The level's counts stay in `pairs` until the next level clears it.
        let counts = next_counts;

        if n <= 4 {
            // The first n-gram with the highest count; space-joined characters. Without
            // repeats, the first n-gram, once.
            let (mut best_i, mut best_count) = (0, 1);
            for (&i, &id) in candidates.iter().zip(ids.iter()) {
                let count = counts[id as usize];
                if count > best_count {
                    (best_i, best_count) = (i as usize, count);
                }
            }
            res.top[n - 2] = (span_chars(best_i, n) + n - 1) * best_count as usize;
        } else if !candidates.is_empty() {
            // datatrove's scan from the left, jumping n tokens past each repeat. Only
            // candidates can be repeats.
            seen.clear();
            seen.resize(counts.len(), false);
            let (mut idx, mut repeated_chars) = (0, 0);
            for (&i, &id) in candidates.iter().zip(ids.iter()) {
                let i = i as usize;
                if i < idx {
                    continue;
                }
                let id = id as usize;
                if seen[id] {
                    repeated_chars += span_chars(i, n);
                    idx = i + n;
                } else {
                    seen[id] = true;
                    idx = i + 1;
                }
            }
            res.dup[n - 5] = repeated_chars;
        }
        if candidates.is_empty() && n >= 4 {
            break;
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{lines, tokens};

    fn check_ngrams(text: &str, top: [usize; 3], dup: [usize; 6]) {
        assert_eq!(ngram_fractions(&tokens(text), &mut NgramScratch::default()), NgramChars { top, dup }, "{text:?}");
    }

    #[test]
    fn ellipses_like_matches() {
        for text in ["", "…", "a……b", "æ ц Ц … x…", "..…", "\u{2026}\u{2025}\u{2027}"] {
            assert_eq!(count_ellipses(text), text.matches('…').count(), "{text:?}");
        }
    }

    #[test]
    fn top_ngrams() {
        // datatrove find_top_duplicate: len(most common space-joined n-gram) * its count.
        // "a b a b a b": 2-grams "a b" x3 (3 chars) = 9; 3-grams "a b a" x2 (5 chars) = 10
        // (first on ties with "b a b"); 4-grams "a b a b" x2 (7 chars) = 14.
        // find_all_duplicate, n=5: 5-grams "a b a b a", "b a b a b" are both new: 0.
        check_ngrams("a b a b a b", [9, 10, 14], [0; 6]);
        // No repeat: the first n-gram, count 1: "aa bb" = 5, "aa bb cc" = 8, "aa bb cc dd" = 11.
        check_ngrams("aa bb cc dd ee", [5, 8, 11], [0; 6]);
    }

    #[test]
    fn duplicate_ngrams() {
        // Ten distinct tokens then the same ten again: for n = 5 the scan meets "a b c d e"
        // again at index 10, counts its 5 characters (concatenated) and jumps 5 tokens to
        // "f g h i j", again a repeat: 10. For n = 6..=10 the repeat at index 10 counts n
        // characters and the jump ends the scan. Top n-grams: "a b" x2 = 6, "a b c" x2 = 10,
        // "a b c d" x2 = 14.
        let text = "a b c d e f g h i j a b c d e f g h i j";
        check_ngrams(text, [6, 10, 14], [10, 6, 7, 8, 9, 10]);
    }

    /// `ngram_fractions` against datatrove's definitions computed naively, on random texts
    /// of a small vocabulary (many repeats).
    #[test]
    fn ngrams_like_naive() {
        let vocabulary = ["a", "bb", "a", "ccc", "dd", "é", "a", "bb"];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..60 {
            for _ in 0..20 {
                let words: Vec<&str> =
                    (0..len).map(|_| vocabulary[crate::next_index(&mut seed, vocabulary.len())]).collect();
                let chars = |gram: &[&str]| gram.iter().map(|w| w.chars().count()).sum::<usize>();
                let mut want = NgramChars::default();
                for n in 2..=4 {
                    if n > words.len() {
                        break;
                    }
                    let grams: Vec<&[&str]> = words.windows(n).collect();
                    let count = |g: &[&str]| grams.iter().filter(|h| **h == g).count();
                    let mut best = grams[0];
                    for g in &grams {
                        if count(g) > count(best) {
                            best = g;
                        }
                    }
                    want.top[n - 2] = (chars(best) + n - 1) * count(best);
                }
                for n in 5..=10 {
                    let mut seen = std::collections::HashSet::new();
                    let (mut idx, mut repeated) = (0, 0);
                    while idx + n <= words.len() {
                        let gram = &words[idx..idx + n];
                        if seen.contains(gram) {
                            repeated += chars(gram);
                            idx += n;
                        } else {
                            seen.insert(gram);
                            idx += 1;
                        }
                    }
                    want.dup[n - 5] = repeated;
                }
                let text = words.join(" ");
                assert_eq!(ngram_fractions(&tokens(&text), &mut NgramScratch::default()), want, "{text:?}");
            }
        }
    }

    #[test]
    fn repetition_fractions() {
        // Paragraphs "x y z", "x y z", "q": one duplicate of three, 5 of len(text) =
        // 5 + 2 + 5 + 2 + 1 = 15 characters; the lines are the same three.
        let text = "x y z\n\nx y z\n\nq";
        let ls = lines(text);
        let r = repetition(text, 15, &tokens(text), &ls, find_duplicates(&ls), &mut NgramScratch::default());
        assert_eq!((r.dup_para_frac, r.dup_para_char_frac), (0.333, 0.333));
        assert_eq!((r.dup_line_frac, r.dup_line_char_frac), (0.333, 0.333));
    }

    #[test]
    fn triple_dots() {
        // Python: "a...b.....c..d".count("...") == 2 (non-overlapping, left to right).
        assert_eq!(count_triple_dots("a...b.....c..d"), 2);
        assert_eq!(count_triple_dots("......"), 2);
        let pieces = [".", "..", "...", "a", " ", "….", "x.y", "\n"];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..12 {
                text.push_str(pieces[crate::next_index(&mut seed, pieces.len())]);
            }
            assert_eq!(count_triple_dots(&text), count_triple_dots_by_runs(&text), "{text:?}");
        }
    }

    #[test]
    fn quality_signals() {
        // Tokens: "The", "cat", "and", "the", "dog", "...", "#", "1", ",", "-", "x":
        // 11 tokens, 7 of them with a letter or digit ("...", "#", ",", "-" are symbols).
        let text = "The cat and the dog...\n# 1, - x";
        let toks = tokens(text);
        assert_eq!(toks.list.len(), 11);
        let g = quality(text, &toks, &lines(text));
        assert_eq!(g.words, 7);
        // (3 + 3 + 3 + 3 + 3 + 1 + 1) / 7 = 2.429
        assert_eq!(g.mean_word_length, 2.429);
        // One "#" and one "..." per 11 tokens.
        assert_eq!((g.hash_ratio, g.ellipsis_ratio), (0.091, 0.091));
        // Lines: "The cat ... dog..." ends with an ellipsis; "# 1, - x" starts with "#",
        // which is not a bullet.
        assert_eq!((g.bullet_lines_ratio, g.ellipsis_lines_ratio), (0.0, 0.5));
        // Tokens with a letter: The cat and the dog x = 6 of 11.
        assert_eq!(g.alpha_words_ratio, 0.545);
        // "and", "the" (case-sensitive, as datatrove's `w in stop_words`).
        assert_eq!(g.stop_words, 2);
    }
}
