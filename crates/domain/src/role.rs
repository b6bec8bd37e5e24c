//! Roles within a school. The operator is not a school role: it is a property of the user
//! for the whole instance.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Beheerder,
    Leerkracht,
    /// Intern begeleider.
    Ib,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Beheerder, Role::Leerkracht, Role::Ib];

    /// The value stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Beheerder => "beheerder",
            Role::Leerkracht => "leerkracht",
            Role::Ib => "ib",
        }
    }

    /// The Dutch label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Beheerder => "Beheerder",
            Role::Leerkracht => "Leerkracht",
            Role::Ib => "IB'er",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Onbekende rol '{0}': kies beheerder, leerkracht of ib.")]
pub struct RoleParseError(pub String);

impl FromStr for Role {
    type Err = RoleParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "beheerder" => Ok(Role::Beheerder),
            "leerkracht" => Ok(Role::Leerkracht),
            "ib" | "ib'er" | "iber" | "intern begeleider" => Ok(Role::Ib),
            _ => Err(RoleParseError(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_stored_form() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("IB'er".parse::<Role>(), Ok(Role::Ib));
        assert!("operator".parse::<Role>().is_err());
    }
}
