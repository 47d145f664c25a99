use super::*;

fn masked(url: &str) -> String {
    mask_url(url)
}

fn with(url: &str, masking: Masking) -> String {
    Masked::url(url, masking, &Keys::none()).into_string()
}

#[test]
fn plain_urls_are_shown_as_parsed() {
    for url in [
        "https://hooks.acme.dev/inveterate",
        "http://127.0.0.1:8080/x#frag",
        "https://h/p?flag",
    ] {
        assert_eq!(masked(url), url);
        assert!(!has_secret(url));
    }
    assert_eq!(masked("https://hooks.acme.dev"), "https://hooks.acme.dev/");
    assert_eq!(masked("HTTPS://Hooks.ACME.dev:443/X"), "https://hooks.acme.dev/X");
    assert_eq!(masked("https://bücher.de/ä"), "https://xn--bcher-kva.de/%C3%A4");
    assert_eq!(masked("not a url"), INVALID_URL);
    assert_eq!(masked("relative/path?sig=s3cr3t"), INVALID_URL);
}

#[test]
fn userinfo_and_query_values_are_masked() {
    assert_eq!(
        masked("https://user:pa55@hooks.acme.dev/x?token=abc&mode=1#f"),
        "https://***@hooks.acme.dev/x?token=***&mode=***#f"
    );
    assert_eq!(masked("https://h/p?a=&b=2"), "https://h/p?a=&b=***");
    assert!(has_secret("https://u@h/"));
}

#[test]
fn a_query_item_that_is_a_secret_is_masked_whole() {
    assert_eq!(
        masked("https://bare.example/in?c2VjcmV0c2VjcmV0c2VjcmV0NQ=="),
        "https://bare.example/in?***"
    );
    assert_eq!(
        masked("https://h/in?9f8Kq2LmZx7Vb4Nc1Rt6Yw3=1&x=2"),
        "https://h/in?***&x=***"
    );
}

#[test]
fn a_backslash_is_read_as_deliveries_read_it() {
    assert_eq!(
        masked("https://attacker.example\\@hooks.acme.dev/x"),
        "https://attacker.example/@hooks.acme.dev/x"
    );
}

#[test]
fn provider_tokens_in_paths_are_masked() {
    assert_eq!(
        masked("https://hooks.slack.com/services/T0ABC/B0DEF/XyZ123abcDEF456ghiJKL789"),
        "https://hooks.slack.com/services/***/***/***"
    );
    assert_eq!(
        masked("https://hooks.zapier.com/hooks/catch/123456/ab1cd2/"),
        "https://hooks.zapier.com/hooks/catch/***/***/"
    );
    assert_eq!(
        masked("https://discord.com/api/webhooks/1234567890/tok-EN_value"),
        "https://discord.com/api/webhooks/1234567890/***"
    );
    assert_eq!(
        masked("https://HOOKS.slack.com/services/T0ABC"),
        "https://hooks.slack.com/services/***"
    );
    assert_eq!(
        masked("https://hooks.slack.com/other/x"),
        "https://hooks.slack.com/other/x"
    );
}

#[test]
fn random_looking_segments_are_masked_and_words_are_not() {
    assert_eq!(
        masked("https://r.example/in/9f8Kq2LmZx7Vb4Nc1Rt6Yw3/events"),
        "https://r.example/in/***/events"
    );
    assert_eq!(
        masked("https://r.example/u/123e4567-e89b-12d3-a456-426614174000"),
        "https://r.example/u/***"
    );
    for url in [
        "https://hooks.acme.dev/inveterate/membership-cancelled-2024",
        "https://hooks.acme.dev/v2/customers/updated",
        "https://hooks.acme.dev/aaaaaaaaaaaaaaaaaaaaaaaa1",
        "https://hooks.acme.dev/inveterate2024/loyalty-members",
    ] {
        assert_eq!(masked(url), url);
    }
    assert!(has_secret("https://r.example/in/9f8Kq2LmZx7Vb4Nc1Rt6Yw3"));
}

#[test]
fn keep_path_shows_the_path_and_still_masks_userinfo_and_query_values() {
    let tenant = "https://r.example/t/123e4567-e89b-12d3-a456-426614174000/in";
    assert_eq!(with(tenant, Masking::KeepPath), tenant);
    assert_eq!(with(tenant, Masking::Full), "https://r.example/t/***/in");
    let slack = "https://hooks.slack.com/services/T0ABC/B0DEF/XyZ123abcDEF456ghiJKL789";
    assert_eq!(with(slack, Masking::KeepPath), slack);
    assert_eq!(
        with(
            "https://u:p@r.example/t/123e4567-e89b-12d3-a456-426614174000?sig=abc#f",
            Masking::KeepPath
        ),
        "https://***@r.example/t/123e4567-e89b-12d3-a456-426614174000?sig=***#f"
    );
    assert_eq!(
        with("https://h/\u{202e}x", Masking::KeepPath),
        "https://h/%E2%80%AEx"
    );
}

