//! Finding and reading manifest files; a problem with a file itself is at line 0.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::diagnostic::Diagnostic;

const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
const HELP_PASS_FILE: &str = "pass the manifest with -f PATH";

/// The files `paths` name, directories expanded to their `*.yaml` / `*.yml` files sorted by name.
pub(super) fn manifest_files(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match fs::metadata(path).map(|meta| meta.is_dir()) {
            Ok(true) => match dir_manifests(path) {
                Ok(found) if found.is_empty() => {
                    let dir = path.display();
                    let message = format!("directory `{dir}` contains no `*.yaml` or `*.yml` manifest");
                    diagnostics.push(Diagnostic::new(path, 0, message, HELP_PASS_FILE));
                }
                Ok(mut found) => files.append(&mut found),
                Err(error) => diagnostics.push(io_error(path, "directory", &error)),
            },
            Ok(false) => files.push(path.clone()),
            Err(error) => diagnostics.push(io_error(path, "manifest", &error)),
        }
    }
    files
}

fn dir_manifests(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") && path.is_file() {
            found.push(path);
        }
    }
    found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(found)
}

/// Reads a manifest: at most [`MAX_FILE_BYTES`], UTF-8.
pub(super) fn read_file(file: &Path) -> Result<String, Vec<Diagnostic>> {
    let mut bytes = Vec::new();
    let read = fs::File::open(file).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes));
    read.map_err(|error| vec![io_error(file, "manifest", &error)])?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let message = format!("manifest `{}` is larger than 8 MiB", file.display());
        let help = "a manifest is a short list of subscriptions; check that -f names the right file";
        return Err(vec![Diagnostic::new(file, 1, message, help)]);
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        let name = file.display();
        let message =
            format!("manifest `{name}` is not valid UTF-8 (its first invalid byte is on this line)");
        vec![Diagnostic::new(file, line, message, "save the file as UTF-8")]
    })
}

fn io_error(path: &Path, what: &str, error: &std::io::Error) -> Diagnostic {
    if error.kind() != std::io::ErrorKind::NotFound {
        let message = format!("cannot read {what} `{}`: {}", path.display(), error.kind());
        return Diagnostic::new(path, 0, message, "");
    }
    let help = match near_name(path) {
        Some(near) => format!("did you mean `{}`?", near.display()),
        None => HELP_PASS_FILE.to_owned(),
    };
    let message = format!("cannot read `{}`: no such file", path.display());
    Diagnostic::new(path, 0, message, help)
}

/// A manifest beside the missing `path` with a name close to its own (`webhook.yaml`).
fn near_name(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent().filter(|d| !d.as_os_str().is_empty());
    let found = dir_manifests(parent.unwrap_or(Path::new("."))).ok()?;
    let names = found.iter().filter_map(|f| Some((f.file_name()?.to_str()?, f)));
    let near = crate::topic::closest(name, names)?.file_name()?;
    Some(parent.map_or_else(|| PathBuf::from(near), |parent| parent.join(near)))
}
