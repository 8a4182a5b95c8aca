//! TF-IDF keywords, the per-document part: terms of a document, corpus document
//! frequencies (`DocFreq`, a mergeable map for the corpus pass) and the top terms of a
//! document against them.
//!
//! A *term* is a word (a run of letters and digits with at least one letter) lower-cased,
//! dropped if it is a stop word of the document's language (the `stop-words` lists), then
//! stemmed with Snowball (`rust-stemmers`) when the language has a stemmer; other languages
//! keep the lower-cased word. Terms are keyed by a 64-bit FNV-1a hash of their text, the
//! same on every platform, so that frequencies computed on different machines merge.
//!
//! `features` leaves `Features::keywords` empty: the document frequencies need the whole
//! corpus, so the driver's corpus pass counts them (`DocFreq` per shard, merged) and sets
//! the keywords afterwards.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// The terms of one document, ready for `keywords` and `DocFreq::add_document`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocTerms {
    /// Distinct terms, by ascending hash.
    pub terms: Vec<Term>,
    /// Occurrences of all terms (the denominator of term frequencies).
    pub n_terms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    pub hash: u64,
    /// Occurrences in the document.
    pub count: u64,
    /// The lower-cased word that most often gave this term (the first in byte order on
    /// ties): "elections" rather than the stem "elect".
    pub surface: String,
}

/// Corpus document frequencies: for each term hash, the number of documents containing
/// it, and the number of documents. Merging is addition, so any split of the corpus and
/// any merge order give the same value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocFreq {
    pub n_docs: u64,
    /// Sorted by hash, so that the serialised form is the same for equal values.
    pub doc_counts: BTreeMap<u64, u64>,
}

impl DocFreq {
    pub fn add_document(&mut self, doc: &DocTerms) {
        self.n_docs += 1;
        for term in &doc.terms {
            *self.doc_counts.entry(term.hash).or_default() += 1;
        }
    }

    pub fn merge(&mut self, other: &DocFreq) {
        self.n_docs += other.n_docs;
        for (&hash, &count) in &other.doc_counts {
            *self.doc_counts.entry(hash).or_default() += count;
        }
    }

    /// Documents containing the term.
    pub fn doc_count(&self, hash: u64) -> u64 {
        self.doc_counts.get(&hash).copied().unwrap_or(0)
    }

    /// The frequencies of `docs`: `add_document` of each, counted in a hash table first.
    pub fn of_documents(docs: impl IntoIterator<Item = impl std::borrow::Borrow<DocTerms>>) -> DocFreq {
        let mut n_docs = 0;
        let mut counts: FxHashMap<u64, u64> = FxHashMap::default();
        for doc in docs {
            n_docs += 1;
            for term in &doc.borrow().terms {
                *counts.entry(term.hash).or_default() += 1;
            }
        }
        DocFreq { n_docs, doc_counts: counts.into_iter().collect() }
    }
}

/// A `DocFreq` for lookups: `keywords` asks it for every term of every document.
#[derive(Debug, Clone, Default)]
pub struct DocFreqIndex {
    n_docs: u64,
    counts: FxHashMap<u64, u64>,
}

impl DocFreqIndex {
    pub fn new(doc_freq: &DocFreq) -> DocFreqIndex {
        DocFreqIndex { n_docs: doc_freq.n_docs, counts: doc_freq.doc_counts.iter().map(|(&h, &n)| (h, n)).collect() }
    }
}

/// A keyword: the term's surface form (see `Term::surface`) and its TF-IDF, rounded to
/// three decimals.
pub use pith_types::Keyword;

/// The stemmer and stop-word list code of an ISO 639-3 language (whatlang's codes).
fn language(code: &str) -> Option<(Algorithm, &'static str)> {
    let res = match code {
        "eng" => (Algorithm::English, "en"),
        "deu" => (Algorithm::German, "de"),
        "fra" => (Algorithm::French, "fr"),
        "spa" => (Algorithm::Spanish, "es"),
        "por" => (Algorithm::Portuguese, "pt"),
        "ita" => (Algorithm::Italian, "it"),
        "nld" => (Algorithm::Dutch, "nl"),
        "rus" => (Algorithm::Russian, "ru"),
        "swe" => (Algorithm::Swedish, "sv"),
        "dan" => (Algorithm::Danish, "da"),
        "nob" | "nno" => (Algorithm::Norwegian, "no"),
        "fin" => (Algorithm::Finnish, "fi"),
        "hun" => (Algorithm::Hungarian, "hu"),
        "ron" => (Algorithm::Romanian, "ro"),
        "tur" => (Algorithm::Turkish, "tr"),
        "ell" => (Algorithm::Greek, "el"),
        "ara" => (Algorithm::Arabic, "ar"),
        "tam" => (Algorithm::Tamil, "ta"),
        _ => return None,
    };
    Some(res)
}

