//! Which part of an email or username "contains" term the search indexes look up, and how
//! many rows a sample of the keys says hold it.
//!
//! PostgreSQL indexes the 4-grams of the keys (for terms of four characters or more) and
//! their trigrams (pg_trgm, for terms of three); SQLite indexes their trigrams (FTS5). An
//! index finds candidates by intersecting the row lists of every n-gram it looks up, and
//! an n-gram found in most rows costs the most to walk: on the benchmark's million users,
//! `LIKE '%user00012%'` took 14 ms through pg_trgm, mostly in `use`, `ser` and `er0`
//! (every row has them), and `LIKE '%00012%'` 4 ms for the same 100 users after the
//! recheck. So the grid looks up the part of the term that a random sample of keys says
//! is cheapest: few n-grams found in many rows, and few candidate rows left to recheck.
//! The whole term is still matched against the key, so the answer never changes, only the
//! cost.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::domain::query::{Frequency, Lookup};

/// Keys sampled at random (username and email joined, as the indexes join them), indexed
/// once when taken: for each run of 3 and of 4 bytes, which sampled keys hold it.
pub struct KeySample {
    rows: usize,
    holding: HashMap<Vec<u8>, Holders>,
}

/// The sampled keys holding one n-gram: a sorted list when few do, else one bit per key,
/// so that intersecting them stays cheap (the probe runs on every search) and the sample
/// small (most n-grams of varied keys are held by a handful).
enum Holders {
    Few(Vec<u32>),
    Many(Vec<u64>),
}

impl Holders {
    fn count(&self) -> usize {
        match self {
            Self::Few(keys) => keys.len(),
            Self::Many(bits) => ones(bits),
        }
    }

    fn has(&self, key: u32) -> bool {
        match self {
            Self::Few(keys) => keys.binary_search(&key).is_ok(),
            Self::Many(bits) => bits[key as usize / 64] & (1 << (key % 64)) != 0,
        }
    }
}

fn ones(bits: &[u64]) -> usize {
    bits.iter().map(|w| w.count_ones() as usize).sum()
}

