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
        Ok(())
    }
}
