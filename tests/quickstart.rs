//! Promise 112: the quickstart (`examples/quickstart.rs`) refuses production, where it would
//! message real patients, and sends nothing there. The example is run as a user runs it
//! (`cargo run --example quickstart`) with Hero's variables set and every proxy variable pointing
//! at a loopback listener that counts connections: a request to Hero, production or staging, can
//! only reach the network through that listener. A staging run is the control: it does try to
//! reach Hero, so the listener sees it, which shows a production run that tried would be seen too.

use std::process::{Command, Output};

use herohealth_mock::raw::RawServer;

/// A loopback "proxy" (herohealth-mock's raw server) that counts the connections made to it and
/// closes each at once. It runs on `rt`'s worker threads while the test waits for the child.
fn counting_proxy(rt: &tokio::runtime::Runtime) -> RawServer {
    rt.block_on(RawServer::on_connect(|stream| async move { drop(stream) }))
}

/// `cargo run --example quickstart` with Hero's variables `vars` and every proxy at `proxy`.
fn quickstart(vars: &[(&str, &str)], proxy: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["run", "-q", "-p", "herohealth", "--example", "quickstart"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for var in [
        "HERO_API_KEY",
        "HERO_PRACTICE_GROUP_ID",
        "HERO_BASE_URL",
        "HERO_ENVIRONMENT",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, proxy);
    }
    cmd.env("HERO_API_KEY", "hero-quickstart-test-key")
        .env("HERO_PRACTICE_GROUP_ID", "practice-quickstart")
        // A staging test patient, so that only the refusal stands between the run and a request.
        .env("HERO_QUICKSTART_NHS_NUMBER", "943 476 5919")
        .env("HERO_QUICKSTART_DOB", "1955-06-02")
        .envs(vars.iter().copied());
    cmd.output().unwrap()
}

/// Breaking the refusal (the production check dropped, or comparing the wrong URL) lets the run go
/// on to register the patient: the listener counts a connection and the refusal is not printed.
#[test]
fn the_quickstart_refuses_production_and_sends_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let proxy = counting_proxy(&rt);
    for vars in [
        [("HERO_ENVIRONMENT", "production")],
        [("HERO_ENVIRONMENT", "PRODUCTION")],
        [("HERO_BASE_URL", herohealth::Environment::PRODUCTION_URL)],
    ] {
        let out = quickstart(&vars, proxy.url());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{vars:?}: the quickstart ran");
        assert!(
            stderr.contains("run it against staging, not production"),
            "{vars:?}: {stderr}"
        );
        assert_eq!(proxy.connections(), 0, "{vars:?}: a request left");
    }

    // The control: against staging the quickstart does try to reach Hero, through the listener.
    let out = quickstart(&[("HERO_ENVIRONMENT", "staging")], proxy.url());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "no Hero to reach here: {stderr}");
    assert!(!stderr.contains("not production"), "{stderr}");
    assert!(
        proxy.connections() > 0,
        "the staging run reached the listener: {stderr}"
    );
}
