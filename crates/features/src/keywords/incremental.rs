//! Keywords against new document frequencies without the document's text, when they can
//! be proven to be what a full recompute gives.
//!
//! A document's `Candidates` against a `DocFreq` hold its best `m` terms (more than the
//! `k` keywords), each with its count, and what bounds the others: a *floor* every other
//! term ranks at or after, and the highest count among them. When the corpus changes, the
//! candidates are scored again exactly (the same expression as `keywords`), and the others
//! are bounded from what changed between the two `DocFreq`s (`Shift`): a term whose
//! document count did not fall gains at most `tf × δ`, `δ = ln((1 + n_docs') / (1 +
//! n_docs))`, and one whose count fell has at most the highest new idf of such terms, and
//! at most the floor's score times the highest ratio of new to old idf of such terms (its
//! own score was at most the floor's, and its count is the same). If
//! the `k`-th candidate still ranks before every bound, the candidates' top `k` are the
//! keywords (`Candidates::rescore`); otherwise the caller computes them again from the
//! text (`candidates_of`).
//!
//! A record holds no scores: they are the `DocFreq`'s to give, and a cache that keeps
//! the keywords against the same `DocFreq` needs none of this.

use serde::{Deserialize, Serialize};

use super::{DocFreq, DocFreqIndex, Keyword, TermRef, idf, rank, score, with_words};

/// How many candidates a document keeps for `k` keywords: the slack lets a change of the
/// corpus reorder the top terms a little and still be certified.
pub fn n_candidates(k: usize) -> usize {
    k + 6
}

/// A document's best terms against one `DocFreq`, and bounds on its other terms (see the
/// module's comment). The first `k` terms are its keywords there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
///
/// The surface forms are `S`: owned `String`s as a document's terms make them, or `&str`
/// borrowed from a cached record (`Candidates<&str>` decodes from the bytes of a
/// `Candidates`, and encodes to the same bytes), so that certifying a cached shard copies
/// no text.
pub struct Candidates<S = String> {
    /// Occurrences of all terms of the document.
    pub n_terms: u64,
    /// The best terms, in the order of `keywords`.
    pub terms: Vec<Candidate<S>>,
    /// Every other term of the document ranks at or after this one; `None` when there is
    /// no other term.
    pub floor: Option<Floor<S>>,
    /// The highest count among the other terms (0 when there is none).
    pub rest_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate<S = String> {
    pub hash: u64,
    pub count: u64,
    pub surface: S,
}

/// A place in the keywords' order: a term's (score, surface, hash), or a bound on scores
/// (with the empty surface and hash 0, before any term of that score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Floor<S = String> {
    pub score: f64,
    pub surface: S,
    pub hash: u64,
}

impl<S: AsRef<str> + Default> Floor<S> {
    fn bound(score: f64) -> Floor<S> {
        Floor { score, surface: S::default(), hash: 0 }
    }

    fn key(&self) -> (f64, &[u8], u64) {
        (self.score, self.surface.as_ref().as_bytes(), self.hash)
    }
}

impl Candidates<&str> {
    /// The record with its surface forms copied out of what they borrow from.
    pub fn into_owned(self) -> Candidates {
        let owned = |surface: &str| surface.to_owned();
        Candidates {
            n_terms: self.n_terms,
            terms: self
                .terms
                .into_iter()
                .map(|c| Candidate { hash: c.hash, count: c.count, surface: owned(c.surface) })
                .collect(),
            floor: self.floor.map(|f| Floor { score: f.score, surface: owned(f.surface), hash: f.hash }),
            rest_count: self.rest_count,
        }
    }
}

/// A candidate with its score against one `DocFreq`.
struct Scored<'c, S> {
    score: f64,
    candidate: &'c Candidate<S>,
}

impl<S: AsRef<str>> Scored<'_, S> {
    fn key(&self) -> (f64, &[u8], u64) {
        (self.score, self.candidate.surface.as_ref().as_bytes(), self.candidate.hash)
    }
}

