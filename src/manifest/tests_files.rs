//! Tests of [`load_paths`](super::load_paths): files, directories, read
//! problems and labels across files.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use super::{load_paths, Diagnostic, Diagnostics};
use crate::model::MerchantManifest;

fn no_env(_: &str) -> Option<String> {
    None
}

fn load(paths: &[PathBuf]) -> Result<Vec<MerchantManifest>, Diagnostics> {
    load_paths(paths, &no_env)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// The only diagnostic of a failed load.
#[track_caller]
fn only(result: Result<Vec<MerchantManifest>, Diagnostics>) -> Diagnostic {
    let Diagnostics(mut all) = result.unwrap_err();
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

const ENTRY: &str =
    "subscriptions:\n  - name: a\n    topic: customer.updated\n    callbackUrl: https://h.dev\n";

#[test]
fn missing_file_says_how_to_pass_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webhooks.yaml");
    let d = only(load(std::slice::from_ref(&path)));
    assert_eq!(d.location.line, 0, "about the file, no line of it");
    assert_eq!(
        d.message,
        format!("cannot read `{}`: no such file", path.display())
    );
    assert_eq!(
        d.to_string(),
        format!(
            "error: cannot read `{}`: no such file\n  help: pass the manifest with -f PATH",
            path.display()
        )
    );
    assert_eq!(d.help.as_deref(), Some("pass the manifest with -f PATH"));
}

#[test]
fn directory_loads_yaml_files_sorted_by_label() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "zeta.yaml",
        "version: 1\nmerchant: alpha\napiKeyEnv: KEY_ALPHA\n",
    );
    write(dir.path(), "beta.yml", &format!("version: 1\n{ENTRY}"));
    write(dir.path(), "notes.txt", "not a manifest");
    fs::create_dir(dir.path().join("nested.yaml")).unwrap();
    let manifests = load(&[dir.path().to_path_buf()]).unwrap();
    let labels: Vec<&str> = manifests.iter().map(|m| m.label.as_str()).collect();
    assert_eq!(labels, ["alpha", "beta"]);
    assert_eq!(manifests[1].file, dir.path().join("beta.yml"));
    assert_eq!(
        manifests[1].subscriptions[0].location.file,
        dir.path().join("beta.yml")
    );
}

#[test]
fn directory_without_manifests_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "#");
    let d = only(load(&[dir.path().to_path_buf()]));
    assert_eq!(
        d.message,
        format!(
            "directory `{}` contains no `*.yaml` or `*.yml` manifest",
            dir.path().display()
        )
    );
}

#[test]
fn the_same_file_twice_is_loaded_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "acme.yaml", "version: 1\n");
    let dotted = dir.path().join(".").join("acme.yaml");
    let manifests = load(&[path, dotted, dir.path().to_path_buf()]).unwrap();
    assert_eq!(manifests.len(), 1);
}

#[test]
fn duplicate_merchant_labels_name_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.yaml",
        "version: 1\nmerchant: acme\napiKeyEnv: KEY_A\n",
    );
    let b = write(
        dir.path(),
        "b.yaml",
        "# eu\nversion: 1\nmerchant: acme\napiKeyEnv: KEY_B\n",
    );
    let d = only(load(&[a.clone(), b.clone()]));
    assert_eq!((d.location.file.as_path(), d.location.line), (b.as_path(), 3));
    assert_eq!(d.message, "merchant `acme` is declared by two manifests");
    let help = format!(
        "also declared by {}:2; give each file its own `merchant:` label",
        a.display()
    );
    assert_eq!(d.help, Some(help));
    // A defaulted label clashes too, reported at line 1.
    let c = write(dir.path(), "acme.yaml", "version: 1\n");
    let d = only(load(&[a, c]));
    assert_eq!(d.location.line, 1);
}

#[test]
fn problems_of_every_file_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.yaml", "version: 2\n");
    let b = write(dir.path(), "b.yaml", "");
    let Diagnostics(all) = load(&[a.clone(), b.clone()]).unwrap_err();
    let got: Vec<(&Path, &str)> = all
        .iter()
        .map(|d| (d.location.file.as_path(), d.message.as_str()))
        .collect();
    let empty = format!("manifest `{}` is empty", b.display());
    assert_eq!(
        got,
        [
            (a.as_path(), "unsupported manifest version `2`"),
            (b.as_path(), empty.as_str())
        ]
    );
    assert_eq!(
        all[1].help.as_deref(),
        Some("a manifest starts with `version: 1`")
    );
}

#[test]
fn non_utf8_and_oversized_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let latin1 = dir.path().join("latin1.yaml");
    fs::write(&latin1, b"version: 1\nmerchant: caf\xe9\n").unwrap();
    let d = only(load(std::slice::from_ref(&latin1)));
    assert_eq!(d.location.line, 2, "at the line the message names");
    let message = format!(
        "manifest `{}` is not valid UTF-8 (its first invalid byte is on this line)",
        latin1.display()
    );
    assert_eq!(d.message, message);

    let big = dir.path().join("big.yaml");
    fs::File::create(&big)
        .unwrap()
        .set_len(8 * 1024 * 1024 + 1)
        .unwrap();
    let d = only(load(std::slice::from_ref(&big)));
    assert_eq!(
        d.message,
        format!("manifest `{}` is larger than 8 MiB", big.display())
    );
}

