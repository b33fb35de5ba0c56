//! The processes of a whole system: one `twotier run --only <service>` per
//! service replica, each service on its own database, and a real SMTP
//! server; started, killed, terminated and restarted by the tests.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::process::{Child, Command};
use tonic::transport::Channel;
use twotier_testkit::{SmtpSink, TestDatabase, free_port};

/// The services, in start order (upstreams first).
pub const SERVICES: [&str; 4] = ["partnership", "customer", "subscription", "notification"];

/// One service process.
pub struct ServiceProcess {
    pub service: &'static str,
    pub port: u16,
    /// Port of its Prometheus endpoint.
    pub metrics_port: u16,
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

    /// What its Prometheus endpoint answers now (empty when it does not).
    pub async fn scrape(&self) -> String {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics_port);
        match reqwest::get(url).await {
            Ok(response) if response.status().is_success() => {
                response.text().await.unwrap_or_default()
            }
            _ => String::new(),
        }
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

    /// Waits until the process serves; panics with its log if it exits
    /// first (a port taken, a bad setting) rather than waiting out the
    /// deadline blind.
    pub async fn wait_serving(&mut self) {
        let serving = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            if self.health().await == Some(serving) {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "{} exited ({status}) before serving; its log:\n{}",
                    self.service,
                    self.log()
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after 120s waiting for {} serving; its log:\n{}",
                self.service,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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
            // Up to eight processes share one test PostgreSQL server (100
            // connections by default) with the tests running beside them:
            // at the default 16 per process a busy moment ran out of
            // connections ("too many clients").
            (
                "TWOTIER_DATABASE_MAX_CONNECTIONS".to_owned(),
                "6".to_owned(),
            ),
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
                let metrics_port = free_port();
                let mut env = shared.clone();
                env.push((
                    format!("TWOTIER_{}_LISTEN_ADDR", service.to_uppercase()),
                    format!("127.0.0.1:{port}"),
                ));
                env.push((
                    "TWOTIER_METRICS_ADDR".to_owned(),
                    format!("127.0.0.1:{metrics_port}"),
                ));
                let mut process = ServiceProcess {
                    service,
                    port,
                    metrics_port,
                    env,
                    log: dir.path().join(format!("{service}-{replica}.log")),
                    child: None,
                };
                process.spawn();
                processes.push(process);
            }
        }
        let mut system = Self {
            processes,
            databases,
            smtp,
            dir,
        };
        for process in &mut system.processes {
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
