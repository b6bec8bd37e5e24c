//! Browser tests: a real headless Chromium (Debian's `chromium` + `chromium-driver`) walks the
//! app as a person does, with clicks and typing. Every page, in its main states, is checked at
//! 1280 px and at 320 px wide: axe-core (WCAG 2.0/2.1/2.2 A and AA plus best practices) must find
//! nothing, at 320 px the page must reflow without horizontal scrolling, and a full-page
//! screenshot of each is saved under `target/screenshots/`.
//!
//! Without chromium or chromedriver the tests say so and pass; with `CI=true` or
//! `STARTBLOK_BROWSER_TESTS=1` they fail instead.
//!
//! Run: `STARTBLOK_BROWSER_TESTS=1 cargo test -p startblok-web --test browser -- --nocapture`

mod common;

use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{PASSWORD, SCHOOL_A, SCHOOL_B, TestApp, Who, spawn_sqlite};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use startblok_app::Actor;
use startblok_domain::Role;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WIDTHS: [u32; 2] = [1280, 320];
const HEIGHT: u32 = 900;
const WAIT: Duration = Duration::from_secs(10);

/// One browser at a time: each session costs a Chromium, and the machine may be small.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------------------------
// The walks
// ---------------------------------------------------------------------------------------------

/// The login page, its errors, a beheerder's day (start, Instellingen, Gebruikers, a failed
/// password change, a 404) and logging out through the user menu.
#[tokio::test]
async fn beheerder_logs_in_manages_the_school_and_logs_out() {
    walk(|p| async move {
        let app = spawn_sqlite().await;

        // Someone opens Startblok: not logged in, so the login page.
        p.goto(&app.url("/")).await;
        p.wait_js("return location.pathname === '/inloggen'").await;
        assert_eq!(p.text("h1").await, "Inloggen");
        assert!(!p.title().await.starts_with("Fout"), "no error yet");
        p.check("login").await;

        // They press "Inloggen" without filling in anything.
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_title_prefix("Fout: ").await;
        assert_eq!(
            p.active_id().await,
            "foutmeldingen",
            "the error summary has focus"
        );
        let summary = p.text("#foutmeldingen").await;
        assert!(
            summary.contains("Er is iets niet goed ingevuld"),
            "{summary}"
        );
        assert!(summary.contains("Vul je e-mailadres in."), "{summary}");
        assert!(summary.contains("Vul je wachtwoord in."), "{summary}");
        assert!(
            p.text("#email-fout")
                .await
                .contains("Vul je e-mailadres in.")
        );
        assert!(
            p.text("#wachtwoord-fout")
                .await
                .contains("Vul je wachtwoord in.")
        );
        assert_eq!(
            p.attr("#wachtwoord", "aria-invalid").await.as_deref(),
            Some("true")
        );
        p.check("login-fout").await;

        // A link in the summary takes them to the field.
        p.click("#foutmeldingen a[href='#wachtwoord']").await;
        p.wait_js("return document.activeElement && document.activeElement.id === 'wachtwoord'")
            .await;

        // An address that does not exist, as a stranger.
        p.goto(&app.url("/bestaat-niet")).await;
        assert_eq!(p.text("h1").await, "Pagina niet gevonden");
        p.check("404-anoniem").await;

        // Beheerder of School Alfa logs in.
        p.login(&app, Who::BeheerderA).await;
        p.wait_path(&format!("/s/{SCHOOL_A}")).await;
        assert_eq!(p.text(".sb-school__naam").await, "School Alfa");
        let nav = p.text("nav.sb-nav").await;
        assert!(
            nav.contains("Start") && nav.contains("Instellingen"),
            "{nav}"
        );
        let cards = p.text("main .sb-cards").await;
        assert!(
            cards.contains("Gebruikers") && cards.contains("Instellingen"),
            "{cards}"
        );
        // A beheerder sees how many pupils the school has (the test school has one), not
        // "Je groepen".
        assert!(!cards.contains("Je groepen"), "{cards}");
        assert!(
            cards.contains("Alle leerlingen") && cards.contains("1 leerling in 1 groep"),
            "{cards}"
        );
        p.check("start-beheerder").await;

        // Instellingen, from the main menu.
        p.click("nav.sb-nav a[href$='/instellingen']").await;
        p.wait_path(&format!("/s/{SCHOOL_A}/instellingen")).await;
        assert_eq!(p.text("h1").await, "Instellingen");
        assert_eq!(
            p.attr("nav.sb-nav a[aria-current=page]", "href")
                .await
                .as_deref(),
            Some(format!("/s/{SCHOOL_A}/instellingen").as_str())
        );
        p.check("instellingen").await;

        // Gebruikers, from the card on Instellingen.
        p.click_link("Gebruikers").await;
        p.wait_path(&format!("/s/{SCHOOL_A}/instellingen/gebruikers"))
            .await;
        assert_eq!(p.text("h1").await, "Gebruikers");
        let table = p.text("main table").await;
        for who in [Who::BeheerderA, Who::LeerkrachtA, Who::IbA] {
            assert!(table.contains(who.email().unwrap()), "{who:?} in {table}");
        }
        assert!(
            !table.contains(Who::BeheerderB.email().unwrap()),
            "no one from School Bravo: {table}"
        );
        p.check("gebruikers").await;

        // Wachtwoord wijzigen, from the user menu, with a wrong current password.
        p.open_user_menu().await;
        p.click_link("Wachtwoord wijzigen").await;
        p.wait_path("/account/wachtwoord").await;
        assert_eq!(p.text("h1").await, "Wachtwoord wijzigen");
        p.check("wachtwoord").await;
        p.type_into("#huidig", "dit-is-het-niet").await;
        p.type_into("#nieuw", "een nieuw wachtwoord").await;
        p.type_into("#herhaling", "een nieuw wachtwoord").await;
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_title_prefix("Fout: ").await;
        assert_eq!(p.active_id().await, "foutmeldingen");
        assert!(
            !p.text("#huidig-fout").await.is_empty(),
            "message at the field"
        );
        assert_eq!(
            p.attr("#huidig", "aria-invalid").await.as_deref(),
            Some("true")
        );
        for field in ["huidig", "nieuw", "herhaling"] {
            assert_eq!(
                p.attr(&format!("#{field}"), "type").await.as_deref(),
                Some("password"),
                "{field} is still an input field"
            );
        }
        p.check("wachtwoord-fout").await;

        // A page that does not exist, logged in.
        p.goto(&app.url("/s/11AA-00/bestaat-niet")).await;
        assert_eq!(p.text("h1").await, "Pagina niet gevonden");
        p.check("404").await;

        // The user menu, open, then Uitloggen.
        p.goto(&app.url("/")).await;
        p.wait_path(&format!("/s/{SCHOOL_A}")).await;
        p.open_user_menu().await;
        assert!(
            p.text(".sb-usermenu__panel")
                .await
                .contains(Who::BeheerderA.email().unwrap())
        );
        p.check("gebruikersmenu").await;
        p.submit(".sb-usermenu__panel form[action='/uitloggen'] button")
            .await;
        p.wait_path("/inloggen?uitgelogd=1").await;
        assert_eq!(p.text(".sb-notice").await, "Je bent uitgelogd.");
        p.check("uitgelogd").await;

        // Logged out means logged out: the school page sends them back to the login.
        p.goto(&app.url(&format!("/s/{SCHOOL_A}"))).await;
        p.wait_js("return location.pathname === '/inloggen'").await;
    })
    .await;
}

