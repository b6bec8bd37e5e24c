//! Property: a roster written out as EDEXML and parsed back is the same roster (names in any
//! script, with characters that need escaping).

use proptest::prelude::*;
use startblok_edexml::parse;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn expected(s: &str) -> Option<String> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

proptest! {
    #[test]
    fn written_rosters_parse_back_the_same(
        pupils in proptest::collection::btree_map("[A-Za-z0-9]{1,8}", ("[^\\p{C}]{0,30}", "[^\\p{C}]{0,20}"), 1..20)
    ) {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><EDEX><groepen><groep key=\"G\"><naam>G</naam></groep></groepen><leerlingen>");
        for (key, (achternaam, roepnaam)) in &pupils {
            xml.push_str(&format!(
                "<leerling key=\"{}\"><achternaam>{}</achternaam><roepnaam>{}</roepnaam><groep key=\"G\"/></leerling>",
                escape(key), escape(achternaam), escape(roepnaam)
            ));
        }
        xml.push_str("</leerlingen></EDEX>");
        let r = parse(xml.as_bytes()).unwrap();
        prop_assert_eq!(r.leerlingen.len(), pupils.len());
        for (l, (key, (achternaam, roepnaam))) in r.leerlingen.iter().zip(pupils.iter()) {
            prop_assert_eq!(&l.key, key);
            prop_assert_eq!(&l.achternaam, &expected(achternaam));
            prop_assert_eq!(&l.roepnaam, &expected(roepnaam));
            prop_assert_eq!(l.groep.as_deref(), Some("G"));
        }
        prop_assert!(r.warnings.is_empty());
    }
}
