//! `--shard K/N` (docs/fleets.md): a stable split of merchants by label. Pure;
//! `--merchant` globs are applied in `commands::fetch::selected`.

use std::fmt;

/// `--shard K/N`: the K-th (1-based) of N disjoint shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    /// Parses `K/N` with `1 <= K <= N`; the error says what to write.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let number = |part: &str| part.trim().parse::<u64>().ok();
        match text.split_once('/').map(|(k, n)| (number(k), number(n))) {
            Some((Some(k), Some(n))) if (1..=n).contains(&k) => Ok(Shard { k, n }),
            _ => Err(format!(
                "`{text}` is not a shard: write `K/N` with 1 ≤ K ≤ N, e.g. `--shard 1/4`"
            )),
        }
    }

    /// Whether `label` is in this shard: FNV-1a 64-bit of its UTF-8 bytes,
    /// modulo N, is K − 1. Fixed forever: a label keeps its shard.
    pub fn holds(&self, label: &str) -> bool {
        fnv1a64(label.as_bytes()) % self.n == self.k - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// FNV-1a, 64-bit (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_readme_example_shards() {
        let third = |label: &str| (1..=3).find(|&k| Shard { k, n: 3 }.holds(label));
        let homes = ["beta-us", "acme-us", "acme-uk", "acme-eu", "beta-eu"].map(third);
        assert_eq!(homes, [1, 2, 2, 3, 3].map(Some));
    }

    #[test]
    fn shards_partition_labels() {
        let labels: Vec<String> = (0..200).map(|i| format!("store-{i}")).collect();
        for n in 1..=7 {
            for label in &labels {
                let homes = (1..=n).filter(|&k| Shard { k, n }.holds(label)).count();
                assert_eq!(homes, 1, "{label} in {n} shards");
            }
        }
    }

    #[test]
    fn shard_parse_errors_say_what_to_write() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { k: 2, n: 3 }));
        for bad in ["0/2", "3/2", "1/0", "x/y", "1", "", "1/2/3", "-1/2"] {
            let e = Shard::parse(bad).unwrap_err();
            assert!(e.contains(&format!("`{bad}`")), "{e}");
        }
    }
}
