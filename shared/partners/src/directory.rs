//! Questions a consuming service asks the projection.

use std::time::Duration;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use twotier_outbox::Freshness;
use twotier_platform::Error;
use twotier_platform::upstream::DEPENDENCY_UNAVAILABLE;

use crate::eligibility::Ineligible;
use crate::entity::{partner_partnership, partner_provider, partner_reseller};

/// How long a command waits for the projection to catch up with the
/// partnership service before it answers UNAVAILABLE.
const CATCH_UP: Duration = Duration::from_secs(3);

/// Why the directory gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The projection's database failed.
    #[error(transparent)]
    Database(#[from] DbErr),
    /// The projection does not know the answer and could not catch up with
    /// the partnership service (unreachable, or still behind at the
    /// deadline): a "no" now could be wrong, so the caller is told to retry
    /// rather than refused for good.
    #[error("the partnership service cannot confirm this right now; retry shortly")]
    Unconfirmed,
}

impl From<DirectoryError> for Error {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::Database(db) => db.into(),
            DirectoryError::Unconfirmed => Error::Unavailable {
                reason: DEPENDENCY_UNAVAILABLE,
                message: error.to_string(),
            },
        }
    }
}

/// An onboarded reseller as the projection knows it.
pub type ResellerEntry = partner_reseller::Model;

/// How a reseller a provider chooses stands right now (R24).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// An active partner of the provider that passes R3.
    Partner(ResellerEntry),
    /// Passes R3 but is no active partner of the provider.
    NotPartner(ResellerEntry),
    /// Fails R3, with `VerifyPartnerId`'s own failure.
    Ineligible(Ineligible),
}

/// The partner directory of one service database.
#[derive(Clone)]
pub struct PartnerDirectory {
    db: DatabaseConnection,
    freshness: Option<Freshness>,
}

impl PartnerDirectory {
    /// The directory in `db`; with `freshness`, answers that must be current
    /// wait until the projection has caught up with the partnership log
    /// (lookups of a reseller's contact or tenant only when they miss).
    pub fn new(db: DatabaseConnection, freshness: Option<Freshness>) -> Self {
        Self { db, freshness }
    }

    /// The reseller with `partner_id`, if onboarded.
    pub async fn reseller(
        &self,
        conn: &impl ConnectionTrait,
        partner_id: &str,
    ) -> Result<Option<ResellerEntry>, DbErr> {
        partner_reseller::Entity::find_by_id(partner_id.to_owned())
            .one(conn)
            .await
    }

    /// The reseller with `partner_id` as the partnership service has it
    /// now: read once the projection has caught up, so an address or
    /// language the operator changed a moment ago is the one an email about
    /// it goes to (R20, R21), as a reseller onboarded a moment ago is known.
    pub async fn current_reseller(
        &self,
        partner_id: &str,
    ) -> Result<Option<ResellerEntry>, DirectoryError> {
        self.catch_up().await?;
        Ok(self.reseller(&self.db, partner_id).await?)
    }

    /// The reseller whose admins carry `tenant_id` in their tokens.
    pub async fn reseller_of_tenant(
        &self,
        tenant_id: &str,
    ) -> Result<Option<ResellerEntry>, DirectoryError> {
        let found = self.find_by_tenant(tenant_id).await?;
        if found.is_some() {
            return Ok(found);
        }
        self.catch_up().await?;
        Ok(self.find_by_tenant(tenant_id).await?)
    }

    async fn find_by_tenant(&self, tenant_id: &str) -> Result<Option<ResellerEntry>, DbErr> {
        partner_reseller::Entity::find()
            .filter(partner_reseller::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
    }

    /// Whether the reseller `partner_id` is an active partner of
    /// `provider_id` right now: asked once the projection has caught up with
    /// the partnership service, so a partnership removed a moment ago is no
    /// longer one; when it cannot catch up, [`DirectoryError::Unconfirmed`].
    pub async fn is_active_partner(
        &self,
        provider_id: &str,
        partner_id: &str,
    ) -> Result<bool, DirectoryError> {
        self.catch_up().await?;
        Ok(self.partnership_active(provider_id, partner_id).await?)
    }

    /// R24: the reseller `partner_id` as `provider_id` may choose it now:
    /// first R3 (well-formed, onboarded, a location account with an active
    /// MPA), then the active partnership. Both are read once the projection
    /// has caught up with the partnership service, so "yes" is as fresh as
    /// "no": a reseller whose MPA lapsed or whose partnership was removed
    /// just before the call is refused, as `VerifyPartnerId` would refuse
    /// it. The reseller is read once: the partnership is a row of its own.
    pub async fn choose(
        &self,
        provider_id: &str,
        partner_id: &str,
    ) -> Result<Choice, DirectoryError> {
        if twotier_platform::validate::partner_id(partner_id).is_err() {
            return Ok(Choice::Ineligible(Ineligible::Malformed));
        }
        self.catch_up().await?;
        let Some(reseller) = self.reseller(&self.db, partner_id).await? else {
            return Ok(Choice::Ineligible(Ineligible::Unknown(
                partner_id.to_owned(),
            )));
        };
        if let Err(ineligible) = reseller.eligibility() {
            return Ok(Choice::Ineligible(ineligible));
        }
        Ok(if self.partnership_active(provider_id, partner_id).await? {
            Choice::Partner(reseller)
        } else {
            Choice::NotPartner(reseller)
        })
    }

    /// What emails and drafts call `provider_id`: its listing's display
    /// name, else its tenant id, as the projection in `conn` has it. It
    /// does not wait for the projection (so it may be read inside a unit of
    /// work): a name in a draft is no reason to hold or refuse a command,
    /// and the request that drafts it has just caught up to choose its
    /// reseller ([`PartnerDirectory::choose`]).
    pub async fn provider_display_name(
        &self,
        conn: &impl ConnectionTrait,
        provider_id: &str,
    ) -> Result<String, DbErr> {
        Ok(partner_provider::Entity::find_by_id(provider_id.to_owned())
            .one(conn)
            .await?
            .map_or_else(|| provider_id.to_owned(), |provider| provider.display_name))
    }

    async fn partnership_active(&self, provider_id: &str, partner_id: &str) -> Result<bool, DbErr> {
        Ok(
            partner_partnership::Entity::find_by_id((
                provider_id.to_owned(),
                partner_id.to_owned(),
            ))
            .filter(partner_partnership::Column::Active.eq(true))
            .one(&self.db)
            .await?
            .is_some(),
        )
    }

    /// Without a partnership log to follow (a directory built for tests),
    /// the projection is all there is and its answer stands.
    async fn catch_up(&self) -> Result<(), DirectoryError> {
        match &self.freshness {
            Some(freshness) if !freshness.catch_up(CATCH_UP).await => {
                Err(DirectoryError::Unconfirmed)
            }
            _ => Ok(()),
        }
    }
}