/// Leerkracht, IB'er and operator each log in and see what their role should see.
#[tokio::test]
async fn leerkracht_ib_and_operator_see_their_own_start() {
    walk(|p| async move {
        let app = spawn_sqlite().await;

        // Leerkracht: own groups, no Instellingen.
        p.login(&app, Who::LeerkrachtA).await;
        p.wait_path(&format!("/s/{SCHOOL_A}")).await;
        assert_eq!(p.text(".sb-school__rol").await, "Leerkracht");
        let main = p.text("main").await;
        assert!(main.contains("Je groepen"), "{main}");
        assert!(!main.contains("Alle leerlingen"), "{main}");
        p.assert_no_settings().await;
        p.check("start-leerkracht").await;
        p.logout().await;

        // IB'er: all pupils, no Instellingen.
        p.login(&app, Who::IbA).await;
        p.wait_path(&format!("/s/{SCHOOL_A}")).await;
        assert_eq!(p.text(".sb-school__rol").await, "IB'er");
        let main = p.text("main").await;
        assert!(main.contains("Alle leerlingen"), "{main}");
        assert!(!main.contains("Je groepen"), "{main}");
        p.assert_no_settings().await;
        p.check("start-ib").await;
        p.logout().await;

        // Operator: no school of their own, so straight to the list of schools.
        p.login(&app, Who::Operator).await;
        p.wait_path("/beheer").await;
        assert_eq!(p.text("h1").await, "Scholen");
        let table = p.text("main table").await;
        assert!(
            table.contains("School Alfa") && table.contains("School Bravo"),
            "{table}"
        );
        assert!(
            table.contains(SCHOOL_A) && table.contains(SCHOOL_B),
            "{table}"
        );
        p.check("beheer-scholen").await;
        p.open_user_menu().await;
        let menu = p.text(".sb-usermenu__panel").await;
        assert!(menu.contains("Scholen beheren"), "{menu}");
        assert!(!menu.contains("Wissel van school"), "{menu}");
        p.check("beheer-gebruikersmenu").await;
        p.submit(".sb-usermenu__panel form[action='/uitloggen'] button")
            .await;
        p.wait_path("/inloggen?uitgelogd=1").await;
    })
    .await;
}

/// A new colleague opens the invitation link, chooses a password and is in; a beheerder who
/// works for two schools switches to the other one.
#[tokio::test]
async fn invitation_link_and_switching_schools() {
    walk(|p| async move {
        let app = spawn_sqlite().await;
        let account = app
            .app
            .create_school_user(
                &SCHOOL_A.parse().unwrap(),
                "noor@test.nl",
                Some("Noor Nieuw"),
                Role::Leerkracht,
                None,
                &Actor::cli(),
            )
            .await
            .unwrap();
        let link = account
            .link
            .expect("an account without password gets a link");

        // The link from the e-mail.
        p.goto(&link).await;
        assert_eq!(p.text("h1").await, "Welkom bij Startblok");
        assert!(p.text("main").await.contains("noor@test.nl"));
        p.check("welkom").await;

        // Two different passwords: an error at the repetition.
        p.type_into("#wachtwoord", "zonnige ochtend").await;
        p.type_into("#herhaling", "zonnige middag").await;
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_title_prefix("Fout: ").await;
        assert_eq!(p.active_id().await, "foutmeldingen");
        assert!(!p.text("#herhaling-fout").await.is_empty());
        p.check("welkom-fout").await;

        // Again, the same twice: logged in, on the school's start page.
        p.type_into("#wachtwoord", "zonnige ochtend").await;
        p.type_into("#herhaling", "zonnige ochtend").await;
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_path(&format!("/s/{SCHOOL_A}")).await;
        assert!(p.text("h1").await.contains("Noor"), "greets by name");
        assert_eq!(p.text(".sb-school__naam").await, "School Alfa");
        p.check("welkom-ingelogd").await;
        p.logout().await;

        // The link works once.
        p.goto(&link).await;
        assert_eq!(p.text("h1").await, "Deze link werkt niet meer");
        p.check("link-verlopen").await;

        // Beheerder of School Alfa is leerkracht at School Bravo too.
        let added = app
            .app
            .create_school_user(
                &SCHOOL_B.parse().unwrap(),
                Who::BeheerderA.email().unwrap(),
                None,
                Role::Leerkracht,
                None,
                &Actor::cli(),
            )
            .await
            .unwrap();
        assert!(added.existed);
        p.login(&app, Who::BeheerderA).await;
        p.wait_js("return location.pathname.startsWith('/s/')")
            .await;
        p.open_user_menu().await;
        p.click_link("Wissel van school").await;
        p.wait_path("/account/scholen").await;
        assert_eq!(p.text("h1").await, "Wissel van school");
        let cards = p.text("main .sb-cards").await;
        assert!(
            cards.contains("School Alfa") && cards.contains("School Bravo"),
            "{cards}"
        );
        assert!(cards.contains("Hier werk je nu"), "{cards}");
        p.check("wissel-van-school").await;
        p.click_button("Naar School Bravo").await;
        p.assert_not_refused().await;
        p.wait_path(&format!("/s/{SCHOOL_B}")).await;
        assert_eq!(p.text(".sb-school__naam").await, "School Bravo");
        assert_eq!(p.text(".sb-school__rol").await, "Leerkracht");
        p.assert_no_settings().await;
        p.check("start-school-bravo").await;

        // The choice sticks: "/" now leads to School Bravo.
        p.goto(&app.url("/")).await;
        p.wait_path(&format!("/s/{SCHOOL_B}")).await;
    })
    .await;
}

