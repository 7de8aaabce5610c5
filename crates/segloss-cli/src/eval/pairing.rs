//! Pairing prediction files with truth files by relative path and file stem.
//!
//! Both folders are walked recursively. A file's *key* is its path relative to its root with
//! the extension and the side's suffix removed: with `--pred-suffix _pred`,
//! `pred/a/tile_12_pred.png` has key `a/tile_12`, and so has `truth/a/tile_12_mask.tif` with
//! `--truth-suffix _mask`. Files whose keys agree form a pair. Only `.png`, `.tif` and `.tiff`
//! files (any case) take part; hidden files (name starting with `.`) and anything else, such as
//! GDAL's `.aux.xml` side files, are skipped. When a suffix is given, files of that side
//! whose stem lacks it are skipped too, so both sides may live in one folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One prediction file and its truth file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The shared key: relative folder and stem without suffix, `/`-separated.
    pub key: String,
    /// The prediction file.
    pub pred: PathBuf,
    /// The truth file.
    pub truth: PathBuf,
}

/// The result of pairing two folders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairing {
    /// Pairs, sorted by key.
    pub pairs: Vec<Pair>,
    /// Prediction files without a truth file, relative to the prediction root, sorted.
    pub unmatched_pred: Vec<String>,
    /// Truth files without a prediction file, relative to the truth root, sorted.
    pub unmatched_truth: Vec<String>,
    /// Keys claimed by more than one file of one side (e.g. `a.png` and `a.tif`), with the
    /// files involved; such keys are not paired.
    pub ambiguous: Vec<(String, Vec<String>)>,
}

/// Pairs the mask files under `pred_root` with those under `truth_root`.
///
/// # Errors
/// A folder cannot be read (the message names it). Unreadable entries inside the tree are
/// errors too, rather than silently missing from the evaluation.
pub fn pair(
    pred_root: &Path,
    pred_suffix: &str,
    truth_root: &Path,
    truth_suffix: &str,
) -> Result<Pairing> {
    let preds = list(pred_root, pred_suffix)?;
    let truths = list(truth_root, truth_suffix)?;
    let mut out = Pairing::default();
    let (preds, amb_p) = split_ambiguous(preds);
    let (mut truths, amb_t) = split_ambiguous(truths);
    for (key, files) in amb_p.into_iter().chain(amb_t) {
        out.ambiguous.push((key, files));
    }
    out.ambiguous.sort();
    let ambiguous_keys: std::collections::BTreeSet<&String> =
        out.ambiguous.iter().map(|(k, _)| k).collect();
    for (key, (rel, pred)) in preds {
        if ambiguous_keys.contains(&key) {
            truths.remove(&key);
            continue;
        }
        match truths.remove(&key) {
            Some((_, truth)) => out.pairs.push(Pair { key, pred, truth }),
            None => out.unmatched_pred.push(rel),
        }
    }
    out.unmatched_truth = truths
        .into_iter()
        .filter(|(k, _)| !ambiguous_keys.contains(k))
        .map(|(_, (rel, _))| rel)
        .collect();
    out.unmatched_truth.sort();
    out.unmatched_pred.sort();
    Ok(out)
}

type Listing = BTreeMap<String, Vec<(String, PathBuf)>>;

fn split_ambiguous(
    listing: Listing,
) -> (
    BTreeMap<String, (String, PathBuf)>,
    Vec<(String, Vec<String>)>,
) {
    let mut unique = BTreeMap::new();
    let mut ambiguous = Vec::new();
    for (key, mut files) in listing {
        if files.len() == 1 {
            unique.insert(key, files.remove(0));
        } else {
            ambiguous.push((key, files.into_iter().map(|(rel, _)| rel).collect()));
        }
    }
    (unique, ambiguous)
}

/// Whether a file name looks like a mask this tool reads.
pub fn is_mask_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'));
    let ext_ok = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "tif" | "tiff"));
    !hidden && ext_ok
}

fn list(root: &Path, suffix: &str) -> Result<Listing> {
    let mut out: Listing = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).follow_links(true) {
        let entry = entry.with_context(|| format!("cannot read folder {}", root.display()))?;
        if !entry.file_type().is_file() || !is_mask_file(entry.path()) {
            continue;
        }
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(path);
        let Some(stem) = rel.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Some(stem) = stem.strip_suffix(suffix) else {
            continue;
        };
        let mut key = String::new();
        if let Some(parent) = rel.parent() {
            for c in parent.components() {
                key.push_str(&c.as_os_str().to_string_lossy());
                key.push('/');
            }
        }
        key.push_str(stem);
        out.entry(key)
            .or_default()
            .push((slash_path(rel), path.to_path_buf()));
    }
    Ok(out)
}

/// A relative path with `/` separators on every platform, for reports.
pub fn slash_path(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b"x").unwrap();
    }

    #[test]
    fn pairs_recursively_with_suffixes() {
        let dir = tempfile::tempdir().unwrap();
        let (p, t) = (dir.path().join("p"), dir.path().join("t"));
        touch(&p, "a/tile_1_pred.png");
        touch(&p, "a/tile_2_pred.PNG");
        touch(&p, "b/tile_1_pred.tif");
        touch(&p, "notes.txt");
        touch(&p, ".hidden_pred.png");
        touch(&p, "lonely_pred.png");
        touch(&t, "a/tile_1_mask.png");
        touch(&t, "a/tile_2_mask.tiff");
        touch(&t, "b/tile_1_mask.png");
        touch(&t, "b/tile_1_mask.png.aux.xml");
        touch(&t, "c/extra_mask.png");
        let r = pair(&p, "_pred", &t, "_mask").unwrap();
        let keys: Vec<&str> = r.pairs.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["a/tile_1", "a/tile_2", "b/tile_1"]);
        assert!(r.pairs[2].pred.ends_with("b/tile_1_pred.tif"));
        assert!(r.pairs[2].truth.ends_with("b/tile_1_mask.png"));
        assert_eq!(r.unmatched_pred, ["lonely_pred.png"]);
        assert_eq!(r.unmatched_truth, ["c/extra_mask.png"]);
        assert!(r.ambiguous.is_empty());
    }

    #[test]
    fn same_folder_with_suffixes_and_ambiguity() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(d, "x_pred.png");
        touch(d, "x_mask.png");
        touch(d, "y_pred.png");
        touch(d, "y_pred.tif");
        touch(d, "y_mask.png");
        let r = pair(d, "_pred", d, "_mask").unwrap();
        assert_eq!(r.pairs.len(), 1);
        assert_eq!(r.pairs[0].key, "x");
        assert_eq!(
            r.ambiguous,
            vec![(
                "y".to_string(),
                vec!["y_pred.png".to_string(), "y_pred.tif".to_string()]
            )]
        );
        assert!(r.unmatched_pred.is_empty() && r.unmatched_truth.is_empty());
    }

    #[test]
    fn missing_folder_is_an_error_naming_it() {
        let e = pair(Path::new("/no/such/dir"), "", Path::new("/tmp"), "").unwrap_err();
        assert!(format!("{e:#}").contains("/no/such/dir"));
    }
}
