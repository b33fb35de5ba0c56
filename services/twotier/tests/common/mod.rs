//! A whole twotier system as separate processes (`twotier run --only
//! <service>`), each service on its own database, with a real SMTP server:
//! what the fault-injection tests kill, cut and restart.

#![allow(dead_code, unused_imports)]

pub mod in_process;
pub mod workload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tokio::process::{Child, Command};
use tonic::transport::Channel;
use twotier_testkit::{SmtpSink, TestDatabase};

/// The services, in start order (upstreams first).
pub const SERVICES: [&str; 4] = ["partnership", "customer", "subscription", "notification"];

/// One service process.
pub struct ServiceProcess {
    pub service: &'static str,
    pub port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl ServiceProcess {
    /// Starts (or restarts) the process.
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("process log");
        let child = Command::new(env!("CARGO_BIN_EXE_twotier"))
            .args(["run", "--only", self.service])
            .envs(self.env.iter().cloned())
            .stdout(Stdio::from(log.try_clone().expect("log handle")))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn twotier");
        self.child = Some(child);
    }

    /// SIGKILL: no chance to clean up.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// SIGTERM: the graceful way.
    pub fn terminate(&self) {
        if let Some(pid) = self.child.as_ref().and_then(Child::id) {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }

    /// Waits up to `timeout` for the process to exit; its exit status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let status = tokio::time::timeout(timeout, child.wait()).await.ok()?.ok();
        self.child = None;
        status
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn channel(&self) -> Channel {
        twotier_testkit::channel(&self.endpoint())
    }

    /// The health status reported for the whole server, if it answers.
    pub async fn health(&self) -> Option<i32> {
        let mut client = tonic_health::pb::health_client::HealthClient::new(self.channel());
        let request = tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        };
        let response = tokio::time::timeout(Duration::from_secs(2), client.check(request))
            .await
            .ok()?
            .ok()?;
        Some(response.into_inner().status)
    }

