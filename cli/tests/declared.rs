//! Issue 34, shown only when declared, for `hero`: every command that prints what Hero answered,
//! in every `--format`, with `-v` and `-vv`, against answers built from `openapi.yaml` with
//! patient data in the shapes in every declared field and header; `send --attach` with a
//! path that names the patient; `webhooks listen` with a seed in every envelope field. None of
//! the patient data is in stdout or stderr. (The library's side: `tests/declared.rs`.)

#[path = "../../tests/support/corpus.rs"]
mod corpus;
mod support;

use std::{
    collections::HashMap,
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

const KEY: &str = "hero-declared-cli-test-key";
const PRACTICE: &str = "practice-declared-cli";

/// Answers each operation's request with its seeded answer (by method and path template).
struct Answers(HashMap<&'static str, (u16, serde_json::Value)>);

impl Respond for Answers {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path: Vec<&str> = request.url.path().trim_matches('/').split('/').collect();
        let op = herohealth::spec::OPERATIONS.iter().find(|op| {
            let template: Vec<&str> = op.path.trim_matches('/').split('/').collect();
            op.method == request.method.as_str()
                && template.len() == path.len()
                && template
                    .iter()
                    .zip(&path)
                    .all(|(t, p)| t.starts_with('{') || t == p)
        });
        let mut answer = match op.and_then(|op| self.0.get(op.id)) {
            Some((status, body)) => ResponseTemplate::new(*status).set_body_json(body),
            None => ResponseTemplate::new(204),
        };
        for (name, value) in corpus::HEADERS {
            answer = answer.insert_header(*name, *value);
        }
        answer
    }
}

fn all(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_prints_seeded_patient_data_in_any_format_or_verbosity() {
    let spec = corpus::spec();
    let mut seeder = corpus::Seeder::new(&spec);
    let mut answers = HashMap::new();
    for op in herohealth::spec::OPERATIONS {
        if let Some(answer) = seeder.answer(op.id) {
            answers.insert(op.id, answer);
        }
    }
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Answers(answers))
        .mount(&server)
        .await;

    let dir = std::env::temp_dir().join("hero-declared-Zebedee_Quenby_19550602");
    let missing = dir.join("Zebedee_Quenby_9434765919_smear_result.pdf");
    let missing = missing.to_string_lossy().into_owned();
    let send = [
        "messages",
        "send",
        "--patient-id",
        "98765",
        "--type",
        "sms",
        "--text",
        "hi",
    ];
    let commands: Vec<Vec<&str>> = vec![
        send.to_vec(),
        [&send[..], &["--wait", "--timeout", "1"]].concat(),
        [&send[..], &["--attach", &missing]].concat(),
        vec!["messages", "get", "1"],
        vec!["messages", "status", "1"],
        vec!["messages", "status", "1", "--wait", "--timeout", "1"],
        vec!["sent", "list"],
        vec!["batch", "list"],
        vec!["batch", "get", "42"],
        vec!["batch", "recipients", "42"],
        vec!["batch", "sends", "42"],
        vec!["batch", "failures", "42"],
        vec!["templates", "list"],
        vec!["assignees", "list"],
        vec!["snomed", "validate", "1240751000000100"],
        vec![
            "patients",
            "register-pds",
            "--nhs-number",
            "9434765870",
            "--dob",
            "1992-01-01",
        ],
        vec!["webhooks", "list"],
    ];
    let mut ran = 0;
    for command in &commands {
        for format in ["table", "json", "ndjson", "csv"] {
            for verbose in [&[][..], &["-v"][..], &["-vv"][..]] {
                let args: Vec<&str> = [&["--format", format][..], verbose, command].concat();
                let out = support::hero_at(server.uri(), KEY, PRACTICE, &args).await;
                let text = all(&out);
                assert!(
                    corpus::leak(&text).is_none(),
                    "hero {args:?}: {:?} in\n{text}",
                    corpus::leak(&text)
                );
                if command[..] == ["batch", "get", "42"] && format == "json" {
                    // The seeded rows were read and printed, masked.
                    assert!(text.contains(herohealth::REDACTED), "{text}");
                }
                ran += 1;
            }
        }
    }
    assert_eq!(ran, commands.len() * 12);
    // The file given to --attach is named by its option, never by its path.
    let out = support::hero_at(
        server.uri(),
        KEY,
        PRACTICE,
        &[&send[..], &["--attach", &missing]].concat(),
    )
    .await;
    assert!(
        all(&out).contains("the file given to --attach"),
        "{}",
        all(&out)
    );
}

#[test]
fn webhooks_listen_prints_no_envelope_field_it_does_not_declare() {
    use herohealth::webhooks::{SignatureEncoding, SigningKey, sign};
    let key_text = "whsec-declared-test-signing-key";
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("hero"))
        .env_clear()
        .args([
            "-vv",
            "webhooks",
            "listen",
            "--port",
            "0",
            "--signing-key",
            key_text,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let etx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (utx, url) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                let _ = utx.send(u.trim_end_matches(':').to_owned());
            }
            let _ = etx.send(line);
        }
    });
    let url = url
        .recv_timeout(Duration::from_secs(60))
        .expect("listen's address");
    let key: SigningKey = key_text.parse().unwrap();
    let http = reqwest_blocking(&url);
    let envelopes = corpus::envelopes();
    for envelope in &envelopes {
        let body = serde_json::to_string(envelope).unwrap();
        let ts = chrono::Utc::now().timestamp().to_string();
        let sig = sign(&key, &ts, body.as_bytes(), SignatureEncoding::Hex);
        http(ts, sig, body);
    }
    let mut printed = Vec::new();
    // One line on stdout (an event) or stderr (a refusal) per delivery, at least.
    while printed.len() < envelopes.len() {
        printed.push(
            lines
                .recv_timeout(Duration::from_secs(60))
                .expect("a line per delivery"),
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = printed.join("\n");
    assert!(
        corpus::leak(&text).is_none(),
        "{:?} in\n{text}",
        corpus::leak(&text)
    );
    assert!(
        text.contains("appointment.confirmed"),
        "declared values print: {text}"
    );
}

/// POSTs one delivery to `url`, signed.
fn reqwest_blocking(url: &str) -> impl Fn(String, String, String) {
    let url = url.to_owned();
    move |ts, sig, body| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            herohealth::reqwest::Client::new()
                .post(&url)
                .header("x-herohealth-timestamp", ts)
                .header("x-herohealth-signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
        });
    }
}

