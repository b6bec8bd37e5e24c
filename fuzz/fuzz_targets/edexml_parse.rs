//! Fuzz target: `startblok_edexml::parse` on arbitrary bytes must never panic, and a roster it
//! returns must keep the promises `check_integrity` makes.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;

/// Every key is non-empty, trimmed of XML white space, and unique within its kind.
fn check_keys<'a>(kind: &str, keys: impl Iterator<Item = &'a str>) {
    let mut seen = HashSet::new();
    for key in keys {
        assert!(!key.is_empty(), "{kind}: empty key");
        assert_eq!(
            key,
            key.trim_matches([' ', '\t', '\r', '\n']),
            "{kind}: key not trimmed"
        );
        assert!(seen.insert(key), "{kind}: duplicate key {key:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(roster) = startblok_edexml::parse(data) {
        check_keys("leerling", roster.leerlingen.iter().map(|l| l.key.as_str()));
        check_keys("leerkracht", roster.leerkrachten.iter().map(|t| t.key.as_str()));
        check_keys("groep", roster.groepen.iter().map(|g| g.key.as_str()));
        check_keys(
            "samengestelde groep",
            roster.samengestelde_groepen.iter().map(|g| g.key.as_str()),
        );
    }
});
