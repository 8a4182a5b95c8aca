//! Dense ids for `u64` keys: an open-addressing table with linear probing, for the
//! tokenizer (token keys) and the n-gram levels (pairs of ids), where a general hash map's
//! entry API cost more than everything else done per token.

/// Maps each distinct key to the next id (0, 1, 2, ...), and counts its occurrences.
#[derive(Debug)]
pub(crate) struct Interner {
    slots: Vec<Slot>,
    /// Slots of another generation are empty, so clearing is a new generation.
    generation: u32,
    /// Occurrences of each id.
    pub(crate) counts: Vec<u32>,
    shift: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: u64,
    id: u32,
    generation: u32,
}

const MIN_SLOTS: usize = 64;

/// The table size for about `expected` distinct keys.
fn slots_for(expected: usize) -> usize {
    (expected * 4 / 3 + 1).next_power_of_two().max(MIN_SLOTS)
}

impl Default for Interner {
    fn default() -> Self {
        Interner::with_capacity(0)
    }
}

impl Interner {
    /// A table for about `expected` distinct keys (it grows past that).
    pub(crate) fn with_capacity(expected: usize) -> Self {
        let slots = slots_for(expected);
        Interner {
            slots: vec![Slot::default(); slots],
            generation: 1,
            counts: Vec::with_capacity(expected),
            shift: 64 - slots.trailing_zeros(),
        }
    }

    /// Forgets every key and readies the table for about `expected` distinct keys: the
    /// same memory when its size suits them (up to eight times too large: a table much
    /// larger than its keys spreads them over more cache lines), otherwise a new table.
    /// Ids and counts are the same either way.
    pub(crate) fn reset(&mut self, expected: usize) {
        let want = slots_for(expected);
        if self.slots.len() < want || self.slots.len() > want * 8 {
            let counts = std::mem::take(&mut self.counts);
            *self = Interner::with_capacity(expected);
            if counts.capacity() > self.counts.capacity() {
                self.counts = counts;
                self.counts.clear();
            }
        } else {
            self.clear();
            self.counts.reserve(expected);
        }
    }

    /// Bytes held.
    pub(crate) fn footprint(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Slot>() + self.counts.capacity() * 4
    }

    /// Forgets every key, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.counts.clear();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Once in four billion clears: the old generations could look current.
            self.slots.fill(Slot::default());
            self.generation = 1;
        }
    }

    #[inline]
    fn slot_of(&self, key: u64) -> usize {
        // Fibonacci hashing: the top bits of the product mix every bit of the key.
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// The id of `key`, if it has one.
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut at = self.slot_of(key);
        loop {
            let slot = self.slots[at];
            if slot.generation != self.generation {
                return None;
            }
            if slot.key == key {
                return Some(slot.id);
            }
            at = (at + 1) & mask;
        }
    }

    /// The id of `key`, a new one if it is new; counts the occurrence.
    #[inline(always)]
    pub(crate) fn intern(&mut self, key: u64) -> u32 {
        let mask = self.slots.len() - 1;
        let mut at = self.slot_of(key);
        loop {
            let slot = self.slots[at];
            if slot.generation != self.generation {
                break;
            }
            if slot.key == key {
                self.counts[slot.id as usize] += 1;
                return slot.id;
            }
            at = (at + 1) & mask;
        }
        let id = self.counts.len() as u32;
        self.slots[at] = Slot { key, id, generation: self.generation };
        self.counts.push(1);
        // Linear probing stays short up to three quarters full.
        if self.counts.len() * 4 > self.slots.len() * 3 {
            self.grow();
        }
        id
    }

    fn grow(&mut self) {
        let n_slots = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); n_slots]);
        self.shift = 64 - n_slots.trailing_zeros();
        let mask = n_slots - 1;
        for slot in old.into_iter().filter(|slot| slot.generation == self.generation) {
            let mut at = self.slot_of(slot.key);
            while self.slots[at].generation == self.generation {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_counted() {
        let mut interner = Interner::with_capacity(1);
        let keys: Vec<u64> = (0..1000u64).map(|i| ((i % 300) << 40) | (i % 7)).collect();
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
        assert_eq!((interner.get(6), interner.get(7)), (Some(1), None));
    }
}
