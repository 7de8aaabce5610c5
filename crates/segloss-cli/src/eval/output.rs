//! Writing output files safely: never into an input folder, never over an existing file
//! unless `--force`, and never half-written (a temporary file in the same folder is renamed
//! into place once complete).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Whether an existing output file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse (the default).
    Refuse,
    /// Replace (`--force`).
    Allow,
}

/// `path` made absolute with symbolic links resolved, for the part of it that exists.
///
/// The longest existing ancestor is canonicalised and the rest appended, so paths that do
/// not exist yet can be compared with input folders.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current folder")?
            .join(path)
    };
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(abs),
        }
    }
}

/// Writes a file through `fill`, atomically: the data goes to a temporary file beside `path`
/// which is renamed onto `path` only once complete.
///
/// # Errors
/// The folder is not writable, `fill` fails, or `path` exists and `overwrite` is
/// [`Overwrite::Refuse`] (checked again at rename time, so a file that appeared meanwhile is
/// not clobbered either).
pub fn write_file(
    path: &Path,
    overwrite: Overwrite,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".segloss-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        fill(&mut w).with_context(|| format!("cannot write {}", path.display()))?;
        w.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    match overwrite {
        Overwrite::Allow => tmp
            .persist(path)
            .map(|_| ())
            .with_context(|| format!("cannot write {}", path.display())),
        Overwrite::Refuse => tmp.persist_noclobber(path).map(|_| ()).with_context(|| {
            format!(
                "{} already exists; not overwritten (use --force to replace it)",
                path.display()
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_clobber_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.txt");
        write_file(&p, Overwrite::Refuse, |w| Ok(w.write_all(b"one")?)).unwrap();
        let e = write_file(&p, Overwrite::Refuse, |w| Ok(w.write_all(b"two")?)).unwrap_err();
        assert!(format!("{e:#}").contains("already exists"));
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_file(&p, Overwrite::Allow, |w| Ok(w.write_all(b"three")?)).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn resolve_handles_missing_tails() {
        let dir = tempfile::tempdir().unwrap();
        let r = resolve(&dir.path().join("a/b/c.json")).unwrap();
        assert!(r.ends_with("a/b/c.json"));
        assert!(r.starts_with(dir.path().canonicalize().unwrap()));
    }
}
