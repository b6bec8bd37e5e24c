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
        Ok(())
    }
}

/// The demo school's roster, toetsdoelen and Boom numbers (copies of shared/fixtures; see
/// `crates/app/demo/LEESMIJ.md`). The roster is read with the EDEXML parser and stored directly;
/// once the EDEXML import exists, the demo should go through it.
const DEMO_EDEXML: &str = include_str!("../demo/nieuwkomers-demo.xml");
const DEMO_BOOMNUMMERS: &str = include_str!("../demo/boomnummers-demo.csv");
const DEMO_TOETSDOELEN: &str = include_str!("../demo/toetsdoelen.csv");

impl App {
    /// Groups, pupils, teachers, toetsdoelen and Boom numbers of the demo school, once.
    async fn seed_demo_pupils(&self, school: &SchoolCode) -> Result<(), ProvisionError> {
        use startblok_db::{groups, pupils, toetsdoelen};
        let Some(s) = self.school_by_code(school).await? else {
            return Ok(());
        };
        let mut tx = self.db.begin().await?;
        if !groups::list(&mut tx, s.id).await?.is_empty() {
            return Ok(());
        }
        let t = crate::now();
        let roster = startblok_edexml::parse(DEMO_EDEXML.as_bytes())
            .expect("the demo roster is valid EDEXML");
        for eg in &roster.groepen {
            let g = groups::Group {
                id: uuid::Uuid::now_v7().to_string(),
                naam: eg.naam.clone().unwrap_or_else(|| eg.key.clone()),
                jaargroep: eg.jaargroep.clone(),
                las_key: Some(eg.key.clone()),
                actief: true,
            };
            groups::insert(&mut tx, s.id, &g, t).await?;
        }
        let all_groups = groups::list(&mut tx, s.id).await?;
        let group_id = |key: &str| {
            all_groups
                .iter()
                .find(|g| g.las_key.as_deref() == Some(key))
                .map(|g| g.id.clone())
        };

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
        let date = |d: &Option<String>| d.as_deref().and_then(pupils::parse_date);
        for (i, dp) in roster.leerlingen.iter().enumerate() {
            let p = pupils::Pupil {
                id: uuid::Uuid::now_v7().to_string(),
                las_key: Some(dp.key.clone()),
                eck_id: dp.eckid.clone(),
                achternaam: dp.achternaam.clone().unwrap_or_default(),
                voorvoegsel: dp.voorvoegsel.clone(),
                voornamen: dp.voornamen.clone(),
                roepnaam: dp.roepnaam.clone(),
                geboortedatum: date(&dp.geboortedatum),
                geslacht: dp.geslacht.clone(),
                group_id: dp.groep.as_deref().and_then(group_id),
                jaargroep: dp.jaargroep.clone(),
                instroomdatum: date(&dp.instroomdatum),
                imported: true,
                land_herkomst: dp.land.clone(),
                ..pupils::Pupil::default()
            };
            pupils::insert(&mut tx, s.id, &p, t).await?;
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
        tx.commit().await.map_err(startblok_db::DbError::from)?;

        let actor = Actor::system();
        for teacher in &roster.leerkrachten {
            let Some(email) = &teacher.emailadres else {
                continue;
            };
            let naam = [
                teacher.roepnaam.as_ref(),
                teacher.voorvoegsel.as_ref(),
                teacher.achternaam.as_ref(),
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
            self.create_school_user(school, email, Some(&naam), Role::Leerkracht, None, &actor)
                .await?;
        }
        // Link each group's teachers, and the demo leerkracht to the first group.
        let members = self.team(s.id).await?;
        let mut tx = self.db.begin().await?;
        for g in &all_groups {
            let mut ids: Vec<startblok_domain::UserId> = roster
                .leerkrachten
                .iter()
                .filter(|t| g.las_key.as_ref().is_some_and(|k| t.groepen.contains(k)))
                .filter_map(|t| t.emailadres.as_ref())
                .filter_map(|e| {
                    members
                        .iter()
                        .find(|m| m.user.email == *e)
                        .map(|m| m.user.id)
                })
                .collect();
            if g.las_key.as_deref() == Some("NK-A")
                && let Some(m) = members
                    .iter()
                    .find(|m| m.user.email == DEMO_ACCOUNTS[2].email)
            {
                ids.push(m.user.id);
            }
            groups::set_teachers(&mut tx, s.id, &g.id, &ids).await?;
        }
        tx.commit().await.map_err(startblok_db::DbError::from)?;
        Ok(())
    }
}
