//! What the console's tests share: a journal with rows in every state (whose patient data no page
//! may show), the console served on loopback, and a user to log in as.
#![allow(dead_code)]

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc};

use herohealth::{
    SendAttempt,
    reqwest::{self, StatusCode, header::HeaderMap, redirect::Policy},
};
use herohealth_outbox::{
    Input, Journal, RowState, SqliteJournal, Status,
    console::{self, Config, LOGIN_COOKIE, SESSION_COOKIE, Users},
};

/// The user the tests log in as.
pub const USER: &str = "Ada Lovelace";
/// Their password.
pub const PASSWORD: &str = "correct horse battery staple";

/// The input: seven rows (lines 2 to 8), each a patient whose id, contact and text no page may show.
pub const CSV: &str = "patient_id,type,text,to\n\
77001001,sms,Zebedee Quenby your smear test is normal,07700900101\n\
77001002,sms,Florence Nightjar please book your review,07700900102\n\
77001003,email,Mavis Pennywhistle your results are ready,mavis.pennywhistle@example.org\n\
77001004,sms,Ignatius Cromwell-Bott your repeat prescription,07700900104\n\
77001005,sms,Philippa Thistlewood your flu jab,07700900105\n\
77001006,sms,Ottoline Marchbanks your blood test,07700900106\n\
77001007,sms,Cuthbert Applebottom your scan,07700900107\n";

/// Texts of the input no page may show (each row's patient id, name, contact and text).
pub fn patient_data() -> Vec<String> {
    let mut out = Vec::new();
    for line in CSV.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        out.push(fields[0].to_owned());
        out.push(fields[2].to_owned());
        out.push(fields[2].split(' ').next().unwrap().to_owned());
        out.push(fields[3].to_owned());
    }
    out
}

/// A candidate id with a message id's declared form, and one without (shaped like an NHS
/// number: it is shown masked).
/// Rows to decide in the journal of [`every_state`].
pub const AMBIGUOUS: usize = 3;

pub const CANDIDATE: &str = "4821337";
pub const ODD_CANDIDATE: &str = "9434765919";

pub fn attempt(input: &Input, index: usize) -> SendAttempt {
    let request = input.rows()[index].request().unwrap();
    let now = chrono::Utc::now();
    SendAttempt::new(&request, now, now + chrono::Duration::seconds(2))
}

/// Opens `journal` on the input and puts its rows in every state: line 2 sent, 3 failed, 4 and 5
/// ambiguous (to decide), 6 in flight, 7 pending, 8 ambiguous.
pub async fn every_state(journal: &impl Journal) {
    let input = Input::from_csv(CSV.as_bytes()).unwrap();
    journal.open(&input).await.unwrap();
    let go = |i: u64, to: RowState| async move {
        let attempt = attempt(&Input::from_csv(CSV.as_bytes()).unwrap(), i as usize);
        journal
            .transition(0, i, Status::Pending, &RowState::InFlight { attempt })
            .await
            .unwrap();
        if to.status() != Status::InFlight {
            journal
                .transition(0, i, Status::InFlight, &to)
                .await
                .unwrap();
        }
    };
    go(
        0,
        RowState::Sent {
            message_id: "4821001".into(),
        },
    )
    .await;
    journal
        .transition(
            0,
            1,
            Status::Pending,
            &RowState::Failed {
                reason: "Hero refused it: the patient has no mobile number (422)".into(),
            },
        )
        .await
        .unwrap();
    go(
        2,
        RowState::Ambiguous {
            message_ids: vec![CANDIDATE.into(), "4821338".into()],
            reason: "two messages to the patient in the window".into(),
        },
    )
    .await;
    go(
        3,
        RowState::Ambiguous {
            message_ids: vec![ODD_CANDIDATE.into()],
            reason: "a candidate whose text Hero did not give".into(),
        },
    )
    .await;
    go(
        6,
        RowState::Ambiguous {
            message_ids: vec![],
            reason: "Hero accepted it but never listed it".into(),
        },
    )
    .await;
    let attempt = attempt(&input, 4);
    journal
        .transition(0, 4, Status::Pending, &RowState::InFlight { attempt })
        .await
        .unwrap();
}

/// An SQLite journal in `dir` with rows in every state ([`every_state`]).
pub async fn sqlite_in_every_state(dir: &std::path::Path) -> SqliteJournal {
    let journal = SqliteJournal::open(dir.join("journal.db")).unwrap();
    every_state(&journal).await;
    journal
}

/// The users: [`USER`] with [`PASSWORD`].
pub fn users() -> Users {
    Users::new().with_password(USER, PASSWORD).unwrap()
}

/// The console over `journal`, served on 127.0.0.1 (a free port) with its clients' addresses:
/// its base URL (`http://127.0.0.1:PORT/`).
pub async fn serve<J: Journal>(journal: impl Into<Arc<J>>, config: Config) -> String {
    let app = console::router::<J>(journal, config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}/")
}

/// A client that keeps cookies by hand and never follows a redirect.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    /// Where a login leads (the runs page).
    pub home: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The first form's CSRF token on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field")
            + 19;
        self.body[at..at + 64].to_owned()
    }
}

pub fn encode(form: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
            home: "./".to_owned(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header("cookie", self.cookie_header())
        };
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        for v in headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = r.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(form));
        self.send(req).await
    }

    pub async fn try_login(&mut self, name: &str, password: &str) -> Answer {
        let form = self.get("login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post(
            "login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    pub async fn login(&mut self) {
        let r = self.try_login(USER, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), self.home);
        assert!(self.cookies.contains_key(SESSION_COOKIE));
        assert!(
            !self.cookies.contains_key(LOGIN_COOKIE),
            "the login token is used up"
        );
    }
}
