//! `twotier.events.v1.DeadLetterService`: the events a consumer set aside,
//! listed and replayed by an operator.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use tonic::{Request, Response, Status};
use twotier_platform::auth::{Access, Caller, Role, Rule};
use twotier_platform::paging::{self, PageTokens};

const SERVICE: &str = "twotier.events.v1.DeadLetterService";
const OPERATOR: Access = Access::AnyOf(&[Role::PlatformOperator]);
use twotier_platform::time::{optional_timestamp, timestamp};
use twotier_platform::{Error, names};
use twotier_proto::events::dead_letter_service_server::{
    DeadLetterService, DeadLetterServiceServer,
};
use twotier_proto::events::{
    DeadLetter, DeadLetterState, EventEnvelope, GetDeadLetterRequest, ListDeadLettersRequest,
    ListDeadLettersResponse, ReplayDeadLetterRequest,
};

use crate::entity::dead_letter;
use crate::handler::EventHandler;

/// State of a dead letter waiting for an operator.
pub(crate) const PARKED: &str = "parked";
/// State of a dead letter whose replay succeeded.
const REPLAYED: &str = "replayed";
const NAME_PATTERN: [&str; 2] = ["deadLetters", "*"];

/// Lists and replays a service's dead letters, with the handler of each
/// upstream.
#[derive(Clone)]
pub struct DeadLetters {
    db: DatabaseConnection,
    handlers: Arc<HashMap<String, Arc<dyn EventHandler>>>,
    pages: PageTokens,
}

impl DeadLetters {
    /// Dead letters of `db`, replayed through `handlers` (by upstream name),
    /// listed with page tokens sealed by `pages`.
    pub fn new(
        db: DatabaseConnection,
        handlers: HashMap<String, Arc<dyn EventHandler>>,
        pages: PageTokens,
    ) -> Self {
        Self {
            db,
            handlers: Arc::new(handlers),
            pages,
        }
    }

    /// Dead letters are the platform operator's to inspect and replay.
    pub const RULES: &'static [Rule] = &[
        Rule::new(SERVICE, "ListDeadLetters", OPERATOR),
        Rule::new(SERVICE, "GetDeadLetter", OPERATOR),
        Rule::new(SERVICE, "ReplayDeadLetter", OPERATOR),
    ];

    /// The tonic service.
    pub fn into_service(self) -> DeadLetterServiceServer<Self> {
        DeadLetterServiceServer::new(self)
    }

    /// One page of dead letters, newest first, optionally in one `state`.
    async fn list(
        &self,
        state: Option<&str>,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<DeadLetter>, String), Error> {
        let filter = paging::fingerprint(&[state.unwrap_or("")]);
        let after: Option<String> = paging::decode_token(page_token, &filter)?;
        // Ids are UUIDv7, so descending ids are newest first.
        let mut query = dead_letter::Entity::find()
            .order_by_desc(dead_letter::Column::Id)
            .limit(page_size + 1);
        if let Some(state) = state {
            query = query.filter(dead_letter::Column::State.eq(state));
        }
        if let Some(after) = after {
            query = query.filter(dead_letter::Column::Id.lt(after));
        }
        let rows = twotier_platform::db::all(&self.db, query).await?;
        let (rows, token) = paging::finish_page(rows, page_size, &filter, |row| row.id.clone());
        Ok((rows.into_iter().map(to_proto).collect(), token))
    }

    async fn replay(&self, id: &str) -> Result<DeadLetter, Error> {
        let txn = self.db.begin().await?;
        let row = dead_letter::Entity::find_by_id(id.to_owned())
            .one(&txn)
            .await?
            .ok_or_else(not_found)?;
        // Claiming the row first makes concurrent replays of one dead letter
        // apply it once.
        let claimed = dead_letter::Entity::update_many()
            .col_expr(dead_letter::Column::State, Expr::value(REPLAYED))
            .col_expr(
                dead_letter::Column::ReplayedAt,
                Expr::value(Some(Utc::now())),
            )
            .filter(dead_letter::Column::Id.eq(id))
            .filter(dead_letter::Column::State.eq(PARKED))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            return Err(Error::FailedPrecondition {
                reason: "DEAD_LETTER_ALREADY_REPLAYED",
                message: format!("{} was already replayed", resource_name(id)),
            });
        }
        let handler = self
            .handlers
            .get(&row.upstream)
            .ok_or_else(|| Error::Internal(format!("no handler for upstream {}", row.upstream)))?;
        let envelope: EventEnvelope = prost::Message::decode(row.envelope.as_slice())
            .map_err(|e| Error::Internal(format!("stored envelope does not decode: {e}")))?;
        if let Err(error) = handler.handle(&txn, &envelope).await {
            if error.is_worth_retrying() {
                return Err(Error::Unavailable {
                    reason: "DATABASE_UNAVAILABLE",
                    message: "the database is unavailable; retry later".into(),
                });
            }
            return Err(Error::FailedPrecondition {
                reason: "REPLAY_FAILED",
                message: format!("the event still cannot be handled: {error}"),
            });
        }
        let subject = crate::audit::Subject {
            resource: &resource_name(id),
            request_id: "",
            opened: false,
        };
        crate::audit::record(&txn, &subject, "OK", "OK").await?;
        txn.commit().await?;
        tracing::info!(dead_letter = id, upstream = %row.upstream, position = row.position, "dead letter replayed");
        let replayed = dead_letter::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        Ok(to_proto(replayed))
    }
}

