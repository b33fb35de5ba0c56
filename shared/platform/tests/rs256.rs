//! RS256 tokens, as production deployments use them: the verifier holds
//! only the public key; tokens signed with any other key are refused.

use std::path::Path;
use std::time::Duration;

use twotier_platform::auth::{Role, load_key_material};
use twotier_platform::config::{EnvMap, Settings};
use twotier_platform::startup::Identity;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn verifier_with_only_the_public_key_accepts_its_pair_and_refuses_others() {
    let settings = Settings::load(&EnvMap::new(), "test").unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let signing = load_key_material(
        None,
        Some(&fixture("rs256-test-public.pem")),
        Some(&fixture("rs256-test-private.pem")),
        data_dir.path(),
    )
    .unwrap();
    let signer = Identity::from_keys(&signing, &settings)
        .unwrap()
        .minter
        .expect("private key configured");
    let verifying = load_key_material(
        None,
        Some(&fixture("rs256-test-public.pem")),
        None,
        data_dir.path(),
    )
    .unwrap();
    let verifier = Identity::from_keys(&verifying, &settings).unwrap();
    assert!(verifier.minter.is_none(), "a public key alone cannot mint");

    let token = signer
        .mint(
            "alice",
            "contoso",
            &[Role::GlobalAdmin],
            None,
            Duration::from_secs(60),
        )
        .unwrap();
    let caller = verifier
        .verifier
        .verify(&token)
        .expect("signed by the pair's private key");
    assert_eq!(caller.tenant_id, "contoso");

    let other_keys = load_key_material(
        None,
        Some(&fixture("rs256-test-public.pem")),
        Some(&fixture("rs256-other-private.pem")),
        data_dir.path(),
    )
    .unwrap();
    let forger = Identity::from_keys(&other_keys, &settings)
        .unwrap()
        .minter
        .unwrap();
    let forged = forger
        .mint(
            "alice",
            "contoso",
            &[Role::GlobalAdmin],
            None,
            Duration::from_secs(60),
        )
        .unwrap();
    assert!(
        verifier.verifier.verify(&forged).is_err(),
        "another private key does not verify"
    );

    // An HS256 token made with the public key as secret (algorithm confusion) is refused.
    let hs = twotier_platform::auth::KeyMaterial::Hs256 {
        secret: std::fs::read(fixture("rs256-test-public.pem")).unwrap(),
    };
    let confused = Identity::from_keys(&hs, &settings).unwrap().minter.unwrap();
    let confusion = confused
        .mint(
            "alice",
            "contoso",
            &[Role::GlobalAdmin],
            None,
            Duration::from_secs(60),
        )
        .unwrap();
    assert!(
        verifier.verifier.verify(&confusion).is_err(),
        "alg HS256 is refused by an RS256 verifier"
    );
}
