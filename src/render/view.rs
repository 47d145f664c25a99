//! The one description of a change that every renderer shows: symbol,
//! topic, name, id, the masked URL (or the old and new URL with the changed
//! characters marked), and notes. Text, Markdown, drift and the apply report
//! differ only in how they lay this out, so their wording cannot drift apart.
//! Values here are raw (unescaped); each renderer escapes for its medium.
//! URLs are masked as the change's manifest entry says ([`Change::masking`]).

use similar::{ChangeTag, TextDiff};

use crate::plan::{Action, Change};
use crate::secret::mask_url_with;

/// Why an unmanaged subscription is listed but left alone.
pub const UNMANAGED_NOTE: &str = "unmanaged, kept because `prune: false`";
/// The note on a delete that removes an extra copy.
pub const DUPLICATE_NOTE: &str = "duplicate";
/// The note on an update whose difference is hidden by masking.
pub const SECRET_NOTE: &str = "secret in URL changed";

/// A change as people see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeView<'a> {
    /// What the call does.
    pub action: Action,
    /// Topic of the subscription.
    pub topic: &'a str,
    /// Name of the subscription (the live name for an update).
    pub name: &'a str,
    /// The new name when an update renames the subscription (README "Renames").
    pub new_name: Option<&'a str>,
    /// Id of the live subscription, if there is one.
    pub id: Option<&'a str>,
    /// The callback URL, masked as [`Change::masking`] says.
    pub url: UrlView,
    /// Short remarks shown after the URL ([`DUPLICATE_NOTE`], [`SECRET_NOTE`]).
    pub notes: Vec<&'static str>,
}

/// A change's callback URL, secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlView {
    /// A create's or a delete's URL.
    One(String),
    /// An update's URLs: `old → new`, with the differing runs marked.
    Changed {
        /// The live URL.
        old: String,
        /// The URL after the change.
        new: String,
        /// `old` and `new` as runs of equal, removed and inserted text.
        runs: Vec<(ChangeTag, String)>,
    },
    /// An update whose old and new URL only differ inside a masked part.
    Unchanged(String),
}

impl UrlView {
    /// The URL the subscription will have (or has, for a delete).
    pub fn shown(&self) -> &str {
        match self {
            UrlView::One(url) | UrlView::Unchanged(url) => url,
            UrlView::Changed { new, .. } => new,
        }
    }
}

impl<'a> ChangeView<'a> {
    /// The view of `change`.
    pub fn of(change: &'a Change) -> Self {
        let mut notes = Vec::new();
        let masking = change.masking();
        let mask = |url: &str| mask_url_with(url, masking);
        let url = match change {
            Change::Create { after } => UrlView::One(mask(&after.callback_url)),
            Change::Delete { before, .. } => UrlView::One(mask(&before.callback_url)),
            Change::Update { before, after, .. } if before.callback_url == after.callback_url => {
                UrlView::One(mask(&after.callback_url))
            }
            Change::Update { before, after, .. } => {
                let view = url_change(mask(&before.callback_url), mask(&after.callback_url));
                if matches!(view, UrlView::Unchanged(_)) {
                    notes.push(SECRET_NOTE);
                }
                view
            }
        };
        if change.is_duplicate() {
            notes.push(DUPLICATE_NOTE);
        }
        Self {
            action: change.action(),
            topic: change.topic(),
            name: change.name(),
            new_name: match change {
                Change::Update { before, after, .. } if before.name != after.name => Some(&after.name),
                _ => None,
            },
            id: change.id(),
            url,
            notes,
        }
    }

    /// The name as shown, each part through `escape`: `old → new` for a
    /// rename, else the name.
    pub fn title(&self, escape: impl Fn(&str) -> String) -> String {
        match self.new_name {
            Some(new) => format!("{} → {}", escape(self.name), escape(new)),
            None => escape(self.name),
        }
    }

    /// The name after the change, through `escape`.
    pub fn after_name(&self, escape: impl Fn(&str) -> String) -> String {
        escape(self.new_name.unwrap_or(self.name))
    }

    /// The action's symbol: `+`, `~`, `-`.
    pub fn symbol(&self) -> char {
        self.action.symbol()
    }
}

