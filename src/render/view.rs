//! The one description of a change that every renderer shows: symbol,
//! topic, name, id, the masked URL (or the old and new URL with the changed
//! characters marked), and notes. Text, Markdown, drift and the apply report
//! differ only in how they lay this out, so their wording cannot drift apart.
//!
//! Every value here is [`Masked`] (SPEC "Safety by construction"): keys are
//! replaced in names, ids and topics, URLs are masked as the change's
//! manifest entry says ([`Change::masking`]), before any renderer colours,
//! diffs, truncates or escapes them. Values are otherwise raw (unescaped);
//! each renderer escapes for its medium.

use similar::{ChangeTag, TextDiff};

use crate::callback_url::CallbackUrl;
use crate::model::LiveSubscription;
use crate::plan::{Action, Change};
use crate::secret::{Keys, Masked, Masking};

/// Why an unmanaged subscription is listed but left alone.
pub const UNMANAGED_NOTE: &str = "unmanaged, kept because `prune: false`";
/// The note on a delete that removes an extra copy.
pub const DUPLICATE_NOTE: &str = "duplicate";
/// The note on an update whose difference is hidden by masking.
pub const SECRET_NOTE: &str = "secret in URL changed";
/// The note on an update to the same URL written another way (`HTTPS://`,
/// a default port): the parsed URLs are equal.
pub const WRITTEN_NOTE: &str = "same URL, written differently";
/// The note on an update between two live values that are not URLs.
pub const INVALID_NOTE: &str = "not a valid URL, changed";

/// A change as people see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeView<'a> {
    /// What the call does.
    pub action: Action,
    /// Topic of the subscription.
    pub topic: Masked<'a>,
    /// Name of the subscription (the live name for an update).
    pub name: Masked<'a>,
    /// The new name when an update renames the subscription (README "Renames").
    pub new_name: Option<Masked<'a>>,
    /// Id of the live subscription, if there is one.
    pub id: Option<Masked<'a>>,
    /// The callback URL, masked as [`Change::masking`] says.
    pub url: UrlView,
    /// Short remarks shown after the URL ([`DUPLICATE_NOTE`], [`SECRET_NOTE`]).
    pub notes: Vec<&'static str>,
}

/// A change's callback URL, secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlView {
    /// A create's or a delete's URL.
    One(Masked<'static>),
    /// An update's URLs: `old → new`, with the differing runs marked.
    Changed {
        /// The live URL.
        old: Masked<'static>,
        /// The URL after the change.
        new: Masked<'static>,
        /// `old` and `new` as runs of equal, removed and inserted text:
        /// pieces of the masked URLs, never of the real ones.
        runs: Vec<(ChangeTag, String)>,
    },
    /// An update whose old and new URL show the same (see its note).
    Unchanged(Masked<'static>),
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

/// A live subscription as people see it (an unmanaged one), masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveView<'a> {
    /// Topic.
    pub topic: Masked<'a>,
    /// Name.
    pub name: Masked<'a>,
    /// Id.
    pub id: Masked<'a>,
    /// Callback URL.
    pub url: Masked<'static>,
}

impl<'a> LiveView<'a> {
    /// The view of `sub`, `keys` masked.
    pub fn of(sub: &'a LiveSubscription, keys: &Keys) -> Self {
        Self {
            topic: Masked::text(&sub.topic, keys),
            name: Masked::text(&sub.name, keys),
            id: Masked::text(&sub.id, keys),
            url: Masked::url(&sub.callback_url, Masking::Full, keys),
        }
    }
}

impl<'a> ChangeView<'a> {
    /// The view of `change`, `keys` and its URL secrets masked.
    pub fn of(change: &'a Change, keys: &Keys) -> Self {
        let mut notes = Vec::new();
        let masking = change.masking();
        let mask = |url: &str| Masked::url(url, masking, keys);
        let url = match change {
            Change::Create { after } => UrlView::One(mask(&after.callback_url)),
            Change::Delete { before, .. } => UrlView::One(mask(&before.callback_url)),
            Change::Update { before, after, .. } if before.callback_url == after.callback_url => {
                UrlView::One(mask(&after.callback_url))
            }
            Change::Update { before, after, .. } => {
                let view = url_change(mask(&before.callback_url), mask(&after.callback_url));
                if matches!(view, UrlView::Unchanged(_)) {
                    notes.push(url_note(&before.callback_url, &after.callback_url));
                }
                view
            }
        };
        if change.is_duplicate() {
            notes.push(DUPLICATE_NOTE);
        }
        Self {
            action: change.action(),
            topic: Masked::text(change.topic(), keys),
            name: Masked::text(change.name(), keys),
            new_name: match change {
                Change::Update { before, after, .. } if before.name != after.name => {
                    Some(Masked::text(&after.name, keys))
                }
                _ => None,
            },
            id: change.id().map(|id| Masked::text(id, keys)),
            url,
            notes,
        }
    }

    /// The name as shown, each part through `escape`: `old → new` for a
    /// rename, else the name.
    pub fn title(&self, escape: impl Fn(&str) -> String) -> String {
        match &self.new_name {
            Some(new) => format!("{} → {}", escape(&self.name), escape(new)),
            None => escape(&self.name),
        }
    }

    /// The name after the change, through `escape`.
    pub fn after_name(&self, escape: impl Fn(&str) -> String) -> String {
        escape(self.new_name.as_ref().unwrap_or(&self.name))
    }

    /// The action's symbol: `+`, `~`, `-`.
    pub fn symbol(&self) -> char {
        self.action.symbol()
    }
}

/// What is true of a change between two URLs that show the same: the same
/// URL written another way, two values that are no URL, or a change inside
/// a masked part.
pub fn url_note(old: &str, new: &str) -> &'static str {
    match (CallbackUrl::read(old), CallbackUrl::read(new)) {
        (Some(old), Some(new)) if old == new => WRITTEN_NOTE,
        (Some(_), Some(_)) => SECRET_NOTE,
        _ => INVALID_NOTE,
    }
}

