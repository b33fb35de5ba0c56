//! Checks of input fields shared by every service. Each returns the
//! description of what is wrong, for a `BadRequest` field violation.

use std::sync::LazyLock;

use regex::Regex;

static TENANT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-z0-9][a-z0-9-]{0,62}$").expect("static regex"));
static PARTNER_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[0-9]{6,10}$").expect("static regex"));
static COUNTRY_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[A-Z]{2}$").expect("static regex"));
static REQUEST_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[A-Za-z0-9._:-]{1,64}$").expect("static regex"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
        .expect("static regex")
});

/// Languages twotier writes emails in.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

/// Result of one field check: `Err` holds the description of the problem.
pub type Check = Result<(), String>;

/// A tenant id: lowercase letters, digits and `-`, 1 to 63 characters.
pub fn tenant_id(value: &str) -> Check {
    if TENANT_ID.is_match(value) {
        return Ok(());
    }
    Err("must be 1 to 63 lowercase letters, digits or '-', starting with a letter or digit".into())
}

/// A PartnerID (MPN ID): 6 to 10 digits.
pub fn partner_id(value: &str) -> Check {
    if PARTNER_ID.is_match(value) {
        return Ok(());
    }
    Err("must be a PartnerID of 6 to 10 digits".into())
}

/// An email address of the usual `local@domain.tld` form, at most 254
/// characters.
pub fn email(value: &str) -> Check {
    if value.is_empty() {
        return Err("is required".into());
    }
    if value.len() <= 254 && EMAIL.is_match(value) {
        return Ok(());
    }
    Err("must be an email address like name@example.com".into())
}

/// An ISO 3166-1 alpha-2 country code in upper case.
pub fn country_code(value: &str) -> Check {
    if COUNTRY_CODE.is_match(value) {
        return Ok(());
    }
    Err("must be an ISO 3166-1 alpha-2 country code such as DE".into())
}

/// A supported language code (`en` or `de`).
pub fn language(value: &str) -> Check {
    if LANGUAGES.contains(&value) {
        return Ok(());
    }
    Err("must be one of: en, de".into())
}

/// The language a request asked for: empty means English.
pub fn language_or_default(language: &str) -> String {
    if language.is_empty() {
        return "en".to_owned();
    }
    language.to_owned()
}

/// Single-line text (names, subjects, address lines, phone numbers, ids,
/// filters) between `min` and `max` characters, without any control
/// character or line separator: a CR or LF smuggled into a name would start
/// a new line in an email header, a CSV export or a log record.
pub fn line(value: &str, min: usize, max: usize) -> Check {
    length(value, min, max)?;
    if value.chars().any(breaks_a_line) {
        return Err("must be a single line without control characters".into());
    }
    no_direction_override(value)
}

/// Multi-line text (email bodies) between `min` and `max` characters: line
/// breaks and tabs are allowed, other control characters are not.
pub fn text(value: &str, min: usize, max: usize) -> Check {
    length(value, min, max)?;
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters".into());
    }
    no_direction_override(value)
}

/// Whether `c` overrides the direction of the text after it (U+202D
/// left-to-right, U+202E right-to-left override): shown, it reverses what
/// follows, so `Invoice \u{202E}fdp.exe` reads as `Invoice exe.pdf`
/// (CVE-2021-42574, "Trojan Source"). Embeddings and isolates, which tools
/// put around mixed right-to-left and Latin names, reverse no letters.
pub fn overrides_direction(c: char) -> bool {
    matches!(c, '\u{202D}' | '\u{202E}')
}

fn no_direction_override(value: &str) -> Check {
    if value.chars().any(overrides_direction) {
        return Err("must not contain characters that override the direction of text".into());
    }
    Ok(())
}

/// Whether `c` shows as nothing at all: zero-width spaces, joiners and
/// marks, the word joiner and invisible operators, the byte order mark and
/// the soft hyphen. A value of these alone looks blank wherever it shows.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{34F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Whether `c` is a control character or a Unicode line or paragraph
/// separator (U+2028, U+2029), which some readers treat as a line break.
fn breaks_a_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

fn length(value: &str, min: usize, max: usize) -> Check {
    let length = value.chars().count();
    if length < min {
        return Err(if min == 1 {
            "is required".into()
        } else {
            format!("must have at least {min} characters")
        });
    }
    if length > max {
        return Err(format!("must have at most {max} characters"));
    }
    // A required name of spaces (or invisible characters) alone is as
    // missing as an empty one, and would show as a blank entry wherever it
    // is listed.
    if min > 0 && value.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err("must not be blank".into());
    }
    Ok(())
}

/// An optional idempotency key: empty, or up to 64 of `A-Za-z0-9._:-`.
pub fn request_id(value: &str) -> Check {
    if value.is_empty() || REQUEST_ID.is_match(value) {
        return Ok(());
    }
    Err("must be up to 64 letters, digits or . _ : -".into())
}

