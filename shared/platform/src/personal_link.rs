//! A personal link: a token sent to one person that works once. It is
//! pending until it is accepted (once), revoked by whoever issued it, or it
//! expires; expiry is never stored, the clock alone decides it. A
//! provider's invitation of a reseller (R4, R5) and its request to a
//! customer's admin for a reseller relationship (R22) are both such links;
//! each service names its own refusals (`From<LinkRefusal>`).

use chrono::{DateTime, Utc};

/// Where a link stands at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Open: may be accepted, revoked or sent.
    Pending,
    /// Used by the person it was sent to.
    Accepted,
    /// Withdrawn by its issuer.
    Revoked,
    /// Never used before its time ran out.
    Expired,
}

impl LinkState {
    /// The state in a sentence ("the invitation is ...").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// How a link was closed for good; `A` is what its acceptance recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed<A> {
    /// Accepted at `at`.
    Accepted {
        /// When.
        at: DateTime<Utc>,
        /// What the acceptance recorded (the partnership it created, the
        /// admin who accepted).
        acceptance: A,
    },
    /// Revoked by its issuer at `at`.
    Revoked {
        /// When.
        at: DateTime<Utc>,
    },
}

/// Why a link cannot be used, revoked or sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Its time ran out.
    Expired,
    /// Its issuer withdrew it.
    Revoked,
    /// It was accepted already.
    AlreadyUsed,
    /// Only a pending link may be revoked or sent; it is in this state.
    NotPending(&'static str),
    /// An email for it must carry its exact link.
    LinkMissing,
    /// An email's subject must not carry its token: only the body is
    /// sealed before it is stored, so a token there would rest in tables.
    TokenInSubject,
}

/// What a personal link is made of: when it expires and how it was closed.
/// The rules over them are the provided methods.
pub trait PersonalLink {
    /// What an acceptance records.
    type Acceptance;

    /// From this instant on, a pending link is expired.
    fn expires_at(&self) -> DateTime<Utc>;

    /// How it was closed, if it was.
    fn closed(&self) -> Option<&Closed<Self::Acceptance>>;

    /// The state at `now`.
    fn state_at(&self, now: DateTime<Utc>) -> LinkState {
        match self.closed() {
            Some(Closed::Accepted { .. }) => LinkState::Accepted,
            Some(Closed::Revoked { .. }) => LinkState::Revoked,
            None if now >= self.expires_at() => LinkState::Expired,
            None => LinkState::Pending,
        }
    }

    /// Whether the token may still be used at `now` (R5): why not for a
    /// revoked, used or expired link.
    fn check_usable(&self, now: DateTime<Utc>) -> Result<(), LinkRefusal> {
        match self.state_at(now) {
            LinkState::Pending => Ok(()),
            LinkState::Revoked => Err(LinkRefusal::Revoked),
            LinkState::Accepted => Err(LinkRefusal::AlreadyUsed),
            LinkState::Expired => Err(LinkRefusal::Expired),
        }
    }

    /// Only a pending link may be revoked or sent.
    fn require_pending(&self, now: DateTime<Utc>) -> Result<(), LinkRefusal> {
        match self.state_at(now) {
            LinkState::Pending => Ok(()),
            state => Err(LinkRefusal::NotPending(state.as_str())),
        }
    }

    /// How the link closes when its issuer revokes it at `now`; only a
    /// pending one.
    fn revocation(&self, now: DateTime<Utc>) -> Result<Closed<Self::Acceptance>, LinkRefusal> {
        self.require_pending(now)?;
        Ok(Closed::Revoked { at: now })
    }

    /// R4, R22: whether an email with `body` may go out at `now` for this
    /// link, whose URL is `link`: only while it is pending, and only with
    /// the exact link in the body.
    fn check_email(&self, now: DateTime<Utc>, body: &str, link: &str) -> Result<(), LinkRefusal> {
        self.require_pending(now)?;
        if !holds_link(body, link) {
            return Err(LinkRefusal::LinkMissing);
        }
        Ok(())
    }

    /// When it was accepted and what that recorded, if it was.
    fn acceptance(&self) -> Option<(DateTime<Utc>, &Self::Acceptance)> {
        match self.closed() {
            Some(Closed::Accepted { at, acceptance }) => Some((*at, acceptance)),
            _ => None,
        }
    }

    /// When it was revoked, if it was.
    fn revoked_at(&self) -> Option<DateTime<Utc>> {
        match self.closed() {
            Some(Closed::Revoked { at }) => Some(*at),
            _ => None,
        }
    }
}

/// R4, R22: the subject of an email for the link with `token` must not
/// hold the token (nor the link around it): the link belongs in the body,
/// which alone is sealed before the email is stored.
pub fn check_subject(subject: &str, token: &str) -> Result<(), LinkRefusal> {
    if !token.is_empty() && subject.contains(token) {
        return Err(LinkRefusal::TokenInSubject);
    }
    Ok(())
}