#[test]
fn a_key_is_masked_wherever_it_is_even_where_the_path_is_kept() {
    let key = "K3ySecretValue0123456789";
    let keys = Keys::new([key]);
    let lower = key.to_ascii_lowercase();
    for (url, shown) in [
        (
            format!("https://{key}.hooks.example/in"),
            "https://***.hooks.example/in",
        ),
        (
            format!("https://erp.example/t/{key}/in"),
            "https://erp.example/t/***/in",
        ),
        (format!("https://h/in?{key}"), "https://h/in?***"),
        (format!("https://h/in#{key}"), "https://h/in#***"),
        (format!("https://h/{lower}"), "https://h/***"),
    ] {
        assert_eq!(
            Masked::url(&url, Masking::KeepPath, &keys).as_str(),
            shown,
            "{url}"
        );
    }
    let padded = Keys::new(["c2VjcmV0c2VjcmV0c2VjcmV0NQ=="]);
    assert_eq!(
        Masked::url(
            "https://h/in?c2VjcmV0c2VjcmV0c2VjcmV0NQ==",
            Masking::KeepPath,
            &padded
        )
        .as_str(),
        "https://h/in?***"
    );
}

#[test]
fn a_key_is_replaced_before_the_url_is_read() {
    // The parser drops the slashes after `https:`: masked first, no piece
    // of the key is left (found by `render::props`).
    let keys = Keys::new(["///0aA00A0A+zz"]);
    assert_eq!(
        Masked::url("https://///0aA00A0A+zz.hooks.example/in", Masking::Full, &keys).as_str(),
        "https://***.hooks.example/in"
    );
    // Masking this key would move the host from `a.example` to `b.example`.
    let keys = Keys::new(["example/x0123"]);
    assert_eq!(
        Masked::url("https://a.example/x0123@b.example/", Masking::Full, &keys).as_str(),
        KEY_URL
    );
    let keys = Keys::new(["k3ySecretValue0123456789"]);
    assert_eq!(
        Masked::url(
            "https://a.k3ysecretvalue0123456789.b.example:443/",
            Masking::Full,
            &keys
        )
        .as_str(),
        "https://a.***.b.example/"
    );
}

#[test]
fn glob_characters_in_a_host_around_a_key_are_literal() {
    // `reads_as` compares the pieces around a mask literally: `{`, `,`, `*` must
    // match only themselves, or a host around a key would read as another.
    let keys = Keys::new(["k3ySecretValue0123456789"]);
    for (url, shown) in [
        (
            "https://a{b,c}k3ysecretvalue0123456789.example/x",
            "https://a{b,c}***.example/x",
        ),
        (
            "https://a,b{k3ysecretvalue0123456789.example/x",
            "https://a,b{***.example/x",
        ),
        (
            "https://a*b.k3ysecretvalue0123456789}.example/x",
            "https://a*b.***}.example/x",
        ),
    ] {
        assert_eq!(Masked::url(url, Masking::Full, &keys).as_str(), shown, "{url}");
    }
}

#[test]
fn a_short_key_is_masked_only_as_a_whole_token() {
    let keys = Keys::new(["other"]);
    assert_eq!(
        Masked::text("another other others other-x", &keys).as_str(),
        "another *** others ***-x"
    );
    assert_eq!(
        Masked::url("https://another.example/other?x=1", Masking::KeepPath, &keys).as_str(),
        "https://another.example/***?x=***"
    );
    let key = "sk_live_0123456789";
    assert_eq!(
        Keys::new([key]).replace(&format!("x{key}y")),
        "x***y",
        "12 or more: anywhere"
    );
}

#[test]
fn overlapping_keys_are_masked_as_one_run() {
    let keys = Keys::new(["abcdefghijkl0000", "0000mnopqrstuvwx"]);
    assert_eq!(keys.replace("<abcdefghijkl0000mnopqrstuvwx>"), "<***>");
    assert_eq!(
        Keys::new(["k", "sk_live_outer_k_key"]).replace("sk_live_outer_k_key k"),
        "*** ***"
    );
}

#[test]
fn masking_reads_and_writes_as_mask_path_secrets() {
    assert_eq!(Masking::default(), Masking::Full);
    assert_eq!(Masking::from(false), Masking::KeepPath);
    assert!(!bool::from(Masking::KeepPath) && bool::from(Masking::Full));
    let json = serde_json::to_string(&Masking::KeepPath).ok();
    assert_eq!(json.as_deref(), Some("false"));
    let back: Option<Masking> = serde_json::from_str("true").ok();
    assert_eq!(back, Some(Masking::Full));
}

#[test]
fn at_sign_in_path_is_not_userinfo() {
    assert_eq!(masked("https://h/users/@me"), "https://h/users/@me");
}

proptest::proptest! {
    /// Whatever glob characters surround a key in a host, the host around
    /// the mask is compared literally: the URL shows with the key masked,
    /// never read as another host, never refused as one.
    #[test]
    fn a_key_in_a_host_with_glob_characters_around_it_masks_in_place(
        key in "[a-z0-9]{12,24}",
        pre in "[a-z0-9{},!~-]{0,6}",
        post in "[a-z0-9{},!~-]{0,6}",
    ) {
        let keys = Keys::new([key.as_str()]);
        let url = format!("https://{pre}{key}{post}.example/in");
        let shown = Masked::url(&url, Masking::Full, &keys).into_string();
        proptest::prop_assert_eq!(shown, format!("https://{pre}***{post}.example/in"));
    }
}
