//! `api::envelope::parse_list` (and friends) on arbitrary bytes: never a
//! panic, and a successful parse never drops an entry of the list.
#![no_main]

use invhooks::api::envelope::{message, parse_list, parse_one};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let _ = message(data);
    let _ = parse_one(data);
    let Ok(list) = parse_list(data) else { return };
    let body: Value = serde_json::from_slice(data).expect("a parsed list was JSON");
    let expected = match &body["data"] {
        Value::Array(items) => items.len(),
        Value::Object(map) => {
            let arrays: Vec<&Vec<Value>> = map.values().filter_map(Value::as_array).collect();
            assert_eq!(arrays.len(), 1, "accepted an object without exactly one array");
            arrays[0].len()
        }
        other => panic!("accepted `data` = {other}"),
    };
    assert_eq!(list.len(), expected);
});
