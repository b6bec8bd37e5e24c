//! Snapshot tests: the roster (and the warnings) read from every official EDEXML example and from
//! the newcomer fixtures, kept in `tests/snapshots/`. A change in what the parser reads shows up
//! as a reviewable diff (`cargo insta review`, or `INSTA_UPDATE=always` and `git diff`).
//! Reads `../shared`; without it the test says it was skipped (CI requires it).

use startblok_edexml::{Roster, parse};

mod common;

use common::shared;

#[derive(serde::Serialize)]
struct Snapshot<'a> {
    roster: &'a Roster,
    warnings: Vec<String>,
    /// The `toevoegingen` blocks kept aside (not part of the stored roster).
    toevoegingen: Vec<String>,
}

const FILES: [(&str, &str); 7] = [
    (
        "edexml_1_03",
        "standards/edexml-1.03/EDEXML.Voorbeeld.1.03.xml",
    ),
    (
        "edexml_2_0",
        "standards/edexml-2.0/EDEXML.Voorbeeld.2.0.xml",
    ),
    (
        "edexml_2_0_vla",
        "standards/edexml-2.0/EDEXML.Voorbeeld.2.0-Vla.xml",
    ),
    (
        "edexml_2_1",
        "standards/edexml-2.1/EDEXML.Voorbeeld.2.1.xml",
    ),
    (
        "edexml_2_1_vla",
        "standards/edexml-2.1/EDEXML.Voorbeeld.2.1-Vla.xml",
    ),
    ("nieuwkomers_demo", "fixtures/edexml/nieuwkomers-demo.xml"),
    (
        "nieuwkomers_demo_2024",
        "fixtures/edexml/nieuwkomers-demo-2024.xml",
    ),
];

#[test]
fn every_official_example_and_fixture_reads_as_its_snapshot() {
    for (name, rel) in FILES {
        let Some(bytes) = shared(rel) else {
            continue;
        };
        let roster = parse(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let snap = Snapshot {
            warnings: roster.warnings.iter().map(|w| w.to_string()).collect(),
            roster: &roster,
            toevoegingen: roster
                .toevoegingen
                .iter()
                .map(|t| format!("regel {}: {} {:?} {:?}", t.line, t.bij, t.soort, t.code))
                .collect(),
        };
        insta::assert_json_snapshot!(name, snap);
    }
}
