//! The demo: everything `serve --demo` puts in the database, in one place. Seeding is
//! idempotent: a second start finds what the first made and adds nothing twice.
//! Later issues add the demo pupils, norms and a delivery here.

use startblok_domain::{Role, SchoolCode};

use crate::provisioning::ProvisionError;
use crate::{Actor, App};

pub const DEMO_SCHOOL: &str = "Startblok Demoschool";
pub const DEMO_SCHOOL_CODE: &str = "99ZZ-00";
/// A second, small school so that switching schools can be tried.
pub const DEMO_SCHOOL_2: &str = "Startblok Demoschool ISK";
pub const DEMO_SCHOOL_2_CODE: &str = "99ZZ-01";
/// The password of every demo account. Demo data only: never use `--demo` with real pupils.
pub const DEMO_PASSWORD: &str = "demo-startblok";

#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub email: &'static str,
    pub naam: &'static str,
    pub description: &'static str,
}

pub const DEMO_ACCOUNTS: [DemoAccount; 4] = [
    DemoAccount {
        email: "operator@demo.startblok.nl",
        naam: "Olga Operator",
        description: "operator (alle scholen)",
    },
    DemoAccount {
        email: "beheerder@demo.startblok.nl",
        naam: "Bram Beheerder",
        description: "beheerder (beide demoscholen)",
    },
    DemoAccount {
        email: "leerkracht@demo.startblok.nl",
        naam: "Lotte Leerkracht",
        description: "leerkracht",
    },
    DemoAccount {
        email: "ib@demo.startblok.nl",
        naam: "Ilias IB'er",
        description: "ib'er",
    },
];

impl App {
    /// Creates the demo schools and accounts when they are missing.
    pub async fn seed_demo(&self) -> Result<(), ProvisionError> {
        let actor = Actor::system();
        let main: SchoolCode = DEMO_SCHOOL_CODE.parse().expect("valid demo code");
        let second: SchoolCode = DEMO_SCHOOL_2_CODE.parse().expect("valid demo code");
        for (naam, code) in [(DEMO_SCHOOL, &main), (DEMO_SCHOOL_2, &second)] {
            if self.school_by_code(code).await?.is_none() {
                self.create_school(naam, code, None, &actor).await?;
            }
        }
        let [operator, beheerder, leerkracht, ib] = &DEMO_ACCOUNTS;
        let pw = Some(DEMO_PASSWORD);
        self.create_operator(operator.email, Some(operator.naam), pw, &actor)
            .await?;
        for code in [&main, &second] {
            self.create_school_user(
                code,
                beheerder.email,
                Some(beheerder.naam),
                Role::Beheerder,
                pw,
                &actor,
            )
            .await?;
        }
        self.create_school_user(
            &main,
            leerkracht.email,
            Some(leerkracht.naam),
            Role::Leerkracht,
            pw,
            &actor,
        )
        .await?;
        self.create_school_user(&main, ib.email, Some(ib.naam), Role::Ib, pw, &actor)
            .await?;
        self.seed_demo_pupils(&main).await?;
        let school = self
            .school_by_code(&main)
            .await?
            .ok_or_else(|| ProvisionError::NoSuchSchool(main.clone()))?;
        self.seed_demo_normen(school.id).await?;
        self.seed_demo_resultaten(school.id).await?;
        self.seed_demo_koppeling(school.id)
            .await
            .map_err(|e| match e {
                crate::koppelingen::KoppelingError::App(a) => ProvisionError::App(a),
                // The demo's own application is made by a migration; anything else is a bug.
                other => ProvisionError::App(crate::AppError::Corrupt(other.to_string())),
            })?;
        Ok(())
    }
}

/// The demo school's roster, toetsdoelen and Boom numbers (copies of shared/fixtures; see
/// `crates/app/demo/LEESMIJ.md`). The roster arrives through the EDEXML import, as a school's
/// would; what the import does not touch (Boom numbers, toetsdoelen) is set afterwards.
const DEMO_EDEXML: &str = include_str!("../demo/nieuwkomers-demo.xml");
const DEMO_BOOMNUMMERS: &str = include_str!("../demo/boomnummers-demo.csv");
const DEMO_TOETSDOELEN: &str = include_str!("../demo/toetsdoelen.csv");
const DEMO_NORMEN: &str = include_str!("../demo/dle-normen.csv");
const DEMO_CONVERSIE: &str = include_str!("../demo/conversie-voorbeeld.csv");
/// The example Boom delivery (with the manual's demo key): `serve --demo` sends it to its own
/// UWLR endpoint once it listens, as Boom would.
pub const DEMO_LEVERING: &str = include_str!("../demo/boom-levering-demo.xml");