/// Whether `body` holds `link` whole: somewhere a mail reader takes it as
/// a link of its own, not run on into characters it would take as more of
/// the link (`{link}abc` opens `token=...abc`, a token nobody issued) nor
/// inside another address (`https://elsewhere.example/?u={link}`).
fn holds_link(body: &str, link: &str) -> bool {
    body.match_indices(link)
        .any(|(at, _)| starts_a_link(&body[..at]) && ends_a_link(&body[at + link.len()..]))
}

/// Whether a link preceded by `before` starts where it should: at the
/// start, after whitespace, markup (`<p>`, `**`), a quote, bracket or colon,
/// or a symbol outside ASCII (an arrow), and not within a word that is
/// itself an address (`https://elsewhere.example/x:{link}`, `mail@x:{link}`),
/// where a mail reader opens that address instead.
fn starts_a_link(before: &str) -> bool {
    let Some(last) = before.chars().next_back() else {
        return true;
    };
    let apart = last.is_whitespace()
        || "<>\"'([{*_:".contains(last)
        || (!last.is_ascii() && !last.is_alphanumeric());
    if !apart {
        return false;
    }
    let word = before
        .rsplit(|c: char| c.is_whitespace() || "<>\"'".contains(c))
        .next()
        .unwrap_or_default();
    !(word.contains("://") || word.contains("www.") || word.contains('@'))
}

/// Whether a link followed by `rest` ends where it should: after the
/// punctuation that may close a sentence or markup (which mail readers
/// leave out of a link), at the end, at whitespace, or at a closing quote,
/// bracket or tag. Anything else may be read as more of the link
/// (`{link}abc` or `{link}é` open `token=...abc`, a token nobody issued;
/// `{link}.html` or `{link}&utm=1` another address).
fn ends_a_link(rest: &str) -> bool {
    rest.trim_start_matches(|c| ".,;:!?*".contains(c))
        .chars()
        .next()
        .is_none_or(|c| c.is_whitespace() || "<>\"')]}".contains(c))
}

/// The link its recipient opens to accept: `base` with the token appended.
pub fn link(base: &str, token: &str) -> String {
    format!("{base}?token={token}")
}

/// How a link's state is stored: a state column plus the instants and the
/// acceptance it closed with. Expiry is not stored but decided by time.
pub mod stored {
    use chrono::{DateTime, Utc};

    use super::Closed;

    /// Not closed (it may have expired since).
    pub const PENDING: &str = "pending";
    /// Closed by its acceptance.
    pub const ACCEPTED: &str = "accepted";
    /// Closed by its issuer.
    pub const REVOKED: &str = "revoked";

