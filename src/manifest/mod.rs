//! Manifest files → [`MerchantManifest`]s: reading, YAML parsing, `${VAR}`
//! expansion and validation, with every problem of every file reported at
//! once as a [`Diagnostic`] that names `file:line`.
//!
//! Pure apart from reading files: the environment is injected. The pieces:
//! [`raw`] (serde/schemars types, the source of truth for field names and
//! the JSON Schema), [`lines`] (YAML path → line), [`expand`] (`${VAR}`),
//! [`validate`] (structure), then [`subscription`] and [`checks`] (values).

mod checks;
mod expand;
mod lines;
mod raw;
mod subscription;
mod tabs;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_files;
#[cfg(test)]
mod tests_values;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::model::{Location, MerchantManifest};

/// Largest manifest file accepted.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Deepest `[` / `{` nesting handed to the YAML parser. serde_yaml stops at
/// 128 levels, but only after libyaml's scanner has read the nesting, in
/// time quadratic in its depth (an 8 MiB line of `[` would take hours), so
/// deeper text is refused before parsing.
const MAX_FLOW_DEPTH: usize = 1_000;

/// Help for a file that is missing or does not start like a manifest.
const HELP_PASS_FILE: &str = "pass the manifest with -f PATH";
const HELP_STARTS_WITH: &str = "a manifest starts with `version: 1`";

