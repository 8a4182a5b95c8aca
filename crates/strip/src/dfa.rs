//! Patterns strip only ever asks "does it match?" (or "which match?"), never "where?".
//!
//! `regex::Regex` and `RegexSet` build, for every pattern, a forward NFA with capture
//! states, a reverse NFA, and several engines besides the lazy DFA that answers these
//! questions; on strip's Unicode-heavy patterns that cost about 0.3 G instructions per
//! process, which a small run pays in full. A forward lazy DFA alone is a third of that,
//! and matches exactly the same texts.

use std::sync::OnceLock;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternSet};

type CachePool = Pool<Cache, Box<dyn Fn() -> Cache + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe>>;

pub(crate) struct Matcher {
    patterns: Vec<String>,
    dfa: DFA,
    caches: CachePool,
    /// Every pattern starts with `^` (and none is multi-line): a match can only start at
    /// the start of the text, and the search may give up as soon as no pattern can.
    anchored: bool,
    /// Used only if the lazy DFA ever fails a search (it cannot: it has no quit bytes and
    /// never gives up), so that the answer never depends on it.
    fallback: OnceLock<regex::RegexSet>,
}

impl Matcher {
    /// `cache_capacity` is the lazy DFA's cache size in bytes (as `dfa_size_limit` of
    /// `regex::RegexBuilder`); `anchored` claims that every pattern starts with `^`.
    pub(crate) fn new(patterns: &[&str], cache_capacity: usize, anchored: bool) -> Matcher {
        let dfa = DFA::builder()
            .configure(DFA::config().match_kind(MatchKind::All).cache_capacity(cache_capacity))
            .syntax(syntax::Config::new().utf8(true).unicode(true))
            .thompson(thompson::Config::new().which_captures(thompson::WhichCaptures::None))
            .build_many(patterns)
            .expect("patterns compile");
        let for_cache = dfa.clone();
        let caches: CachePool = Pool::new(Box::new(move || for_cache.create_cache()));
        debug_assert!(!anchored || patterns.iter().all(|p| starts_anchored(p)), "{patterns:?}");
        Matcher {
            patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
            dfa,
            caches,
            anchored,
            fallback: OnceLock::new(),
        }
    }

    fn input<'h>(&self, text: &'h str) -> Input<'h> {
        Input::new(text).anchored(if self.anchored { Anchored::Yes } else { Anchored::No })
    }

    fn fallback(&self) -> &regex::RegexSet {
        self.fallback.get_or_init(|| regex::RegexSet::new(&self.patterns).expect("patterns compile"))
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.is_match_at_start(text, self.anchored)
    }

    /// `is_match`, or with `anchored` whether a match starts at the start of `text`: the
    /// same answer where the caller knows that no pattern can match elsewhere, and the
    /// search stops as soon as none can go on.
    pub(crate) fn is_match_at_start(&self, text: &str, anchored: bool) -> bool {
        let mut cache = self.caches.get();
        let input = Input::new(text)
            .anchored(if anchored || self.anchored { Anchored::Yes } else { Anchored::No })
            .earliest(true);
        match self.dfa.try_search_fwd(&mut cache, &input) {
            Ok(m) => m.is_some(),
            // The same answer, by the caller's claim.
            Err(_) => self.fallback().is_match(text),
        }
    }

    /// The indices of the patterns that match, in order.
    pub(crate) fn matches(&self, text: &str) -> Vec<usize> {
        let mut cache = self.caches.get();
        let mut set = PatternSet::new(self.dfa.pattern_len());
        match self.dfa.try_which_overlapping_matches(&mut cache, &self.input(text), &mut set) {
            Ok(()) => set.iter().map(|p| p.as_usize()).collect(),
            Err(_) => self.fallback().matches(text).into_iter().collect(),
        }
    }
}

/// Whether `pattern` starts with `^`, maybe after a group of flags such as `(?i)`.
fn starts_anchored(pattern: &str) -> bool {
    let rest = match pattern.strip_prefix("(?") {
        Some(flags) => flags.split_once(')').map_or("", |(_, rest)| rest),
        None => pattern,
    };
    rest.starts_with('^')
}