/// FNV-1a, 64 bits: simple, and the same on every platform.
fn term_hash(term: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in term.as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The stop words of a `stop-words` language code, as a set built once.
fn stop_set(code: &'static str) -> &'static FxHashSet<&'static str> {
    static SETS: OnceLock<FxHashMap<&'static str, FxHashSet<&'static str>>> = OnceLock::new();
    static EMPTY: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        let codes = [
            "en", "de", "fr", "es", "pt", "it", "nl", "ru", "sv", "da", "no", "fi", "hu", "ro", "tr", "el", "ar", "ta",
        ];
        codes
            .iter()
            .map(|&code| (code, stop_words::lookup(code).unwrap_or_default().iter().copied().collect()))
            .collect()
    });
    sets.get(code).unwrap_or_else(|| EMPTY.get_or_init(FxHashSet::default))
}

/// The terms of `text`, a document in language `lang` (ISO 639-3, as in
/// `Features::language`; `None` or an unsupported language: no stop words, no stemming).
///
/// Each distinct lower-cased word is looked up and stemmed once.
pub fn doc_terms(text: &str, lang: Option<&str>) -> DocTerms {
    let lang = lang.and_then(language);
    let stemmer = lang.map(|(algorithm, _)| Stemmer::create(algorithm));
    let stop = lang.map(|(_, code)| stop_set(code));
    // Distinct lower-cased words with their counts; borrowed where already lower case.
    let mut words: FxHashMap<Cow<'_, str>, u64> = FxHashMap::default();
    let mut lower = String::new();
    // One more of `word`, or of its lower-cased form `lowered` (copied only the first time).
    fn count<'t>(words: &mut FxHashMap<Cow<'t, str>, u64>, word: &'t str, lowered: Option<&str>) {
        let lowered = match lowered {
            None => return *words.entry(Cow::Borrowed(word)).or_default() += 1,
            Some(lowered) => lowered,
        };
        match words.get_mut(lowered) {
            Some(n) => *n += 1,
            None => {
                words.insert(Cow::Owned(lowered.to_owned()), 1);
            }
        }
    }
    if text.is_ascii() {
        for word in text.as_bytes().split(|b| !b.is_ascii_alphanumeric()) {
            if !word.iter().any(u8::is_ascii_alphabetic) {
                continue;
            }
            // ASCII bytes cut at ASCII bytes: still UTF-8.
            let word = std::str::from_utf8(word).expect("ASCII");
            if word.bytes().any(|b| b.is_ascii_uppercase()) {
                lower.clear();
                lower.push_str(word);
                lower.make_ascii_lowercase();
                count(&mut words, word, Some(&lower));
            } else {
                count(&mut words, word, None);
            }
        }
    } else {
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if !word.chars().any(char::is_alphabetic) {
                continue;
            }
            lower.clear();
            if word.is_ascii() {
                lower.push_str(word);
                lower.make_ascii_lowercase();
            } else {
                lower.extend(word.chars().flat_map(char::to_lowercase));
            }
            if lower == word {
                count(&mut words, word, None);
            } else {
                count(&mut words, word, Some(&lower));
            }
        }
    }
    // term hash -> (count, its most frequent form and that form's count)
    let mut terms: FxHashMap<u64, (u64, &str, u64)> = FxHashMap::default();
    let mut n_terms = 0;
    STEMS.with_borrow_mut(|memo| {
        let mut memo = lang.map(|(_, code)| memo.words(code));
        for (word, &count) in &words {
            if stop.is_some_and(|stop| stop.contains(word.as_ref())) {
                continue;
            }
            let hash = match (&stemmer, memo.as_deref_mut()) {
                (Some(stemmer), Some(memo)) => stem_hash(memo, stemmer, word),
                _ => term_hash(word),
            };
            n_terms += count;
            let entry = terms.entry(hash).or_insert((0, word.as_ref(), 0));
            entry.0 += count;
            // The most frequent form; on a tie, the first in byte order.
            if count > entry.2 || (count == entry.2 && word.as_ref() < entry.1) {
                (entry.1, entry.2) = (word.as_ref(), count);
            }
        }
    });
    let mut res: Vec<Term> = terms
        .into_iter()
        .map(|(hash, (count, surface, _))| Term { hash, count, surface: surface.to_owned() })
        .collect();
    res.sort_by(|a, b| a.hash.cmp(&b.hash).then_with(|| a.surface.cmp(&b.surface)));
    DocTerms { terms: res, n_terms }
}