#[test]
fn byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bom.yaml", &format!("\u{feff}version: 1\n{ENTRY}"));
    let manifests = load(&[path]).unwrap();
    assert_eq!(manifests[0].subscriptions[0].location.line, 3);
}

#[test]
fn diagnostics_render_with_help_lines() {
    let rendered = Diagnostics(vec![
        Diagnostic::new(
            Path::new("webhooks.yaml"),
            12,
            "unknown field `topc` in subscription".to_owned(),
            "did you mean `topic`?",
        ),
        Diagnostic::new(Path::new("webhooks.yaml"), 14, "`name` is empty".to_owned(), ""),
    ])
    .to_string();
    assert_eq!(
        rendered,
        "error: webhooks.yaml:12: unknown field `topc` in subscription\n  help: did you mean `topic`?\nerror: webhooks.yaml:14: `name` is empty"
    );
}

#[test]
fn at_most_200_diagnostics_are_displayed() {
    let many = Diagnostics(
        (0..250)
            .map(|i| Diagnostic::new(Path::new("w.yaml"), i + 1, format!("problem {i}"), ""))
            .collect(),
    );
    let text = many.to_string();
    assert_eq!(text.lines().count(), 201);
    assert!(text.ends_with("error: w.yaml:200: problem 199\n… and 50 more problems not shown"));
}

#[test]
fn two_manifests_reading_the_same_key_variable_name_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.yaml",
        "version: 1\nmerchant: a\napiKeyEnv: SHOP_KEY\n",
    );
    let b = write(
        dir.path(),
        "b.yaml",
        "version: 1\n\nmerchant: b\napiKeyEnv: SHOP_KEY\n",
    );
    let d = only(load(&[a.clone(), b.clone()]));
    assert_eq!((d.location.file.as_path(), d.location.line), (b.as_path(), 4));
    assert_eq!(
        d.message,
        "merchants `a` and `b` both read their API key from `SHOP_KEY`"
    );
    let help = d.help.unwrap();
    assert!(
        help.starts_with(&format!(
            "`a` reads it at {}:3; one key is one store",
            a.display()
        )),
        "{help}"
    );
    assert!(help.contains("give each manifest its own `apiKeyEnv`"), "{help}");
    // Both on the default: each file is named, at line 1.
    let c = write(dir.path(), "c.yaml", "version: 1\n");
    let e = write(dir.path(), "e.yaml", "version: 1\n");
    let d = only(load(&[c.clone(), e.clone()]));
    assert_eq!((d.location.file.as_path(), d.location.line), (e.as_path(), 1));
    assert_eq!(
        d.message,
        "merchants `c` and `e` both read their API key from `INVETERATE_API_KEY` (the default)"
    );
    assert!(d.help.unwrap().contains(&format!("{}:1", c.display())));
    // Different variables are fine.
    let f = write(dir.path(), "f.yaml", "version: 1\napiKeyEnv: OTHER_KEY\n");
    assert_eq!(load(&[c, f]).unwrap().len(), 2);
}

#[test]
fn same_store_finds_one_key_under_two_variables_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = |name: &str, var: &str| {
        let path = write(
            dir.path(),
            &format!("{name}.yaml"),
            &format!("version: 1\napiKeyEnv: {var}\n"),
        );
        let mut loaded = load(&[path]).unwrap();
        loaded.remove(0)
    };
    let all = [
        manifest("a", "KEY_A"),
        manifest("b", "KEY_B"),
        manifest("c", "KEY_C"),
    ];
    let key_of = |var: &str| match var {
        "KEY_A" => Some("sk_live_same".to_owned()),
        "KEY_B" => Some(" sk_live_same\n".to_owned()),
        "KEY_C" => Some("sk_live_other".to_owned()),
        _ => None,
    };
    let found = super::same_store(&all, &key_of);
    assert_eq!(found.len(), 1, "{found:#?}");
    let d = &found[0];
    assert_eq!(d.location.file, dir.path().join("b.yaml"));
    assert_eq!(
        d.message,
        "merchants `a` and `b` use the same API key (`KEY_A` and `KEY_B` hold the same value)"
    );
    let shown = format!("{d}");
    assert!(!shown.contains("sk_live"), "{shown}");
    // Unset or empty keys are not compared; distinct keys are fine.
    assert!(super::same_store(&all, &|_| None).is_empty());
    assert!(super::same_store(&all, &|_| Some(String::new())).is_empty());
    assert!(super::same_store(&all, &|var| Some(var.to_owned())).is_empty());
}
