//! Lying lists (`--lying-list-rate`, README "Fault injection"): a GET
//! answered with a list that cannot be trusted to be whole, the way a
//! paginating or proxied API can answer. A [`Lie`] is drawn for every
//! admitted request (`injector`), and told only to a GET the store
//! answered and no other fault took: [`Lie::tell`] rewrites the list in
//! the reply's `data`. Every lie is one the client recognises
//! (`api/envelope`: a repeated id, or a pagination hint saying there is
//! more). A leaf.

use rand::Rng;
use serde_json::{json, Value};

/// How a list lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Lie {
    /// One entry listed twice, the copy right after it, as overlapping
    /// pages give; `at` (in `[0, 1)`) picks the entry.
    Repeat { at: f64 },
    /// Only a first page: the first `keep` (in `[0, 1)`) of the entries,
    /// at least one left out, and `hint` saying there is more.
    Cut { keep: f64, hint: Hint },
}

/// The pagination hint of a cut page, inside `data` beside the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// `"total": n`, the whole list's length.
    Total,
    /// `"hasMore": true`.
    HasMore,
    /// `"nextPage": 2`.
    NextPage,
    /// `"pagination": {"nextCursor": id}`, the first entry left out.
    Cursor,
}

const HINTS: [Hint; 4] = [Hint::Total, Hint::HasMore, Hint::NextPage, Hint::Cursor];

/// What a told lie was, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Told {
    /// An id listed twice.
    RepeatedId,
    /// A first page with a pagination hint.
    CutPage,
}

impl Lie {
    /// A lie with probability `rate`. Always four draws, whatever the
    /// rate, so the rate decides only whether a request is lied to.
    pub(crate) fn draw(rng: &mut impl Rng, rate: f64) -> Option<Lie> {
        let (lie, repeat, share, hint) = (
            rng.random::<f64>(),
            rng.random::<bool>(),
            rng.random::<f64>(),
            rng.random_range(0..HINTS.len()),
        );
        (lie < rate).then_some(if repeat {
            Lie::Repeat { at: share }
        } else {
            Lie::Cut {
                keep: share,
                hint: HINTS[hint],
            }
        })
    }

    /// Tells the lie in `data` (`{"subscriptions": [...]}`); `None`, and
    /// `data` untouched, when the list is empty (nothing to lie about) or
    /// not there.
    pub(crate) fn tell(self, data: &mut Value) -> Option<Told> {
        let list = data.get_mut("subscriptions")?.as_array_mut()?;
        if list.is_empty() {
            return None;
        }
        let len = list.len();
        // `as` truncates: a share in [0, 1) gives an index in 0..len.
        let index = |share: f64| ((share * len as f64) as usize).min(len - 1);
        match self {
            Lie::Repeat { at } => {
                let at = index(at);
                let copy = list[at].clone();
                list.insert(at + 1, copy);
                Some(Told::RepeatedId)
            }
            Lie::Cut { keep, hint } => {
                let keep = index(keep);
                let next = list[keep].get("id").cloned().unwrap_or(Value::Null);
                list.truncate(keep);
                let (key, value) = match hint {
                    Hint::Total => ("total", json!(len)),
                    Hint::HasMore => ("hasMore", json!(true)),
                    Hint::NextPage => ("nextPage", json!(2)),
                    Hint::Cursor => ("pagination", json!({ "nextCursor": next })),
                };
                data.as_object_mut()?.insert(key.to_owned(), value);
                Some(Told::CutPage)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::api::envelope::{parse_list, BodyError};

    fn list(n: usize) -> Value {
        let subs: Vec<Value> = (1..=n)
            .map(|i| {
                json!({"id": format!("wh_{i:06}"), "topic": "customer.updated", "name": format!("n{i}"),
                       "callbackUrl": "https://a.example/"})
            })
            .collect();
        json!({ "subscriptions": subs })
    }

    fn body(data: &Value) -> Vec<u8> {
        json!({"message": "webhook subscriptions retrieved", "data": data})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn every_lie_is_one_the_client_refuses() {
        let lies = [Lie::Repeat { at: 0.0 }, Lie::Repeat { at: 0.999 }]
            .into_iter()
            .chain(
                HINTS
                    .iter()
                    .flat_map(|&hint| [0.0, 0.5, 0.999].map(|keep| Lie::Cut { keep, hint })),
            );
        for lie in lies {
            for n in [1, 2, 7] {
                let mut data = list(n);
                assert!(lie.tell(&mut data).is_some(), "{lie:?} on {n}");
                let err = parse_list(&body(&data)).unwrap_err();
                assert!(matches!(err, BodyError::Incomplete(_)), "{lie:?} on {n}: {err:?}");
            }
        }
    }

    #[test]
    fn a_repeat_copies_one_entry_and_a_cut_keeps_a_first_page() {
        let mut data = list(4);
        assert_eq!(Lie::Repeat { at: 0.5 }.tell(&mut data), Some(Told::RepeatedId));
        let ids: Vec<&str> = data["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["wh_000001", "wh_000002", "wh_000003", "wh_000003", "wh_000004"]
        );

        let mut data = list(4);
        let cut = Lie::Cut {
            keep: 0.5,
            hint: Hint::Cursor,
        };
        assert_eq!(cut.tell(&mut data), Some(Told::CutPage));
        assert_eq!(data["subscriptions"].as_array().unwrap().len(), 2);
        assert_eq!(data["pagination"], json!({"nextCursor": "wh_000003"}));
        let mut data = list(3);
        let total = Lie::Cut {
            keep: 0.9,
            hint: Hint::Total,
        };
        total.tell(&mut data);
        assert_eq!(
            (data["subscriptions"].as_array().unwrap().len(), &data["total"]),
            (2, &json!(3))
        );
    }

    #[test]
    fn an_empty_list_is_answered_honestly() {
        for lie in [
            Lie::Repeat { at: 0.3 },
            Lie::Cut {
                keep: 0.3,
                hint: Hint::HasMore,
            },
        ] {
            let mut data = list(0);
            assert_eq!(lie.tell(&mut data), None);
            assert_eq!(data, list(0));
        }
    }

    #[test]
    fn draws_follow_the_rate_and_the_seed() {
        let draws = |seed, rate| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..400).map(|_| Lie::draw(&mut rng, rate)).collect::<Vec<_>>()
        };
        assert!(draws(1, 0.0).iter().all(Option::is_none));
        assert!(draws(1, 1.0).iter().all(Option::is_some));
        assert_eq!(draws(1, 0.3), draws(1, 0.3));
        assert_ne!(draws(1, 0.3), draws(2, 0.3));
        let some = draws(1, 0.3).into_iter().flatten().collect::<Vec<_>>();
        assert!((80..160).contains(&some.len()), "{}", some.len());
        let repeats = some.iter().filter(|l| matches!(l, Lie::Repeat { .. })).count();
        assert!(
            repeats > 20 && some.len() - repeats > 20,
            "{repeats} of {}",
            some.len()
        );
        // The rate decides only whether: the lies drawn at 0.3 are the
        // first of those drawn at 1.
        let all = draws(1, 1.0);
        for (low, high) in draws(1, 0.3).iter().zip(&all) {
            if let Some(low) = low {
                assert_eq!(Some(low), high.as_ref());
            }
        }
    }
}