    pub async fn wait_serving(&self) {
        let serving = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
        twotier_testkit::wait_until(
            &format!("{} serving", self.service),
            Duration::from_secs(120),
            || async { self.health().await == Some(serving) },
        )
        .await;
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The whole system.
pub struct System {
    pub processes: Vec<ServiceProcess>,
    pub databases: BTreeMap<&'static str, TestDatabase>,
    pub smtp: SmtpSink,
    pub dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl System {
    /// Starts `replicas` processes of every service and waits until all serve.
    pub async fn start(replicas: usize) -> Self {
        Self::start_with(replicas, &[]).await
    }

    /// [`System::start`] with `extra` environment for every process.
    pub async fn start_with(replicas: usize, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let smtp = SmtpSink::start(dir.path()).await;
        let mut databases = BTreeMap::new();
        for service in SERVICES {
            databases.insert(service, TestDatabase::new(service).await);
        }
        let ports: BTreeMap<(&str, usize), u16> = SERVICES
            .iter()
            .flat_map(|s| (0..replicas).map(move |r| ((*s, r), free_port())))
            .collect();
        let mut shared = vec![
            (
                "TWOTIER_JWT_HS256_SECRET".to_owned(),
                twotier_testkit::SECRET.to_owned(),
            ),
            (
                "TWOTIER_SERVICE_TOKEN_SECRET".to_owned(),
                twotier_testkit::SERVICE_SECRET.to_owned(),
            ),
            (
                "TWOTIER_DATA_DIR".to_owned(),
                dir.path().display().to_string(),
            ),
            (
                "TWOTIER_OUTBOX_POLL_INTERVAL".to_owned(),
                "200ms".to_owned(),
            ),
            ("TWOTIER_SHUTDOWN_GRACE".to_owned(), "3s".to_owned()),
            ("TWOTIER_SMTP_HOST".to_owned(), "127.0.0.1".to_owned()),
            ("TWOTIER_SMTP_PORT".to_owned(), smtp.port().to_string()),
            ("TWOTIER_SMTP_TLS".to_owned(), "none".to_owned()),
            (
                "TWOTIER_MAIL_RETRY_MAX_BACKOFF".to_owned(),
                "300ms".to_owned(),
            ),
            ("TWOTIER_MAIL_POLL_INTERVAL".to_owned(), "100ms".to_owned()),
            ("TWOTIER_MAIL_LEASE".to_owned(), "2s".to_owned()),
            ("RUST_LOG".to_owned(), "warn".to_owned()),
        ];
        shared.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        for service in SERVICES {
            let upper = service.to_uppercase();
            shared.push((
                format!("TWOTIER_{upper}_DATABASE_URL"),
                databases[service].url.clone(),
            ));
            shared.push((
                format!("TWOTIER_{upper}_ENDPOINT"),
                format!("http://127.0.0.1:{}", ports[&(service, 0)]),
            ));
        }
        let mut processes = Vec::new();
        for service in SERVICES {
            for replica in 0..replicas {
                let port = ports[&(service, replica)];
                let mut env = shared.clone();
                env.push((
                    format!("TWOTIER_{}_LISTEN_ADDR", service.to_uppercase()),
                    format!("127.0.0.1:{port}"),
                ));
                let mut process = ServiceProcess {
                    service,
                    port,
                    env,
                    log: dir.path().join(format!("{service}-{replica}.log")),
                    child: None,
                };
                process.spawn();
                processes.push(process);
            }
        }
        let system = Self {
            processes,
            databases,
            smtp,
            dir,
        };
        for process in &system.processes {
            process.wait_serving().await;
        }
        system
    }

    /// The replicas of `service`.
    pub fn replicas(&self, service: &str) -> Vec<&ServiceProcess> {
        self.processes
            .iter()
            .filter(|p| p.service == service)
            .collect()
    }

    /// A channel to replica `n` (modulo the count) of `service`.
    pub fn channel(&self, service: &str, n: usize) -> Channel {
        let replicas = self.replicas(service);
        replicas[n % replicas.len()].channel()
    }

    /// A connection to `service`'s database.
    pub async fn db(&self, service: &str) -> DatabaseConnection {
        twotier_platform::db::connect(&self.databases[service].url, 2)
            .await
            .expect("connect")
    }
}

/// `SELECT count(*)` of `sql` (a FROM/WHERE clause) in `db`.
pub async fn count(db: &DatabaseConnection, from_where: &str) -> i64 {
    scalar(db, &format!("SELECT COUNT(*) AS n FROM {from_where}")).await
}

/// A single i64 `n` selected by `sql`.
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

/// `(provider_id, partner_id)` pairs selected by `sql`, sorted.
pub async fn pairs(db: &DatabaseConnection, sql: &str) -> Vec<(String, String)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("pairs");
    let mut pairs: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "provider_id").unwrap(),
                r.try_get("", "partner_id").unwrap(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

/// Checks, once the system has settled, that `items` workload items left
/// exactly their effects everywhere, and prints what it counted.
pub async fn verify(system: &System, items: usize) {
    let items = i64::try_from(items).unwrap();
    let expected_emails = 4 * items;
    let notification_db = system.db("notification").await;
    let settled = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let recorded = count(&notification_db, "notification").await;
            let unsent = count(&notification_db, "notification WHERE status <> 'sent'").await;
            if recorded >= expected_emails && unsent == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    if settled.is_err() {
        let recorded = count(&notification_db, "notification").await;
        let pending = count(&notification_db, "notification WHERE status = 'pending'").await;
        let failed = count(&notification_db, "notification WHERE status = 'failed'").await;
        let logs: Vec<String> = system
            .processes
            .iter()
            .map(|p| format!("--- {}\n{}", p.service, tail(&p.log(), 40)))
            .collect();
        panic!(
            "notifications did not settle: {recorded} recorded, {pending} pending, {failed} failed, of {expected_emails} expected\n{}",
            logs.join("\n")
        );
    }

    let partnership_db = system.db("partnership").await;
    let customer_db = system.db("customer").await;
    let subscription_db = system.db("subscription").await;
    let source = pairs(
        &partnership_db,
        "SELECT provider_id, partner_id FROM partnership WHERE state = 'active'",
    )
    .await;
    let report = std::cell::RefCell::new(Vec::new());
    let check = |what: &str, actual: i64, expected: i64| {
        report.borrow_mut().push(format!("{what}: {actual}"));
        assert_eq!(actual, expected, "{what}");
    };
    check(
        "resellers onboarded",
        count(&partnership_db, "reseller").await,
        items,
    );
    check(
        "partnerships active",
        i64::try_from(source.len()).unwrap(),
        items,
    );
    check(
        "invitations accepted",
        count(&partnership_db, "invitation WHERE state = 'accepted'").await,
        items,
    );
    check("customers", count(&customer_db, "customer").await, items);
    check(
        "delegated admin relationships",
        count(&customer_db, "delegated_admin").await,
        items,
    );
    check(
        "customer agreements",
        count(&customer_db, "customer_agreement").await,
        items,
    );
    check(
        "orders",
        count(&subscription_db, "purchase_order").await,
        items,
    );
    check(
        "subscriptions",
        count(&subscription_db, "subscription").await,
        items,
    );
    check(
        "subscriptions at the final quantity",
        count(
            &subscription_db,
            &format!("subscription WHERE quantity = {}", workload::FINAL_QUANTITY),
        )
        .await,
        items,
    );
    for (db, name) in [
        (&customer_db, "customer"),
        (&subscription_db, "subscription"),
    ] {
        let projected = pairs(
            db,
            "SELECT provider_id, partner_id FROM partner_partnership WHERE active",
        )
        .await;
        assert_eq!(
            projected, source,
            "the {name} service's partner projection matches the partnership service"
        );
        report.borrow_mut().push(format!(
            "{name} projection: {} active partners, equal to the source",
            projected.len()
        ));
    }
    for template in [
        "partnership_accepted",
        "customer_created_for_reseller",
        "order_placed",
        "order_placed_reseller",
    ] {
        check(
            &format!("emails {template}"),
            count(
                &notification_db,
                &format!("notification WHERE template = '{template}'"),
            )
            .await,
            items,
        );
    }
    for (db, name) in [
        (&customer_db, "customer"),
        (&subscription_db, "subscription"),
        (&notification_db, "notification"),
    ] {
        check(
            &format!("dead letters in {name}"),
            count(db, "dead_letter").await,
            0,
        );
    }
    let received = system.smtp.messages();
    let mut message_ids: Vec<String> = received
        .iter()
        .filter_map(|raw| mail_parser::MessageParser::default().parse(raw))
        .filter_map(|m| m.message_id().map(str::to_owned))
        .collect();
    let raw_count = message_ids.len();
    message_ids.sort();
    message_ids.dedup();
    check(
        "distinct emails received by SMTP",
        i64::try_from(message_ids.len()).unwrap(),
        expected_emails,
    );
    report.borrow_mut().push(format!(
        "SMTP deliveries including resends after a crash mid-send: {raw_count}"
    ));
    println!("checked:\n  {}", report.borrow().join("\n  "));
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