/// Stems are the costly part of terms, and words repeat across documents: each thread
/// keeps the stem hashes of the words it has seen, per language, up to a bound. A memo
/// only: the terms are those stemming every word would give.
#[derive(Default)]
struct StemMemo {
    by_language: FxHashMap<&'static str, FxHashMap<Box<str>, u64>>,
}

/// Words remembered per language and thread before the memo starts afresh.
const STEM_MEMO_WORDS: usize = 200_000;

thread_local! {
    static STEMS: std::cell::RefCell<StemMemo> = std::cell::RefCell::default();
}

impl StemMemo {
    fn words(&mut self, code: &'static str) -> &mut FxHashMap<Box<str>, u64> {
        let words = self.by_language.entry(code).or_default();
        if words.len() > STEM_MEMO_WORDS {
            words.clear();
        }
        words
    }
}

fn stem_hash(memo: &mut FxHashMap<Box<str>, u64>, stemmer: &Stemmer, word: &str) -> u64 {
    if let Some(&hash) = memo.get(word) {
        return hash;
    }
    let hash = term_hash(&stemmer.stem(word));
    memo.insert(word.into(), hash);
    hash
}

/// The `k` terms of `doc` with the highest TF-IDF against `doc_freq`, highest first; ties
/// go to the smaller surface form, then the smaller hash.
///
/// `tf = count / doc.n_terms`, `idf = ln((1 + n_docs) / (1 + doc_count)) + 1` (the
/// smoothed form: never zero or negative, and defined for a term the corpus has not seen).
pub fn keywords(doc: &DocTerms, doc_freq: &DocFreqIndex, k: usize) -> Vec<Keyword> {
    let n_docs = doc_freq.n_docs as f64;
    let mut scored: Vec<(f64, &Term)> = doc
        .terms
        .iter()
        .map(|term| {
            let tf = term.count as f64 / doc.n_terms.max(1) as f64;
            let doc_count = doc_freq.counts.get(&term.hash).copied().unwrap_or(0);
            let idf = ((1.0 + n_docs) / (1.0 + doc_count as f64)).ln() + 1.0;
            (tf * idf, term)
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0).then_with(|| a.1.surface.cmp(&b.1.surface)).then_with(|| a.1.hash.cmp(&b.1.hash))
    });
    scored
        .into_iter()
        .take(k)
        .map(|(score, term)| Keyword { text: term.surface.clone(), score: crate::round3(score) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first implementation of `doc_terms`, kept to check the faster one against.
    fn doc_terms_reference(text: &str, lang: Option<&str>) -> DocTerms {
        let (stemmer, stop_list) = match lang.and_then(language) {
            Some((algorithm, code)) => (Some(Stemmer::create(algorithm)), stop_words::lookup(code).unwrap_or_default()),
            None => (None, &[][..]),
        };
        let stop: FxHashSet<&str> = stop_list.iter().copied().collect();
        // term text -> (count, surface form -> count)
        let mut terms: FxHashMap<String, (u64, FxHashMap<String, u64>)> = FxHashMap::default();
        let mut n_terms = 0;
        let mut lower = String::new();
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if !word.chars().any(char::is_alphabetic) {
                continue;
            }
            lower.clear();
            if word.is_ascii() {
                lower.push_str(word);
                lower.make_ascii_lowercase();
            } else {
                lower.extend(word.chars().flat_map(char::to_lowercase));
            }
            if stop.contains(lower.as_str()) {
                continue;
            }
            let term: Cow<'_, str> = match &stemmer {
                Some(stemmer) => stemmer.stem(&lower),
                None => Cow::Borrowed(&lower),
            };
            n_terms += 1;
            let entry = match terms.get_mut(term.as_ref()) {
                Some(entry) => entry,
                None => terms.entry(term.into_owned()).or_default(),
            };
            entry.0 += 1;
            match entry.1.get_mut(lower.as_str()) {
                Some(n) => *n += 1,
                None => {
                    entry.1.insert(lower.clone(), 1);
                }
            }
        }
        let mut res: Vec<Term> = terms
            .into_iter()
            .map(|(term, (count, forms))| {
                let surface = forms
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                    .map(|(form, _)| form)
                    .unwrap_or_default();
                Term { hash: term_hash(&term), count, surface }
            })
            .collect();
        res.sort_by(|a, b| a.hash.cmp(&b.hash).then_with(|| a.surface.cmp(&b.surface)));
        DocTerms { terms: res, n_terms }
    }

    #[test]
    fn doc_terms_equals_the_reference() {
        let texts = [
            "The cats sat. Cats! The cat sat on the mat, 42 times.",
            "Die Häuser und das Haus, DIE HÄUSER.",
            "ÉCOLE école Ecole e\u{301}cole 3D d3 ÀÀ",
            "Ünïcödé and ASCII mixed: CAFÉ café Cafe cafe; x1 X1 1x",
            "",
            "123 456",
        ];
        for text in texts {
            for lang in [Some("eng"), Some("deu"), Some("fra"), None, Some("xyz")] {
                assert_eq!(doc_terms(text, lang), doc_terms_reference(text, lang), "{text:?} {lang:?}");
            }
        }
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpus")).expect("corpus/") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("text");
            assert_eq!(doc_terms(&text, Some("eng")), doc_terms_reference(&text, Some("eng")), "{}", path.display());
        }
    }

    /// (surface, count) of the terms, by surface.
    fn terms_of(doc: &DocTerms) -> Vec<(&str, u64)> {
        let mut res: Vec<(&str, u64)> = doc.terms.iter().map(|t| (t.surface.as_str(), t.count)).collect();
        res.sort();
        res
    }

    #[test]
    fn terms_are_stemmed_without_stop_words() {
        // "the", "on" are English stop words. "cats", "Cats", "cat" stem to "cat" (3, whose
        // most frequent lower-cased form is "cats"); "sat" twice; "mat"; "42" has no letter.
        let doc = doc_terms("The cats sat. Cats! The cat sat on the mat, 42 times.", Some("eng"));
        assert_eq!(terms_of(&doc), [("cats", 3), ("mat", 1), ("sat", 2), ("times", 1)]);
        assert_eq!(doc.n_terms, 7);
        // The hash is the stem's: "cats" and "cat" share it.
        let cat = doc.terms.iter().find(|t| t.surface == "cats").expect("cats");
        assert_eq!(cat.hash, term_hash("cat"));
        // Without a language: no stop words, no stemming.
        let doc = doc_terms("The cats sat. Cats!", None);
        assert_eq!(terms_of(&doc), [("cats", 2), ("sat", 1), ("the", 1)]);
        // German: "die" and "und" are stop words; "Häuser" and "Haus" share the stem "haus".
        let doc = doc_terms("Die Häuser und das Haus", Some("deu"));
        // (Snowball's German folds "ä" to "a"); on the tie of forms the smaller, "haus", names it.
        assert_eq!(terms_of(&doc), [("haus", 2)]);
    }

    #[test]
    fn doc_freq_merges_in_any_order() {
        let docs = ["cat sat", "cat mat", "dog"].map(|t| doc_terms(t, Some("eng")));
        let mut all = DocFreq::default();
        for d in &docs {
            all.add_document(d);
        }
        let (mut a, mut b) = (DocFreq::default(), DocFreq::default());
        a.add_document(&docs[0]);
        b.add_document(&docs[2]);
        b.add_document(&docs[1]);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, all);
        assert_eq!(ba, all);
        assert_eq!(DocFreq::of_documents(&docs), all);
        assert_eq!((all.n_docs, all.doc_count(term_hash("cat")), all.doc_count(term_hash("bird"))), (3, 2, 0));
        // Equal values serialise alike, whatever the merge order.
        assert_eq!(serde_json::to_string(&ab).expect("json"), serde_json::to_string(&ba).expect("json"));
    }

    #[test]
    fn top_terms_by_tf_idf() {
        // The document: cat 3, sat 2, mat 1 (6 terms). Corpus of 3 documents: cat in 3,
        // sat in 1, mat in 2.
        // idf = ln(4 / (1 + df)) + 1: cat ln(4/4) + 1 = 1, sat ln(2) + 1 = 1.693147,
        // mat ln(4/3) + 1 = 1.287682.
        // tf-idf: cat 3/6 * 1 = 0.5, sat 2/6 * 1.693147 = 0.564382, mat 1/6 * 1.287682 = 0.214614.
        let doc = doc_terms("cat cat cat sat sat mat", Some("eng"));
        let mut df = DocFreq::default();
        df.add_document(&doc);
        df.add_document(&doc_terms("cat mat", Some("eng")));
        df.add_document(&doc_terms("cat dog", Some("eng")));
        let got = keywords(&doc, &DocFreqIndex::new(&df), 2);
        assert_eq!(got, [Keyword { text: "sat".into(), score: 0.564 }, Keyword { text: "cat".into(), score: 0.5 }]);
        // Ties go to the smaller surface form: "apple" and "pear" once each, unseen.
        let doc = doc_terms("pear apple", Some("eng"));
        let got: Vec<String> = keywords(&doc, &DocFreqIndex::default(), 5).into_iter().map(|k| k.text).collect();
        assert_eq!(got, ["apple", "pear"]);
        assert!(keywords(&doc_terms("", Some("eng")), &DocFreqIndex::new(&df), 3).is_empty());
    }
}