/// What changed between the `DocFreq` a record was made against (`old`) and the current
/// one (`new`), for `Candidates::rescore`. Made once per pair, not per document.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    /// `new.n_docs == old.n_docs`.
    same_n_docs: bool,
    /// `ln((1 + new.n_docs) / (1 + old.n_docs))`: the most a term's idf can gain when its
    /// document count does not fall.
    delta: f64,
    /// Bounds on the terms whose document count fell (`None`: none fell).
    fell: Option<Fell>,
    /// With the same number of documents: every term whose count rose has a new idf (as
    /// computed) at most its old one, so no score of a term whose count did not fall
    /// grows (checked, not assumed of `ln`).
    monotone: bool,
}

/// What bounds a term whose document count fell between two `DocFreq`s.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fell {
    /// The highest new idf of such terms.
    idf: f64,
    /// The highest ratio of a such term's new idf to its old one: a document whose count
    /// of the term is unchanged scores it at most that many times its old score.
    ratio: f64,
}

impl Shift {
    pub fn new(old: &DocFreq, new: &DocFreq) -> Shift {
        let same_n_docs = old.n_docs == new.n_docs;
        let delta = ((1.0 + new.n_docs as f64) / (1.0 + old.n_docs as f64)).ln();
        let mut fell: Option<Fell> = None;
        let mut monotone = same_n_docs;
        let mut changed = |old_count: u64, new_count: u64| {
            if new_count < old_count {
                let new_idf = idf(new.n_docs, new_count);
                let ratio = new_idf / idf(old.n_docs, old_count);
                fell = Some(match fell {
                    Some(f) => Fell { idf: f.idf.max(new_idf), ratio: f.ratio.max(ratio) },
                    None => Fell { idf: new_idf, ratio },
                });
            } else if new_count > old_count && idf(new.n_docs, new_count) > idf(old.n_docs, old_count) {
                monotone = false;
            }
        };
        // Both maps are sorted by hash: one merge over them.
        let mut olds = old.doc_counts.iter().peekable();
        let mut news = new.doc_counts.iter().peekable();
        loop {
            match (olds.peek(), news.peek()) {
                (None, None) => break,
                (Some(&(&h, &o)), Some(&(&g, &n))) if h == g => {
                    if o != n {
                        changed(o, n);
                    }
                    olds.next();
                    news.next();
                }
                (Some(&(&h, &o)), next) if next.is_none_or(|&(&g, _)| h < g) => {
                    changed(o, 0);
                    olds.next();
                }
                (_, Some(&(_, &n))) => {
                    changed(0, n);
                    news.next();
                }
                (Some(_), None) => unreachable!("handled by the arm above"),
            }
        }
        Shift { same_n_docs, delta, fell, monotone }
    }
}

/// `x` and a little more: a bound computed in floating point, made safe against its
/// rounding (and that of the scores it is compared with).
fn margin(x: f64) -> f64 {
    x + x.abs() * 1e-9 + 1e-12
}

/// Of two places in the order, the one that ranks first.
fn first_of<S: AsRef<str> + Default>(a: Floor<S>, b: Floor<S>) -> Floor<S> {
    if rank(a.key(), b.key()).is_le() { a } else { b }
}

/// The `k` keywords of `text` (language `lang`) against `doc_freq`, as `keywords_of`
/// gives them, and its candidates there: its best `m` (at least `k`) terms and the bounds
/// on the others.
pub fn candidates_of(
    text: &str,
    lang: Option<&str>,
    doc_freq: &DocFreqIndex,
    k: usize,
    m: usize,
) -> (Vec<Keyword>, Candidates) {
    candidates_of_blocks([text], lang, doc_freq, k, m)
}

/// `candidates_of` the text made of `blocks` joined by blank lines, without joining
/// them (no word spans a blank line).
pub fn candidates_of_blocks<'t>(
    blocks: impl IntoIterator<Item = &'t str>,
    lang: Option<&str>,
    doc_freq: &DocFreqIndex,
    k: usize,
    m: usize,
) -> (Vec<Keyword>, Candidates) {
    with_words(blocks, lang, None, |lexicon| {
        lexicon.gather_terms(Some(doc_freq));
        let m = m.max(k);
        let (terms, n_terms, rest_count) = lexicon.best_term_refs(m);
        candidates(&terms, n_terms, k, m, rest_count)
    })
}

