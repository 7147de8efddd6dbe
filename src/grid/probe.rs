//! Which part of an email or username "contains" term the trigram index looks up
//! (PostgreSQL's pg_trgm index, SQLite's FTS5 `trigram` table).
//!
//! The index finds candidates by intersecting the row lists of every trigram of the term,
//! and a trigram found in most rows costs the most to walk: on the benchmark's million
//! users, `LIKE '%user00012%'` took 14 ms, mostly in `use`, `ser` and `er0` (every
//! row has them), and `LIKE '%00012%'` 4 ms for the same 100 users after the recheck. So the
//! grid looks up the part of the term that a random sample of keys says is cheapest: few
//! trigrams found in many rows, and few candidate rows left to recheck. The whole term is
//! still matched against the key, so the answer never changes, only the cost.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::Lookup;

/// Keys sampled at random (username and email joined, as the index joins them), indexed
/// by trigram once when taken: for each trigram, which sampled keys contain it.
pub struct KeySample {
    rows: usize,
    keys_with: HashMap<[u8; 3], Vec<u64>>,
}

impl KeySample {
    pub fn new(keys: &[String]) -> Self {
        let words = keys.len().div_ceil(64);
        let mut keys_with: HashMap<[u8; 3], Vec<u64>> = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            for w in key.as_bytes().windows(3) {
                let bits = keys_with
                    .entry([w[0], w[1], w[2]])
                    .or_insert_with(|| vec![0; words]);
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        Self {
            rows: keys.len(),
            keys_with,
        }
    }
}

/// Rows in a sample: enough to tell a trigram in 1% of rows from one in 50%.
pub const SAMPLE_ROWS: i64 = 5_000;

/// Below this many sampled keys the table is small and any lookup is cheap.
const MIN_SAMPLE: usize = 200;

/// The longest part considered: longer parts only add trigrams to walk.
const MOST_CHARS: usize = 12;

/// What rechecking one candidate row costs, in walks of one index entry: measured here,
/// about 2 ms per million entries walked and 0.7 µs per candidate rechecked.
const RECHECK_COST: f64 = 350.0;

/// A lookup is changed only when the sample says it is at least this many times cheaper.
const WORTH_IT: f64 = 2.0;

/// At most this share of sampled keys hold what a lookup asks for when it counts as few
/// rows (`Lookup::few`): 5,000 rows of a million, which the index finds in about a
/// millisecond, and which a page sorted on any column can take from the index's rows
/// faster than from a walk in that column's order.
const FEW_SHARE: f64 = 0.005;

/// What to look up in the index for `term` (already lower-cased): a cheaper part of it,
/// and whether the sample says few rows hold that.
pub fn lookup(term: &str, sample: &KeySample) -> Lookup {
    let part = cheaper_part(term, sample);
    let looked_up = part.as_deref().unwrap_or(term);
    let few = sample.rows >= MIN_SAMPLE
        && term.is_ascii()
        && share_holding(looked_up, sample).is_some_and(|share| share <= FEW_SHARE);
    Lookup { part, few }
}

/// The share of sampled keys that hold every trigram of the runs of letters and digits in
/// `s`, or None when it has no such trigram (the index would return every row). These
/// trigrams are some of those pg_trgm and FTS5 look up, so the share is an upper bound.
fn share_holding(s: &str, sample: &KeySample) -> Option<f64> {
    let bytes = s.as_bytes();
    let mut all = vec![u64::MAX; sample.rows.div_ceil(64)];
    let mut any = false;
    for (start, end) in alnum_runs(bytes) {
        for w in bytes[start..end].windows(3) {
            any = true;
            let Some(bits) = sample.keys_with.get(&[w[0], w[1], w[2]]) else {
                return Some(0.0);
            };
            for (a, b) in all.iter_mut().zip(bits) {
                *a &= b;
            }
        }
    }
    let held: u32 = all.iter().map(|w| w.count_ones()).sum();
    any.then(|| f64::from(held) / sample.rows as f64)
}

/// The part of `term` (already lower-cased) to look up in the index instead of the whole
/// term, or None to look up the whole term. Only runs of ASCII letters and digits are
/// candidates: pg_trgm splits words at other characters, and a part with no trigram of
/// its own would make the index return every row.
pub fn cheaper_part(term: &str, sample: &KeySample) -> Option<String> {
    if sample.rows < MIN_SAMPLE || !term.is_ascii() {
        return None;
    }
    let bytes = term.as_bytes();
    let n = sample.rows;
    let words = n.div_ceil(64);
    let none = vec![0u64; words];
    let bits_of = |tri: &[u8]| -> &[u64] {
        sample
            .keys_with
            .get(&[tri[0], tri[1], tri[2]])
            .map_or(&none, |b| b.as_slice())
    };
    let share = |count: u32| (f64::from(count) + 1.0) / (n as f64 + 1.0);
    let cost = |trigrams: &[&[u64]]| -> f64 {
        let walk: f64 = trigrams
            .iter()
            .map(|b| share(b.iter().map(|w| w.count_ones()).sum()))
            .sum();
        let mut all = vec![u64::MAX; words];
        for b in trigrams {
            for (a, w) in all.iter_mut().zip(b.iter()) {
                *a &= w;
            }
        }
        let candidates = share(all.iter().map(|w| w.count_ones()).sum());
        walk + RECHECK_COST * candidates
    };

    let runs = alnum_runs(bytes);
    let whole: Vec<&[u64]> = runs
        .iter()
        .flat_map(|&(s, e)| (s..e.saturating_sub(2)).map(|p| (p, p + 3)))
        .map(|(a, b)| bits_of(&bytes[a..b]))
        .collect();
    if whole.is_empty() {
        return None;
    }
    let whole_cost = cost(&whole);
    let mut best: Option<(f64, usize, usize)> = None;
    for &(start, end) in &runs {
        for a in start..end {
            for b in (a + 3)..=end.min(a + MOST_CHARS) {
                let tris: Vec<&[u64]> = (a..b - 2).map(|p| bits_of(&bytes[p..p + 3])).collect();
                let c = cost(&tris);
                if best.is_none_or(|(bc, _, _)| c < bc) {
                    best = Some((c, a, b));
                }
            }
        }
    }
    let (c, a, b) = best?;
    (c * WORTH_IT < whole_cost && (b - a) < bytes.len()).then(|| term[a..b].to_owned())
}

/// The runs of ASCII letters and digits at least 3 long, as (start, end) byte offsets.
fn alnum_runs(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        match (b.is_ascii_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 3 {
                    runs.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    runs
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
    use super::*;

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

    #[test]
    fn skips_trigrams_every_key_has() {
        let sample = bench_like(5_000);
        let part = cheaper_part("user00012", &sample).expect("a cheaper part");
        assert!(!part.contains("use") && !part.contains("ser"), "{part}");
        assert!("user00012".contains(&part) && part.len() >= 3, "{part}");
    }

    #[test]
    fn keeps_the_whole_term_when_nothing_is_cheaper_or_the_sample_is_small() {
        let sample = bench_like(5_000);
        // Already as cheap as it gets, or only one word of three letters.
        assert_eq!(cheaper_part("xyz", &sample), None);
        assert_eq!(cheaper_part("user00012", &bench_like(50)), None);
        // No run of three letters or digits: nothing the index could look up alone.
        assert_eq!(cheaper_part("a.b-c", &sample), None);
        assert_eq!(cheaper_part("ümlaut", &sample), None);
    }

    #[test]
    fn parts_never_cross_a_non_word_character() {
        let sample = bench_like(5_000);
        let part = cheaper_part("user00012@example1", &sample).expect("a cheaper part");
        assert!(part.bytes().all(|b| b.is_ascii_alphanumeric()), "{part}");
    }

    #[test]
    fn few_rows_only_when_the_sample_says_so() {
        let sample = bench_like(5_000);
        // About 100 users of a million, whatever part is looked up.
        assert!(lookup("user00012", &sample).few);
        assert!(lookup("nobody-has-this", &sample).few);
        // In every key, or in a tenth of them ("user000": ids under 100,000).
        assert!(!lookup("example", &sample).few);
        assert!(!lookup("user000", &sample).few);
        // Nothing the index can look up, a small table, or not ASCII: the database plans.
        assert!(!lookup("a.b", &sample).few);
        assert!(!lookup("user00012", &bench_like(50)).few);
        assert!(!lookup("ümlaut00012", &sample).few);
    }

    #[test]
    fn runs_of_letters_and_digits() {
        assert_eq!(alnum_runs(b"ab.cde-fghi"), vec![(3, 6), (7, 11)]);
        assert_eq!(alnum_runs(b"ab"), Vec::<(usize, usize)>::new());
    }
}
