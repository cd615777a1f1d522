//! The `herohealth-mock` binary (feature `cli`): `cargo test -p herohealth-mock --features cli`.

#[test]
fn the_binary_documents_every_option() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herohealth-mock"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--host",
        "--port",
        "--api-key",
        "--seed-sent-messages",
        "--time-scale",
        "--default-page-size",
        "--max-page-size",
        "--count",
        "--fault",
        "--rate-limit",
        "--list-delay",
    ] {
        assert!(
            help.contains(option),
            "--help does not mention {option}:\n{help}"
        );
    }
}
