//! MinHash signatures over word shingles, and LSH banding to find candidate pairs.

#[cfg(test)]
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The 64-bit hashes of a text's word shingles (all words, when fewer than `shingle`),
/// from its words' xxh3 hashes laid end to end as little-endian bytes (`word_hashes`):
/// each word is hashed once, and a shingle's hash is the hash of its words' hashes, that
/// is, of `word_hashes`' bytes for its words, hashed where they lie.
pub(crate) fn shingle_hashes(word_hashes: &[u8], shingle: usize) -> impl Iterator<Item = u64> + '_ {
    let n_words = word_hashes.len() / 8;
    let size = shingle.min(n_words).max(1);
    // No window at all for no words.
    let n_shingles = if n_words == 0 { 0 } else { n_words - size + 1 };
    (0..n_shingles).map(move |i| {
        let window = &word_hashes[8 * i..8 * (i + size)];
        // The default shingle of five words, hashed with its length known to the compiler
        // (the same hash, without xxh3's branches on the length).
        match <&[u8; 40]>::try_from(window) {
            Ok(five) => xxh3_64(five),
            Err(_) => xxh3_64(window),
        }
    })
}

/// The MinHash signature of a shingle set, by one-permutation hashing with densification
/// (Li, Owen and Zhang 2012; Shrivastava and Li 2014): each shingle's hash picks one of
/// `n` bins and competes only for that bin's minimum, so a document costs one hash per
/// shingle instead of `n`. Empty bins (short documents) borrow the value of the next
/// filled bin to the right, offset by the distance, which keeps the property LSH needs:
/// two signatures agree at a position with probability close to the Jaccard similarity of
/// the shingle sets. (Candidates are verified exactly afterwards, so the estimate only
/// has to find them.)
pub(crate) fn signature(shingles: impl Iterator<Item = u64>, n: usize) -> Vec<u32> {
    const EMPTY: u32 = u32::MAX;
    let mut sig = vec![EMPTY; n];
    if n == 0 {
        return sig;
    }
    for shingle in shingles {
        // The shingle hash is xxh3 already; remix so bin and value use independent bits.
        let h = xxh3_64_with_seed(&shingle.to_le_bytes(), 0x9e37_79b9);
        let bin = (((h >> 32) * n as u64) >> 32) as usize;
        let value = (h as u32).min(EMPTY - 1);
        if value < sig[bin] {
            sig[bin] = value;
        }
    }
    let Some(filled) = sig.iter().position(|&v| v != EMPTY) else { return sig };
    // Walk right to left, so each empty bin sees the nearest filled bin to its right;
    // circularly, which for the empty bins after the last filled one is the first filled
    // one, a round further on.
    let mut next = (filled + n, sig[filled]);
    for i in (0..n).rev() {
        if sig[i] == EMPTY {
            let distance = (next.0 - i) as u32;
            sig[i] = next.1.wrapping_add(distance.wrapping_mul(0x9e37_79b9)).min(EMPTY - 1);
        } else {
            next = (i, sig[i]);
        }
    }
    sig
}

/// Exact Jaccard similarity of two sorted, distinct hash lists.
pub(crate) fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// Estimated Jaccard similarity: the share of positions where two signatures agree.
#[cfg(test)]
fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

const MAX_BUCKET_PAIRS: usize = 8;

/// One 32-bit hash per LSH band of `rows` signature values: two documents are candidates
/// when any band hash agrees. (A chance 32-bit collision only adds a candidate, which the
/// exact check then rejects.)
pub(crate) fn band_hashes(sig: &[u32], bands: usize, rows: usize) -> Vec<u32> {
    let mut hashes = Vec::with_capacity(bands);
    let mut bytes = vec![0; rows * 4];
    for band in 0..bands {
        let Some(values) = sig.get(band * rows..(band + 1) * rows) else { break };
        for (to, v) in bytes.chunks_exact_mut(4).zip(values) {
            to.copy_from_slice(&v.to_le_bytes());
        }
        hashes.push(xxh3_64_with_seed(&bytes, band as u64) as u32);
    }
    hashes
}

