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
            // Most pupils get a toetsdoel; every twelfth is left without, to show the manual's step 3.
            if !doelen.is_empty() && i % 12 != 11 {
                let from = p
                    .instroomdatum
                    .unwrap_or_else(|| startblok_domain::today_nl(t));
                pupils::set_toetsdoel(
                    &mut tx,
                    s.id,
                    &p.id,
                    Some(&doelen[i % doelen.len()]),
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
