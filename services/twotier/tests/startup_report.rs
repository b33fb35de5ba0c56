//! What `twotier run` tells an operator at start: the addresses really
//! bound (port 0 becomes the port the kernel chose, the metrics endpoint's
//! too), how to get a token, and every `TWOTIER_*` variable nothing read
//! (a typo).

use std::time::{Duration, Instant};

#[test]
fn the_banner_shows_bound_addresses_and_unknown_variables_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("twotier.log");
    let output = std::fs::File::create(&log).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_twotier"))
        .args(["run", "--only", "partnership"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TWOTIER_DATA_DIR", dir.path().join("data"))
        .env("TWOTIER_PARTNERSHIP_LISTEN_ADDR", "127.0.0.1:0")
        .env("TWOTIER_METRICS_ADDR", "127.0.0.1:0")
        .env("TWOTIER_REQEUST_TIMEOUT", "1s")
        .env("TWOTIER_PARTNERSHIP_INVITATION_TTL", "2d")
        .env("RUST_LOG", "warn")
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .spawn()
        .unwrap();
    let printed = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !printed().contains("TWOTIER_REQEUST_TIMEOUT") {
        assert!(
            Instant::now() < deadline,
            "no report of the typo: {}",
            printed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let printed = printed();
    let bound = printed
        .lines()
        .find(|line| line.trim_start().starts_with("partnership"))
        .expect("a banner line for the partnership service");
    assert!(bound.contains("grpc://127.0.0.1:"), "{bound}");
    assert!(
        !bound.contains("127.0.0.1:0 "),
        "the real port, not 0: {bound}"
    );
    let metrics = printed
        .lines()
        .find(|line| line.trim_start().starts_with("metrics"))
        .expect("a banner line for the metrics endpoint");
    assert!(
        metrics.contains("http://127.0.0.1:") && !metrics.contains("127.0.0.1:0/"),
        "the real metrics address: {metrics}"
    );
    assert!(printed.contains("token --tenant contoso --role GlobalAdmin"));
    assert!(
        !printed.contains("TWOTIER_PARTNERSHIP_INVITATION_TTL"),
        "a service's own setting is known: {printed}"
    );
}