/// A PostgreSQL URL is a database whatever its scheme's case: its password is never printed, and
/// it is never read as a file name (was: `POSTGRESQL://...` opened as a file and shown in the
/// error, password included).
#[test]
fn a_journal_url_with_its_scheme_in_capitals_is_never_shown() {
    for scheme in ["POSTGRESQL", "Postgres", "postgreSQL"] {
        let url = format!("{scheme}://hero:pw-zq81-never-shown@127.0.0.1:1/hero?sslmode=bogus");
        for args in [
            vec!["outbox", "status", "--journal", url.as_str()],
            vec!["outbox", "decisions", "--journal", url.as_str()],
        ] {
            let out = support::hero_offline(&args);
            let printed = all(&out);
            assert_ne!(support::code(&out), 0, "{printed}");
            assert!(!printed.contains("pw-zq81"), "{args:?}: {printed}");
        }
        // send-many opens a file journal at a path it may create: a URL must not be one.
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("rows.csv");
        std::fs::write(&csv, "patient_id,type,text\n3001,sms,Hi\n").unwrap();
        let env = support::env_for("http://127.0.0.1:1", KEY, PRACTICE);
        let args = [
            "messages",
            "send-many",
            "--from",
            csv.to_str().unwrap(),
            "--journal",
            &url,
        ];
        let out = support::hero_env(&env, &args);
        let printed = all(&out);
        assert_ne!(support::code(&out), 0, "{printed}");
        assert!(!printed.contains("pw-zq81"), "send-many: {printed}");
    }
}