/// One problem in a manifest, with where it is and, when there is one, how
/// to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file and 1-based line the problem is on (line 1 for problems of
    /// the content as a whole; 0 when the file itself cannot be read).
    pub location: Location,
    /// What is wrong: lowercase start, no trailing period, literal values
    /// in backticks, never a variable's value.
    pub message: String,
    /// How to fix it, when the message alone does not say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `file:line`.
    pub(crate) fn new(file: &Path, line: usize, message: String, help: Option<String>) -> Self {
        Diagnostic {
            location: Location {
                file: file.to_path_buf(),
                line,
            },
            message,
            help,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location.line {
            0 => write!(f, "error: {}", self.message)?,
            _ => write!(f, "error: {}: {}", self.location, self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found while loading manifests, in file order and, within
/// a file, in line order.
#[derive(Debug, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

/// Most diagnostics displayed; a hostile file can have hundreds of
/// thousands, which would only flood a CI log.
const MAX_SHOWN: usize = 200;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        if self.0.len() > MAX_SHOWN {
            write!(f, "\n… and {} more problems not shown", self.0.len() - MAX_SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Loads every manifest named by `paths` (files, or directories: every
/// `*.yaml` / `*.yml` directly inside, sorted by name). `env` looks up
/// environment variables (injected for tests; the CLI passes
/// `std::env::var(name).ok()`). The same file named twice is loaded once.
///
/// Returns the merchants sorted by label.
///
/// # Errors
///
/// Every problem found in every file (a file that cannot be read, invalid
/// YAML, invalid values), and two files that declare the same merchant
/// label.
pub fn load_paths(
    paths: &[PathBuf],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<MerchantManifest>, Diagnostics> {
    let mut diagnostics = Vec::new();
    let mut seen = HashSet::new();
    let mut loaded: Vec<(MerchantManifest, usize)> = Vec::new();
    for file in manifest_files(paths, &mut diagnostics) {
        let identity = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if !seen.insert(identity) {
            continue;
        }
        let result = read_file(&file).and_then(|text| load_with_label_line(&file, &text, env));
        match result {
            Ok(manifest) => loaded.push(manifest),
            Err(mut found) => diagnostics.append(&mut found),
        }
    }
    diagnostics.extend(other_merchants_keys(&loaded, env));
    let mut labels: HashMap<&str, Location> = HashMap::new();
    for (manifest, label_line) in &loaded {
        let here = Location {
            file: manifest.file.clone(),
            line: *label_line,
        };
        match labels.get(manifest.label.as_str()) {
            Some(first) => diagnostics.push(Diagnostic {
                location: here,
                message: format!("merchant `{}` is declared by two manifests", manifest.label),
                help: Some(format!(
                    "also declared by {first}; give each file its own `merchant:` label"
                )),
            }),
            None => {
                labels.insert(&manifest.label, here);
            }
        }
    }
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    let mut manifests: Vec<MerchantManifest> = loaded.into_iter().map(|(m, _)| m).collect();
    manifests.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(manifests)
}

/// Subscriptions whose name or URL contains another merchant's API key
/// (each file's own key is refused while it is validated).
fn other_merchants_keys(
    loaded: &[(MerchantManifest, usize)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Diagnostic> {
    let keys: Vec<(&str, String)> = loaded
        .iter()
        .filter_map(|(m, _)| Some((m.api_key_env.as_str(), env(&m.api_key_env)?.trim().to_owned())))
        .filter(|(_, key)| !key.is_empty())
        .collect();
    let mut found = Vec::new();
    for (m, _) in loaded {
        for sub in &m.subscriptions {
            let leaked = keys
                .iter()
                .find(|(_, key)| sub.name.contains(key.as_str()) || sub.callback_url.contains(key.as_str()));
            if let Some((var, _)) = leaked {
                found.push(Diagnostic {
                    location: sub.location.clone(),
                    message: format!(
                        "a subscription on `{}` would contain an API key (the value of `{var}`)",
                        sub.topic
                    ),
                    help: Some(
                        "the API key must never leave the API request header; use another variable"
                            .to_owned(),
                    ),
                });
            }
        }
    }
    found
}

/// Parses and validates one file's text (pure; `file` is only used for
/// locations and the default label).
///
/// # Errors
///
/// Every problem found in the text, in line order.
pub fn load_str(
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<MerchantManifest, Diagnostics> {
    load_with_label_line(file, text, env)
        .map(|(manifest, _)| manifest)
        .map_err(Diagnostics)
}

/// The manifest's JSON Schema (draft 2020-12), generated with schemars from
/// the same serde types the loader uses; `invhooks schema` prints it for
/// editors (yaml-language-server) and CI.
pub fn schema() -> serde_json::Value {
    raw::schema()
}

/// [`load_str`], also returning the line of the `merchant:` label (1 when
/// the label is the file's stem), for the duplicate-label check.
fn load_with_label_line(
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(MerchantManifest, usize), Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(vec![empty(file)]);
    }
    if let Some(line) = too_deep(text) {
        return Err(vec![Diagnostic::new(
            file,
            line,
            format!("invalid YAML: lists or mappings nest more than {MAX_FLOW_DEPTH} levels deep"),
            Some("a manifest needs only a few levels; check for unclosed `[` or `{`".to_owned()),
        )]);
    }
    let (parsed, index) = parse_and_index(text);
    let value = match parsed {
        Ok(value) => value,
        Err(error) => return Err(vec![tabs::hint(yaml_error(file, &error), text)]),
    };
    let index = index.unwrap_or_else(|| lines::LineIndex::build(text));
    validate::manifest(file, &value, &index, env).map_err(|mut diagnostics| {
        diagnostics.sort_by_key(|d| d.location.line);
        diagnostics
    })
}

/// The line where `[` / `{` nesting first exceeds [`MAX_FLOW_DEPTH`],
/// counting brackets outside `#` comments. Brackets inside scalars count
/// too, so this over-estimates; the margin over serde_yaml's own limit of
/// 128 keeps real manifests far from it.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let mut previous = ' ';
        for c in line.chars() {
            match c {
                '#' if previous.is_whitespace() => break,
                '[' | '{' => depth += 1,
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_FLOW_DEPTH {
                return Some(i + 1);
            }
            previous = c;
        }
    }
    None
}

/// Text from which [`parse_and_index`] builds the line index on a thread of
/// its own (below it, a thread costs more than it saves).
const PARALLEL_INDEX_BYTES: usize = 64 * 1024;

/// serde_yaml's parse of `text` and, for a large text, its line index:
/// two independent passes over the same text, run side by side (they are
/// most of a large manifest's load time). `None`: build the index after
/// the parse, only if it succeeded.
fn parse_and_index(
    text: &str,
) -> (
    Result<serde_yaml::Value, serde_yaml::Error>,
    Option<lines::LineIndex>,
) {
    if text.len() < PARALLEL_INDEX_BYTES {
        return (serde_yaml::from_str(text), None);
    }
    std::thread::scope(|scope| {
        let indexing = std::thread::Builder::new().spawn_scoped(scope, || lines::LineIndex::build(text));
        let parsed = serde_yaml::from_str(text);
        // `build` never panics (it catches the parser's panics); if the
        // thread could not start, the caller builds the index itself.
        let index = indexing.ok().and_then(|handle| handle.join().ok());
        (parsed, index)
    })
}

fn empty(file: &Path) -> Diagnostic {
    Diagnostic::new(
        file,
        1,
        format!("manifest `{}` is empty", file.display()),
        Some(HELP_STARTS_WITH.to_owned()),
    )
}

/// A YAML syntax error (or one of serde_yaml's limits, such as the alias
/// repetition limit) at the line serde_yaml reports.
fn yaml_error(file: &Path, error: &serde_yaml::Error) -> Diagnostic {
    let line = error.location().map_or(1, |l| l.line().max(1));
    // serde_yaml's messages can quote keys from the document: escaped.
    let message = crate::escape::escape(&strip_positions(&error.to_string())).into_owned();
    let hints = [
        (
            "repetition limit",
            "YAML aliases expand to too much data; write the entries out",
        ),
        (
            "recursion limit",
            "lists or mappings nest too deeply; a manifest needs only a few levels",
        ),
        (
            "duplicate entry",
            "each field may appear once per mapping; remove the repeated key",
        ),
        (
            "more than one document",
            "a manifest is one YAML document; remove the `---` line or split the file",
        ),
        (
            "unknown anchor",
            "define the anchor (`&name`) before the alias that uses it (`*name`)",
        ),
    ];
    let help = hints.iter().find(|(needle, _)| message.contains(needle)).map_or(
        "check the indentation and quoting on this line and the one before",
        |(_, help)| help,
    );
    Diagnostic::new(
        file,
        line,
        format!("invalid YAML: {message}"),
        Some(help.to_owned()),
    )
}

/// Removes serde_yaml's ` at line N column M` / ` at position N` parts:
/// the diagnostic already names the line.
fn strip_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" at ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 4..];
        let skipped = skip_position(after);
        if skipped.len() == after.len() {
            out.push_str(" at ");
        }
        rest = skipped;
    }
    out.push_str(rest);
    out
}

/// `after` without a leading `line N column M` or `position N`.
fn skip_position(after: &str) -> &str {
    fn skip_number(s: &str) -> &str {
        s.trim_start_matches(|c: char| c.is_ascii_digit())
    }
    let digits = |s: &str| skip_number(s).len() < s.len();
    if let Some(s) = after.strip_prefix("line ").filter(|s| digits(s)) {
        let s = skip_number(s);
        if let Some(c) = s.strip_prefix(" column ").filter(|c| digits(c)) {
            return skip_number(c);
        }
        return s;
    }
    if let Some(s) = after.strip_prefix("position ").filter(|s| digits(s)) {
        return skip_number(s);
    }
    after
}

/// The files `paths` name: files as given, directories expanded to their
/// `*.yaml` / `*.yml` files sorted by name. Problems are appended.
fn manifest_files(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => match dir_manifests(path) {
                Ok(found) if found.is_empty() => diagnostics.push(Diagnostic::new(
                    path,
                    1,
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
fn read_file(file: &Path) -> Result<String, Vec<Diagnostic>> {
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
    String::from_utf8(bytes).or_else(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        fail(
            format!(
                "manifest `{}` is not valid UTF-8 (first invalid byte on line {line})",
                file.display()
            ),
            "save the file as UTF-8",
        )
    })
}

fn io_error(path: &Path, what: &str, error: &std::io::Error) -> Diagnostic {
    // Line 0: about the file, not a line of it (shown without `:line`).
    if error.kind() == std::io::ErrorKind::NotFound {
        return Diagnostic::new(
            path,
            0,
            format!("cannot read `{}`: no such file", path.display()),
            Some(HELP_PASS_FILE.to_owned()),
        );
    }
    Diagnostic::new(
        path,
        0,
        format!("cannot read {what} `{}`: {}", path.display(), error.kind()),
        None,
    )
}