/// Candidate pairs `(i, j)`, `i < j`, that share at least one band hash, of `docs` in
/// ascending order. Deterministic: pairs come out sorted.
pub(crate) fn candidates(docs: &[(usize, &[u32])], bands: usize) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    // `pairs[..distinct]` is sorted and without repeats. Near duplicates share most of
    // their bands, so each band mostly finds pairs already known: folding them in once
    // the list has doubled keeps it near the count of distinct pairs, instead of a copy
    // per band (on 3.7 M generated documents that copy peaked at 1.9 GB).
    let mut distinct = 0;
    // Each band's buckets: its (band hash, document) entries sorted, so that a bucket is a
    // run of equal hashes with its documents in corpus order (they come in that order),
    // without a hash map of vectors (an allocation per bucket and band).
    let mut entries: Vec<(u32, usize)> = Vec::with_capacity(docs.len());
    let mut scratch = Vec::with_capacity(docs.len());
    for band in 0..bands {
        entries.clear();
        entries.extend(docs.iter().filter_map(|&(doc, band_hashes)| Some((*band_hashes.get(band)?, doc))));
        sort_by_hash(&mut entries, &mut scratch);
        for bucket in entries.chunk_by(|a, b| a.0 == b.0) {
            // All pairs within a bucket, so that a document meets every cluster root it
            // is near; past `MAX_BUCKET_PAIRS` members (a degenerate bucket, such as
            // thousands of copies of one boilerplate page) only pairs with the first few,
            // which keeps the work linear.
            for (n, &(_, a)) in bucket.iter().enumerate() {
                for &(_, b) in &bucket[n + 1..] {
                    pairs.push((a.min(b), a.max(b)));
                }
                if n + 1 >= MAX_BUCKET_PAIRS {
                    break;
                }
            }
        }
        if pairs.len() > 2 * distinct.max(docs.len()) {
            pairs.sort_unstable();
            pairs.dedup();
            distinct = pairs.len();
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs.shrink_to_fit();
    pairs
}

/// Sorts `entries` by hash and keeps the order of equal hashes (so entries that come in
/// document order come out as `sort_unstable` orders them), with `scratch` as the second
/// buffer: a radix sort, a byte of the hash per pass, linear where a comparison sort of
/// each band's entries took most of `candidates`' time.
fn sort_by_hash(entries: &mut Vec<(u32, usize)>, scratch: &mut Vec<(u32, usize)>) {
    scratch.clear();
    scratch.resize(entries.len(), (0, 0));
    for shift in [0, 8, 16, 24] {
        let digit = |hash: u32| (hash >> shift) as usize & 0xff;
        let mut counts = [0usize; 256];
        for &(hash, _) in entries.iter() {
            counts[digit(hash)] += 1;
        }
        // A byte all hashes share leaves the order as it is (small hashes, in tests).
        if counts.contains(&entries.len()) {
            continue;
        }
        // Each digit's first place in the output.
        let mut at = 0;
        for count in &mut counts {
            (*count, at) = (at, at + *count);
        }
        for &entry in entries.iter() {
            let place = &mut counts[digit(entry.0)];
            scratch[*place] = entry;
            *place += 1;
        }
        std::mem::swap(entries, scratch);
    }
}

/// `signature`'s densification and `band_hashes` as they were first written: the
/// references.
#[cfg(test)]
fn densified_by_modulo(mut sig: Vec<u32>) -> Vec<u32> {
    const EMPTY: u32 = u32::MAX;
    let n = sig.len();
    let Some(filled) = sig.iter().position(|&v| v != EMPTY) else { return sig };
    let mut next = (filled, sig[filled]);
    for step in 0..n {
        let i = (filled + n - step) % n;
        if sig[i] == EMPTY {
            let distance = ((next.0 + n - i) % n) as u32;
            sig[i] = next.1.wrapping_add(distance.wrapping_mul(0x9e37_79b9)).min(EMPTY - 1);
        } else {
            next = (i, sig[i]);
        }
    }
    sig
}

#[cfg(test)]
fn band_hashes_by_filter_map(sig: &[u32], bands: usize, rows: usize) -> Vec<u32> {
    let mut bytes = Vec::with_capacity(rows * 4);
    (0..bands)
        .filter_map(|band| {
            let values = sig.get(band * rows..(band + 1) * rows)?;
            bytes.clear();
            for v in values {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            Some(xxh3_64_with_seed(&bytes, band as u64) as u32)
        })
        .collect()
}

/// `candidates` as it was first written, with a hash map of buckets: the reference.
#[cfg(test)]
fn candidates_by_map(docs: &[(usize, &[u32])], bands: usize) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for band in 0..bands {
        let mut buckets: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
        for &(doc, band_hashes) in docs {
            if let Some(&h) = band_hashes.get(band) {
                buckets.entry(h).or_default().push(doc);
            }
        }
        for members in buckets.values() {
            for (n, &a) in members.iter().enumerate() {
                for &b in &members[n + 1..] {
                    pairs.push((a.min(b), a.max(b)));
                }
                if n + 1 >= MAX_BUCKET_PAIRS {
                    break;
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    fn signature_of(words: &[&str], shingle: usize, n: usize) -> Vec<u32> {
        let hashes: Vec<u8> = words.iter().flat_map(|w| xxh3_64(w.as_bytes()).to_le_bytes()).collect();
        signature(shingle_hashes(&hashes, shingle), n)
    }

    #[test]
    fn shingle_hashes_hash_the_word_hashes_of_each_window() {
        let hashes: Vec<u8> = (1..=7u64).flat_map(u64::to_le_bytes).collect();
        let windows = |size: usize| -> Vec<u64> {
            let words: Vec<u64> = (1..=7).collect();
            words.windows(size).map(|w| xxh3_64(&w.iter().flat_map(|h| h.to_le_bytes()).collect::<Vec<u8>>())).collect()
        };
        assert_eq!(shingle_hashes(&hashes, 5).collect::<Vec<_>>(), windows(5));
        assert_eq!(shingle_hashes(&hashes, 9).collect::<Vec<_>>(), windows(7), "fewer words than a shingle");
        assert_eq!(shingle_hashes(&hashes[..8], 0).collect::<Vec<_>>(), windows(1)[..1].to_vec());
        assert_eq!(shingle_hashes(&[], 5).count(), 0);
    }

    #[test]
    fn signature_and_bands_are_those_of_the_first_version() {
        // Shingle counts from none to many against 120 bins, so that some signatures have
        // empty bins everywhere (first, last, in runs, wrapping round) and some none.
        for n_shingles in [0, 1, 2, 3, 7, 30, 119, 120, 121, 500, 2000] {
            let shingles: Vec<u64> = (0..n_shingles).map(|i| xxh3_64(&(i as u64).to_le_bytes())).collect();
            let mut undensified = vec![u32::MAX; 120];
            for &shingle in &shingles {
                let h = xxh3_64_with_seed(&shingle.to_le_bytes(), 0x9e37_79b9);
                let bin = (((h >> 32) * 120) >> 32) as usize;
                undensified[bin] = undensified[bin].min((h as u32).min(u32::MAX - 1));
            }
            let sig = signature(shingles.iter().copied(), 120);
            assert_eq!(sig, densified_by_modulo(undensified), "{n_shingles} shingles");
            for (bands, rows) in [(20, 6), (10, 12), (7, 5), (30, 6), (3, 0), (0, 6), (1, 120)] {
                assert_eq!(
                    band_hashes(&sig, bands, rows),
                    band_hashes_by_filter_map(&sig, bands, rows),
                    "{n_shingles} shingles, {bands} x {rows}"
                );
            }
        }
        assert_eq!(signature([1u64, 2, 3].into_iter(), 0), Vec::<u32>::new());
    }

    #[test]
    fn candidates_are_those_of_the_bucket_map() {
        // Documents (ordinals with gaps, as for exact copies left out) whose band hashes
        // come from a few values, so that buckets of every size arise, degenerate ones too.
        let mut state = 12345u64;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for spread in [2, 5, 40, 1000] {
            let docs: Vec<(usize, Vec<u32>)> =
                (0..300).filter(|i| i % 7 != 3).map(|i| (i, (0..4).map(|_| next(spread) as u32).collect())).collect();
            let mut docs: Vec<(usize, &[u32])> = docs.iter().map(|(i, h)| (*i, h.as_slice())).collect();
            docs[5].1 = &docs[5].1[..2];
            assert_eq!(candidates(&docs, 4), candidates_by_map(&docs, 4), "spread {spread}");
        }
    }

    #[test]
    fn sort_by_hash_orders_as_a_comparison_sort() {
        let mut state = 99u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 32) as u32
        };
        let mut scratch = Vec::new();
        // Hashes over the whole range, over a few values (long runs of equal ones), and
        // sharing some bytes but not others.
        for (n, mask, fixed) in [(0, !0, 0), (1, !0, 0), (5000, !0, 0), (3000, 7, 0), (3000, 0xff00, 0x00ab_0000)] {
            let mut entries: Vec<(u32, usize)> = (0..n).map(|doc| ((next() & mask) | fixed, doc * 3 + 1)).collect();
            let mut want = entries.clone();
            want.sort_unstable();
            sort_by_hash(&mut entries, &mut scratch);
            assert_eq!(entries, want, "{n} entries, mask {mask:x}");
        }
    }

    #[test]
    fn exact_jaccard() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
    }

    #[test]
    fn identical_texts_agree_everywhere() {
        let a = signature_of(&words("the quick brown fox jumps over the lazy dog again"), 3, 64);
        assert_eq!(similarity(&a, &a), 1.0);
    }

    #[test]
    fn estimate_is_close_to_jaccard() {
        let base: Vec<String> = (0..400).map(|i| format!("w{i}")).collect();
        let mut edited = base.clone();
        for w in edited.iter_mut().skip(200).step_by(20) {
            *w = format!("{w}x");
        }
        let a: Vec<&str> = base.iter().map(String::as_str).collect();
        let b: Vec<&str> = edited.iter().map(String::as_str).collect();
        let sim = similarity(&signature_of(&a, 5, 256), &signature_of(&b, 5, 256));
        // 10 edits each break 5 shingles of 396: J = 346 / 446 = 0.776.
        assert!((sim - 0.776).abs() < 0.08, "{sim}");
    }
}
