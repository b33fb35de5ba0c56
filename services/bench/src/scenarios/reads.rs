//! Reads: one partnership, list pages of a small and a big table.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use twotier_platform::auth::{Bearer, Role};
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;

use crate::driver::{Measurement, drive};
use crate::system::System;

use super::*;

/// A partnership read: `GetPartnership` (auth, tracing, a primary-key
/// lookup).
pub async fn partnership_read(
    clients: &Clients,
    workers: usize,
    duration: Duration,
) -> Result<Measurement, Error> {
    let (tenant, token) = invitation_for(clients, 0, "read").await?;
    let partnership = clients
        .reseller(&tenant)
        .accept_invitation(ppb::AcceptInvitationRequest { token })
        .await?
        .into_inner();
    let client = clients.provider_partnerships.clone();
    Ok(drive(
        "partnership read (GetPartnership)",
        workers,
        duration,
        None,
        move |_, _| {
            let mut client = client.clone();
            let name = partnership.name.clone();
            async move {
                client
                    .get_partnership(ppb::GetPartnershipRequest { name })
                    .await
                    .map(|_| ())
                    .map_err(status)
            }
        },
    )
    .await)
}

/// `ListIndirectResellers`, first page or one starting at 90 % of the list,
/// for a provider with `rows` partnerships seeded directly.
pub async fn list(
    system: &System,
    clients: &Clients,
    rows: usize,
    deep: bool,
    workers: usize,
    duration: Duration,
) -> Result<Measurement, Error> {
    let provider = format!("list-{rows}");
    let token = Bearer::new(&system.token("bench", &provider, &[Role::GlobalAdmin]));
    let client =
        PartnershipServiceClient::with_interceptor(System::channel(system.partnership), token);
    let page_token = if deep {
        let at = rows * 9 / 10;
        let fingerprint = twotier_platform::paging::fingerprint(&[&provider, ""]);
        let inner = twotier_platform::paging::encode_token(
            &(company_key(&provider, at), partner_id(rows, at)),
            &fingerprint,
        );
        // Sealed as the service would have sealed it for this provider.
        twotier_platform::paging::PageTokens::of(&system.identity)
            .list::<ppb::ListIndirectResellersRequest>(&provider)
            .seal(&inner)
    } else {
        String::new()
    };
    let name = format!(
        "list {} page, {} partnerships",
        if deep { "deep" } else { "first" },
        rows
    );
    let _ = clients;
    Ok(drive(&name, workers, duration, None, move |_, _| {
        let mut client = client.clone();
        let request = ppb::ListIndirectResellersRequest {
            parent: format!("providers/{provider}"),
            page_size: 50,
            page_token: page_token.clone(),
            company_name_filter: String::new(),
        };
        async move {
            let page = client
                .list_indirect_resellers(request)
                .await
                .map_err(status)?
                .into_inner();
            if page.indirect_resellers.len() != 50 {
                return Err(format!("short page: {}", page.indirect_resellers.len()));
            }
            Ok(())
        }
    })
    .await)
}

fn company_key(provider: &str, i: usize) -> String {
    format!("{provider} reseller {i:08}")
}

fn partner_id(rows: usize, i: usize) -> String {
    let base: usize = if rows == 1_000 {
        2_000_000_000
    } else {
        1_000_000_000
    };
    format!("{}", base + i)
}

/// Inserts `rows` resellers and active partnerships for provider
/// `list-<rows>` straight into the partnership database.
pub async fn seed_partnerships(db: &DatabaseConnection, rows: usize) -> Result<(), Error> {
    let provider = format!("list-{rows}");
    let base = partner_id(rows, 0);
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let numbers = if postgres {
        format!("SELECT generate_series(0, {}) AS i", rows - 1)
    } else {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) SELECT i FROM n",
            rows - 1
        )
    };
    let pad = if postgres {
        "lpad(i::text, 8, '0')"
    } else {
        "substr('00000000' || i, -8, 8)"
    };
    let id = if postgres {
        format!("({base}::bigint + i)::text")
    } else {
        format!("CAST({base} + i AS TEXT)")
    };
    let now = if postgres {
        "now()"
    } else {
        "'2026-11-25 00:00:00+00:00'"
    };
    let bool_false = if postgres { "false" } else { "0" };
    let bool_true = if postgres { "true" } else { "1" };
    db.execute_unprepared(&format!(
        "INSERT INTO reseller (partner_id, tenant_id, company_name, contact_email, country_code, preferred_language, account_kind, mpa_active, created_at, updated_at, version) \
         SELECT {id}, '{provider}-t-' || {id}, '{provider} reseller ' || {pad}, 'a@b.example', 'DE', 'en', 'location', {bool_true}, {now}, {now}, 1 FROM ({numbers}) AS numbers"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO partnership (id, provider_id, partner_id, state, company_name, company_name_key, invitation_id, accepted_at, accepted_by, state_changed_at, removed_at, removed_by, attested_good_faith, attested_legitimate_purpose, attested_per_agreements, attested_indemnifies_platform, version) \
         SELECT '{provider}-' || {pad}, '{provider}', {id}, 'active', '{provider} reseller ' || {pad}, '{provider} reseller ' || {pad}, 'seeded', {now}, 'bench', {now}, NULL, NULL, {bool_false}, {bool_false}, {bool_false}, {bool_false}, 1 FROM ({numbers}) AS numbers"
    ))
    .await?;
    if postgres {
        db.execute_unprepared("ANALYZE partnership; ANALYZE reseller")
            .await?;
    }
    Ok(())
}
