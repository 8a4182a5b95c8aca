//! Dense ids for `u64` keys: an open-addressing table with linear probing, for the
//! tokenizer (token keys) and the n-gram levels (pairs of ids), where a general hash map's
//! entry API cost more than everything else done per token.

/// Maps each distinct key to the next id (0, 1, 2, ...), and counts its occurrences.
#[derive(Debug)]
pub(crate) struct Interner {
    /// `keys[slot]` is meaningful where `ids[slot] != EMPTY`.
    keys: Vec<u64>,
    ids: Vec<u32>,
    /// Occurrences of each id.
    pub(crate) counts: Vec<u32>,
    shift: u32,
}

const EMPTY: u32 = u32::MAX;
const MIN_SLOTS: usize = 64;

impl Interner {
    /// A table for about `expected` distinct keys (it grows past that).
    pub(crate) fn with_capacity(expected: usize) -> Self {
        let slots = (expected * 4 / 3 + 1).next_power_of_two().max(MIN_SLOTS);
        Interner {
            keys: vec![0; slots],
            ids: vec![EMPTY; slots],
            counts: Vec::with_capacity(expected),
            shift: 64 - slots.trailing_zeros(),
        }
    }

    /// Forgets every key, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.ids.fill(EMPTY);
        self.counts.clear();
    }

    #[inline]
    fn slot_of(&self, key: u64) -> usize {
        // Fibonacci hashing: the top bits of the product mix every bit of the key.
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// The id of `key`, a new one if it is new; counts the occurrence.
    #[inline]
    pub(crate) fn intern(&mut self, key: u64) -> u32 {
        let mask = self.ids.len() - 1;
        let mut slot = self.slot_of(key);
        loop {
            let id = self.ids[slot];
            if id == EMPTY {
                break;
            }
            if self.keys[slot] == key {
                self.counts[id as usize] += 1;
                return id;
            }
            slot = (slot + 1) & mask;
        }
        let id = self.counts.len() as u32;
        self.keys[slot] = key;
        self.ids[slot] = id;
        self.counts.push(1);
        // Linear probing stays short up to three quarters full.
        if self.counts.len() * 4 > self.ids.len() * 3 {
            self.grow();
        }
        id
    }

    fn grow(&mut self) {
        let slots = self.ids.len() * 2;
        let keys = std::mem::replace(&mut self.keys, vec![0; slots]);
        let ids = std::mem::replace(&mut self.ids, vec![EMPTY; slots]);
        self.shift = 64 - slots.trailing_zeros();
        let mask = slots - 1;
        for (key, id) in keys.into_iter().zip(ids) {
            if id == EMPTY {
                continue;
            }
            let mut slot = self.slot_of(key);
            while self.ids[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.keys[slot] = key;
            self.ids[slot] = id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_counted() {
        let mut interner = Interner::with_capacity(1);
        let keys: Vec<u64> = (0..1000u64).map(|i| (i % 300) << 40 | i % 7).collect();
        let mut seen = std::collections::HashMap::new();
        for &key in &keys {
            let next = seen.len() as u32;
            let want = *seen.entry(key).or_insert(next);
            assert_eq!(interner.intern(key), want);
        }
        assert_eq!(interner.counts.len(), seen.len());
        assert_eq!(interner.counts.iter().map(|&c| c as usize).sum::<usize>(), keys.len());
        interner.clear();
        assert_eq!((interner.intern(5), interner.intern(6), interner.intern(5)), (0, 1, 0));
        assert_eq!(interner.counts, [2, 1]);
    }
}