impl App {
    /// The example DLE norms (labelled as examples in the fixtures), once: a demo school that has
    /// norms keeps its own.
    async fn seed_demo_normen(
        &self,
        school: startblok_domain::SchoolId,
    ) -> Result<(), ProvisionError> {
        let mut c = self.db.conn().await?;
        let has = !startblok_db::norms::normen(&mut c, school)
            .await?
            .is_empty();
        drop(c);
        if !has {
            self.import_normen(school, DEMO_NORMEN.as_bytes(), &Actor::system())
                .await?
                .map_err(|lines| {
                    let said: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                    ProvisionError::App(crate::AppError::Corrupt(format!(
                        "demo-normen: {}",
                        said.join(" ")
                    )))
                })?;
        }
        Ok(())
    }

    /// The example conversion table, and a few results entered 'by hand' for the pupils of NK-A
    /// (every three months since their start), once: so the charts and the Groepsoverzicht are
    /// not empty before the first delivery. They go through the same entry as a teacher's.
    async fn seed_demo_resultaten(
        &self,
        school: startblok_domain::SchoolId,
    ) -> Result<(), ProvisionError> {
        use startblok_db::{groups, pupils, resultaten};
        let corrupt = |what: String| ProvisionError::App(crate::AppError::Corrupt(what));
        let mut c = self.db.conn().await?;
        let has = !resultaten::of_school(&mut c, school).await?.is_empty();
        let tables = startblok_db::toetsen::conversieregels(&mut c, school).await?;
        let group = groups::list(&mut c, school)
            .await?
            .into_iter()
            .find(|g| g.las_key.as_deref() == Some("NK-A"));
        let mut list = pupils::list(&mut c, school).await?;
        drop(c);
        if tables.is_empty() {
            self.import_conversie(school, DEMO_CONVERSIE.as_bytes(), &Actor::system())
                .await?
                .map_err(|lines| {
                    let said: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                    corrupt(format!("demo-conversie: {}", said.join(" ")))
                })?;
        }
        let Some(group) = group.filter(|_| !has) else {
            return Ok(());
        };
        list.retain(|p| p.group_id.as_deref() == Some(group.id.as_str()));
        list.sort_by_key(|p| p.sort_name().to_lowercase());
        let vakken = self.vakken(school).await?;
        let toetsen = self.toetsen(school).await?;
        let vak = |naam: &str| vakken.iter().find(|v| v.naam == naam).map(|v| v.id.clone());
        use crate::resultaten::ResultInput;
        let who = crate::pupils::InSchool {
            school,
            actor: Actor::system(),
            roles: vec![Role::Beheerder],
        };
        let today = startblok_domain::today_nl(crate::now());
        for (i, p) in list.iter().enumerate() {
            let Some(start) = p.start_nieuwkomers.or(p.instroomdatum) else {
                continue;
            };
            // A pace of its own per pupil: from slow (0,3 DLE a month) to fast (1,3).
            let pace = 0.3 + 0.25 * (i % 5) as f64;
            let first = 1.0 + (i % 4) as f64;
            let mut month = 1u32;
            while let Some(on) = add_months(start, month).filter(|d| *d <= today) {
                let dle = (first + pace * f64::from(month)).min(60.0);
                let bl = toetsen.iter().find(|t| t.toetscode == "BOOM-LVS-BL-DIG");
                // Rekenen-Wiskunde on paper: the DLE from the test's manual.
                let mut inputs = vec![ResultInput {
                    vak: vak("Rekenen-Wiskunde").unwrap_or_default(),
                    afnamedatum: startblok_domain::format_date(on),
                    dle: format!("{:.0}", dle.round()),
                    ..Default::default()
                }];
                // Begrijpend lezen: a score, read through the example conversion table.
                if let Some(bl) = bl {
                    inputs.push(ResultInput {
                        vak: vak("Begrijpend lezen").unwrap_or_default(),
                        toets: bl.id.clone(),
                        onderdeel: "G4".into(),
                        afnamedatum: startblok_domain::format_date(on),
                        score: format!("{:.0}", (dle * 0.9).round().min(44.0)),
                        ..Default::default()
                    });
                }
                // Spelling, every other time: a functioneringsniveau (M3 = 5, E3 = 10, …).
                if month % 2 == 1 {
                    let level = ((dle * 0.8 / 5.0).round() as u32).clamp(1, 12);
                    let groep = 3 + (level - 1) / 2;
                    let moment = if level % 2 == 1 { "M" } else { "E" };
                    inputs.push(ResultInput {
                        vak: vak("Spelling").unwrap_or_default(),
                        afnamedatum: startblok_domain::format_date(on),
                        functioneringsniveau: format!("{moment}{groep}"),
                        ..Default::default()
                    });
                }
                for input in inputs {
                    match self.add_result(&who, &p.id, &input).await? {
                        Some(Ok(_)) => {}
                        Some(Err(e)) => {
                            let said: Vec<String> =
                                e.items().iter().map(|f| f.message.clone()).collect();
                            return Err(corrupt(format!("demo-resultaat: {}", said.join(" "))));
                        }
                        None => {
                            return Err(corrupt("demo-resultaat: leerling onbereikbaar".into()));
                        }
                    }
                }
                month += 3;
            }
        }
        Ok(())
    }