/// An update's masked URLs and their character diff.
fn url_change(old: String, new: String) -> UrlView {
    if old == new {
        return UrlView::Unchanged(new);
    }
    // Merge the per-character diff into runs, so each is shown once.
    let mut runs: Vec<(ChangeTag, String)> = Vec::new();
    for op in TextDiff::from_chars(old.as_str(), new.as_str()).iter_all_changes() {
        match runs.last_mut() {
            Some((tag, text)) if *tag == op.tag() => text.push_str(op.value()),
            _ => runs.push((op.tag(), op.value().to_owned())),
        }
    }
    UrlView::Changed { old, new, runs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{create, delete, update};

    #[test]
    fn an_update_hidden_by_masking_reads_as_a_changed_secret() {
        let c = update(
            "wh_1",
            "customer.updated",
            "crm",
            "https://a/?t=1",
            "https://a/?t=2",
        );
        let view = ChangeView::of(&c);
        assert_eq!(view.url, UrlView::Unchanged("https://a/?t=***".into()));
        assert_eq!(view.notes, vec![SECRET_NOTE]);
    }

    #[test]
    fn an_update_marks_the_changed_characters() {
        let c = update("wh_1", "customer.updated", "crm", "https://a/x", "https://a/y");
        let UrlView::Changed { runs, .. } = ChangeView::of(&c).url else {
            panic!("expected a changed URL");
        };
        let tags: Vec<ChangeTag> = runs.iter().map(|(t, _)| *t).collect();
        assert_eq!(tags, [ChangeTag::Equal, ChangeTag::Delete, ChangeTag::Insert]);
    }

    #[test]
    fn a_rename_shows_old_and_new_name_and_one_url() {
        let mut c = update(
            "wh_1",
            "customer.updated",
            "crm",
            "https://a/?t=1",
            "https://a/?t=1",
        );
        if let Change::Update { after, .. } = &mut c {
            after.name = "crm-v2".into();
        }
        let view = ChangeView::of(&c);
        assert_eq!(view.title(str::to_owned), "crm → crm-v2");
        assert_eq!(view.url, UrlView::One("https://a/?t=***".into()));
        assert!(view.notes.is_empty());
    }

    #[test]
    fn an_entry_with_mask_path_secrets_false_shows_old_and_new_path() {
        let (old, new) = (
            "https://r.example/t/123e4567-e89b-12d3-a456-426614174000/in?sig=1",
            "https://r.example/t/223e4567-e89b-12d3-a456-426614174000/in?sig=1",
        );
        let mut c = update("wh_1", "customer.updated", "crm", old, new);
        assert_eq!(
            ChangeView::of(&c).url,
            UrlView::Unchanged("https://r.example/t/***/in?sig=***".into())
        );
        if let Change::Update { after, .. } = &mut c {
            after.masking = crate::secret::Masking::KeepPath;
        }
        let view = ChangeView::of(&c);
        let UrlView::Changed {
            old: shown_old,
            new: shown_new,
            ..
        } = &view.url
        else {
            panic!("expected a changed URL, got {:?}", view.url);
        };
        assert_eq!(
            shown_old,
            "https://r.example/t/123e4567-e89b-12d3-a456-426614174000/in?sig=***"
        );
        assert_eq!(
            shown_new,
            "https://r.example/t/223e4567-e89b-12d3-a456-426614174000/in?sig=***"
        );
        assert!(view.notes.is_empty());
        let d = delete("wh_2", "customer.updated", "x", new, false);
        assert_eq!(
            ChangeView::of(&d).url.shown(),
            "https://r.example/t/***/in?sig=***"
        );
    }

    #[test]
    fn creates_and_deletes_show_one_masked_url() {
        let c = create("customer.updated", "crm", "https://u:p@a/");
        let view = ChangeView::of(&c);
        assert_eq!((view.symbol(), view.id), ('+', None));
        assert_eq!(view.url.shown(), "https://***@a/");
        let d = delete("wh_2", "customer.updated", "crm", "https://a/", true);
        let view = ChangeView::of(&d);
        assert_eq!((view.symbol(), view.id), ('-', Some("wh_2")));
        assert_eq!(view.notes, vec![DUPLICATE_NOTE]);
    }
}