/// Steps 1 and 2 of the manual, the whole path: the public order form (errors at the field,
/// input kept), the operator processing the request, the mails arriving at a real SMTP server,
/// the new Beheerder choosing a password and fetching the key once through the link, the link
/// refusing a second use, a rotation (both keys work) and a revocation (none works). No key is
/// in the database, in a mail or in the log.
#[tokio::test]
async fn a_school_orders_the_koppeling_and_its_beheerder_fetches_rotates_and_revokes_the_key() {
    let logs = common::captured_logs();
    walk(|p| async move {
        let smtp = startblok_testsmtp::TestSmtp::start().await;
        let mailer =
            startblok_app::mail::Mailer::smtp(&smtp.url(), "Startblok <noreply@startblok.test>")
                .unwrap();
        let app = common::spawn_with(startblok_db::testing::TestDb::sqlite().await, mailer).await;

        // From the login page to the order form.
        p.goto(&app.url("/inloggen")).await;
        p.click_link("Vraag de koppeling met Boom testcentrum aan").await;
        p.wait_path("/koppeling-aanvragen").await;
        p.check("aanvraag-formulier").await;

        // A wrong BRIN and no choices: the errors at their fields, what was typed kept.
        p.type_into("#schoolnaam", "De Regenboog").await;
        p.type_into("#brin", "1234").await;
        p.type_into("#contactnaam", "Ayşe Yılmaz").await;
        p.type_into("#email", "ayse@regenboog.example").await;
        p.type_into("#telefoon", "030 123 45 67").await;
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_title_prefix("Fout: ").await;
        assert!(p.text("#brin-fout").await.contains("twee cijfers en twee letters"));
        assert!(!p.text("#soort-fout").await.is_empty());
        assert!(!p.text("#las-fout").await.is_empty());
        assert_eq!(
            p.attr("#schoolnaam", "value").await.as_deref(),
            Some("De Regenboog")
        );
        assert_eq!(p.attr("#contactnaam", "value").await.as_deref(), Some("Ayşe Yılmaz"));
        p.check("aanvraag-fouten").await;

        p.click("#soort-nieuw").await;
        p.type_into("#brin", "12ab").await;
        p.find("#las")
            .await
            .select_by_value("parnassys")
            .await
            .expect("choose LAS");
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_path("/koppeling-aanvragen/ontvangen").await;
        assert_eq!(p.text("h1").await, "Aanvraag ontvangen");
        p.check("aanvraag-ontvangen").await;
        let confirm = smtp.wait_for("ayse@regenboog.example", "Uw aanvraag").await;
        assert!(confirm.text().contains("12AB-00"));

        // The operator processes it.
        p.login(&app, Who::Operator).await;
        p.click("nav.sb-nav a[href='/beheer/aanvragen']").await;
        p.wait_path("/beheer/aanvragen").await;
        p.check("operator-aanvragen").await;
        let href = p
            .js("return [...document.querySelectorAll('tbody tr')].find(r => r.textContent.includes('De Regenboog')).querySelector('a').getAttribute('href')")
            .await;
        p.click(&format!("a[href='{}']", href.as_str().unwrap())).await;
        p.wait_js("return document.querySelector('h1').textContent.includes('De Regenboog')")
            .await;
        assert!(p.text("main").await.contains("maakt de school aan"));
        p.check("operator-aanvraag").await;
        p.click_button("Aanvraag verwerken").await;
        p.wait_js("return location.search.includes('verwerkt')").await;
        assert!(p.text("main").await.contains("Verwerkt."), "{}", p.text("main").await);
        p.check("operator-aanvraag-verwerkt").await;
        p.click("nav.sb-nav a[href='/beheer/applicaties']").await;
        p.wait_path("/beheer/applicaties").await;
        assert!(p.text("main").await.contains("Boom testcentrum"));
        p.check("operator-applicaties").await;
        p.logout().await;

        // The contact gets two mails: choose a password, then fetch the key.
        let welcome = smtp.wait_for("ayse@regenboog.example", "Welkom").await;
        let keymail = smtp.wait_for("ayse@regenboog.example", "staat klaar").await;
        let link_in = |m: &startblok_testsmtp::Received| {
            m.text()
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("http"))
                .unwrap()
                .to_string()
        };
        p.goto(&link_in(&welcome)).await;
        p.type_into("#wachtwoord", "regenboog in de klas").await;
        p.type_into("#herhaling", "regenboog in de klas").await;
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_path("/s/12AB-00").await;

        let key_link = link_in(&keymail);
        p.goto(&key_link).await;
        assert_eq!(p.text("h1").await, "Autorisatiesleutel ophalen");
        assert!(p.text("main").await.contains("De Regenboog"));
        p.check("sleutel-ophalen").await;
        p.click_button("Sleutel tonen").await;
        p.wait_js("return document.querySelector('h1').textContent === 'Je nieuwe sleutel'")
            .await;
        let first = p.text("#sleutel").await.trim().to_string();
        assert!(first.starts_with("sbk_"), "{first}");
        p.click_button("Kopieer sleutel").await;
        p.wait_js("return document.getElementById('sleutel-status').textContent.length > 0")
            .await;
        assert!(p.text("main").await.contains("Beheer"), "the instructions are there");
        p.check("sleutel-getoond").await;

        // The link works once.
        p.goto(&key_link).await;
        assert_eq!(p.text("h1").await, "Deze link is al gebruikt");
        p.check("sleutel-link-gebruikt").await;

        // Instellingen > Boom testcentrum: the state and the last 4 characters only.
        p.goto(&app.url("/s/12AB-00/instellingen")).await;
        p.click_link("Boom testcentrum").await;
        p.wait_path("/s/12AB-00/instellingen/boom-testcentrum").await;
        let main = p.text("main").await;
        assert!(main.contains("Sleutel uitgegeven"), "{main}");
        assert!(main.contains(&first[first.len() - 4..]));
        assert!(!main.contains(&first), "the key is never shown again");
        p.check("boom-testcentrum").await;

        // A rotation: a new key, and the old one keeps working for the grace period.
        p.click_button("Nieuwe sleutel maken").await;
        p.wait_js("return !!document.getElementById('sleutel')").await;
        let second = p.text("#sleutel").await.trim().to_string();
        assert_ne!(first, second);
        assert!(p.text("main").await.contains("blijft nog geldig tot"));
        p.check("sleutel-geroteerd").await;
        p.click_link("Naar Instellingen > Boom testcentrum").await;
        p.wait_path("/s/12AB-00/instellingen/boom-testcentrum").await;
        assert!(p.text("main").await.contains("Vorige sleutel"));
        p.check("boom-testcentrum-twee-sleutels").await;
        let here = startblok_app::koppelingen::NamedSchool {
            brincode: Some("12AB".into()),
            ..Default::default()
        };
        let works = |key: String| {
            let (app, here) = (app.app.clone(), here.clone());
            async move {
                app.authenticate_uwlr(&key, "BOOM", "Boom testcentrum", &here, startblok_app::now())
                    .await
                    .is_ok()
            }
        };
        assert!(works(first.clone()).await && works(second.clone()).await);

        // Revocation, after a confirmation page: no key works.
        p.click_link("Koppeling intrekken…").await;
        p.wait_path("/s/12AB-00/instellingen/boom-testcentrum/intrekken").await;
        p.check("koppeling-intrekken").await;
        p.click_button("Ja, koppeling intrekken").await;
        p.wait_js("return location.search.includes('ingetrokken')").await;
        assert!(p.text("main").await.contains("Ingetrokken"));
        p.check("koppeling-ingetrokken").await;
        assert!(!works(first.clone()).await && !works(second.clone()).await);

        // No key in the database, in any mail, or in the log.
        for key in [&first, &second] {
            assert_eq!(app.db.find_text(key).await, Vec::<String>::new());
            for m in smtp.messages() {
                assert!(!m.everything().contains(key.as_str()), "a key in a mail");
            }
            let log = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
            assert!(!log.is_empty(), "the log was captured");
            assert!(!log.contains(key.as_str()), "a key in the log");
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// The page under test: actions a person takes, and the checks on every page
// ---------------------------------------------------------------------------------------------

/// The manual's step 3 in the demo school, through all three routes: a file with numbers, the
/// Boom nummers table, and tab BASIS per pupil (which also sets the missing toetsdoelen). Ends
/// with every pupil having a Boom-leerlingnummer and a toetsdoel.
#[tokio::test]
async fn beheerder_gives_every_demo_pupil_a_boom_number_and_a_toetsdoel() {
    walk(|p| async move {
        let app = spawn_sqlite().await;
        app.app.seed_demo().await.unwrap();
        let demo = "/s/99ZZ-00";
        p.goto(&app.url("/inloggen")).await;
        p.type_into("#email", "beheerder@demo.startblok.nl").await;
        p.type_into("#wachtwoord", startblok_app::demo::DEMO_PASSWORD).await;
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_js("return location.pathname !== '/inloggen'").await;
        p.goto(&app.url(demo)).await;

        // Leerlingen: 36 pupils, 4 without a number.
        p.click("nav.sb-nav a[href$='/leerlingen']").await;
        assert!(p.text("main").await.contains("36 leerlingen gevonden"));
        p.check("leerlingen").await;
        p.js("document.getElementById('zonder').value = 'boom'").await;
        p.click_button("Toon").await;
        assert!(p.text("main").await.contains("4 leerlingen gevonden"), "{}", p.text("main").await);
        p.check("leerlingen-zonder-boom").await;

        // The demo's example norms, per toetsdoel (Instellingen > Toetsdoelen & normen).
        p.goto(&app.url(&format!("{demo}/instellingen"))).await;
        p.click_link("Toetsdoelen & normen").await;
        p.wait_path(&format!("{demo}/instellingen/normen")).await;
        let grid = p.text("table").await;
        assert!(grid.contains("Rekenen-Wiskunde") && grid.contains("4 – 9"), "{grid}");
        p.check("normen").await;
        // Edited in place: a reversed norm is refused at its cell, the grid kept as typed.
        p.click("a[href*='wijzigen=1']").await;
        p.wait_js("return !!document.querySelector('input.sb-norm-input')").await;
        let first = p
            .js("return document.querySelector('input.sb-norm-input').id")
            .await
            .as_str()
            .unwrap()
            .to_string();
        let streef = first.replacen("o-", "s-", 1);
        p.js(&format!("document.getElementById('{first}').value = '30'")).await;
        p.js(&format!("document.getElementById('{streef}').value = '20'")).await;
        p.click_button("Normen opslaan").await;
        p.wait_js("return !!document.getElementById('foutmeldingen')").await;
        assert!(p.text(&format!("[id='{first}-fout']")).await.contains("hoger dan de streefwaarde"));
        assert_eq!(p.attr(&format!("[id='{first}']"), "value").await.as_deref(), Some("30"));
        p.check("normen-wijzigen-fout").await;
        p.js(&format!("document.getElementById('{first}').value = '4'")).await;
        p.js(&format!("document.getElementById('{streef}').value = '10'")).await;
        p.click_button("Normen opslaan").await;
        p.wait_js("return location.search.includes('opgeslagen=')").await;
        assert!(p.text("table").await.contains("4 – 10"));
        p.goto(&app.url(&format!("{demo}/instellingen"))).await;
        p.click_link("Toetsen").await;
        p.wait_path(&format!("{demo}/instellingen/toetsen")).await;
        let catalogue = p.text("table").await;
        assert!(catalogue.contains("LVS RW 2019") && catalogue.contains("✓"), "{catalogue}");
        p.check("toetsen").await;

        // School Setup: bands that do not increase are refused at the field, input kept.
        p.goto(&app.url(&format!("{demo}/instellingen"))).await;
        p.click_link("School Setup").await;
        p.wait_path(&format!("{demo}/instellingen/school")).await;
        p.js("document.getElementById('fasegrenzen').value = '6, 12, 10'").await;
        p.submit("form[action$='/instellingen/school'] button[type=submit]").await;
        p.wait_js("return !!document.getElementById('foutmeldingen')").await;
        assert!(p.text("#fasegrenzen-fout").await.contains("van klein naar groot"));
        assert_eq!(p.attr("#fasegrenzen", "value").await.as_deref(), Some("6, 12, 10"));
        p.check("school-setup-fout").await;
        p.js("document.getElementById('fasegrenzen').value = '6, 12, 18, 24'").await;
        p.submit("form[action$='/instellingen/school'] button[type=submit]").await;
        p.wait_js("return location.search.includes('opgeslagen=fases')").await;
        p.type_into("#naam", "Midden 2026-2027").await;
        p.type_into("#van", "11-01-2027").await;
        p.type_into("#tot_en_met", "12-02-2027").await;
        p.submit("form[action$='/periodes'] button[type=submit]").await;
        p.wait_js("return location.search.includes('opgeslagen=periode')").await;
        assert!(p.text("main").await.contains("Midden 2026-2027"));
        p.check("school-setup").await;

        // Route 2 first, to start from nothing: the Boom nummers table, emptied and saved.
        p.goto(&app.url(&format!("{demo}/instellingen/boomnummers"))).await;
        p.check("boomnummers").await;
        p.js("document.querySelectorAll('input.sb-boom-input').forEach(i => i.value = '')").await;
        // Two pupils with the same number: the whole save is refused, every value kept.
        p.js("const i = document.querySelectorAll('input.sb-boom-input'); i[0].value = '555'; i[1].value = '555';").await;
        p.click_button("Alle nummers opslaan").await;
        p.wait_title_prefix("Fout: ").await;
        assert_eq!(p.active_id().await, "foutmeldingen");
        assert!(p.text("#foutmeldingen").await.contains("Nummer 555 staat ook bij"));
        let kept: Value = p.js("return Array.from(document.querySelectorAll('input.sb-boom-input')).filter(i => i.value === '555').length").await;
        assert_eq!(kept, json!(2), "typed values kept");
        p.check("boomnummers-fout").await;
        p.js("const i = document.querySelectorAll('input.sb-boom-input'); i[0].value = ''; i[1].value = '';").await;
        p.click_button("Alle nummers opslaan").await;
        p.wait_js("return location.search.startsWith('?opgeslagen=')").await;
        assert!(p.text("main").await.contains("36 van de 36 leerlingen hebben nog geen nummer"));

        // Route 3: the school's file with numbers (32 of 36 pupils).
        p.click_link("Lees ze in uit een bestand").await;
        p.check("boom-bestand").await;
        let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/demo/boomnummers-demo.csv");
        let csv = csv.canonicalize().expect("the demo's numbers file (a copy of shared/fixtures/boomnummers-demo.csv)");
        p.find("#bestand").await.send_keys(&csv.display().to_string()).await.expect("choose file");
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_js("return document.querySelector('h1').textContent.includes('Kolommen kiezen')").await;
        assert_eq!(p.attr("#sleutel-las", "checked").await.as_deref(), Some("true"), "LAS-sleutel guessed from the column name");
        p.check("boom-kolommen").await;
        p.click_button("Bekijk wat er gebeurt").await;
        p.wait_js("return document.querySelector('h1').textContent.includes('Controleren')").await;
        assert!(p.text(".sb-counts").await.contains("32 nieuw nummer"), "{}", p.text(".sb-counts").await);
        p.check("boom-controle").await;
        p.click_button("Aangevinkte regels toepassen").await;
        p.wait_js("return location.search === '?opgeslagen=32'").await;
        assert!(p.text("main").await.contains("4 van de 36 leerlingen hebben nog geen nummer"));

        // Route 1: tab BASIS for each pupil still without a number, with a toetsdoel too.
        for n in 0..4 {
            p.goto(&app.url(&format!("{demo}/leerlingen?zonder=boom"))).await;
            p.click("main table tbody tr:first-child a").await;
            p.wait_js("return location.pathname.endsWith('/basis')").await;
            if n == 0 {
                p.check("basis").await;
                // A number another pupil has: refused at the field, with that pupil's name.
                p.type_into("#boom_leerlingnummer", "127700").await;
                p.type_into("#thuistalen", "Tigrinya").await;
                p.click_button("Opslaan").await;
                p.wait_title_prefix("Fout: ").await;
                assert!(p.text("#boom_leerlingnummer-fout").await.contains("hoort al bij"));
                assert_eq!(p.attr("#thuistalen", "value").await.as_deref(), Some("Tigrinya"), "input kept");
                p.check("basis-fout").await;
            }
            p.type_into("#boom_leerlingnummer", &format!("0099{n}")).await;
            p.js("const s = document.getElementById('toetsdoel'); if (!s.value) { s.selectedIndex = 1; }").await;
            p.click_button("Opslaan").await;
            p.wait_js("return location.search === '?opgeslagen=1'").await;
            assert!(p.text(".sb-notice").await.contains("opgeslagen"));
            if n == 0 {
                p.check("basis-opgeslagen").await;
            }
        }
        // The pupils still without a toetsdoel get one on BASIS too.
        loop {
            p.goto(&app.url(&format!("{demo}/leerlingen?zonder=toetsdoel"))).await;
            if p.text("main").await.contains("0 leerlingen gevonden") {
                break;
            }
            p.click("main table tbody tr:first-child a").await;
            p.wait_js("return location.pathname.endsWith('/basis')").await;
            p.js("document.getElementById('toetsdoel').selectedIndex = 2").await;
            p.click_button("Opslaan").await;
            p.wait_js("return location.search === '?opgeslagen=1'").await;
        }
        p.goto(&app.url(&format!("{demo}/leerlingen?zonder=boom"))).await;
        assert!(p.text("main").await.contains("0 leerlingen gevonden"));
        p.goto(&app.url(&format!("{demo}/instellingen/boomnummers"))).await;
        assert!(p.text("main").await.contains("Alle 36 leerlingen hebben een nummer"));

        // The other settings pages of this issue, as they look.
        p.goto(&app.url(&format!("{demo}/instellingen/toetsdoelen"))).await;
        p.check("toetsdoelen").await;
        p.click_button("Toetsdoel toevoegen").await;
        p.wait_title_prefix("Fout: ").await;
        p.check("toetsdoelen-fout").await;
        p.goto(&app.url(&format!("{demo}/groepen"))).await;
        assert!(p.text("main").await.contains("Nieuwkomers A"));
        p.check("groepen").await;
        p.click_link("Nieuwkomers A").await;
        p.check("groep-wijzigen").await;
        p.goto(&app.url(&format!("{demo}/leerlingen/nieuw"))).await;
        p.click_button("Leerling toevoegen").await;
        p.wait_title_prefix("Fout: ").await;
        p.check("leerling-toevoegen-fout").await;
    })
    .await;
}

/// Importeren: a Beheerder reads the school's EDEXML export, checks the preview, applies it and
/// sees the pupils; a second, changed export shows exactly its changes. Also a wrong file.
#[tokio::test]
async fn beheerder_imports_an_edexml_export_and_then_a_changed_one() {
    walk(|p| async move {
        let app = spawn_sqlite().await;
        let dir = std::env::temp_dir().join(format!("startblok-import-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let demo = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/demo/nieuwkomers-demo.xml"),
        )
        .expect("the demo's copy of shared/fixtures/edexml/nieuwkomers-demo.xml")
        .replace("<brincode>99ZZ</brincode>", "<brincode>11AA</brincode>");
        let first = dir.join("export-september.xml");
        std::fs::write(&first, &demo).unwrap();
        // The next export: one surname corrected, one pupil gone.
        let changed = demo.replacen(
            "<achternaam>Wiśniewska</achternaam>",
            "<achternaam>Wiśniewska-Nowak</achternaam>",
            1,
        );
        let gone = changed.find("<leerling key=\"001014\"").unwrap();
        let end = gone + changed[gone..].find("</leerling>").unwrap() + "</leerling>".len();
        let changed = format!("{}{}", &changed[..gone], &changed[end..]);
        let second = dir.join("export-oktober.xml");
        std::fs::write(&second, &changed).unwrap();
        let wrong = dir.join("leerlingen.txt");
        std::fs::write(&wrong, "001000;García López;Fatima;22-08-2016\n").unwrap();

        p.login(&app, Who::BeheerderA).await;
        p.click("nav.sb-nav a[href$='/importeren']").await;
        p.wait_path(&format!("/s/{SCHOOL_A}/importeren")).await;
        p.check("importeren").await;

        // A file above 64 MB: said at the field before it is sent (a sparse file: no disk used).
        let big = dir.join("te-groot.xml");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(65 * 1024 * 1024)
            .unwrap();
        p.find("#bestand")
            .await
            .send_keys(&big.display().to_string())
            .await
            .expect("choose file");
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_js("return !!document.getElementById('bestand-fout')")
            .await;
        assert!(p.text("#bestand-fout").await.contains("groter dan 64 MB"));
        assert!(
            p.js("return document.querySelector('form.sb-form').getAttribute('aria-busy')")
                .await
                .is_null(),
            "the form was not sent"
        );
        p.check("importeren-te-groot").await;
        let _ = std::fs::remove_file(&big);

        // A file that is not EDEXML: the reason at the field.
        p.find("#bestand")
            .await
            .send_keys(&wrong.display().to_string())
            .await
            .expect("choose file");
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_title_prefix("Fout: ").await;
        assert!(p.text("#bestand-fout").await.contains("EDEX-tekstbestand"));
        p.check("importeren-fout").await;

        p.find("#bestand")
            .await
            .send_keys(&first.display().to_string())
            .await
            .expect("choose file");
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_js("return document.querySelector('h1').textContent.includes('Controleren')")
            .await;
        let main = p.text("main").await;
        assert!(main.contains("Nieuwe leerlingen (36)"), "{main}");
        assert!(main.contains("Petra Vos"));
        p.check("import-controle").await;
        p.click_button("Toepassen").await;
        p.wait_js("return document.querySelector('h1').textContent === 'Ingelezen'")
            .await;
        assert!(p.text(".sb-counts").await.contains("36 nieuwe leerlingen"));
        p.check("import-klaar").await;
        p.click_link("Naar de leerlingen").await;
        p.wait_path(&format!("/s/{SCHOOL_A}/leerlingen")).await;
        assert!(
            p.text("main").await.contains("37 leerlingen gevonden"),
            "{}",
            p.text("main").await
        );

        // The changed export: exactly one change and one pupil who left.
        p.goto(&app.url(&format!("/s/{SCHOOL_A}/importeren"))).await;
        p.find("#bestand")
            .await
            .send_keys(&second.display().to_string())
            .await
            .expect("choose file");
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_js("return document.querySelector('h1').textContent.includes('Controleren')")
            .await;
        let main = p.text("main").await;
        assert!(!main.contains("Nieuwe leerlingen"), "{main}");
        assert!(main.contains("Gewijzigde leerlingen (1)"), "{main}");
        assert!(
            main.contains("Achternaam: Wiśniewska → Wiśniewska-Nowak"),
            "{main}"
        );
        assert!(main.contains("worden uitgeschreven (1)"), "{main}");
        assert!(main.contains("Haddad"));
        assert!(
            p.text(".sb-counts")
                .await
                .contains("34 leerlingen ongewijzigd")
        );
        p.check("import-wijzigingen").await;
        p.click_button("Toepassen").await;
        p.wait_js("return document.querySelector('h1').textContent === 'Ingelezen'")
            .await;
        let counts = p.text(".sb-counts").await;
        assert!(
            counts.contains("1 leerling gewijzigd") && counts.contains("1 leerling uitgeschreven"),
            "{counts}"
        );
        p.goto(&app.url(&format!("/s/{SCHOOL_A}/importeren"))).await;
        assert!(p.text("main table").await.contains("export-oktober.xml"));
        p.check("importeren-geschiedenis").await;
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

/// A browser tab plus what the checks found (collected, so one run lists every problem).
#[derive(Clone)]
struct Page {
    c: Client,
    axe: Arc<String>,
    shots: PathBuf,
    problems: Arc<Mutex<Vec<String>>>,
}

impl Page {
    async fn goto(&self, url: &str) {
        self.c
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.wait_loaded().await;
    }

    /// Path plus query of the current address.
    async fn path(&self) -> String {
        let url = self.c.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    async fn title(&self) -> String {
        self.c.title().await.expect("title")
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let url = self.path().await;
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}` on {url}: {e}"))
    }

    async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("text")
            .trim()
            .to_string()
    }

    async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.expect("attr")
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.scroll_to(&element).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click `{css}`: {e}"));
        self.wait_loaded().await;
    }

    /// Presses a form's submit button, and fails clearly when the app refuses the post itself.
    async fn submit(&self, css: &str) {
        self.click(css).await;
        self.assert_not_refused().await;
    }

    /// The app answers a post it takes for cross-site or a missing CSRF token with the page
    /// "Formulier verlopen"; a person who just filled in a form on the app itself must never see it.
    async fn assert_not_refused(&self) {
        let title = self.title().await;
        if title.starts_with("Formulier verlopen") {
            let sent = self.path().await;
            panic!(
                "the app refused a form post made by a real browser on its own page \
                 (\"{title}\" at {sent}). Chromium sends `Origin: null` with \
                 `Sec-Fetch-Site: same-origin` on form posts under `Referrer-Policy: no-referrer`; \
                 the same-origin check must accept that (see access.rs `same_origin`)."
            );
        }
    }

    async fn click_link(&self, text: &str) {
        let url = self.path().await;
        let link = self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&format!("//a[normalize-space(.)='{text}']")))
            .await
            .unwrap_or_else(|e| panic!("no link `{text}` on {url}: {e}"));
        self.scroll_to(&link).await;
        link.click()
            .await
            .unwrap_or_else(|e| panic!("click link `{text}`: {e}"));
        self.wait_loaded().await;
    }

    async fn click_button(&self, text: &str) {
        let url = self.path().await;
        let button = self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&format!(
                "//button[normalize-space(.)='{text}']"
            )))
            .await
            .unwrap_or_else(|e| panic!("no button `{text}` on {url}: {e}"));
        self.scroll_to(&button).await;
        button
            .click()
            .await
            .unwrap_or_else(|e| panic!("click button `{text}`: {e}"));
        self.wait_loaded().await;
    }

    /// Brings an element to the middle of the viewport, clear of sticky bars, before a click.
    async fn scroll_to(&self, element: &fantoccini::elements::Element) {
        let arg = serde_json::to_value(element).expect("element as JSON");
        // Instant: the design system's root asks for smooth scrolling, which a click would outrun.
        let _ = self
            .c
            .execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'})",
                vec![arg],
            )
            .await;
    }

    /// Clicks into a field, empties it and types, as a person does.
    async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        self.scroll_to(&field).await;
        field.click().await.expect("click field");
        field.clear().await.expect("clear field");
        field.send_keys(text).await.expect("type");
    }

    async fn active_id(&self) -> String {
        self.js("return document.activeElement ? document.activeElement.id : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn js(&self, script: &str) -> Value {
        self.c
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script `{script}`: {e}"))
    }

    async fn wait_js(&self, predicate: &str) {
        let start = Instant::now();
        loop {
            if let Ok(Value::Bool(true)) = self.c.execute(predicate, vec![]).await {
                return;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "waited {WAIT:?} for `{predicate}`, on {}",
                    self.path().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_loaded(&self) {
        self.wait_js("return document.readyState === 'complete'")
            .await;
    }

    async fn wait_path(&self, want: &str) {
        let start = Instant::now();
        loop {
            let now = self.path().await;
            if now == want {
                self.wait_loaded().await;
                return;
            }
            if start.elapsed() > WAIT {
                panic!("expected to arrive at {want}, but the browser is at {now}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_title_prefix(&self, prefix: &str) {
        let start = Instant::now();
        loop {
            let title = self.title().await;
            if title.starts_with(prefix) {
                self.wait_loaded().await;
                return;
            }
            if start.elapsed() > WAIT {
                panic!("expected a title starting with {prefix:?}, got {title:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Logs in through the login form (logging out first is the caller's business).
    async fn login(&self, app: &TestApp, who: Who) {
        self.goto(&app.url("/inloggen")).await;
        self.type_into("#email", who.email().unwrap()).await;
        self.type_into("#wachtwoord", PASSWORD).await;
        self.submit("form.sb-form button[type=submit]").await;
        self.wait_js("return location.pathname !== '/inloggen'")
            .await;
        self.wait_loaded().await;
    }

    /// Opens the user menu (a `<details>`) with a click on its summary.
    async fn open_user_menu(&self) {
        self.click("details.sb-usermenu > summary").await;
        self.wait_js("return document.querySelector('details.sb-usermenu').open === true")
            .await;
    }

    async fn logout(&self) {
        self.open_user_menu().await;
        self.submit(".sb-usermenu__panel form[action='/uitloggen'] button")
            .await;
        self.wait_path("/inloggen?uitgelogd=1").await;
    }

    /// Neither the main menu nor the page offers Instellingen.
    async fn assert_no_settings(&self) {
        let nav = self.text("nav.sb-nav").await;
        assert!(!nav.contains("Instellingen"), "menu: {nav}");
        let main = self.text("main").await;
        assert!(!main.contains("Instellingen"), "page: {main}");
        let links = self
            .js("return document.querySelectorAll('a[href*=\"/instellingen\"]').length")
            .await;
        assert_eq!(links, json!(0), "no link to /instellingen");
    }

    /// Makes the viewport (not the window) `width` × `height` CSS pixels.
    async fn set_viewport(&self, width: u32, height: u32) {
        let (mut w, mut h) = (width, height);
        for _ in 0..10 {
            self.c.set_window_size(w, h).await.expect("set window size");
            // A busy machine applies the resize late: read the size once it has settled, or
            // the correction below would chase a stale value.
            let mut inner = self
                .js("return [window.innerWidth, window.innerHeight]")
                .await;
            for _ in 0..40 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let again = self
                    .js("return [window.innerWidth, window.innerHeight]")
                    .await;
                if again == inner {
                    break;
                }
                inner = again;
            }
            let iw = inner[0].as_u64().unwrap_or(0) as i64;
            let ih = inner[1].as_u64().unwrap_or(0) as i64;
            if iw == width as i64 && ih == height as i64 {
                return;
            }
            w = (w as i64 + width as i64 - iw).max(1) as u32;
            h = (h as i64 + height as i64 - ih).max(1) as u32;
        }
        let inner = self
            .js("return [window.innerWidth, window.innerHeight]")
            .await;
        panic!("cannot make the viewport {width}×{height}: it is {inner}");
    }

    /// The checks on every page and state: at each width axe-core, reflow at 320 px, and a
    /// screenshot. Problems are collected and reported at the end of the walk.
    async fn check(&self, name: &str) {
        let url = self.c.current_url().await.expect("url").to_string();
        for width in WIDTHS {
            self.set_viewport(width, HEIGHT).await;
            eprintln!("check {name} at {width}px ({url})");
            for v in self.axe_violations().await {
                self.problem(format!("{v}\n    page {name}: {url} at {width}px"));
            }
            if width == 320 {
                let sizes = self
                    .js("return [document.documentElement.scrollWidth, window.innerWidth]")
                    .await;
                let (sw, iw) = (sizes[0].as_i64().unwrap(), sizes[1].as_i64().unwrap());
                if sw > iw + 1 {
                    let wide = self.js(WIDEST_ELEMENTS).await;
                    self.problem(format!(
                        "reflow: page {name} ({url}) scrolls sideways at {width}px: \
                         scrollWidth {sw} > innerWidth {iw}; too wide: {wide}"
                    ));
                }
            }
            self.screenshot(&format!("{name}-{width}")).await;
        }
        self.set_viewport(WIDTHS[0], HEIGHT).await;
    }

    async fn axe_violations(&self) -> Vec<String> {
        if self.js("return typeof window.axe").await != json!("object") {
            self.c
                .execute(&self.axe, vec![])
                .await
                .expect("inject axe-core");
        }
        let result = self
            .c
            .execute_async(AXE_RUN, vec![])
            .await
            .expect("run axe-core");
        if let Some(err) = result.get("error") {
            panic!("axe-core failed: {err}");
        }
        let violations = result["violations"].as_array().expect("violations");
        eprintln!(
            "  axe: {} rules passed, {} violated",
            result["passes"],
            violations.len(),
        );
        // "Needs review": axe could not decide; listed for a person to look at, not failed.
        for item in result["incomplete"].as_array().into_iter().flatten() {
            eprintln!("  axe needs review: {}", item.as_str().unwrap_or_default());
        }
        let mut out = Vec::new();
        for v in violations {
            let mut s = format!(
                "axe {} [{}]: {} ({})",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                v["helpUrl"].as_str().unwrap_or(""),
            );
            for n in v["nodes"].as_array().into_iter().flatten() {
                s.push_str(&format!("\n    target {}", n["target"]));
                if let Some(summary) = n["summary"].as_str() {
                    for line in summary.lines().filter(|l| !l.trim().is_empty()) {
                        s.push_str(&format!("\n      {}", line.trim()));
                    }
                }
            }
            out.push(s);
        }
        out
    }

    fn problem(&self, text: String) {
        eprintln!("PROBLEM: {text}");
        self.problems.lock().unwrap().push(text);
    }

    /// A screenshot of the whole page: the window is made as tall as the page for a moment.
    async fn screenshot(&self, name: &str) {
        let width = self.js("return window.innerWidth").await.as_u64().unwrap() as u32;
        let full = self
            .js("return Math.ceil(document.documentElement.scrollHeight)")
            .await
            .as_u64()
            .unwrap() as u32;
        let tall = full.clamp(HEIGHT, 8000);
        if tall != HEIGHT {
            self.set_viewport(width, tall).await;
        }
        let png = self.c.screenshot().await.expect("screenshot");
        if tall != HEIGHT {
            self.set_viewport(width, HEIGHT).await;
        }
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// Runs axe-core with the WCAG 2.x A/AA and best-practice rules; answers the violations, trimmed.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  resultTypes: ['violations']
}).then(function (r) {
  done({
    passes: r.passes.length,
    incomplete: r.incomplete.map(function (v) {
      return v.id + ' at ' + v.nodes.map(function (n) {
        var why = n.any.concat(n.all, n.none).map(function (c) { return c.message; }).join('; ');
        return JSON.stringify(n.target) + (why ? ' (' + why + ')' : '');
      }).join(', ');
    }),
    violations: r.violations.map(function (v) {
      return {
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(function (n) { return { target: n.target, summary: n.failureSummary }; })
      };
    })
  });
}).catch(function (e) { done({ error: String(e && e.stack || e) }); });
"#;

/// The elements that stick out to the right of the viewport (outside `.sb-table-scroll`).
const WIDEST_ELEMENTS: &str = r#"
const out = [];
for (const el of document.querySelectorAll('body *')) {
  if (el.closest('.sb-table-scroll')) continue;
  const r = el.getBoundingClientRect();
  if (r.right > window.innerWidth + 1) {
    let sel = el.tagName.toLowerCase();
    if (el.id) sel += '#' + el.id;
    if (el.className && typeof el.className === 'string') sel += '.' + el.className.trim().split(/\s+/).join('.');
    out.push(sel + ' (right ' + Math.round(r.right) + 'px)');
  }
}
return out.slice(0, 8).join(', ');
"#;

// ---------------------------------------------------------------------------------------------
// Harness: chromedriver, a headless Chromium, and running a walk in it
// ---------------------------------------------------------------------------------------------

/// Starts chromedriver and Chromium, runs the walk, closes the browser, and fails with every
/// problem the checks found. Skips (loudly) without a browser, unless browser tests are required.
/// A leerkracht follows their group: the Groepsoverzicht (their one group at once, counts per
/// judgement), a pupil's tab RESULTATEN with the chart per vak and the table under it, entering a
/// paper test's result (first wrong, then right) and removing it again. The numbers on screen are
/// the ones the app computes with the domain's rules.
#[tokio::test]
async fn leerkracht_follows_the_group_overview_and_a_pupils_results() {
    walk(|p| async move {
        use startblok_app::pupils::InSchool;
        use startblok_app::resultaten::OverviewFilter;
        let app = spawn_sqlite().await;
        app.app.seed_demo().await.unwrap();
        let demo = "/s/99ZZ-00";
        p.goto(&app.url("/inloggen")).await;
        p.type_into("#email", "leerkracht@demo.startblok.nl").await;
        p.type_into("#wachtwoord", startblok_app::demo::DEMO_PASSWORD).await;
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_js("return location.pathname !== '/inloggen'").await;
        p.goto(&app.url(demo)).await;

        // Groepsoverzicht: the leerkracht's one group is shown at once.
        p.click("nav.sb-nav a[href$='/overzicht']").await;
        p.wait_path(&format!("{demo}/overzicht")).await;
        let caption = p.text("table caption").await;
        assert!(caption.contains("12 leerlingen"), "{caption}");
        p.check("groepsoverzicht").await;

        // The same cells as the app's overview (judged by the domain's rules).
        let school = app
            .app
            .school_by_code(&"99ZZ-00".parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .id;
        let mut c = app.app.db.conn().await.unwrap();
        let u = startblok_db::users::by_email(&mut c, "leerkracht@demo.startblok.nl")
            .await
            .unwrap()
            .unwrap();
        drop(c);
        let who = InSchool {
            school,
            actor: Actor::user(u.id, &u.email, "test"),
            roles: vec![Role::Leerkracht],
        };
        let first = app
            .app
            .group_overview(&who, &OverviewFilter::default(), false)
            .await
            .unwrap();
        let o = app
            .app
            .group_overview(
                &who,
                &OverviewFilter {
                    groep: first.groups[0].0.clone(),
                    ..Default::default()
                },
                false,
            )
            .await
            .unwrap();
        let shown: Vec<String> = p
            .js("return [...document.querySelectorAll('table.sb-overview tbody tr')].map(r => [...r.querySelectorAll('td')].slice(2).map(c => c.querySelector('.sb-oordeel')?.textContent ?? '–').join('|'))")
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        // Vakken without any result in the group have no column.
        let keep: Vec<usize> = (0..o.vakken.len())
            .filter(|k| o.rows.iter().any(|r| r.cells[*k].is_some()))
            .collect();
        let want: Vec<String> = o
            .rows
            .iter()
            .map(|r| {
                keep.iter()
                    .map(|k| match &r.cells[*k] {
                        Some(c) => format!("DLE {} · {}", c.dle, c.judgement.label()),
                        None => "–".into(),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        assert_eq!(shown.len(), want.len());
        for (s, w) in shown.iter().zip(&want) {
            // The page puts a shape before each judgement: ▼ ● ■.
            let plain: String = s
                .split('|')
                .map(|c| c.trim_start_matches(['▼', '●', '■', ' ']))
                .collect::<Vec<_>>()
                .join("|");
            assert_eq!(&plain, w);
        }

        // A pupil with results: tab RESULTATEN, a chart per vak with its table.
        let row = o
            .rows
            .iter()
            .find(|r| r.cells.iter().filter(|c| c.is_some()).count() >= 2)
            .expect("a demo pupil with results");
        let naam = row.pupil.display_name();
        p.click_link(&naam).await;
        p.wait_path(&format!("{demo}/leerlingen/{}/resultaten", row.pupil.id)).await;
        let charts = p
            .js("return [...document.querySelectorAll('svg.sb-chart')].map(s => s.querySelector('title').textContent)")
            .await;
        let charts = charts.as_array().unwrap();
        assert!(charts.len() >= 2, "{charts:?}");
        assert!(
            charts[0].as_str().unwrap().ends_with(&format!("DLE van {naam}")),
            "{charts:?}"
        );
        let desc = p.text("svg.sb-chart desc").await;
        assert!(desc.contains("resultaten van"), "{desc}");
        // The table under the first chart says what the app computed, newest first.
        let view = app.app.pupil_results(&who, &row.pupil.id).await.unwrap().unwrap();
        let vak0 = &view.per_vak[0];
        let first_row = p
            .js("return [...document.querySelector('table.sb-results tbody tr').querySelectorAll('td')].map(c => c.textContent.trim())")
            .await;
        let cells: Vec<&str> = first_row.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let newest = vak0.rows.last().unwrap();
        assert_eq!(cells[0], startblok_domain::format_date(newest.r.afnamedatum));
        assert_eq!(cells[2], newest.dle.unwrap().to_string());
        let norm = newest.norm.unwrap();
        assert_eq!(cells[5], format!("{} – {}", norm.ondergrens, norm.streef));
        assert!(
            cells[6].ends_with(norm.judge(newest.dle.unwrap()).label()),
            "{cells:?}"
        );
        p.check("resultaten").await;

        // A paper test's result: first without anything filled in, then right.
        let form = "form[action$='/resultaten']";
        p.js("document.getElementById('afnamedatum').value = '30-02-2026'").await;
        p.js("document.getElementById('dle').value = '14,5'").await;
        p.submit(&format!("{form} button[type=submit]")).await;
        p.wait_js("return !!document.getElementById('foutmeldingen')").await;
        let summary = p.text("#foutmeldingen").await;
        assert!(summary.contains("Kies het vak"), "{summary}");
        assert!(summary.contains("Afnamedatum"), "{summary}");
        assert_eq!(p.attr("#dle", "value").await.as_deref(), Some("14,5"), "input kept");
        p.check("resultaat-invoeren-fout").await;
        let rw = view
            .vakken
            .iter()
            .find(|v| v.naam == "Rekenen-Wiskunde")
            .unwrap()
            .id
            .clone();
        p.js(&format!("document.getElementById('vak').value = '{rw}'")).await;
        let on = startblok_domain::format_date(startblok_domain::today_nl(startblok_app::now()));
        p.js(&format!("document.getElementById('afnamedatum').value = '{on}'")).await;
        p.submit(&format!("{form} button[type=submit]")).await;
        p.wait_js("return location.search.includes('ingevoerd=')").await;
        let notice = p.text(".sb-notice").await;
        assert!(notice.contains("Het resultaat is opgeslagen: DLE 14,5"), "{notice}");
        p.check("resultaat-ingevoerd").await;

        // And removed again, after a confirmation.
        let id = p
            .js("return new URLSearchParams(location.search).get('ingevoerd')")
            .await
            .as_str()
            .unwrap()
            .to_string();
        p.click(&format!("a[href$='/resultaten/{id}/verwijderen']")).await;
        p.wait_path(&format!(
            "{demo}/leerlingen/{}/resultaten/{id}/verwijderen",
            row.pupil.id
        ))
        .await;
        p.check("resultaat-verwijderen").await;
        p.click_button("Ja, verwijderen").await;
        p.wait_js("return location.search.includes('verwijderd=1')").await;
        assert!(p.text(".sb-notice").await.contains("verwijderd"));
        assert_eq!(
            p.js(&format!("return !!document.getElementById('resultaat-{id}')")).await,
            json!(false)
        );
    })
    .await;
}

/// The issue's "done when": the demo's Boom delivery arrives over HTTP as in `serve --demo`; the
/// demo Beheerder sees the open errors on the start page, the delivery and the errors with their
/// fixes; assigning 999001 to a pupil and adding the unknown test process the parked results at
/// once; the results are on the pupils' charts.
#[tokio::test]
async fn beheerder_sees_the_boom_delivery_and_fixes_its_errors_in_place() {
    walk(|p| async move {
        let app = spawn_sqlite().await;
        app.app.seed_demo().await.unwrap();
        startblok_web::send_demo_levering(app.app.clone(), app.addr).await;
        let school = app
            .app
            .school_by_code(&"99ZZ-00".parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .id;
        for _ in 0..200 {
            let mut c = app.app.db.conn().await.unwrap();
            if startblok_db::leveringen::due_count(&mut c).await.unwrap() == 0 {
                break;
            }
            drop(c);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let demo = "/s/99ZZ-00";
        p.goto(&app.url("/inloggen")).await;
        p.type_into("#email", "beheerder@demo.startblok.nl").await;
        p.type_into("#wachtwoord", startblok_app::demo::DEMO_PASSWORD).await;
        p.submit("form.sb-form button[type=submit]").await;
        p.wait_js("return location.pathname !== '/inloggen'").await;
        p.goto(&app.url(demo)).await;
        let card = p.text(".sb-card--attention").await;
        assert!(card.contains("open fouten"), "{card}");
        p.check("start-open-fouten").await;

        p.click(".sb-card--attention a").await;
        p.wait_path(&format!("{demo}/instellingen/boom-testcentrum")).await;
        let rows = p
            .js("return [...document.querySelectorAll('#leveringen tbody tr')].map(r => r.textContent.replace(/\\s+/g, ' ').trim())")
            .await;
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].as_str().unwrap().contains("114"), "{rows:?}");
        let fouten = p.text("#fouten").await;
        assert!(fouten.contains("Boom-leerlingnummer 999001 is niet gevonden"), "{fouten}");
        assert!(fouten.contains("Toets 'LVS Woordenschat 2023' is niet gevonden"), "{fouten}");
        assert!(fouten.contains("Voortgezet taal"), "the message's own vakgebied: {fouten}");
        p.check("boom-testcentrum-fouten").await;

        // 999001 belongs to a pupil who has no number yet: choose, and its results are processed.
        let pupil = app
            .app
            .boom_table(school)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.pupil.boom_leerlingnummer.is_none())
            .unwrap()
            .pupil;
        // Typed as a Beheerder does: a name that fits nobody first (told so at the field, what
        // was typed kept), then the pupil's name as the list of suggestions offers it.
        p.type_into("#l-999001", "Niemand Bekend").await;
        p.js("document.getElementById('l-999001').form.querySelector('button[type=submit]').click()").await;
        p.wait_js("return !!document.getElementById('l-999001-fout')").await;
        assert!(p.text("#l-999001-fout").await.contains("Er is geen leerling"));
        assert_eq!(
            p.js("return document.getElementById('l-999001').value").await.as_str(),
            Some("Niemand Bekend")
        );
        p.check("boom-leerling-niet-gevonden-fout").await;
        let label = app
            .app
            .intake_overview(school, 0, 1)
            .await
            .unwrap()
            .pupils
            .into_iter()
            .find(|x| x.0 == pupil.id)
            .unwrap()
            .1;
        let offered: Vec<String> = serde_json::from_value(
            p.js("return [...document.querySelectorAll('#sb-leerlingen option')].map(o => o.value)").await,
        )
        .unwrap();
        assert!(offered.contains(&label), "{label} among the suggestions");
        p.type_into("#l-999001", &label).await;
        p.js("document.getElementById('l-999001').form.querySelector('button[type=submit]').click()").await;
        p.wait_js("return location.search.includes('opgelost=')").await;
        let notice = p.text(".sb-notice").await;
        assert!(notice.contains("opgelost") || notice.contains("Opgeslagen"), "{notice}");
        assert!(!p.text("#fouten").await.contains("Boom-leerlingnummer 999001 is niet gevonden"));
        p.check("boom-nummer-toegekend").await;
        let mut c = app.app.db.conn().await.unwrap();
        assert_eq!(
            startblok_db::pupils::get(&mut c, school, &pupil.id).await.unwrap().unwrap().boom_leerlingnummer.as_deref(),
            Some("999001")
        );
        drop(c);

        // The unknown test: into the catalogue with a vak, in one step.
        let vak = app.app.vakken(school).await.unwrap().into_iter().find(|v| v.naam.contains("Begrijpend") || v.naam.contains("Woord"));
        let vak = match vak {
            Some(v) => v.id,
            None => app.app.vakken(school).await.unwrap()[0].id.clone(),
        };
        p.js(&format!("document.getElementById('t-BOOM-LVS-WS-2023-2023').value = '{vak}'")).await;
        p.js("document.getElementById('t-BOOM-LVS-WS-2023-2023').form.querySelector('button[type=submit]').click()").await;
        p.wait_js("return location.search.includes('opgelost=')").await;
        assert!(!p.text("#fouten").await.contains("LVS Woordenschat 2023' is niet gevonden"));
        p.check("boom-toets-toegevoegd").await;

        // The delivery's own page.
        p.click("#leveringen tbody a").await;
        p.wait_js("return location.pathname.endsWith('/boom-testcentrum/levering')").await;
        let body = p.text("main").await;
        assert!(body.contains("114: 114 nieuw"), "{body}");
        p.check("boom-levering").await;

        // A processed Boom result on a pupil's chart: 127700's RW result of 10-11-2026.
        let mut c = app.app.db.conn().await.unwrap();
        let fatima = startblok_db::pupils::active_by_boom(&mut c, school, "127700").await.unwrap().unwrap();
        drop(c);
        p.goto(&app.url(&format!("{demo}/leerlingen/{}/resultaten", fatima.id))).await;
        let charts = p.js("return document.querySelectorAll('svg.sb-chart').length").await;
        assert!(charts.as_u64().unwrap() >= 1, "{charts}");
        let tables = p.text("main").await;
        assert!(tables.contains("10-11-2026"), "{tables}");
        p.check("boom-resultaat-op-grafiek").await;
    })
    .await;
}

async fn walk<F, Fut>(f: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let required = std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("STARTBLOK_BROWSER_TESTS").is_ok_and(|v| v == "1");
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        if required {
            panic!(
                "browser tests are required (CI=true or STARTBLOK_BROWSER_TESTS=1), but {} \
                 is missing: install Debian's chromium and chromium-driver",
                missing.join(" and ")
            );
        }
        // Straight to stderr (not `eprintln!`, which the test harness captures): visible in a
        // plain `cargo test` too.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "NOTE: browser tests SKIPPED (install Debian's chromium and chromium-driver, or set \
             STARTBLOK_BROWSER_TESTS=1)"
        );
        return;
    }

    let _one = ONE_BROWSER.lock().await;
    let driver = Driver::start().await;
    let client = driver.connect().await;
    let shots = screenshot_dir();
    let axe = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("static/vendor/axe.min.js"),
    )
    .expect("read static/vendor/axe.min.js");
    let page = Page {
        c: client.clone(),
        axe: Arc::new(axe),
        shots,
        problems: Arc::default(),
    };
    let problems = page.problems.clone();

    // The walk runs as its own task, so the browser is closed even when it panics.
    let outcome = tokio::spawn(f(page)).await;
    let _ = client.close().await;
    drop(driver);
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("walk did not finish: {e}"),
        }
    }
    let problems = problems.lock().unwrap();
    if !problems.is_empty() {
        panic!(
            "{} accessibility/layout problem(s):\n\n{}\n",
            problems.len(),
            problems.join("\n\n")
        );
    }
}

/// `target/screenshots/` of the workspace (or of `CARGO_TARGET_DIR`).
fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir), // an absolute CARGO_TARGET_DIR replaces the root
        None => workspace.join("target"),
    };
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// A running chromedriver, in its own process group, with a fresh Chromium profile directory.
/// Dropping it ends the group (chromedriver and any Chromium it started) and removes the profile.
struct Driver {
    child: Child,
    port: u16,
    profile: PathBuf,
}

impl Driver {
    async fn start() -> Driver {
        let port = free_port();
        let profile = std::env::temp_dir().join(format!(
            "startblok-chromium-{}-{port}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&profile).expect("create chromium profile dir");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}"));
        let driver = Driver {
            child,
            port,
            profile,
        };
        let status = format!("http://127.0.0.1:{port}/status");
        let http = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Ok(res) = http.get(&status).send().await
                && let Ok(body) = res.text().await
                && let Ok(body) = serde_json::from_str::<Value>(&body)
                && body["value"]["ready"] == json!(true)
            {
                return driver;
            }
            if start.elapsed() > WAIT {
                panic!("chromedriver on port {port} did not answer within {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn connect(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        // A page with unsaved changes asks before it is left; in these walks leaving is intended.
        caps.insert("unhandledPromptBehavior".into(), json!("accept"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1400,1100",
                    "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", self.profile.display()),
                ],
            }),
        );
        // chromedriver is on localhost: plain HTTP, so no TLS set-up is involved.
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| panic!("start a Chromium session via chromedriver: {e}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (process_group(0)); this ends only what it started.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