    /// The stored state of a link closed as `closed`.
    pub fn state<A>(closed: Option<&Closed<A>>) -> &'static str {
        match closed {
            None => PENDING,
            Some(Closed::Accepted { .. }) => ACCEPTED,
            Some(Closed::Revoked { .. }) => REVOKED,
        }
    }

    /// The columns a link stored as closed records.
    #[derive(Debug)]
    pub struct Columns<A> {
        /// The stored state.
        pub state: String,
        /// When it was accepted, if it was.
        pub accepted_at: Option<DateTime<Utc>>,
        /// What its acceptance recorded, if it was accepted.
        pub acceptance: Option<A>,
        /// When it was revoked, if it was.
        pub revoked_at: Option<DateTime<Utc>>,
        /// When it was made: stands in for an instant a row lacks.
        pub created_at: DateTime<Utc>,
    }

    /// How a link stored with `columns` was closed, if it was.
    pub fn closed<A: Default>(columns: Columns<A>) -> Option<Closed<A>> {
        match columns.state.as_str() {
            ACCEPTED => Some(Closed::Accepted {
                at: columns.accepted_at.unwrap_or(columns.created_at),
                acceptance: columns.acceptance.unwrap_or_default(),
            }),
            REVOKED => Some(Closed::Revoked {
                at: columns.revoked_at.unwrap_or(columns.created_at),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    struct Link {
        expires_at: DateTime<Utc>,
        closed: Option<Closed<String>>,
    }

    impl PersonalLink for Link {
        type Acceptance = String;

        fn expires_at(&self) -> DateTime<Utc> {
            self.expires_at
        }

        fn closed(&self) -> Option<&Closed<String>> {
            self.closed.as_ref()
        }
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::minutes(minutes)
    }

    fn open_until(minutes: i64) -> Link {
        Link {
            expires_at: at(minutes),
            closed: None,
        }
    }

    #[test]
    fn a_link_is_pending_until_the_instant_it_expires() {
        let link = open_until(10);
        assert_eq!(link.state_at(at(9)), LinkState::Pending);
        assert_eq!(link.state_at(at(10)), LinkState::Expired);
        assert_eq!(link.check_usable(at(10)), Err(LinkRefusal::Expired));
    }

    #[test]
    fn a_closed_link_stays_closed_whatever_the_clock_says() {
        let accepted = Link {
            closed: Some(Closed::Accepted {
                at: at(1),
                acceptance: "carla".into(),
            }),
            ..open_until(10)
        };
        assert_eq!(accepted.state_at(at(20)), LinkState::Accepted);
        assert_eq!(accepted.check_usable(at(2)), Err(LinkRefusal::AlreadyUsed));
        assert_eq!(accepted.acceptance(), Some((at(1), &"carla".to_owned())));
        let revoked = Link {
            closed: Some(Closed::Revoked { at: at(3) }),
            ..open_until(10)
        };
        assert_eq!(revoked.check_usable(at(4)), Err(LinkRefusal::Revoked));
        assert_eq!(revoked.revoked_at(), Some(at(3)));
        assert_eq!(
            revoked.revocation(at(4)),
            Err(LinkRefusal::NotPending("revoked"))
        );
    }

    #[test]
    fn only_a_pending_link_is_revoked_or_sent_and_only_with_its_exact_link() {
        let link = open_until(10);
        assert_eq!(link.revocation(at(5)), Ok(Closed::Revoked { at: at(5) }));
        let url = super::link("https://x.example/accept", "t0k3n");
        assert_eq!(url, "https://x.example/accept?token=t0k3n");
        assert_eq!(
            link.check_email(at(5), &format!("open {url}"), &url),
            Ok(())
        );
        assert_eq!(
            link.check_email(at(5), "open it", &url),
            Err(LinkRefusal::LinkMissing)
        );
        for whole in [
            url.clone(),
            format!("open\n{url}\n\nthanks"),
            format!("open <{url}> or ({url})"),
            format!("open {url}."),
            format!("open {url}, then sign"),
            format!("{url}x and again {url}"),
            format!("Link:{url}"),
            format!("<p>Accept here:</p><p>{url}</p>"),
            format!("<a href=\"{url}\">accept</a>"),
            format!("\u{2192}{url}"),
            format!("**{url}**"),
            format!("{url}!!"),
            format!("open {url}. Thanks"),
        ] {
            assert_eq!(link.check_email(at(5), &whole, &url), Ok(()), "{whole}");
        }
        for run_on in [
            format!("open {url}x"),
            format!("open {url}-2"),
            format!("open {url}.x"),
            format!("open {url}&utm=1"),
            format!("open {url}/"),
            format!("open https://elsewhere.example/?u={url}"),
            format!("open x{url}"),
            format!("open {url}{url}"),
            format!("open {url}.html"),
            format!("open {url}_2"),
            format!("open {url}!x"),
            format!("open https://elsewhere.example/{url}"),
            format!("open https://elsewhere.example/go!{url}"),
            format!("open https://elsewhere.example/x:{url}"),
            format!("open https://elsewhere.example/x;{url}"),
            format!("open {url}\u{fc}"),
            format!("open {url}.\u{e9}"),
            format!("open {url}|x"),
            format!("open {url}^x"),
            format!("open caf\u{e9}{url}"),
        ] {
            assert_eq!(
                link.check_email(at(5), &run_on, &url),
                Err(LinkRefusal::LinkMissing),
                "{run_on}"
            );
        }
        assert_eq!(
            link.check_email(at(11), &url, &url),
            Err(LinkRefusal::NotPending("expired"))
        );
    }

    #[test]
    fn a_subject_holding_the_token_is_refused() {
        let url = super::link("https://x.example/accept", "t0k3n");
        assert_eq!(check_subject("Join us", "t0k3n"), Ok(()));
        assert_eq!(
            check_subject(&format!("Join us: {url}"), "t0k3n"),
            Err(LinkRefusal::TokenInSubject)
        );
        assert_eq!(
            check_subject("code t0k3n", "t0k3n"),
            Err(LinkRefusal::TokenInSubject)
        );
    }

    #[test]
    fn a_closed_link_reads_back_as_it_was_stored() {
        let accepted = Closed::Accepted {
            at: at(2),
            acceptance: "partnership-1".to_owned(),
        };
        for closed in [None, Some(accepted), Some(Closed::Revoked { at: at(3) })] {
            let columns = stored::Columns {
                state: stored::state(closed.as_ref()).to_owned(),
                accepted_at: Some(at(2)),
                acceptance: Some("partnership-1".to_owned()),
                revoked_at: Some(at(3)),
                created_at: at(0),
            };
            assert_eq!(stored::closed(columns), closed);
        }
    }
}
