//! The demo's data files are copies of shared/fixtures (so the demo runs without shared/); this
//! keeps them from drifting apart. Under CI, shared/ must be there.

#[test]
fn demo_files_equal_the_shared_fixtures() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = here.join("../../../shared/fixtures");
    if !shared.exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but ../shared/fixtures is not beside the project");
        }
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "NOTE: demo-data comparison SKIPPED (no ../shared beside the project)"
        );
        return;
    }
    for (copy, original) in [
        ("demo/nieuwkomers-demo.xml", "edexml/nieuwkomers-demo.xml"),
        ("demo/boomnummers-demo.csv", "boomnummers-demo.csv"),
        ("demo/toetsdoelen.csv", "normen/toetsdoelen.csv"),
        ("demo/dle-normen.csv", "normen/dle-normen.csv"),
        (
            "demo/conversie-voorbeeld.csv",
            "normen/conversie-voorbeeld.csv",
        ),
    ] {
        let a = std::fs::read(here.join(copy)).unwrap();
        let b = std::fs::read(shared.join(original)).unwrap();
        assert!(
            a == b,
            "{copy} differs from shared/fixtures/{original}: copy it again"
        );
    }
}
