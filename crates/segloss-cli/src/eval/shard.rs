//! `--shard i/n`: a deterministic slice of the pairs, so a job runner can split a run.
//!
//! The pairs are sorted by key; shard `i` of `n` (0-based, `0 <= i < n`) takes the pairs at
//! sorted positions `p` with `p % n == i`. Every machine that sees the same two folders
//! computes the same slices, the slices are disjoint and together cover every pair, and their
//! sizes differ by at most one. Each saved state records its shard and the total number of
//! pairs, so `segloss merge` can check that all `n` shards of the same run are present once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One slice of a run: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based shard number, below `count`.
    pub index: u32,
    /// Number of shards, at least 1.
    pub count: u32,
}

impl Shard {
    /// The whole run as one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether the pair at sorted position `position` belongs to this shard.
    pub fn contains(&self, position: usize) -> bool {
        position % self.count as usize == self.index as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("--shard {s:?}: expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "1/0", "x/2", "3", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_partition_positions_evenly() {
        let n = 4;
        let mut seen = vec![0; 10];
        for i in 0..n {
            let s = Shard { index: i, count: n };
            let mine: Vec<usize> = (0..10).filter(|&p| s.contains(p)).collect();
            assert!(mine.len() == 2 || mine.len() == 3);
            for p in mine {
                seen[p] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1));
    }
}
