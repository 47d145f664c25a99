//! The one description of a change (or an unmanaged subscription) every
//! format lays out, every value [`Masked`] before a renderer touches it
//! (SPEC "Safety by construction"); escaping is each sink's own.

use serde::Serialize;

use crate::callback_url::CallbackUrl;
use crate::model::LiveSubscription;
use crate::plan::{Action, Change, Fields};
use crate::secret::{Keys, Masked, Masking};

pub const UNMANAGED_NOTE: &str = "unmanaged, kept because `prune: false`";
const DUPLICATE_NOTE: &str = "duplicate";
// The notes on an update whose URLs show the same (`url_note`).
const SECRET_NOTE: &str = "secret in URL changed";
const WRITTEN_NOTE: &str = "same URL, written differently";
const INVALID_NOTE: &str = "not a valid URL, changed";

/// A change as reports show it, its JSON the plan's `changes[]`; `name` is
/// the live name of an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeView<'a> {
    pub action: Action,
    pub topic: Masked<'a>,
    pub name: Masked<'a>,
    pub id: Option<Masked<'a>>,
    pub before: Option<FieldsView<'a>>,
    pub after: Option<FieldsView<'a>>,
    pub duplicate: bool,
    /// The remark shown after the URL ([`DUPLICATE_NOTE`], [`url_note`]).
    #[serde(skip)]
    pub note: Option<&'static str>,
    #[serde(skip)]
    renamed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldsView<'a> {
    pub topic: Masked<'a>,
    pub name: Masked<'a>,
    pub callback_url: Masked<'static>,
}

/// An unmanaged live subscription; its JSON the plan's `unmanaged[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveView<'a> {
    pub id: Masked<'a>,
    pub topic: Masked<'a>,
    pub name: Masked<'a>,
    #[serde(rename = "callbackUrl")]
    pub url: Masked<'static>,
}

impl<'a> LiveView<'a> {
    pub fn of(sub: &'a LiveSubscription, keys: &Keys) -> Self {
        Self {
            id: Masked::text(&sub.id, keys),
            topic: Masked::text(&sub.topic, keys),
            name: Masked::text(&sub.name, keys),
            url: Masked::url(&sub.callback_url, Masking::Full, keys),
        }
    }
}

impl<'a> ChangeView<'a> {
    pub fn of(change: &'a Change, keys: &Keys) -> Self {
        let fields = |f: Option<&'a Fields>| {
            f.map(|f| FieldsView {
                topic: Masked::text(&f.topic, keys),
                name: Masked::text(&f.name, keys),
                callback_url: Masked::url(&f.callback_url, change.masking(), keys),
            })
        };
        let (before, after) = (fields(change.before()), fields(change.after()));
        // A note when the URLs differ but show the same.
        let shown_same = matches!((&before, &after), (Some(b), Some(a)) if b.callback_url == a.callback_url);
        let note = match change {
            Change::Delete { duplicate: true, .. } => Some(DUPLICATE_NOTE),
            Change::Update { before, after, .. }
                if shown_same && before.callback_url != after.callback_url =>
            {
                Some(url_note(&before.callback_url, &after.callback_url))
            }
            _ => None,
        };
        Self {
            action: change.action(),
            topic: Masked::text(change.topic(), keys),
            name: Masked::text(change.name(), keys),
            id: change.id().map(|id| Masked::text(id, keys)),
            before,
            after,
            duplicate: change.is_duplicate(),
            note,
            renamed: matches!(change, Change::Update { before, after, .. } if before.name != after.name),
        }
    }

    /// The live URL and the new one, when an update's differ as shown.
    pub fn changed_url(&self) -> Option<(&str, &str)> {
        let old = &self.before.as_ref()?.callback_url;
        let new = &self.after.as_ref()?.callback_url;
        (old != new).then_some((old.as_str(), new.as_str()))
    }

    /// The URL the subscription will have (or had, for a delete).
    pub fn url(&self) -> &str {
        (self.after.as_ref().or(self.before.as_ref())).map_or("", |f| &f.callback_url)
    }

    /// The name through `escape`, `old → new` for a rename.
    pub fn title(&self, escape: impl Fn(&str) -> String) -> String {
        match self.after.as_ref().filter(|_| self.renamed) {
            Some(new) => format!("{} → {}", escape(&self.name), escape(&new.name)),
            None => escape(&self.name),
        }
    }
}

/// What is true of a change between two URLs that show the same.
pub fn url_note(old: &str, new: &str) -> &'static str {
    match (CallbackUrl::read(old), CallbackUrl::read(new)) {
        (Some(old), Some(new)) if old == new => WRITTEN_NOTE,
        (Some(_), Some(_)) => SECRET_NOTE,
        _ => INVALID_NOTE,
    }
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
        assert_eq!(view.changed_url(), None);
        assert_eq!(view.url(), "https://a/?t=***");
        assert_eq!(view.note, Some(SECRET_NOTE));
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
            assert_eq!(view.changed_url(), None, "{old}");
            assert_eq!(view.note, Some(note), "{old}");
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
            short.title(str::to_owned),
            "old k3ySecretValue0123 → another",
            "a short key only as a token"
        );
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
        assert_eq!((view.changed_url(), view.url()), (None, "https://a/?t=***"));
        assert_eq!(view.note, None);
    }

    #[test]
    fn an_entry_with_mask_path_secrets_false_shows_old_and_new_path() {
        let (old, new) = (
            "https://r.example/t/123e4567-e89b-12d3-a456-426614174000/in?sig=1",
            "https://r.example/t/223e4567-e89b-12d3-a456-426614174000/in?sig=1",
        );
        let mut c = update("wh_1", "customer.updated", "crm", old, new);
        assert_eq!(
            ChangeView::of(&c, &Keys::none()).url(),
            "https://r.example/t/***/in?sig=***"
        );
        if let Change::Update { after, .. } = &mut c {
            after.masking = Masking::KeepPath;
        }
        let view = ChangeView::of(&c, &Keys::none());
        assert_eq!(
            view.changed_url(),
            Some((
                "https://r.example/t/123e4567-e89b-12d3-a456-426614174000/in?sig=***",
                "https://r.example/t/223e4567-e89b-12d3-a456-426614174000/in?sig=***"
            ))
        );
        assert_eq!(view.note, None);
        let d = delete("wh_2", "customer.updated", "x", new, false);
        assert_eq!(
            ChangeView::of(&d, &Keys::none()).url(),
            "https://r.example/t/***/in?sig=***"
        );
    }

    #[test]
    fn creates_and_deletes_show_one_masked_url() {
        let c = create("customer.updated", "crm", "https://u:p@a/");
        let view = ChangeView::of(&c, &Keys::none());
        assert_eq!((view.action, view.id.as_deref()), (Action::Create, None));
        assert_eq!(view.url(), "https://***@a/");
        let d = delete("wh_2", "customer.updated", "crm", "https://a/", true);
        let view = ChangeView::of(&d, &Keys::none());
        assert_eq!((view.action, view.id.as_deref()), (Action::Delete, Some("wh_2")));
        assert_eq!(view.note, Some(DUPLICATE_NOTE));
    }
}