impl KeySample {
    pub fn new(keys: &[String]) -> Self {
        let mut lists: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
        for (i, key) in (0u32..).zip(keys) {
            for n in [3, 4] {
                for w in key.as_bytes().windows(n) {
                    let list = lists.entry(w.to_vec()).or_default();
                    // Keys are visited in order, so each list stays sorted and unique.
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
        }
        // A list longer than a bitset's words takes more room, and more time to cross.
        let words = keys.len().div_ceil(64);
        let holding = lists
            .into_iter()
            .map(|(gram, list)| {
                let holders = if list.len() <= words {
                    Holders::Few(list)
                } else {
                    let mut bits = vec![0u64; words];
                    for &k in &list {
                        bits[k as usize / 64] |= 1 << (k % 64);
                    }
                    Holders::Many(bits)
                };
                (gram, holders)
            })
            .collect();
        Self {
            rows: keys.len(),
            holding,
        }
    }

    /// What looking up `part` through its `n`-grams costs, by the sample. `part` is never
    /// shorter than `n` (`lookup`), so it has at least one n-gram.
    fn estimate(&self, part: &[u8], n: usize) -> Estimate {
        let share = |count: usize| (count as f64 + 1.0) / (self.rows as f64 + 1.0);
        let mut grams = Vec::new();
        for gram in part.windows(n) {
            match self.holding.get(gram) {
                Some(h) => grams.push(h),
                // No sampled key holds it: nor any candidate.
                None => {
                    return Estimate {
                        walk: 0.0,
                        candidates: share(0),
                    };
                }
            }
        }
        let walk = grams.iter().map(|h| share(h.count())).sum();
        let fewest = grams.iter().filter_map(|h| match h {
            Holders::Few(keys) => Some(keys),
            Holders::Many(_) => None,
        });
        let held = match fewest.min_by_key(|keys| keys.len()) {
            Some(keys) => keys
                .iter()
                .filter(|&&k| grams.iter().all(|h| h.has(k)))
                .count(),
            None => {
                let mut all = vec![u64::MAX; self.rows.div_ceil(64)];
                for h in &grams {
                    if let Holders::Many(bits) = h {
                        for (a, b) in all.iter_mut().zip(bits) {
                            *a &= b;
                        }
                    }
                }
                ones(&all)
            }
        };
        Estimate {
            walk,
            candidates: share(held),
        }
    }
}

/// A lookup's cost by the sample: the shares of rows in the n-gram lists walked, and the
/// share of rows holding them all (the candidates to recheck).
struct Estimate {
    walk: f64,
    candidates: f64,
}

impl Estimate {
    fn cost(&self) -> f64 {
        self.walk + RECHECK_COST * self.candidates
    }
}

/// Rows in a sample: enough to tell an n-gram in 1% of rows from one in 50%.
pub const SAMPLE_ROWS: i64 = 5_000;

/// Below this many sampled keys the table is small and any lookup is cheap.
const MIN_SAMPLE: usize = 200;

/// The longest part considered: longer parts only add n-grams to walk.
const MOST_CHARS: usize = 12;

/// What rechecking one candidate row costs, in walks of one index entry: measured here,
/// about 2 ms per million entries walked and 0.7 µs per candidate rechecked.
const RECHECK_COST: f64 = 350.0;

/// A lookup is changed only when the sample says it is at least this many times cheaper.
const WORTH_IT: f64 = 2.0;

/// Up to this share of sampled keys holding what is looked up, it is rare
/// (`Frequency::Rare`): 5,000 rows of a million, which the index lists in about a
/// millisecond, and which a page sorted on any column can take from the index's rows
/// sooner than from a walk in that column's order.
const RARE_SHARE: f64 = 0.005;

/// Above this share it is common (`Frequency::Common`): a walk in the page's order then
/// meets a matching row every 20 rows or sooner.
const COMMON_SHARE: f64 = 0.05;

/// What to look up for `term` (already lower-cased): the cheapest part of it, and how
/// many rows the sample says hold that. Terms that are not ASCII are looked up whole (the
/// sample counts bytes, the indexes characters), as are terms when the table is small.
pub fn lookup(term: &str, sample: &KeySample) -> Lookup {
    let bytes = term.as_bytes();
    if sample.rows < MIN_SAMPLE || !term.is_ascii() || bytes.len() < 3 {
        return Lookup::default();
    }
    // PostgreSQL looks up 4-grams when the term has any, SQLite trigrams: parts are chosen
    // by 4-grams, which is also a good choice of trigrams (their rarest 4-gram bounds the
    // rows their trigrams find).
    let n = bytes.len().min(4);
    let whole = sample.estimate(bytes, n);
    let mut best: Option<((usize, usize), Estimate)> = None;
    for a in 0..bytes.len() {
        for b in (a + 4)..=bytes.len().min(a + MOST_CHARS) {
            if b - a == bytes.len() {
                continue;
            }
            let e = sample.estimate(&bytes[a..b], 4);
            if best.as_ref().is_none_or(|(_, be)| e.cost() < be.cost()) {
                best = Some(((a, b), e));
            }
        }
    }
    let (part, chosen) = match best {
        Some(((a, b), e)) if e.cost() * WORTH_IT < whole.cost() => (Some(term[a..b].to_owned()), e),
        _ => (None, whole),
    };
    let frequency = if chosen.candidates <= RARE_SHARE {
        Frequency::Rare
    } else if chosen.candidates <= COMMON_SHARE {
        Frequency::Moderate
    } else {
        Frequency::Common
    };
    Lookup { part, frequency }
}

/// The sample of this process, taken again after `MAX_AGE` seconds. A cache of what the
/// table looks like, not state: every process takes its own.
#[derive(Default)]
pub struct SampleCache {
    taken: Mutex<Option<(i64, Arc<KeySample>)>>,
}

impl SampleCache {
    const MAX_AGE: i64 = 600;

    /// The current sample, or a new one from `take` when there is none or it is old.
    /// While one request takes it, others wait for it rather than take their own.
    pub async fn get<F, E>(&self, now: i64, take: F) -> Result<Arc<KeySample>, E>
    where
        F: AsyncFnOnce() -> Result<Vec<String>, E>,
    {
        let mut taken = self.taken.lock().await;
        if let Some((at, sample)) = taken.as_ref()
            && now - at < Self::MAX_AGE
        {
            return Ok(sample.clone());
        }
        let sample = Arc::new(KeySample::new(&take().await?));
        *taken = Some((now, sample.clone()));
        Ok(sample)
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::query::Frequency;
    use crate::users::probe::{KeySample, lookup};

    /// Keys shaped like the benchmark's: `user` and seven digits, four domains.
    fn bench_like(n: usize) -> KeySample {
        let keys: Vec<String> = (0..n)
            .map(|i| {
                // Spread over a million like a random sample would be.
                let g = (i * 7919 * 127) % 1_000_000 + 1;
                let name = format!("user{g:07}");
                format!("{name} {name}@example{}.com", g % 4)
            })
            .collect();
        KeySample::new(&keys)
    }

    fn part(term: &str, sample: &KeySample) -> Option<String> {
        lookup(term, sample).part
    }

    #[test]
    fn skips_ngrams_every_key_has() {
        let sample = bench_like(5_000);
        let part = part("user00012", &sample).expect("a cheaper part");
        assert!(!part.contains("use") && !part.contains("ser"), "{part}");
        assert!("user00012".contains(&part) && part.len() >= 4, "{part}");
    }

    #[test]
    fn keeps_the_whole_term_when_nothing_is_cheaper_or_the_sample_is_small() {
        let sample = bench_like(5_000);
        // Already as cheap as it gets, or three letters (no shorter part has an n-gram).
        assert_eq!(part("xyzw", &sample), None);
        assert_eq!(part("xyz", &sample), None);
        assert_eq!(part("user00012", &bench_like(50)), None);
        assert_eq!(part("ümlaut00012", &sample), None);
    }

    #[test]
    fn a_part_may_cross_a_non_word_character() {
        // 4-grams (and FTS5's trigrams) are taken over every character, so a rare run
        // across `@` is as good a lookup as any.
        let sample = bench_like(5_000);
        let part = part("00012@example1", &sample).expect("a cheaper part");
        assert!("00012@example1".contains(&part), "{part}");
        assert!(part.contains("12"), "the rare digits are looked up: {part}");
    }

    #[test]
    fn frequency_follows_the_sample() {
        let sample = bench_like(5_000);
        // About 100 users of a million, whatever part is looked up.
        assert_eq!(lookup("user00012", &sample).frequency, Frequency::Rare);
        assert_eq!(
            lookup("nobody-has-this", &sample).frequency,
            Frequency::Rare
        );
        // A hundredth of them: ids 10,000 to 19,999.
        assert_eq!(lookup("user001", &sample).frequency, Frequency::Moderate);
        // In every key, or in a tenth of them ("user00": ids under 100,000).
        assert_eq!(lookup("example", &sample).frequency, Frequency::Common);
        assert_eq!(lookup("user00", &sample).frequency, Frequency::Common);
        // Too short, a small table, or not ASCII: the database plans for the value.
        assert_eq!(lookup("ab", &sample).frequency, Frequency::Unknown);
        assert_eq!(
            lookup("user00012", &bench_like(50)).frequency,
            Frequency::Unknown
        );
        assert_eq!(lookup("ümlaut00012", &sample).frequency, Frequency::Unknown);
    }
}
