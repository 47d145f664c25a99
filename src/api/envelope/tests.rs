//! Tests of the envelope reader.
#![allow(clippy::unwrap_used)]
use super::*;

const SUB: &str =
    r#"{"id":"1","topic":"customer.updated","name":"n","callbackUrl":"https://x/","merchantId":"m"}"#;

#[test]
fn accepts_an_array_or_an_object_holding_one_array() {
    for body in [
        format!(r#"{{"message":"ok","data":[{SUB}]}}"#),
        format!(r#"{{"message":"ok","data":{{"subscriptions":[{SUB}],"Count":1}}}}"#),
        format!(r#"{{"message":"ok","data":{{"Items":[{SUB}]}},"extra":true}}"#),
    ] {
        let list = parse_list(body.as_bytes()).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].callback_url, "https://x/");
    }
    assert!(parse_list(br#"{"message":"ok","data":[]}"#).unwrap().is_empty());
}

#[test]
fn numeric_ids_are_read_as_text() {
    let body = r#"{"message":"ok","data":[{"id":42,"topic":"t","name":"n","callbackUrl":"u"}]}"#;
    assert_eq!(parse_list(body.as_bytes()).unwrap()[0].id, "42");
    let body = body.replace("42", "1.5");
    assert_eq!(parse_list(body.as_bytes()).unwrap()[0].id, "1.5");
}

#[test]
fn unknown_shapes_are_errors_not_empty_lists() {
    for body in [
        r#"{"message":"ok","data":{}}"#,
        r#"{"message":"ok","data":{"a":[],"b":[]}}"#,
        r#"{"message":"ok","data":"x"}"#,
        r#"{"message":"ok"}"#,
        r#"[]"#,
        r#"{"message":"ok","data":[{"id":"1"}]}"#,
        r#"{"message":"ok","data":[3]}"#,
    ] {
        assert!(
            matches!(parse_list(body.as_bytes()), Err(BodyError::Shape(_))),
            "{body}"
        );
    }
}

#[test]
fn html_is_not_json() {
    let err = parse_list(b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
    assert!(err.to_string().contains("<html>"), "{err}");
    assert!(matches!(
        parse_list(b"{\"message\":\"ok\",\"da"),
        Err(BodyError::NotJson(_))
    ));
}

proptest::proptest! {
    /// `shape` (doctor's reading) accepts and refuses exactly what
    /// `parse_list` does, with the same words.
    #[test]
    fn shape_agrees_with_parse_list(value in json_value()) {
        let body = serde_json::to_vec(&value).unwrap();
        let verdict = shape(&body).and_then(|s| match s.partial.or(s.repeated) {
            Some(refused) => Err(refused),
            None => Ok(s.list),
        });
        proptest::prop_assert_eq!(verdict, parse_list(&body));
    }
}

/// Envelopes of lists of mostly well-formed subscriptions, with the odd
/// missing or mistyped field, extra fields, and other values around.
fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = || {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e3f64..1e3).prop_map(Value::from),
            "[a-c]{0,3}".prop_map(Value::from),
            prop::collection::vec("[a-c]{0,2}".prop_map(Value::from), 0..2).prop_map(Value::from),
        ]
    };
    let field = move |weight: u32| prop_oneof![weight => "[a-c\u{e9}\"]{0,4}".prop_map(|s| Some(Value::from(s))), 1 => leaf().prop_map(Some), 1 => Just(None)];
    let id = prop_oneof![
        20 => "wh_[0-9]{1,3}".prop_map(|s| Some(Value::from(s))),
        8 => any::<i64>().prop_map(|n| Some(Value::from(n))),
        1 => leaf().prop_map(Some),
        1 => Just(None),
    ];
    let item = (id, field(40), field(40), field(40), prop::option::of(leaf())).prop_map(
        |(id, topic, name, url, extra)| {
            let mut map = serde_json::Map::new();
            for (key, value) in [
                ("id", id),
                ("topic", topic),
                ("name", name),
                ("callbackUrl", url),
                ("merchantId", extra),
            ] {
                if let Some(value) = value {
                    map.insert(key.to_owned(), value);
                }
            }
            Value::Object(map)
        },
    );
    let items = prop::collection::vec(item, 0..5).prop_map(Value::from);
    let data = prop_oneof![
        6 => items.clone(),
        4 => (items.clone(), prop::collection::vec(("([a-d]|total|Count|next_page|hasMore|meta)", prop_oneof![3 => leaf(), 1 => items, 1 => hint_object()]), 0..3)).prop_map(|(items, others)| {
            let mut map: serde_json::Map<String, Value> = others.into_iter().collect();
            map.insert("subscriptions".to_owned(), items);
            Value::Object(map)
        }),
        1 => leaf(),
    ];
    let top = prop::collection::vec(
        (
            "(total|cursor|LastEvaluatedKey|pagination|z)",
            prop_oneof![3 => leaf(), 1 => hint_object()],
        ),
        0..2,
    );
    (
        prop::option::weighted(0.95, data),
        leaf(),
        prop::bool::weighted(0.9),
        top,
    )
        .prop_map(|(data, message, wrap, top)| {
            let mut map: serde_json::Map<String, Value> = top.into_iter().collect();
            map.insert("message".to_owned(), message);
            if let Some(data) = data {
                map.insert("data".to_owned(), data);
            }
            if wrap {
                Value::Object(map)
            } else {
                Value::Array(vec![Value::Object(map)])
            }
        })
}

/// An object such as `meta` or `pagination` might be, with hints or not.
fn hint_object() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (0u8..4).prop_map(Value::from),
        "[ab]{0,2}".prop_map(Value::from),
    ];
    prop::collection::btree_map("(total|nextToken|has_more|x)", value, 0..3)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