/// Every file a user gives `hero` is named by its option, never by its path: a path is what the
/// user typed, and may name a patient. Each command that takes a file, given one whose directory
/// and name hold patient data, in each way it can fail (missing, unreadable as what it should
/// be, held by another run, made from another input), prints none of it, and says which option.
#[test]
fn no_file_a_user_gives_is_named_by_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Zebedee_Quenby_9434765919");
    std::fs::create_dir(&dir).unwrap();
    let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let missing = at("Zebedee_Quenby_9434765919_smear_result.pdf");
    let absent_dir = dir
        .join("quenby_19550602")
        .join("Zebedee_Quenby.db")
        .to_string_lossy()
        .into_owned();
    let csv = at("Zebedee_Quenby_9434765919_recall.csv");
    std::fs::write(&csv, "patient_id,type,text\n3001,sms,Hi\n").unwrap();
    let other_csv = at("Zebedee_Quenby_9434765919_other.csv");
    std::fs::write(&other_csv, "patient_id,type,text\n3002,sms,Hello\n").unwrap();
    let not_a_key = at("Zebedee_Quenby_9434765919.key");
    std::fs::write(&not_a_key, " \n").unwrap();
    let journal = at("Zebedee_Quenby_9434765919.db");
    let held = at("Zebedee_Quenby_9434765919_held.db");
    let _holder = herohealth_outbox::SqliteJournal::open(&held).unwrap();

    let mock = [&["--mock"][..]].concat();
    let users = [
        ("HERO_CONSOLE_USER".to_owned(), "Ada".to_owned()),
        (
            "HERO_CONSOLE_PASSWORD".to_owned(),
            "correct horse battery".to_owned(),
        ),
    ];
    let send_many = |from: &str, journal: &str| -> Vec<String> {
        [
            "--mock",
            "messages",
            "send-many",
            "--from",
            from,
            "--journal",
            journal,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    // The journal made from `csv`, so that `other_csv` is another input.
    let out = support::hero_offline(
        &send_many(&csv, &journal)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(support::code(&out), 0, "{}", all(&out));

    // The command line, its environment, and the option that names the file.
    type Case<'a> = (Vec<String>, &'a [(String, String)], &'a str);
    let cases: Vec<Case> = vec![
        (send_many(&missing, &journal), &[], "--from"),
        (send_many(&csv, &absent_dir), &[], "--journal"),
        (send_many(&csv, &held), &[], "--journal"),
        (send_many(&other_csv, &journal), &[], "--journal"),
        (
            ["outbox", "status", "--journal", &missing]
                .map(str::to_owned)
                .to_vec(),
            &[],
            "--journal",
        ),
        (
            ["outbox", "decisions", "--journal", &absent_dir]
                .map(str::to_owned)
                .to_vec(),
            &[],
            "--journal",
        ),
        (
            [
                "outbox",
                "decide",
                "--journal",
                &missing,
                "--line",
                "1",
                "--abandon",
                "--by",
                "Ada",
                "--note",
                "unreachable",
            ]
            .map(str::to_owned)
            .to_vec(),
            &[],
            "--journal",
        ),
        (
            [
                "outbox",
                "serve",
                "--journal",
                &missing,
                "--users",
                &missing,
            ]
            .map(str::to_owned)
            .to_vec(),
            &[],
            "--users",
        ),
        (
            [
                "outbox",
                "serve",
                "--journal",
                &missing,
                "--users",
                &not_a_key,
            ]
            .map(str::to_owned)
            .to_vec(),
            &[],
            "--users",
        ),
        (
            ["outbox", "serve", "--journal", &missing]
                .map(str::to_owned)
                .to_vec(),
            &users,
            "--journal",
        ),
        (
            [
                "webhooks",
                "listen",
                "--port",
                "0",
                "--signing-key-file",
                &missing,
            ]
            .map(str::to_owned)
            .to_vec(),
            &[],
            "--signing-key-file",
        ),
        (
            [
                "webhooks",
                "listen",
                "--port",
                "0",
                "--signing-key-file",
                &not_a_key,
            ]
            .map(str::to_owned)
            .to_vec(),
            &[],
            "--signing-key-file",
        ),
        (
            [
                "webhooks",
                "listen",
                "--port",
                "0",
                "--signing-key",
                "whsec-declared-test-signing-key",
                "--seen-log",
                &absent_dir,
            ]
            .map(str::to_owned)
            .to_vec(),
            &[],
            "--seen-log",
        ),
        (
            [
                &mock[..],
                &[
                    "messages",
                    "send",
                    "--patient-id",
                    "98765",
                    "--type",
                    "sms",
                    "--text",
                    "hi",
                    "--attach",
                    &missing,
                ],
            ]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect(),
            &[],
            "--attach",
        ),
    ];
    for (args, env, option) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = support::hero_env(env, &args);
        let printed = all(&out);
        assert_ne!(support::code(&out), 0, "hero {args:?}: {printed}");
        assert!(
            corpus::leak(&printed).is_none(),
            "hero {args:?}: {:?} in\n{printed}",
            corpus::leak(&printed)
        );
        assert!(
            printed.contains(&format!("the file given to {option}")),
            "hero {args:?} names {option}: {printed}"
        );
    }
}
