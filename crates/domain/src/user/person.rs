//! People as others see them: whose name a user may read, masked names of citizens, phones
//! masked by default and revealed for a call-back (回访) only by those whose job it is.

use std::fmt;

use super::{Actor, Role, Scope};
use crate::event::EventState;
use crate::tree::NodeCode;
use crate::DomainError;

/// A mainland mobile phone number (11 digits starting with 1). Its `Debug` and `Display`
/// show it masked; [`Phone::expose`] gives the digits for a deliberate reveal only.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Checks a phone number; spaces and dashes are dropped, a leading +86 is allowed.
    pub fn parse(s: &str) -> Result<Phone, DomainError> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits.strip_prefix("+86").unwrap_or(&digits);
        if digits.len() != 11
            || !digits.starts_with('1')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(DomainError::invalid(
                "phone",
                "must be an 11-digit mobile number starting with 1",
            ));
        }
        Ok(Phone(digits.to_owned()))
    }

    /// The digits, for a reveal with a stated purpose (audited by the caller).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The number masked as 138****5678.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// An e-mail address a user gets warnings at (预警邮件): one `@`, a local part of at most 64
/// and a whole of at most 254 printable ASCII characters, a domain with a dot; kept as typed
/// (trimmed), the domain lower-cased.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, DomainError> {
        let s = s.trim();
        let bad = || {
            DomainError::invalid(
                "email",
                "must be an e-mail address such as name@example.org",
            )
        };
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let printable = |p: &str| p.bytes().all(|b| b.is_ascii_graphic() && b != b'@');
        let labels_ok = domain.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if s.len() > 254
            || local.is_empty()
            || local.len() > 64
            || !printable(local)
            || local.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '\\', '"'])
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || !domain.contains('.')
            || !labels_ok
        {
            return Err(bad());
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address masked as z***@example.org (for the audit log).
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or(("", &self.0));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

/// A stored phone masked: the first three and last four digits kept (138****5678); anything
/// shorter than eight characters is masked whole.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len().max(4));
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// A person's address masked: the first half kept (at most six characters: the street, not the
/// door), the rest starred (汕尾市城区东风路12号 → 汕尾市城区****).
pub fn mask_address(s: &str) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    let keep = (chars.len() / 2).min(6);
    format!("{}****", chars[..keep].iter().collect::<String>())
}

/// A citizen's name as staff see it: the first character and one star (张三丰 → 张*).
pub fn mask_name(name: &str) -> String {
    match name.trim().chars().next() {
        Some(c) => format!("{c}*"),
        None => "*".to_owned(),
    }
}

/// Where a person works, for deciding who may read their name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub role: Role,
    /// Their scope's node, or their department's region.
    pub node: Option<NodeCode>,
    pub department_id: Option<i64>,
}

/// How much of a person a viewer is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Name and unit.
    Full,
    /// A citizen to staff: masked name (张*), no unit.
    Masked,
    /// A staff member to a citizen on their own order: the unit only.
    UnitOnly,
    /// Nothing.
    Hidden,
}

/// What `viewer` may see of `person`. `on_their_order`: the person acted on (or reported) an
/// order the viewer may see, as in its timeline. Staff see the names and units of staff in
/// their scope (their subtree, or their own department), and of staff who worked on an order
/// they may see; citizens masked, and only on such an order. Citizens see themselves, and the
/// unit of the staff on their own orders.
pub fn shown(viewer: &Actor, person: &Person, on_their_order: bool) -> Shown {
    if person.id == viewer.user_id {
        return Shown::Full;
    }
    if viewer.role == Role::Citizen {
        return match (person.role, on_their_order) {
            (Role::Citizen, _) | (_, false) => Shown::Hidden,
            _ => Shown::UnitOnly,
        };
    }
    if person.role == Role::Citizen {
        return if on_their_order {
            Shown::Masked
        } else {
            Shown::Hidden
        };
    }
    let same_department = match (&viewer.scope, person.department_id) {
        (Scope::Department { id, .. }, Some(d)) => *id == d,
        _ => false,
    };
    // A handler's scope is their department, not the region around it.
    let in_subtree = matches!(viewer.scope, Scope::Node(_))
        && person.node.as_ref().is_some_and(|n| viewer.reaches(n));
    if same_department || in_subtree || on_their_order {
        Shown::Full
    } else {
        Shown::Hidden
    }
}

