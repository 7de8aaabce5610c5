//! The saved state of an evaluation: everything a report needs, as integers.
//!
//! `eval` builds a [`RunState`] from its images and renders the report from it; with
//! `--save-state FILE` it also writes it as JSON. `segloss merge` reads the states of the
//! shards of one run, checks they belong together, concatenates their images and renders the
//! same report. Scores are only computed when rendering, from counts (`u64`) and per-image
//! counts sorted by key, so a merged report equals the single-run report bit for bit.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use segloss::metrics::Counts;
use serde::{Deserialize, Serialize};

use super::labels::{Encoding, LabelRule};
use super::objects::{ObjectCounts, ObjectRule};
use super::shard::Shard;

/// Identifies a state file.
pub const STATE_FORMAT: &str = "segloss-eval-state";
/// Version of the state layout; merge refuses other versions.
pub const STATE_VERSION: u32 = 1;

/// The settings that determine the counts; states merge only when these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// `"binary"`, `"threshold"` or `"classes"`.
    pub mode: String,
    /// Number of classes of the label space (2 for binary and threshold).
    pub classes: u32,
    /// The threshold, for `"threshold"`.
    pub threshold: Option<f64>,
    /// The ignored truth value.
    pub ignore: Option<u32>,
    /// Object-level settings, if objects were scored.
    pub objects: Option<ObjectRule>,
}

impl Settings {
    /// The settings of a run.
    pub fn new(rule: &LabelRule, objects: Option<ObjectRule>) -> Self {
        let (mode, threshold) = match rule.encoding {
            Encoding::Binary => ("binary", None),
            Encoding::Threshold(t) => ("threshold", Some(t)),
            Encoding::Classes(_) => ("classes", None),
        };
        Settings {
            mode: mode.to_string(),
            classes: rule.encoding.classes(),
            threshold,
            ignore: rule.ignore,
            objects,
        }
    }

    /// Whether counts hold one entry (the positive class of a binary run) or one per class.
    pub fn is_binary(&self) -> bool {
        self.mode != "classes"
    }

    /// The class number of count entry `i` (the positive class is 1 in binary runs).
    pub fn class_of(&self, i: usize) -> usize {
        if self.is_binary() { 1 } else { i }
    }

    /// Number of [`Counts`] per image: 1 for binary runs, else the number of classes.
    pub fn count_entries(&self) -> usize {
        if self.is_binary() {
            1
        } else {
            self.classes as usize
        }
    }
}

/// One scored image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The pairing key.
    pub key: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Truth pixels with the ignore value.
    pub ignored: u64,
    /// Per-class counts ([`Settings::count_entries`] entries).
    pub counts: Vec<Counts>,
    /// Object counts, with `--objects`.
    pub objects: Option<ObjectCounts>,
}

/// A pair that could not be scored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Failure {
    /// The pairing key.
    pub key: String,
    /// What went wrong, naming the file.
    pub error: String,
}

/// Files that did not pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unpaired {
    /// Prediction files without truth, relative to the prediction folder.
    pub pred: Vec<String>,
    /// Truth files without prediction, relative to the truth folder.
    pub truth: Vec<String>,
    /// Keys claimed by several files of one side, with those files.
    pub ambiguous: Vec<(String, Vec<String>)>,
}

/// Everything a report is made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// Always [`STATE_VERSION`].
    pub version: u32,
    /// The counting settings.
    pub settings: Settings,
    /// Which shard(s) this state covers; `0/1` for a whole run or a complete merge.
    pub shard: Shard,
    /// Pairs in the whole run, before sharding.
    pub pairs_total: u64,
    /// Scored images, sorted by key.
    pub images: Vec<ImageRecord>,
    /// Failed pairs, sorted by key.
    pub failures: Vec<Failure>,
    /// Unpaired files (the same in every shard).
    pub unpaired: Unpaired,
}