#[test]
fn pagination_hints_that_say_the_list_is_incomplete_are_errors() {
    for (body, says) in [
        (
            format!(r#"{{"message":"ok","data":{{"subscriptions":[{SUB}],"total":150}}}}"#),
            "returned 1 of 150 subscriptions (`data.total`: 150)",
        ),
        (
            format!(r#"{{"message":"ok","data":[{SUB}],"nextPage":2}}"#),
            "a next page (`nextPage`: 2)",
        ),
        (
            format!(
                r#"{{"message":"ok","data":{{"Items":[{SUB}],"Count":1,"LastEvaluatedKey":{{"id":"1"}}}}}}"#
            ),
            "`data.LastEvaluatedKey`: {\"id\":\"1\"}",
        ),
        (
            format!(r#"{{"message":"ok","data":{{"items":[{SUB}],"has_more":true}}}}"#),
            "says there are more (`data.has_more`: true)",
        ),
        (
            format!(r#"{{"message":"ok","data":{{"items":[{SUB}],"hasMore":"true"}}}}"#),
            "`data.hasMore`",
        ),
        (
            format!(r#"{{"data":[{SUB}],"meta":{{"total":3}}}}"#),
            "1 of 3 subscriptions (`meta.total`: 3)",
        ),
        (
            format!(r#"{{"data":{{"items":[{SUB}],"pagination":{{"next_cursor":"abc"}}}}}}"#),
            "`data.pagination.next_cursor`: \"abc\"",
        ),
        (
            format!(r#"{{"data":[{SUB}],"TotalPages":3}}"#),
            "first of 3 pages",
        ),
        (
            format!(r#"{{"data":{{"subscriptions":[{SUB}],"Count":"7"}}}}"#),
            "1 of 7",
        ),
        (
            format!(r#"{{"message":"ok","NextToken":"eyJ","data":[{SUB}]}}"#),
            "(`NextToken`: \"eyJ\")",
        ),
        (
            format!(r#"{{"data":[{SUB}],"next":"https://api/x?page=2"}}"#),
            "a next page",
        ),
    ] {
        match parse_list(body.as_bytes()) {
            Err(BodyError::Incomplete(m)) => {
                assert!(m.contains(says), "{m}\n{body}");
                assert!(m.contains("invhooks does not page"), "{m}");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[test]
fn hints_that_say_the_list_is_complete_are_fine() {
    for extra in [
        r#""Count":1"#,
        r#""total":1"#,
        r#""next":null"#,
        r#""nextPage":null"#,
        r#""hasMore":false"#,
        r#""has_more":"false""#,
        r#""cursor":"""#,
        r#""nextToken":"  ""#,
        r#""LastEvaluatedKey":null"#,
        r#""LastEvaluatedKey":{}"#,
        r#""totalPages":1"#,
        r#""pagination":{"next":null,"total":1}"#,
        r#""links":{"next":null}"#,
        r#""page":1"#,
        r#""merchantId":"m","createdAt":"2025""#,
    ] {
        for body in [
            format!(r#"{{"message":"ok","data":{{"subscriptions":[{SUB}],{extra}}}}}"#),
            format!(r#"{{"message":"ok",{extra},"data":[{SUB}]}}"#),
        ] {
            assert_eq!(parse_list(body.as_bytes()).map(|l| l.len()), Ok(1), "{body}");
        }
    }
}

#[test]
fn a_list_with_a_repeated_id_is_an_error() {
    let other = SUB.replace(r#""name":"n""#, r#""name":"m""#);
    for body in [
        format!(r#"{{"message":"ok","data":[{SUB},{other}]}}"#),
        format!(
            r#"{{"message":"ok","data":{{"items":[{SUB},{}]}}}}"#,
            SUB.replace(r#""id":"1""#, r#""id":1"#)
        ),
    ] {
        let err = parse_list(body.as_bytes()).unwrap_err();
        assert!(matches!(err, BodyError::Incomplete(_)), "{err:?}");
        assert!(
            err.to_string()
                .contains("id `1` more than once (1 repeated entries of 2)"),
            "{err}"
        );
    }
}

#[test]
fn message_is_read_from_error_envelopes() {
    assert_eq!(
        message(br#"{"message":"invalid API key","data":{}}"#).as_deref(),
        Some("invalid API key")
    );
    assert_eq!(message(b"<html>"), None);
}

#[test]
fn shape_says_where_the_list_is_and_what_its_items_hold() {
    let body = br#"{"message":"ok","data":{"Count":2,"items":[
        {"id":7,"topic":"t","name":"a","callbackUrl":"u","enabled":true},
        {"id":"x","topic":"t","name":"b","callbackUrl":"u"}]}}"#;
    let s = shape(body).unwrap();
    assert_eq!(s.at, "data.items");
    assert_eq!(
        s.id_types.into_iter().collect::<Vec<_>>(),
        ["a number", "a string"]
    );
    assert!(s.fields.contains("enabled") && s.fields.len() == 5);
    assert_eq!(s.hints.keys().collect::<Vec<_>>(), ["data.Count"]);
    assert!(s.partial.is_none() && s.repeated.is_none());
    let s = shape(br#"{"data":[{"id":"1","topic":"t","name":"a","callbackUrl":"u"}],"total":3}"#).unwrap();
    assert_eq!(s.at, "data");
    assert!(s.partial.unwrap().to_string().contains("1 of 3"));
}

#[test]
fn excerpts_are_scrubbed_before_they_are_cut() {
    let key = "sk_live_excerpt_0123456789abcdef";
    crate::api::ApiKey::new(key.to_owned());
    for pad in 0..80 {
        let body = format!("{}Invalid API key: {key} and more text after it", "x".repeat(pad));
        let text = excerpt(body.as_bytes(), 60);
        assert!(text.len() <= 60, "{text}");
        for piece in key.as_bytes().windows(6) {
            let piece = std::str::from_utf8(piece).unwrap_or_default();
            assert!(!text.contains(piece), "pad {pad}: {text}");
        }
    }
    assert_eq!(excerpt(format!("{key}{key}{key}\nyes").as_bytes(), 60), "*** yes");
    assert_eq!(excerpt("short\r\né".as_bytes(), 7), "short  ");
}