/// The keywords and candidates of a document whose terms are `terms` and others, none of
/// which can be among the best `m + 1`, whose highest count is `rest_count`.
fn candidates(
    terms: &[TermRef<'_>],
    n_terms: u64,
    k: usize,
    m: usize,
    mut rest_count: u64,
) -> (Vec<Keyword>, Candidates) {
    let mut scored: Vec<(f64, &TermRef<'_>)> =
        terms.iter().map(|term| (score(term.count, n_terms, term.idf), term)).collect();
    let order = |a: &(f64, &TermRef<'_>), b: &(f64, &TermRef<'_>)| {
        rank((a.0, a.1.surface, a.1.hash), (b.0, b.1.surface, b.1.hash))
    };
    let mut floor = None;
    if scored.len() > m {
        // The best `m` first, then the best of the others.
        scored.select_nth_unstable_by(m, order);
        let (score, term) = scored[m];
        floor = Some(Floor { score, surface: term.surface(), hash: term.hash });
        rest_count = scored[m..].iter().map(|(_, term)| term.count).fold(rest_count, u64::max);
        scored.truncate(m);
    }
    scored.sort_by(order);
    let terms: Vec<Candidate> = scored
        .iter()
        .map(|(_, term)| Candidate { hash: term.hash, count: term.count, surface: term.surface() })
        .collect();
    // The first `k` candidates' surface forms are the keywords' texts (copied, not made
    // again from bytes).
    let keywords = scored
        .iter()
        .zip(&terms)
        .take(k)
        .map(|((score, _), candidate)| Keyword { text: candidate.surface.clone(), score: crate::round3(*score) })
        .collect();
    (keywords, Candidates { n_terms, terms, floor, rest_count })
}

impl<S: AsRef<str> + Clone + Default> Candidates<S> {
    /// The document's `k` keywords against `doc_freq`, the new `DocFreq` (`shift` says
    /// how it differs from the record's), and the record against it, when its first `k`
    /// candidates are certainly the keywords there: exactly what `keywords_of` gives.
    /// `None` when that cannot be proven: the caller computes them again from the text.
    pub fn rescore(&self, doc_freq: &DocFreqIndex, shift: &Shift, k: usize) -> Option<(Vec<Keyword>, Candidates<S>)> {
        self.rescore_with(doc_freq, shift, k, |surface, score| Keyword { text: surface.as_ref().to_owned(), score })
    }

    /// `rescore` with each keyword made by `keyword` from its surface form and its score
    /// (rounded as `Keyword::score` is): a caller whose surface forms are borrowed keeps
    /// the keywords borrowed too.
    pub fn rescore_with<T>(
        &self,
        doc_freq: &DocFreqIndex,
        shift: &Shift,
        k: usize,
        keyword: impl Fn(&S, f64) -> T,
    ) -> Option<(Vec<T>, Candidates<S>)> {
        let mut scored: Vec<Scored<'_, S>> = self
            .terms
            .iter()
            .map(|c| Scored { score: score(c.count, self.n_terms, doc_freq.idf(c.hash)), candidate: c })
            .collect();
        scored.sort_by(|a, b| rank(a.key(), b.key()));
        let record = |floor: Option<Floor<S>>| {
            let keywords =
                scored.iter().take(k).map(|s| keyword(&s.candidate.surface, crate::round3(s.score))).collect();
            let terms = scored.iter().map(|s| s.candidate.clone()).collect();
            (keywords, Candidates { n_terms: self.n_terms, terms, floor, rest_count: self.rest_count })
        };
        let Some(floor) = &self.floor else {
            // The candidates are all the document's terms.
            return Some(record(None));
        };
        let kth = scored.get(k.checked_sub(1)?)?;
        // The highest term frequency of the others.
        let rest_tf = score(self.rest_count, self.n_terms, 1.0);
        // A term whose count fell: at most the highest new idf at the highest count, and at
        // most its old score (at most the floor's) grown by the highest ratio of idfs.
        let fell = shift.fell.map(|fell| margin((rest_tf * fell.idf).min(floor.score * fell.ratio)));
        let floor = if shift.same_n_docs && shift.monotone {
            // No other term's score grew unless its count fell: each ranks at or after
            // where it was, so at or after the floor, or under the bound of those that fell.
            let certified = rank(kth.key(), floor.key()).is_lt() && fell.is_none_or(|bound| kth.score > bound);
            if !certified {
                return None;
            }
            match fell {
                Some(bound) => first_of(floor.clone(), Floor::bound(bound)),
                None => floor.clone(),
            }
        } else {
            let grown = margin(floor.score + rest_tf * shift.delta.max(0.0));
            let bound = fell.map_or(grown, |fell| grown.max(fell));
            if kth.score <= bound {
                return None;
            }
            Floor::bound(bound)
        };
        Some(record(Some(floor)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{doc_terms, keywords_of};
    use super::*;

    /// xorshift64*: a seeded sequence, the same on every platform.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A document of random words from a small vocabulary (so that terms repeat and
    /// scores tie), some English words among them so that stemming merges forms.
    fn document(rng: &mut Rng, vocabulary: &[String]) -> String {
        let n = 1 + rng.below(40);
        // A few words are much more frequent than the rest.
        (0..n)
            .map(|_| {
                let i = if rng.below(3) == 0 { rng.below(6) } else { rng.below(vocabulary.len()) };
                vocabulary[i].as_str()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn doc_freq(texts: &[String], lang: Option<&str>) -> DocFreq {
        DocFreq::of_documents(texts.iter().map(|t| doc_terms(t, lang)))
    }

    /// The corpus after one random change: documents edited (words added or taken out),
    /// added or removed, or nothing but other documents' words.
    fn change(rng: &mut Rng, texts: &[String], vocabulary: &[String]) -> Vec<String> {
        let mut res = texts.to_vec();
        match rng.below(5) {
            0 => {
                // Edit one document: a word appended.
                let i = rng.below(res.len());
                res[i].push(' ');
                res[i].push_str(&vocabulary[rng.below(vocabulary.len())]);
            }
            1 => {
                // Edit a few: words taken out (counts fall) and put in.
                for _ in 0..=rng.below(3) {
                    let i = rng.below(res.len());
                    let words: Vec<&str> = res[i].split(' ').collect();
                    let cut = rng.below(words.len() + 1);
                    res[i] = format!("{} {}", words[..cut].join(" "), document(rng, vocabulary));
                }
            }
            2 => {
                // Documents added.
                for _ in 0..=rng.below(4) {
                    res.push(document(rng, vocabulary));
                }
            }
            3 => {
                // Documents removed.
                for _ in 0..=rng.below(3).min(res.len().saturating_sub(2)) {
                    res.remove(rng.below(res.len()));
                }
            }
            _ => {
                // Added and removed: the same number of documents, counts up and down.
                let i = rng.below(res.len());
                res[i] = document(rng, vocabulary);
            }
        }
        res
    }

    /// Over many random corpora and changes, a record rescored against the new frequencies
    /// gives exactly the keywords a full recompute gives, or declines; and a record made
    /// by rescoring serves the next change as well as one made from the text.
    #[test]
    fn rescored_keywords_equal_a_full_recompute() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut certified, mut declined, mut chained) = (0, 0, 0);
        for round in 0..300 {
            let n_words = 8 + rng.below(60);
            let mut vocabulary: Vec<String> = (0..n_words).map(|i| format!("w{}", i * 7 % 61)).collect();
            vocabulary.extend(["cats", "cat", "running", "runs", "the", "tied", "ties"].map(String::from));
            let lang = [None, Some("eng")][round % 2];
            let k = 1 + rng.below(6);
            let m = [k, k + 1, n_candidates(k)][rng.below(3)];
            let texts: Vec<String> = (0..3 + rng.below(25)).map(|_| document(&mut rng, &vocabulary)).collect();
            let old = doc_freq(&texts, lang);
            let old_index = DocFreqIndex::new(&old);
            // Two changes in a row: the second rescores the records the first made.
            let mid_texts = change(&mut rng, &texts, &vocabulary);
            let new_texts = change(&mut rng, &mid_texts, &vocabulary);
            let mid = doc_freq(&mid_texts, lang);
            let new = doc_freq(&new_texts, lang);
            let (mid_index, new_index) = (DocFreqIndex::new(&mid), DocFreqIndex::new(&new));
            let (to_mid, mid_to_new) = (Shift::new(&old, &mid), Shift::new(&mid, &new));
            for text in &texts {
                let (keywords, record) = candidates_of(text, lang, &old_index, k, m);
                assert_eq!(keywords, keywords_of(text, lang, &old_index, k), "{text:?}");
                let Some((keywords, at_mid)) = record.rescore(&mid_index, &to_mid, k) else {
                    declined += 1;
                    continue;
                };
                certified += 1;
                assert_eq!(keywords, keywords_of(text, lang, &mid_index, k), "{text:?} k {k} m {m}");
                if let Some((keywords, _)) = at_mid.rescore(&new_index, &mid_to_new, k) {
                    chained += 1;
                    assert_eq!(keywords, keywords_of(text, lang, &new_index, k), "{text:?} k {k} m {m}");
                }
            }
        }
        assert!(certified > 1000 && declined > 50 && chained > 500, "{certified} {declined} {chained}");
    }

    #[test]
    fn the_same_frequencies_certify_everything() {
        let texts: Vec<String> = ["a b c d e f g h", "a a b", "c d d d e", "h"].map(String::from).to_vec();
        let df = doc_freq(&texts, None);
        let index = DocFreqIndex::new(&df);
        let shift = Shift::new(&df, &df);
        for text in &texts {
            for (k, m) in [(1, 1), (2, 3), (3, 9)] {
                let (keywords, record) = candidates_of(text, None, &index, k, m);
                let (again, _) = record.rescore(&index, &shift, k).expect("nothing changed");
                assert_eq!((&keywords, &again), (&keywords_of(text, None, &index, k), &keywords));
            }
        }
    }

    #[test]
    fn a_rare_term_that_falls_elsewhere_does_not_stop_a_clear_lead() {
        // "common" is in every document (idf 1) and the most frequent term of the first:
        // it bounds the rest by count, but its score is low. "rare" is in the rest of the
        // first and in one other document, which loses it: its idf rises, but not enough
        // to pass "beta", however often the rest's most frequent term occurs.
        let first = format!("{} {} {} rare", "alpha ".repeat(4), "beta ".repeat(3), "common ".repeat(5));
        let mut texts = vec![first.clone(), "common rare".into()];
        texts.extend((0..4).map(|i| format!("common filler{i}")));
        let old = doc_freq(&texts, None);
        let (_, record) = candidates_of(&first, None, &DocFreqIndex::new(&old), 2, 2);
        assert_eq!((record.floor.as_ref().map(|f| f.surface.as_str()), record.rest_count), (Some("common"), 5));
        texts[1] = "common".into();
        let new = doc_freq(&texts, None);
        let index = DocFreqIndex::new(&new);
        let (again, _) = record.rescore(&index, &Shift::new(&old, &new), 2).expect("certified");
        assert_eq!(again, keywords_of(&first, None, &index, 2));
    }

    #[test]
    fn a_tie_at_the_cut_declines_when_a_count_falls_and_holds_when_one_rises() {
        // Every term once, each in two documents: all tie, and the order is by surface.
        let texts: Vec<String> = ["a b c d e", "a b c d e"].map(String::from).to_vec();
        let old = doc_freq(&texts, None);
        let (_, record) = candidates_of(&texts[0], None, &DocFreqIndex::new(&old), 3, 3);
        assert_eq!(record.terms.iter().map(|c| c.surface.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!((record.floor.as_ref().map(|f| f.surface.as_str()), record.rest_count), (Some("d"), 1));
        // "a" in one more document (the same number of documents): it falls; "d" and
        // "e" cannot pass "b", and "c" stays in.
        let rose = [texts[0].clone(), "a b c d e".into(), "a x".into()];
        let (before, after) =
            (doc_freq(&[texts[0].clone(), texts[1].clone(), "x".into()], None), doc_freq(&rose, None));
        let (_, record) = candidates_of(&texts[0], None, &DocFreqIndex::new(&before), 2, 3);
        let index = DocFreqIndex::new(&after);
        let (again, _) = record.rescore(&index, &Shift::new(&before, &after), 2).expect("certified");
        assert_eq!(again, keywords_of(&texts[0], None, &index, 2));
        // "d" in one document fewer: it may now pass the candidates; declined.
        let fell = [texts[0].clone(), "a b c e".into(), "x".into()];
        let after = doc_freq(&fell, None);
        let shift = Shift::new(&before, &after);
        assert_eq!(record.rescore(&DocFreqIndex::new(&after), &shift, 2), None);
    }
}