impl RunState {
    /// A state, with images and failures put in key order.
    pub fn new(
        settings: Settings,
        shard: Shard,
        pairs_total: u64,
        mut images: Vec<ImageRecord>,
        mut failures: Vec<Failure>,
        unpaired: Unpaired,
    ) -> Self {
        images.sort_by(|a, b| a.key.cmp(&b.key));
        failures.sort();
        RunState {
            format: STATE_FORMAT.to_string(),
            version: STATE_VERSION,
            settings,
            shard,
            pairs_total,
            images,
            failures,
            unpaired,
        }
    }

    /// Total per-class counts over all images (summed in `u64`).
    pub fn totals(&self) -> Vec<Counts> {
        let mut totals = vec![Counts::default(); self.settings.count_entries()];
        for img in &self.images {
            for (t, c) in totals.iter_mut().zip(&img.counts) {
                t.add(c);
            }
        }
        totals
    }

    /// Checks the state's own consistency (a hand-edited or truncated file).
    ///
    /// # Errors
    /// Wrong format or version, or images whose count entries do not match the settings.
    pub fn check(&self) -> Result<()> {
        if self.format != STATE_FORMAT {
            bail!(
                "format is {:?}, expected {STATE_FORMAT:?} (a file written by `segloss eval --save-state`)",
                self.format
            );
        }
        if self.version != STATE_VERSION {
            bail!(
                "state version {} is not supported, expected {STATE_VERSION}",
                self.version
            );
        }
        let n = self.settings.count_entries();
        for img in &self.images {
            if img.counts.len() != n {
                bail!(
                    "image {} has {} count entries, expected {n}",
                    img.key,
                    img.counts.len()
                );
            }
            if self.settings.objects.is_some() != img.objects.is_some() {
                bail!("image {} object counts do not match the settings", img.key);
            }
        }
        Ok(())
    }

    /// Combines the states of all shards of one run into the state of the whole run.
    ///
    /// # Errors
    /// States from different settings or runs, a shard missing or given twice, or an image
    /// present in two states.
    pub fn merge(states: Vec<(String, RunState)>) -> Result<RunState> {
        let Some((first_name, first)) = states.first() else {
            bail!("no state files given");
        };
        let count = first.shard.count;
        let mut seen = BTreeSet::new();
        for (name, s) in &states {
            if s.settings != first.settings {
                bail!(
                    "{name}: settings {:?} differ from {first_name}'s {:?}",
                    s.settings,
                    first.settings
                );
            }
            if s.shard.count != count || s.pairs_total != first.pairs_total {
                bail!(
                    "{name}: shard {} of a run with {} pairs does not belong with {first_name} \
                     (shard {} of a run with {} pairs)",
                    s.shard,
                    s.pairs_total,
                    first.shard,
                    first.pairs_total
                );
            }
            if s.unpaired != first.unpaired {
                bail!(
                    "{name}: its list of unpaired files differs from {first_name}'s; were the shards run on the same folders?"
                );
            }
            if !seen.insert(s.shard.index) {
                bail!("{name}: shard {} is given twice", s.shard);
            }
        }
        let missing: Vec<String> = (0..count)
            .filter(|i| !seen.contains(i))
            .map(|i| format!("{i}/{count}"))
            .collect();
        if !missing.is_empty() {
            bail!(
                "missing shard(s) {}; a merge needs every shard of the run",
                missing.join(", ")
            );
        }
        let settings = first.settings.clone();
        let pairs_total = first.pairs_total;
        let unpaired = first.unpaired.clone();
        let mut images = Vec::new();
        let mut failures = Vec::new();
        for (_, s) in states {
            images.extend(s.images);
            failures.extend(s.failures);
        }
        let merged = RunState::new(
            settings,
            Shard::WHOLE,
            pairs_total,
            images,
            failures,
            unpaired,
        );
        let mut keys: BTreeSet<&str> = BTreeSet::new();
        for k in merged
            .images
            .iter()
            .map(|i| i.key.as_str())
            .chain(merged.failures.iter().map(|f| f.key.as_str()))
        {
            if !keys.insert(k) {
                bail!("image {k} appears in more than one state");
            }
        }
        if keys.len() as u64 != pairs_total {
            bail!(
                "the states hold {} pairs, but the run had {pairs_total}",
                keys.len()
            );
        }
        Ok(merged)
    }
}
