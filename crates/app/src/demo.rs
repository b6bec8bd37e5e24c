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
/// `crates/app/demo/LEESMIJ.md`). Read directly here until the EDEXML import exists.
const DEMO_EDEXML: &str = include_str!("../demo/nieuwkomers-demo.xml");
const DEMO_BOOMNUMMERS: &str = include_str!("../demo/boomnummers-demo.csv");
const DEMO_TOETSDOELEN: &str = include_str!("../demo/toetsdoelen.csv");

#[derive(Debug, Default)]
struct DemoPupil {
    key: String,
    eckid: Option<String>,
    fields: std::collections::HashMap<String, String>,
    groep: Option<String>,
}

#[derive(Debug, Default)]
struct DemoTeacher {
    fields: std::collections::HashMap<String, String>,
    groepen: Vec<String>,
}

#[derive(Debug, Default)]
struct DemoRoster {
    groups: Vec<(String, String, String)>,
    pupils: Vec<DemoPupil>,
    teachers: Vec<DemoTeacher>,
}

/// A deliberately small reader for the one demo file (not a general EDEXML parser).
fn read_demo_roster() -> DemoRoster {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(DEMO_EDEXML);
    reader.config_mut().trim_text(true);
    let mut roster = DemoRoster::default();
    let mut path: Vec<String> = Vec::new();
    let mut current_group: Option<(String, String, String)> = None;
    let attr = |e: &quick_xml::events::BytesStart, name: &[u8]| {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
    };
    loop {
        match reader.read_event().expect("the demo file is well-formed") {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let parent = path.last().map(String::as_str);
                match (parent, name.as_str()) {
                    (Some("groepen"), "groep") if path.len() == 2 => {
                        current_group = Some((
                            attr(&e, b"key").unwrap_or_default(),
                            String::new(),
                            String::new(),
                        ))
                    }
                    (Some("leerlingen"), "leerling") => roster.pupils.push(DemoPupil {
                        key: attr(&e, b"key").unwrap_or_default(),
                        eckid: attr(&e, b"eckid"),
                        ..DemoPupil::default()
                    }),
                    (Some("leerkrachten"), "leerkracht") => {
                        roster.teachers.push(DemoTeacher::default())
                    }
                    _ => {}
                }
                path.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "groep" {
                    let key = attr(&e, b"key").unwrap_or_default();
                    match path.last().map(String::as_str) {
                        Some("leerling") => {
                            roster.pupils.last_mut().expect("in a pupil").groep = Some(key)
                        }
                        Some("groepen") if path.iter().any(|p| p == "leerkracht") => roster
                            .teachers
                            .last_mut()
                            .expect("in a teacher")
                            .groepen
                            .push(key),
                        _ => {}
                    }
                }
            }
            Event::Text(t) => {
                let value = t.decode().map(|v| v.into_owned()).unwrap_or_default();
                let field = path.last().cloned().unwrap_or_default();
                let owner = path.get(path.len().saturating_sub(2)).map(String::as_str);
                match owner {
                    Some("leerling") => {
                        roster
                            .pupils
                            .last_mut()
                            .expect("in a pupil")
                            .fields
                            .insert(field, value);
                    }
                    Some("leerkracht") => {
                        roster
                            .teachers
                            .last_mut()
                            .expect("in a teacher")
                            .fields
                            .insert(field, value);
                    }
                    Some("groep") => {
                        if let Some(g) = current_group.as_mut() {
                            if field == "naam" {
                                g.1 = value;
                            } else if field == "jaargroep" {
                                g.2 = value;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::End(_) => {
                if path.pop().as_deref() == Some("groep")
                    && path.last().map(String::as_str) == Some("groepen")
                    && path.len() == 2
                    && let Some(g) = current_group.take()
                {
                    roster.groups.push(g);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    roster
}

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
        let roster = read_demo_roster();
        for (key, naam, jaargroep) in &roster.groups {
            let g = groups::Group {
                id: uuid::Uuid::now_v7().to_string(),
                naam: naam.clone(),
                jaargroep: Some(jaargroep.clone()).filter(|j| !j.is_empty()),
                las_key: Some(key.clone()),
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
        let date = |p: &DemoPupil, f: &str| p.fields.get(f).and_then(|d| pupils::parse_date(d));
        for (i, dp) in roster.pupils.iter().enumerate() {
            let p = pupils::Pupil {
                id: uuid::Uuid::now_v7().to_string(),
                las_key: Some(dp.key.clone()),
                eck_id: dp.eckid.clone(),
                achternaam: dp.fields.get("achternaam").cloned().unwrap_or_default(),
                voorvoegsel: dp.fields.get("voorvoegsel").cloned(),
                voornamen: dp.fields.get("voornamen").cloned(),
                roepnaam: dp.fields.get("roepnaam").cloned(),
                geboortedatum: date(dp, "geboortedatum"),
                geslacht: dp.fields.get("geslacht").cloned(),
                group_id: dp.groep.as_deref().and_then(group_id),
                jaargroep: dp.fields.get("jaargroep").cloned(),
                instroomdatum: date(dp, "instroomdatum"),
                imported: true,
                land_herkomst: dp.fields.get("land").cloned(),
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
        for teacher in &roster.teachers {
            let Some(email) = teacher.fields.get("emailadres") else {
                continue;
            };
            let naam = [
                teacher.fields.get("roepnaam"),
                teacher.fields.get("voorvoegsel"),
                teacher.fields.get("achternaam"),
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
                .teachers
                .iter()
                .filter(|t| g.las_key.as_ref().is_some_and(|k| t.groepen.contains(k)))
                .filter_map(|t| t.fields.get("emailadres"))
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_roster_is_read_whole() {
        let r = super::read_demo_roster();
        assert_eq!(
            (r.groups.len(), r.pupils.len(), r.teachers.len()),
            (3, 36, 4)
        );
        let first = &r.pupils[0];
        assert_eq!(first.key, "001000");
        assert_eq!(
            first.fields.get("achternaam").map(String::as_str),
            Some("García López")
        );
        assert_eq!(first.groep.as_deref(), Some("NK-A"));
        assert_eq!(r.teachers[3].groepen.len(), 3);
    }
}
