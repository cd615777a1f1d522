//! The console on a shared PostgreSQL journal (a throwaway cluster of the installed binaries,
//! loopback only): it shows and decides the rows of its own practice groups only, names a group
//! by its label (never by anything derived from its id), and never decides a row a worker holds.
//! Without the binaries each test prints a loud line and is not run (it fails instead when
//! `HEROHEALTH_REQUIRE_POSTGRES` is set, as `.ci/run` does).

mod console_support;

use console_support::{CSV, Client, serve, users};
use herohealth::{HeroClient, reqwest::StatusCode};
use herohealth_outbox::{
    Choice, Decision, Input, Journal, PgJournal, RowState, Status, console::Config,
    testing::TempPostgres,
};

/// The practice groups' ids (secrets, never on a page) and their keys, as the outbox keys them.
const RIVERSIDE: &str = "riverside-practice-group-id";
const HILLSIDE: &str = "hillside-practice-group-id";

fn key(id: &str) -> String {
    HeroClient::practice_group_key_of(id)
}

/// Queues [`CSV`] for the practice group `id` and makes the rows at `ambiguous` (indexes)
/// ambiguous, as a worker would; nothing stays held. Returns the journal and the run.
async fn queued(url: &str, id: &str, ambiguous: &[u64]) -> (PgJournal, u64) {
    let j = PgJournal::connect(url).await.unwrap();
    j.bind(&key(id)).await.unwrap();
    let input = Input::from_csv(CSV.as_bytes()).unwrap();
    j.open(&input).await.unwrap();
    let held = j.claim(10).await.unwrap();
    let run = held[0].run;
    for &i in ambiguous {
        let attempt = console_support::attempt(&input, i as usize);
        j.transition(run, i, Status::Pending, &RowState::InFlight { attempt })
            .await
            .unwrap();
        let to = RowState::Ambiguous {
            message_ids: vec![format!("48213{i:02}")],
            reason: "two messages to the patient in the window".into(),
        };
        j.transition(run, i, Status::InFlight, &to).await.unwrap();
    }
    j.release().await.unwrap();
    (j, run)
}

fn decision(csrf: &str, run: u64, line: u64) -> Vec<(String, String)> {
    [
        ("csrf", csrf.to_owned()),
        ("run", run.to_string()),
        ("line", line.to_string()),
        ("choice", "abandon".to_owned()),
        ("note", "rang the patient".to_owned()),
        ("confirm", "yes".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .to_vec()
}

async fn decide(c: &mut Client, csrf: &str, run: u64, line: u64) -> console_support::Answer {
    let form = decision(csrf, run, line);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post("decide", &form).await
}

/// No page shows a practice group's id or anything of its key.
fn no_group_id(page: &str) {
    for id in [RIVERSIDE, HILLSIDE] {
        assert!(!page.contains(id), "{page}");
        assert!(!page.contains(&key(id)[..8]), "a key's start: {page}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_shows_and_decides_its_own_practice_groups_rows_only() {
    let Some(pg) = TempPostgres::start("outbox/tests/console_postgres.rs groups") else {
        return;
    };
    let url = pg.database("groups");
    let (_ours, ours) = queued(&url, RIVERSIDE, &[2, 3]).await;
    let (theirs_journal, theirs) = queued(&url, HILLSIDE, &[2]).await;
    let console = PgJournal::connect(&url).await.unwrap();
    let base = serve::<PgJournal>(
        console,
        Config::new(users()).practice_group(key(RIVERSIDE), "Riverside Surgery"),
    )
    .await;
    let mut c = Client::new(&base);
    c.login().await;

    let runs = c.get("").await.body;
    assert!(runs.contains(&format!("id=\"run-{ours}\"")), "{runs}");
    assert!(!runs.contains(&format!("id=\"run-{theirs}\"")), "{runs}");
    assert!(runs.contains("<td class=\"group\">Riverside Surgery</td>"));
    no_group_id(&runs);
    let to_decide = c.get("decide").await.body;
    for line in [4, 5] {
        assert!(to_decide.contains(&format!("decide?run={ours}&amp;line={line}")));
    }
    assert!(
        !to_decide.contains(&format!("run={theirs}&amp;")),
        "{to_decide}"
    );
    let r = c.get(&format!("decide?run={theirs}&line=4")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Another group's row is not this console's to decide.
    let csrf = c.get("decide").await.csrf();
    let r = decide(&mut c, &csrf, theirs, 4).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let theirs_to_decide = || async {
        let rows = theirs_journal.to_decide().await.unwrap();
        rows.into_iter()
            .filter(|e| e.run == theirs)
            .collect::<Vec<_>>()
    };
    assert_eq!(theirs_to_decide().await.len(), 1, "not decided");
    let r = decide(&mut c, &csrf, ours, 4).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The other group decides its own row: this console's record does not show it.
    let row = &theirs_to_decide().await[0];
    let by = Decision::new(Choice::Abandon, "Grace Hopper", "their own").unwrap();
    theirs_journal
        .decide(row.run, row.index, &by)
        .await
        .unwrap();
    let record = c.get("decisions").await.body;
    assert_eq!(
        record.matches("<td class=\"choice\">").count(),
        1,
        "{record}"
    );
    assert!(!record.contains("Grace Hopper"));
    let csv = c.get("decisions.csv").await.body;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    no_group_id(&record);

    // A console for every group names each by its place in the journal.
    let all = serve::<PgJournal>(
        PgJournal::connect(&url).await.unwrap(),
        Config::new(users()),
    )
    .await;
    let mut c = Client::new(&all);
    c.login().await;
    let runs = c.get("").await.body;
    assert!(runs.contains(&format!("id=\"run-{theirs}\"")));
    assert!(runs.contains("<td class=\"group\">group 1</td>"), "{runs}");
    assert!(runs.contains("<td class=\"group\">group 2</td>"), "{runs}");
    no_group_id(&runs);
    drop(pg);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_a_worker_holds_is_never_decided_through_the_console() {
    let Some(pg) = TempPostgres::start("outbox/tests/console_postgres.rs leases") else {
        return;
    };
    let url = pg.database("leases");
    let (journal, run) = queued(&url, RIVERSIDE, &[2, 3]).await;
    // Row 3 (line 5) is ambiguous, and a worker's lease on it runs for an hour.
    pg.psql(
        "leases",
        &format!(
            "UPDATE outbox_rows SET claimed = true, lease_until = clock_timestamp() + interval '1 hour' WHERE run_id = {run} AND idx = 3"
        ),
    );
    // A worker holds the pending rows.
    let worker = PgJournal::connect(&url).await.unwrap();
    worker.bind(&key(RIVERSIDE)).await.unwrap();
    let held = worker.claim(10).await.unwrap();
    assert!(held.iter().any(|e| e.index == 6), "{held:?}");

    let base = serve::<PgJournal>(
        PgJournal::connect(&url).await.unwrap(),
        Config::new(users()).practice_group(key(RIVERSIDE), "Riverside Surgery"),
    )
    .await;
    let mut c = Client::new(&base);
    c.login().await;
    let csrf = c.get("decide").await.csrf();
    let r = decide(&mut c, &csrf, run, 5).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("held by a worker"), "{}", r.body);
    let r = decide(&mut c, &csrf, run, 8).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        journal.decisions().await.unwrap().is_empty(),
        "nothing recorded"
    );
    let entries = journal.entries().await.unwrap();
    assert_eq!(entries[3].state.status(), Status::Ambiguous);
    assert_eq!(entries[6].state.status(), Status::Pending);
    // The row no worker holds is decided.
    let r = decide(&mut c, &csrf, run, 4).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    drop(pg);
}