/// An update's masked URLs and their character diff.
fn url_change(old: Masked<'static>, new: Masked<'static>) -> UrlView {
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
        let view = ChangeView::of(&c, &Keys::none());
        assert!(matches!(view.url, UrlView::Unchanged(_)));
        assert_eq!(view.url.shown(), "https://a/?t=***");
        assert_eq!(view.notes, vec![SECRET_NOTE]);
    }

    #[test]
    fn an_update_whose_urls_show_the_same_says_what_is_true() {
        for (old, new, note) in [
            ("HTTPS://A.example:443/x", "https://a.example/x", WRITTEN_NOTE),
            ("https://a.example", "https://a.example/", WRITTEN_NOTE),
            ("not a url", "also not one", INVALID_NOTE),
        ] {
            let c = update("wh_1", "customer.updated", "crm", old, new);
            let view = ChangeView::of(&c, &Keys::none());
            assert!(matches!(view.url, UrlView::Unchanged(_)), "{old}");
            assert_eq!(view.notes, vec![note], "{old}");
        }
    }

    #[test]
    fn keys_are_masked_in_names_ids_and_topics() {
        let keys = Keys::new(["k3ySecretValue0123"]);
        let mut c = update(
            "k3ySecretValue0123",
            "t.k3ySecretValue0123",
            "crm",
            "https://a/",
            "https://b/",
        );
        if let Change::Update { before, after, .. } = &mut c {
            before.name = "old k3ySecretValue0123".into();
            after.name = "another".into();
        }
        let view = ChangeView::of(&c, &keys);
        assert_eq!(view.title(str::to_owned), "old *** → another");
        assert_eq!((view.topic.as_str(), view.id.as_deref()), ("t.***", Some("***")));
        let short = ChangeView::of(&c, &Keys::new(["other"]));
        assert_eq!(
            short.after_name(str::to_owned),
            "another",
            "a short key only as a token"
        );
    }

    #[test]
    fn an_update_marks_the_changed_characters() {
        let c = update("wh_1", "customer.updated", "crm", "https://a/x", "https://a/y");
        let UrlView::Changed { runs, .. } = ChangeView::of(&c, &Keys::none()).url else {
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
        let view = ChangeView::of(&c, &Keys::none());
        assert_eq!(view.title(str::to_owned), "crm → crm-v2");
        assert_eq!(view.url.shown(), "https://a/?t=***");
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
            ChangeView::of(&c, &Keys::none()).url.shown(),
            "https://r.example/t/***/in?sig=***"
        );
        if let Change::Update { after, .. } = &mut c {
            after.masking = crate::secret::Masking::KeepPath;
        }
        let view = ChangeView::of(&c, &Keys::none());
        let UrlView::Changed {
            old: shown_old,
            new: shown_new,
            ..
        } = &view.url
        else {
            panic!("expected a changed URL, got {:?}", view.url);
        };
        assert_eq!(
            shown_old.as_str(),
            "https://r.example/t/123e4567-e89b-12d3-a456-426614174000/in?sig=***"
        );
        assert_eq!(
            shown_new.as_str(),
            "https://r.example/t/223e4567-e89b-12d3-a456-426614174000/in?sig=***"
        );
        assert!(view.notes.is_empty());
        let d = delete("wh_2", "customer.updated", "x", new, false);
        assert_eq!(
            ChangeView::of(&d, &Keys::none()).url.shown(),
            "https://r.example/t/***/in?sig=***"
        );
    }

    #[test]
    fn creates_and_deletes_show_one_masked_url() {
        let c = create("customer.updated", "crm", "https://u:p@a/");
        let view = ChangeView::of(&c, &Keys::none());
        assert_eq!((view.symbol(), view.id.as_deref()), ('+', None));
        assert_eq!(view.url.shown(), "https://***@a/");
        let d = delete("wh_2", "customer.updated", "crm", "https://a/", true);
        let view = ChangeView::of(&d, &Keys::none());
        assert_eq!((view.symbol(), view.id.as_deref()), ('-', Some("wh_2")));
        assert_eq!(view.notes, vec![DUPLICATE_NOTE]);
    }
}