fn authorize<T>(request: &Request<T>) -> Result<(), Error> {
    Caller::of(request)?.require_any(&[Role::PlatformOperator])
}

fn not_found() -> Error {
    Error::NotFound {
        reason: "DEAD_LETTER_NOT_FOUND",
        message: "no such dead letter".into(),
    }
}

fn resource_name(id: &str) -> String {
    format!("deadLetters/{id}")
}

fn to_proto(row: dead_letter::Model) -> DeadLetter {
    let state = if row.state == REPLAYED {
        DeadLetterState::Replayed
    } else {
        DeadLetterState::Parked
    };
    DeadLetter {
        name: resource_name(&row.id),
        upstream: row.upstream,
        event: prost::Message::decode(row.envelope.as_slice()).ok(),
        error: row.error,
        attempts: u32::try_from(row.attempts).unwrap_or_default(),
        create_time: Some(timestamp(row.created_at)),
        state: state.into(),
        replay_time: optional_timestamp(row.replayed_at),
    }
}

#[tonic::async_trait]
impl DeadLetterService for DeadLetters {
    async fn list_dead_letters(
        &self,
        request: Request<ListDeadLettersRequest>,
    ) -> Result<Response<ListDeadLettersResponse>, Status> {
        authorize(&request)?;
        let tenant = Caller::of(&request)?.tenant_id.clone();
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size)?;
        let state = match DeadLetterState::try_from(request.state) {
            Ok(DeadLetterState::Unspecified) => None,
            Ok(DeadLetterState::Parked) => Some(PARKED),
            Ok(DeadLetterState::Replayed) => Some(REPLAYED),
            Err(_) => {
                return Err(
                    Error::invalid_field("INVALID_STATE", "state", "is not a known state").into(),
                );
            }
        };
        let (dead_letters, next_page_token) = self
            .pages
            .list::<ListDeadLettersRequest>(&tenant)
            .serve(&request.page_token, async |token| {
                self.list(state, page_size, token).await
            })
            .await?;
        Ok(Response::new(ListDeadLettersResponse {
            dead_letters,
            next_page_token,
        }))
    }

    async fn get_dead_letter(
        &self,
        request: Request<GetDeadLetterRequest>,
    ) -> Result<Response<DeadLetter>, Status> {
        authorize(&request)?;
        let [id] = names::require(&request.get_ref().name, &NAME_PATTERN, "name")?;
        let row = dead_letter::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await
            .map_err(Error::from)?
            .ok_or_else(not_found)?;
        Ok(Response::new(to_proto(row)))
    }

    async fn replay_dead_letter(
        &self,
        request: Request<ReplayDeadLetterRequest>,
    ) -> Result<Response<DeadLetter>, Status> {
        authorize(&request)?;
        let [id] = names::require(&request.get_ref().name, &NAME_PATTERN, "name")?;
        let replayed = self.replay(id).await;
        if let Err(error) = &replayed {
            let subject = crate::audit::Subject {
                resource: &resource_name(id),
                request_id: "",
                opened: false,
            };
            crate::audit::record_refusal(&self.db, &subject, error).await;
        }
        Ok(Response::new(replayed?))
    }
}
