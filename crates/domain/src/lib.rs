//! Pure rules of Startblok: identifiers and values that parse their input at the edge
//! ("parse, don't validate"), roles, and the password policy. No IO, no async.

pub mod ids;
pub mod norms;
pub mod password;
pub mod pupil;
pub mod role;
pub mod school;
pub mod user;

pub use ids::{SchoolId, UserId};
pub use password::{PasswordProblem, check_password_policy};
pub use pupil::{
    BoomLeerlingnummer, BoomLeerlingnummerError, DateError, FaseBands, FaseBandsError, FaseEntry,
    clean_text, fase_on, format_date, format_moment, is_invisible, nl_time, parse_birth_date,
    parse_date, parse_past_date, parse_school_date, today_nl,
};
pub use role::{Role, RoleParseError};
pub use school::{Brin, Dependance, SchoolCode, SchoolCodeError};
pub use user::{Email, EmailError, PersonName, PersonNameError};