/// May the actor reveal the reporter's phone of this order for a call-back (回访)? Dispatchers
/// of the centre holding it (or of a centre above, who may act for it).
pub fn can_reveal_reporter_contact(actor: &Actor, ev: &EventState) -> bool {
    actor.role == Role::Dispatcher && actor.reaches(&ev.centre)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> NodeCode {
        NodeCode::parse(s).unwrap()
    }

    #[test]
    fn phones_parse_and_mask() {
        let p = Phone::parse("+86 138-1234-5678").unwrap();
        assert_eq!(p.expose(), "13812345678");
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
        assert_eq!(p.to_string(), "138****5678");
        for bad in [
            "",
            "1381234567",
            "23812345678",
            "1381234567a",
            "138123456789",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(mask_phone("123"), "****");
    }

    #[test]
    fn emails_parse_and_mask() {
        let e = Email::parse("  Zhang.San+warn@Example.ORG ").unwrap();
        assert_eq!(e.as_str(), "Zhang.San+warn@example.org");
        assert_eq!(e.masked(), "Z***@example.org");
        for bad in [
            "",
            "@example.org",
            "name@",
            "name@localhost",
            "name@@example.org",
            "na me@example.org",
            "name@exa_mple.org",
            "name@example..org",
            "name@-example.org",
            ".name@example.org",
            "na..me@example.org",
            "名字@example.org",
            "a<b>@example.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.org", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn citizens_names_are_masked_to_their_first_character() {
        for (name, want) in [
            ("张三", "张*"),
            ("欧阳娜娜", "欧*"),
            (" 李 ", "李*"),
            ("", "*"),
            ("Ann", "A*"),
        ] {
            assert_eq!(mask_name(name), want);
        }
    }

    #[test]
    fn who_sees_whose_name() {
        let village = code("441502001001");
        let other_village = code("441502001002");
        let dispatcher = Actor {
            user_id: 1,
            role: Role::Dispatcher,
            scope: Scope::Node(village.clone()),
        };
        let handler = Actor {
            user_id: 2,
            role: Role::Handler,
            scope: Scope::Department {
                id: 7,
                region: code("441502000000"),
            },
        };
        let citizen = Actor {
            user_id: 3,
            role: Role::Citizen,
            scope: Scope::Own,
        };
        let worker_here = Person {
            id: 10,
            role: Role::GridWorker,
            node: Some(code("441502001001001")),
            department_id: None,
        };
        let dispatcher_there = Person {
            id: 11,
            role: Role::Dispatcher,
            node: Some(other_village.clone()),
            department_id: None,
        };
        let colleague = Person {
            id: 12,
            role: Role::Handler,
            node: Some(code("441502000000")),
            department_id: Some(7),
        };
        let a_citizen = Person {
            id: 13,
            role: Role::Citizen,
            node: None,
            department_id: None,
        };
        let me = Person {
            id: 3,
            role: Role::Citizen,
            node: None,
            department_id: None,
        };
        let table: &[(&Actor, &Person, bool, Shown)] = &[
            (&dispatcher, &worker_here, false, Shown::Full),
            (&dispatcher, &dispatcher_there, false, Shown::Hidden),
            (&dispatcher, &dispatcher_there, true, Shown::Full),
            (&dispatcher, &colleague, false, Shown::Hidden),
            (&dispatcher, &a_citizen, false, Shown::Hidden),
            (&dispatcher, &a_citizen, true, Shown::Masked),
            (&handler, &colleague, false, Shown::Full),
            (&handler, &worker_here, false, Shown::Hidden),
            (&handler, &worker_here, true, Shown::Full),
            (&citizen, &worker_here, true, Shown::UnitOnly),
            (&citizen, &worker_here, false, Shown::Hidden),
            (&citizen, &a_citizen, true, Shown::Hidden),
            (&citizen, &me, false, Shown::Full),
        ];
        for (viewer, person, on_order, want) in table {
            assert_eq!(
                shown(viewer, person, *on_order),
                *want,
                "{viewer:?} sees {person:?} ({on_order})"
            );
        }
    }
}