/// An absolute http(s) URI, or empty.
pub fn optional_web_uri(value: &str) -> Check {
    if value.is_empty() {
        return Ok(());
    }
    let valid = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 2048
        && !value.chars().any(|c| {
            // Joiners (U+200C, U+200D) may stand in an internationalised
            // host name (IDNA2008); nothing else invisible may.
            c.is_whitespace()
                || c.is_control()
                || (is_invisible(c) && !matches!(c, '\u{200C}' | '\u{200D}'))
        })
        && value
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty());
    if valid {
        return Ok(());
    }
    Err("must be an absolute http:// or https:// URI".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses_emails() {
        assert!(email("ops@contoso.example").is_ok());
        assert!(email("a.b+c@sub.example.de").is_ok());
        for bad in [
            "",
            "no-at.example",
            "a@b",
            "a@.example",
            "a b@example.com",
            "a@example..com",
        ] {
            assert!(email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn partner_ids_are_digits() {
        assert!(partner_id("1234567").is_ok());
        for bad in ["12345", "12345678901", "12a4567", ""] {
            assert!(partner_id(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn text_bounds_and_control_characters() {
        assert!(text("Fabrikam", 1, 200).is_ok());
        assert!(text("", 1, 200).is_err());
        assert!(text(&"x".repeat(201), 1, 200).is_err());
        assert!(text("bad\u{0}name", 1, 200).is_err());
        assert!(text("first line\r\nsecond line\tindented", 1, 200).is_ok());
    }

    #[test]
    fn a_required_value_of_spaces_alone_is_blank() {
        assert_eq!(line("   ", 1, 200), Err("must not be blank".into()));
        assert_eq!(
            line("\u{a0}\u{3000}", 1, 200),
            Err("must not be blank".into())
        );
        assert_eq!(text(" \n\t ", 1, 200), Err("must not be blank".into()));
        assert!(line(" Contoso ", 1, 200).is_ok());
        assert!(
            line("  ", 0, 200).is_ok(),
            "an optional value may be left blank"
        );
    }

    #[test]
    fn a_required_value_of_invisible_characters_alone_is_blank() {
        for blank in ["\u{200B}", "\u{2060}", "\u{FEFF} \u{200D}", "\u{AD}"] {
            assert_eq!(
                line(blank, 1, 200),
                Err("must not be blank".into()),
                "{blank:?}"
            );
        }
        assert!(
            line("Con\u{AD}toso", 1, 200).is_ok(),
            "a soft hyphen within a name"
        );
        assert!(
            line("\u{5e9}\u{5dc}\u{5d5}\u{5dd} \u{200F}Ltd", 1, 200).is_ok(),
            "right-to-left text"
        );
    }

    #[test]
    fn text_that_overrides_its_direction_is_refused() {
        // Isolates and embeddings, as tools put around mixed-direction
        // names, reverse no letters.
        for mixed in [
            "\u{2068}\u{5e9}\u{5dc}\u{5d5}\u{5dd}\u{2069} GmbH",
            "\u{202B}\u{5e9}\u{5dc}\u{5d5}\u{5dd}\u{202C} GmbH",
        ] {
            assert!(line(mixed, 1, 200).is_ok(), "{mixed:?}");
        }
        for bad in ["Invoice \u{202E}fdp.exe", "\u{202D}x"] {
            assert!(
                line(bad, 1, 200).unwrap_err().contains("direction"),
                "{bad:?}"
            );
            assert!(
                text(bad, 1, 200).unwrap_err().contains("direction"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn web_uris_refuse_control_and_invisible_characters() {
        assert!(optional_web_uri("https://contoso.example/partners").is_ok());
        assert!(optional_web_uri("").is_ok());
        for bad in [
            "https://contoso.example/\u{0}",
            "https://contoso.example/\u{7}",
            "https://contoso.example/\u{1b}[2J",
            "https://conto\u{200B}so.example/",
            "https://contoso.example/ x",
            "ftp://contoso.example/",
            "https://",
        ] {
            assert!(optional_web_uri(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn single_lines_refuse_every_line_break_and_control_character() {
        assert!(line("Contoso & Söhne 100% GmbH_", 1, 200).is_ok());
        assert!(line("", 0, 200).is_ok());
        assert!(line("", 1, 200).is_err());
        assert!(line(&"ü".repeat(200), 1, 200).is_ok());
        assert!(line(&"ü".repeat(201), 1, 200).is_err());
        for bad in [
            "Contoso\r\nBcc: victim@example.com",
            "Contoso\n",
            "\rContoso",
            "Con\ttoso",
            "Con\u{0}toso",
            "Con\u{7f}toso",
            "Con\u{85}toso",
            "Con\u{2028}toso",
            "Con\u{2029}toso",
        ] {
            let refused = line(bad, 1, 200).unwrap_err();
            assert!(refused.contains("single line"), "{bad:?}: {refused}");
        }
    }
}
