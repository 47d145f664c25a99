//! Fleet files (README.md "Fleet files"): one file, several merchants,
//! through the real binary against the sandbox; and the schema accepts
//! `examples/fleet.yaml`.

use crate::support::*;

const FLEET: &str = "version: 1
merchants:
  - merchant: store-a
    apiKeyEnv: KEY_STORE_A
    vars: { STORE: a, CRM_HOST: crm-a.example.com }
  - merchant: store-b
    apiKeyEnv: KEY_STORE_B
    vars: { STORE: b, CRM_HOST: crm-b.example.com }
subscriptions:
  - name: crm-sync
    topic: customer.cancelled
    callbackUrl: https://${CRM_HOST}/inveterate/${STORE}/cancel
";

const KEYS: &[(&str, &str)] = &[("KEY_STORE_A", KEY), ("KEY_STORE_B", KEY_B)];

#[test]
fn a_fleet_applies_to_each_merchant_with_its_vars_and_the_next_plan_is_empty() {
    let world = World::new();
    world.write("fleet.yaml", FLEET);
    world.seed(&[("customer.ordered", "stale", "https://stale.example/")]);
    let run = world.run_env(&["apply", "-f", "fleet.yaml", "--auto-approve"], KEYS);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("store-a") && run.stdout.contains("store-b"),
        "{run}"
    );
    let one = |url: &str| {
        vec![(
            "customer.cancelled".to_owned(),
            "crm-sync".to_owned(),
            url.to_owned(),
        )]
    };
    assert_eq!(world.live(), one("https://crm-a.example.com/inveterate/a/cancel"));
    assert_eq!(
        live_of(&world.sandbox, KEY_B),
        one("https://crm-b.example.com/inveterate/b/cancel")
    );
    let plan = world.run_env(&["plan", "-f", "fleet.yaml", "--detailed-exitcode"], KEYS);
    assert_eq!(plan.code, 0, "{plan}");
    let drift = world.run_env(&["drift", "-f", "fleet.yaml"], KEYS);
    assert_eq!(drift.code, 0, "{drift}");
}

#[test]
fn a_variable_unset_for_one_merchant_names_it_and_sends_nothing() {
    let world = World::new();
    world.write("fleet.yaml", &FLEET.replace(", CRM_HOST: crm-b.example.com", ""));
    let run = world.run_env(&["plan", "-f", "fleet.yaml"], KEYS);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains(
            "fleet.yaml:12: merchant `store-b`: `${CRM_HOST}` is not set (not in its `vars`, not in the environment)"
        ),
        "{run}"
    );
    assert!(!run.stderr.contains("merchant `store-a`"), "{run}");
    assert_eq!(world.sandbox.counters().stats().total, 0, "no request");
}

#[test]
fn the_schema_accepts_the_fleet_example_and_refuses_merchant_beside_merchants() {
    let run = World::new().run(&["schema"]);
    assert_eq!(run.code, 0, "{run}");
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fleet.yaml");
    let text = std::fs::read_to_string(example).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str::<serde_json::Value>(&text).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut both = doc.clone();
    both["merchant"] = "top".into();
    assert!(!validator.is_valid(&both), "`merchant` beside `merchants`");
    let mut bad_vars = doc;
    bad_vars["merchants"][0]["vars"]["PORT"] = 8080.into();
    assert!(!validator.is_valid(&bad_vars), "a number in `vars`");
}
