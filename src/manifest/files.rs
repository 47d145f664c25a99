//! Finding and reading manifest files: directories expanded to their
//! `*.yaml` / `*.yml` files, a size bound, UTF-8; every problem a
//! diagnostic naming the path.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::diagnostic::{Diagnostic, HELP_PASS_FILE};

/// Largest manifest file accepted.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// The files `paths` name: files as given, directories expanded to their
/// `*.yaml` / `*.yml` files sorted by name. Problems are appended.
pub(super) fn manifest_files(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => match dir_manifests(path) {
                // Line 0: about the directory, not a line of a file.
                Ok(found) if found.is_empty() => diagnostics.push(Diagnostic::new(
                    path,
                    0,
                    format!(
                        "directory `{}` contains no `*.yaml` or `*.yml` manifest",
                        path.display()
                    ),
                    Some(HELP_PASS_FILE.to_owned()),
                )),
                Ok(mut found) => files.append(&mut found),
                Err(error) => diagnostics.push(io_error(path, "directory", &error)),
            },
            Ok(_) => files.push(path.clone()),
            Err(error) => diagnostics.push(io_error(path, "manifest", &error)),
        }
    }
    files
}

fn dir_manifests(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let is_yaml = path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml");
        if is_yaml && path.is_file() {
            found.push(path);
        }
    }
    found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(found)
}

/// Reads a manifest: at most [`MAX_FILE_BYTES`], UTF-8.
pub(super) fn read_file(file: &Path) -> Result<String, Vec<Diagnostic>> {
    let fail =
        |message: String, help: &str| Err(vec![Diagnostic::new(file, 1, message, Some(help.to_owned()))]);
    let too_large = || {
        fail(
            format!("manifest `{}` is larger than 8 MiB", file.display()),
            "a manifest is a short list of subscriptions; check that -f names the right file",
        )
    };
    let mut handle = match fs::File::open(file) {
        Ok(handle) => handle,
        Err(error) => return Err(vec![io_error(file, "manifest", &error)]),
    };
    if handle.metadata().is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
        return too_large();
    }
    let mut bytes = Vec::new();
    if let Err(error) = (&mut handle).take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        return Err(vec![io_error(file, "manifest", &error)]);
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return too_large();
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        let message = format!(
            "manifest `{}` is not valid UTF-8 (its first invalid byte is on this line)",
            file.display()
        );
        vec![Diagnostic::new(
            file,
            line,
            message,
            Some("save the file as UTF-8".to_owned()),
        )]
    })
}

fn io_error(path: &Path, what: &str, error: &std::io::Error) -> Diagnostic {
    // Line 0: about the file, not a line of it (shown without `:line`).
    if error.kind() == std::io::ErrorKind::NotFound {
        let help = match near_name(path) {
            Some(near) => format!("did you mean `{}`?", near.display()),
            None => HELP_PASS_FILE.to_owned(),
        };
        let message = format!("cannot read `{}`: no such file", path.display());
        return Diagnostic::new(path, 0, message, Some(help));
    }
    Diagnostic::new(
        path,
        0,
        format!("cannot read {what} `{}`: {}", path.display(), error.kind()),
        None,
    )
}

/// A manifest beside the missing `path` whose name is close to its name
/// (`webhook.yaml` for `webhooks.yaml`).
fn near_name(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let found = dir_manifests(dir).ok()?;
    let names = found.iter().filter_map(|f| Some((f.file_name()?.to_str()?, f)));
    let near = crate::topic::closest(name, names)?;
    Some(match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(parent) => parent.join(near.file_name()?),
        None => PathBuf::from(near.file_name()?),
    })
}
