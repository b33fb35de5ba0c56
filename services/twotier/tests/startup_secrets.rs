//! Secrets at start-up: the process refuses to start with a secret that is
//! empty, short or readable by others, never prints a database password,
//! and creates its databases and secrets for its own user only (the mail
//! spool's modes are checked in the notification service's mail folder test).

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

fn twotier(args: &[&str], env: &[(&str, &str)], data_dir: &std::path::Path) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_twotier"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TWOTIER_DATA_DIR", data_dir)
        .env("RUST_LOG", "debug");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run twotier")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn empty_short_or_exposed_secrets_stop_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let exposed = dir.path().join("service-secret");
    std::fs::write(&exposed, "s".repeat(48)).unwrap();
    std::fs::set_permissions(&exposed, std::fs::Permissions::from_mode(0o644)).unwrap();
    let exposed = exposed.display().to_string();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("TWOTIER_JWT_HS256_SECRET", "")], "is empty"),
        (
            &[("TWOTIER_JWT_HS256_SECRET", "too-short-a-secret")],
            "at least 32 bytes",
        ),
        (
            &[("TWOTIER_SERVICE_TOKEN_SECRET", "also-short")],
            "at least 32 bytes",
        ),
        (
            &[("TWOTIER_SERVICE_TOKEN_SECRET_FILE", exposed.as_str())],
            "readable by group or others",
        ),
    ];
    for (env, says) in cases {
        let output = twotier(&["migrate"], env, &dir.path().join("data"));
        assert!(!output.status.success(), "{env:?} must not start");
        assert!(text(&output).contains(says), "{env:?}: {}", text(&output));
    }
}

#[test]
fn a_database_password_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let password = "hunter2-do-not-print";
    let url = format!("postgres://twotier_nobody:{password}@127.0.0.1:1/customer");
    let log = dir.path().join("twotier.log");
    let output = std::fs::File::create(&log).unwrap();
    // The database never answers: the service waits for it (alive, not
    // ready), logging its attempts, until it is stopped.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_twotier"))
        .args(["run", "--only", "customer"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TWOTIER_DATA_DIR", dir.path().join("data"))
        .env("RUST_LOG", "debug")
        .env("TWOTIER_DATABASE_URL", &url)
        .env("TWOTIER_CUSTOMER_LISTEN_ADDR", "127.0.0.1:0")
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .spawn()
        .unwrap();
    let printed = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(printed().contains("twotier_nobody:***@") && printed().contains("still unreachable")) {
        assert!(
            std::time::Instant::now() < deadline,
            "no banner and retries: {}",
            printed()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(!printed().contains(password), "the password was printed");
}

#[test]
fn databases_and_secrets_are_created_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = twotier(&["migrate"], &[], &data);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(mode(&data), 0o700, "the data directory");
    for service in ["partnership", "customer", "subscription", "notification"] {
        let db = data.join(format!("{service}.db"));
        assert_eq!(mode(&db), 0o600, "{}", db.display());
        for companion in ["-wal", "-shm"] {
            let file = data.join(format!("{service}.db{companion}"));
            if file.exists() {
                assert_eq!(mode(&file), 0o600, "{}", file.display());
            }
        }
    }
    for secret in ["dev-jwt-secret", "dev-service-secret"] {
        assert_eq!(mode(&data.join(secret)), 0o600, "{secret}");
    }
}
