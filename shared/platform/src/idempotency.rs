//! Safe retries of creates and purchases (AIP-155): the first response to a
//! `request_id` is stored in the command's own transaction and returned to
//! every retry; a retry with a different request is refused.
//!
//! Concurrent retries serialise on the key's primary key: the second insert
//! waits for the first transaction and then reads its stored response.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseTransaction};
use sha2::Digest;

use crate::error::Error;

/// Stored idempotency keys.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One request id's first response.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_key")]
    pub struct Model {
        /// The operation, e.g. `partnership.RequestPartnership`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        /// The caller's tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        /// The caller's request id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        /// Fingerprint of the request, to refuse a reused id.
        pub request_hash: String,
        /// The encoded response; empty until the command completes.
        pub response: Vec<u8>,
        /// When the key was first used.
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The idempotency key of one command.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    scope: &'static str,
    tenant_id: String,
    request_id: String,
    request_hash: String,
}

impl IdempotencyKey {
    /// The key of `request` for `tenant_id`, or `None` when the caller sent
    /// no request id.
    pub fn new(
        scope: &'static str,
        tenant_id: &str,
        request_id: &str,
        request: &impl prost::Message,
    ) -> Option<Self> {
        if request_id.is_empty() {
            return None;
        }
        let hash = sha2::Sha256::digest(request.encode_to_vec());
        Some(Self {
            scope,
            tenant_id: tenant_id.to_owned(),
            request_id: request_id.to_owned(),
            request_hash: URL_SAFE_NO_PAD.encode(hash),
        })
    }
}

impl IdempotencyKey {
    /// The caller's request id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// What a command should do with its idempotency key.
#[derive(Debug)]
pub enum Claim<R> {
    /// First use: do the work, then [`complete`] in the same transaction.
    Fresh,
    /// A retry: return this stored response and change nothing.
    Replay(R),
}

/// Claims `key` inside `txn`. Call before doing any work.
///
/// One statement in the common case: an insert that does nothing when the
/// key exists (a concurrent first attempt's uncommitted insert makes it
/// wait for that transaction, as the primary key would). Only then is the
/// stored response read.
pub async fn claim<R: prost::Message + Default>(
    txn: &DatabaseTransaction,
    key: Option<&IdempotencyKey>,
) -> Result<Claim<R>, Error> {
    use sea_orm::sea_query::OnConflict;
    let Some(key) = key else {
        return Ok(Claim::Fresh);
    };
    let row = entity::ActiveModel {
        scope: Set(key.scope.to_owned()),
        tenant_id: Set(key.tenant_id.clone()),
        request_id: Set(key.request_id.clone()),
        request_hash: Set(key.request_hash.clone()),
        response: Set(Vec::new()),
        created_at: Set(Utc::now()),
    };
    let inserted = entity::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                entity::Column::Scope,
                entity::Column::TenantId,
                entity::Column::RequestId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let stored = find(txn, key)
        .await?
        .ok_or_else(|| Error::Internal("idempotency key vanished after a conflict".into()))?;
    replay(key, stored)
}

/// The stored response to `key`, read outside any transaction: lets a
/// command answer a retry before doing slow checks. A concurrent first
/// attempt is still caught by [`claim`].
pub async fn peek<R: prost::Message + Default>(
    db: &impl ConnectionTrait,
    key: Option<&IdempotencyKey>,
) -> Result<Option<R>, Error> {
    let Some(key) = key else {
        return Ok(None);
    };
    let stored = entity::Entity::find_by_id((
        key.scope.to_owned(),
        key.tenant_id.clone(),
        key.request_id.clone(),
    ))
    .one(db)
    .await?;
    match stored {
        Some(stored) => match replay(key, stored)? {
            Claim::Replay(response) => Ok(Some(response)),
            Claim::Fresh => Ok(None),
        },
        None => Ok(None),
    }
}

/// Stores `response` as the answer to `key`, in the command's transaction.
pub async fn complete<R: prost::Message>(
    txn: &DatabaseTransaction,
    key: Option<&IdempotencyKey>,
    response: &R,
) -> Result<(), Error> {
    let Some(key) = key else {
        return Ok(());
    };
    entity::Entity::update_many()
        .col_expr(
            entity::Column::Response,
            Expr::value(response.encode_to_vec()),
        )
        .filter(entity::Column::Scope.eq(key.scope))
        .filter(entity::Column::TenantId.eq(&key.tenant_id))
        .filter(entity::Column::RequestId.eq(&key.request_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Deletes keys first used before `cutoff`; returns how many.
pub async fn prune(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let result = entity::Entity::delete_many()
        .filter(entity::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// How long a request id is remembered.
pub const RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Prunes keys older than [`RETENTION`] every hour until `shutdown`.
pub async fn prune_periodically(
    db: sea_orm::DatabaseConnection,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        let cutoff = Utc::now() - chrono::Duration::from_std(RETENTION).unwrap_or_default();
        match prune(&db, cutoff).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned expired idempotency keys"),
            Err(error) => tracing::warn!(%error, "pruning idempotency keys failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {},
        }
    }
}

async fn find(
    txn: &impl ConnectionTrait,
    key: &IdempotencyKey,
) -> Result<Option<entity::Model>, Error> {
    Ok(entity::Entity::find_by_id((
        key.scope.to_owned(),
        key.tenant_id.clone(),
        key.request_id.clone(),
    ))
    .one(txn)
    .await?)
}

fn replay<R: prost::Message + Default>(
    key: &IdempotencyKey,
    stored: entity::Model,
) -> Result<Claim<R>, Error> {
    if stored.request_hash != key.request_hash {
        return Err(Error::invalid_field(
            "REQUEST_ID_REUSED",
            "request_id",
            "was already used for a different request",
        ));
    }
    let response = R::decode(stored.response.as_slice())
        .map_err(|e| Error::Internal(format!("stored response does not decode: {e}")))?;
    Ok(Claim::Replay(response))
}

/// The migration creating the `idempotency_key` table; every service that
/// takes request ids lists it in its migrator.
pub mod migration {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    /// Creates `idempotency_key`.
    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000003_idempotency_key"
        }
    }

    #[derive(DeriveIden)]
    enum IdempotencyKey {
        Table,
        Scope,
        TenantId,
        RequestId,
        RequestHash,
        Response,
        CreatedAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(IdempotencyKey::Table)
                        .if_not_exists()
                        .col(string_len(IdempotencyKey::Scope, 100))
                        .col(string_len(IdempotencyKey::TenantId, 63))
                        .col(string_len(IdempotencyKey::RequestId, 64))
                        .col(string_len(IdempotencyKey::RequestHash, 64))
                        .col(blob(IdempotencyKey::Response))
                        .col(timestamp_with_time_zone(IdempotencyKey::CreatedAt))
                        .primary_key(
                            Index::create()
                                .col(IdempotencyKey::Scope)
                                .col(IdempotencyKey::TenantId)
                                .col(IdempotencyKey::RequestId),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name("idx_idempotency_key_created_at")
                        .table(IdempotencyKey::Table)
                        .col(IdempotencyKey::CreatedAt)
                        .to_owned(),
                )
                .await
        }
    }
}