    /// Groups, pupils, teachers, toetsdoelen and Boom numbers of the demo school, once.
    async fn seed_demo_pupils(&self, school: &SchoolCode) -> Result<(), ProvisionError> {
        use startblok_db::{groups, pupils, toetsdoelen};
        let Some(s) = self.school_by_code(school).await? else {
            return Ok(());
        };
        {
            let mut c = self.db.conn().await?;
            if !groups::list(&mut c, s.id).await?.is_empty() {
                return Ok(());
            }
        }
        let who = crate::pupils::InSchool {
            school: s.id,
            actor: Actor::system(),
            roles: vec![Role::Beheerder],
        };
        self.import_file(&who, school, "nieuwkomers-demo.xml", DEMO_EDEXML.as_bytes())
            .await?
            .expect("the demo roster is this school's valid EDEXML");

        let t = crate::now();
        let mut tx = self.db.begin().await?;
        let mut doelen = Vec::new();
        for line in DEMO_TOETSDOELEN
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
        {
            let (code, naam) = line.split_once(',').unwrap_or((line, line));
            let id = uuid::Uuid::now_v7().to_string();
            toetsdoelen::insert(&mut tx, s.id, &id, code.trim(), naam.trim(), t).await?;
            doelen.push(id);
        }
        let boom: std::collections::HashMap<&str, &str> = DEMO_BOOMNUMMERS
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(';'))
            .map(|(a, b)| (a.trim(), b.trim()))
            .collect();
        let roster = startblok_edexml::parse(DEMO_EDEXML.as_bytes())
            .expect("the demo roster is valid EDEXML");
        let stored = pupils::list(&mut tx, s.id).await?;
        for (i, dp) in roster.leerlingen.iter().enumerate() {
            let Some(p) = stored
                .iter()
                .find(|p| p.las_key.as_deref() == Some(dp.key.as_str()))
            else {
                continue;
            };
            if let Some(n) = boom.get(dp.key.as_str()) {
                pupils::set_boom(&mut tx, s.id, &p.id, Some(n), "demo", t).await?;
            }
            // Most pupils get a toetsdoel (varied within each group, whose pupils come in turn); every
            // twelfth is left without, to show the manual's step 3.
            if !doelen.is_empty() && i % 12 != 11 {
                let from = p
                    .instroomdatum
                    .unwrap_or_else(|| startblok_domain::today_nl(t));
                pupils::set_toetsdoel(
                    &mut tx,
                    s.id,
                    &p.id,
                    Some(&doelen[(i / 3) % doelen.len()]),
                    from,
                    "demo",
                    t,
                )
                .await?;
            }
        }
        // The demo leerkracht (a login of their own, not from the LAS) teaches NK-A too.
        let members = startblok_db::users::members_of(&mut tx, s.id).await?;
        let links = groups::teacher_links(&mut tx, s.id).await?;
        if let (Some(g), Some(m)) = (
            groups::list(&mut tx, s.id)
                .await?
                .into_iter()
                .find(|g| g.las_key.as_deref() == Some("NK-A")),
            members
                .iter()
                .find(|m| m.user.email == DEMO_ACCOUNTS[2].email),
        ) {
            let mut ids: Vec<startblok_domain::UserId> = links
                .iter()
                .filter(|(gid, _)| *gid == g.id)
                .map(|(_, u)| *u)
                .collect();
            ids.push(m.user.id);
            groups::set_teachers(&mut tx, s.id, &g.id, &ids).await?;
        }
        tx.commit().await.map_err(startblok_db::DbError::from)?;
        Ok(())
    }
}

/// The same day `months` months later (the last day of a shorter month).
fn add_months(d: time::Date, months: u32) -> Option<time::Date> {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + months as i32;
    let (y, m) = (total / 12, (total % 12 + 1) as u8);
    let month = time::Month::try_from(m).ok()?;
    let day = d.day().min(time::util::days_in_month(month, y));
    time::Date::from_calendar_date(y, month, day).ok()
}

impl App {
    /// The demo school has not received a delivery yet (so the demo sends its example one).
    pub async fn demo_wants_levering(&self) -> Result<bool, ProvisionError> {
        let code: SchoolCode = DEMO_SCHOOL_CODE.parse().expect("valid demo code");
        let Some(s) = self.school_by_code(&code).await? else {
            return Ok(false);
        };
        let mut c = self.db.conn().await?;
        Ok(startblok_db::leveringen::count_of_school(&mut c, s.id)
            .await
            .map_err(crate::AppError::from)?
            == 0)
    }
}
