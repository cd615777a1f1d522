//! A throwaway PostgreSQL cluster for tests and benchmarks (feature `postgres`): not part of the
//! crate's API.
//!
//! [`TempPostgres::start`] runs the installed PostgreSQL's `initdb` in a temporary directory (as
//! the unprivileged user `nobody` when run as root, since `initdb` refuses root), starts
//! `postgres` on 127.0.0.1 on a free port with its socket in that directory, and stops it and
//! removes the directory when dropped. Where the binaries are missing it prints a loud line
//! naming the package and what was not run, and returns `None`; with
//! `HEROHEALTH_REQUIRE_POSTGRES=1` (set by `.ci/run`) it panics instead.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

/// The environment variable that turns a missing PostgreSQL into a failure.
pub const REQUIRE: &str = "HEROHEALTH_REQUIRE_POSTGRES";

/// A running throwaway cluster; stopped and removed when dropped.
pub struct TempPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    runas: Option<String>,
    /// The server's `-o` options.
    options: String,
}

/// How a [`TempPostgres`] is started.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// `fsync` on (for measuring what a durable commit costs).
    pub durable: bool,
    /// TLS with this certificate and key (PEM files, copied into the cluster's directory).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// With TLS: connections without it are refused (`hostnossl ... reject`).
    pub tls_only: bool,
}

impl std::fmt::Debug for TempPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempPostgres")
            .field("port", &self.port)
            .finish()
    }
}

/// The directory of the installed PostgreSQL's server binaries (`HEROHEALTH_PG_BIN`, Debian's
/// `/usr/lib/postgresql/N/bin`, newest first, or `pg_config --bindir`).
pub fn binaries() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = std::env::var_os("HEROHEALTH_PG_BIN").map(PathBuf::from) {
        return has(&d).then_some(d);
    }
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|d| has(d))
        .collect();
    debian.sort_by_key(|d| {
        d.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(d) = debian.pop() {
        return Some(d);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    has(&d).then_some(d)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl TempPostgres {
    /// Starts a cluster, or returns `None` (after a loud line naming `what` was not run) when
    /// PostgreSQL is not installed; panics instead when [`REQUIRE`] is set.
    pub fn start(what: &str) -> Option<TempPostgres> {
        Self::start_with(what, false)
    }

    /// [`start`](Self::start), with `fsync` on (for measuring what a durable commit costs).
    pub fn start_with(what: &str, durable: bool) -> Option<TempPostgres> {
        Self::start_setup(
            what,
            Setup {
                durable,
                ..Setup::default()
            },
        )
    }

    /// [`start`](Self::start), set up as `setup` says.
    pub fn start_setup(what: &str, setup: Setup) -> Option<TempPostgres> {
        let Some(bin) = binaries() else {
            let line = format!(
                "!!!!! SKIPPED: {what}: the PostgreSQL server binaries (Debian package `postgresql`) are not installed, so this was NOT run !!!!!"
            );
            if std::env::var_os(REQUIRE).is_some_and(|v| v != "0" && !v.is_empty()) {
                panic!("{line} ({REQUIRE} is set: PostgreSQL tests must run)");
            }
            eprintln!("{line}");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("herohealth-pg-")
            .tempdir()
            .expect("a temporary directory");
        let runas = is_root().then(|| "nobody".to_owned());
        if runas.is_some() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let status = Command::new("chown")
                    .args(["-R", "nobody"])
                    .arg(dir.path())
                    .status()
                    .expect("chown");
                assert!(status.success(), "chown of the cluster's directory failed");
                std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
                    .expect("chmod");
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut pg = TempPostgres {
            dir,
            bin,
            port,
            runas,
            options: String::new(),
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().expect("a UTF-8 path"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync={} -c max_connections=200",
            pg.dir.path().to_str().expect("a UTF-8 path"),
            if setup.durable { "on" } else { "off" }
        );
        if let Some((cert, key)) = &setup.tls {
            let (to_cert, to_key) = (
                pg.dir.path().join("server.crt"),
                pg.dir.path().join("server.key"),
            );
            std::fs::copy(cert, &to_cert).expect("copy the certificate");
            std::fs::copy(key, &to_key).expect("copy the key");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&to_key, std::fs::Permissions::from_mode(0o600))
                    .expect("chmod the key");
            }
            if let Some(user) = &pg.runas {
                let status = Command::new("chown")
                    .arg(user)
                    .args([&to_cert, &to_key])
                    .status()
                    .expect("chown");
                assert!(status.success(), "chown of the certificate failed");
            }
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                to_cert.display(),
                to_key.display()
            ));
            if setup.tls_only {
                let hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n";
                std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
            }
        }
        pg.options = options;
        pg.pg_ctl("start");
        Some(pg)
    }

    /// Runs `pg_ctl ACTION` on the cluster (waiting for it), with the cluster's options.
    fn pg_ctl(&self, action: &str) {
        let data = self.data();
        let log = self.dir.path().join("log");
        let mut args = vec![
            "-D",
            data.to_str().expect("a UTF-8 path"),
            "-l",
            log.to_str().expect("a UTF-8 path"),
            "-o",
            &self.options,
            "-w",
            "-t",
            "60",
        ];
        if action == "restart" || action == "stop" {
            args.extend(["-m", "immediate"]);
        }
        args.push(action);
        self.run("pg_ctl", &args);
    }

    /// Stops the server at once (`pg_ctl restart -m immediate`: as a crash would) and starts it
    /// again; every connection is cut.
    pub fn restart_immediately(&self) {
        self.pg_ctl("restart");
    }

    /// Stops the server at once (`-m immediate`), until [`start_again`](Self::start_again).
    pub fn stop(&self) {
        self.pg_ctl("stop");
    }

    /// Starts the server stopped by [`stop`](Self::stop).
    pub fn start_again(&self) {
        self.pg_ctl("start");
    }

    /// Runs `sql` in database `db` with `psql` (as the superuser, over TCP without TLS unless the
    /// server requires it) and returns its output (unaligned, tuples only).
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-A",
                "-t",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                db,
            ])
            .args(["-p", &self.port.to_string(), "-c", sql])
            .env("LC_ALL", "C")
            .env("PGSSLMODE", "prefer")
            .output()
            .unwrap_or_else(|e| panic!("psql did not start: {e}"));
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Ends the server process `pid` as an administrator would (`pg_terminate_backend`): its
    /// client's connection is cut.
    pub fn terminate(&self, pid: i32) {
        let ended = self.psql("postgres", &format!("SELECT pg_terminate_backend({pid})"));
        assert_eq!(ended, "t", "the backend {pid} was not there to end");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = match &self.runas {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd
            .args(args)
            .env("LC_ALL", "C")
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{program} did not start: {e}"));
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A connection URL for a new, empty database of the cluster (each test its own), made
    /// with the installed `createdb`.
    pub fn database(&self, name: &str) -> String {
        let out = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-p",
                &self.port.to_string(),
                name,
            ])
            .env("LC_ALL", "C")
            .env("PGSSLMODE", "prefer")
            .output()
            .unwrap_or_else(|e| panic!("createdb did not start: {e}"));
        assert!(
            out.status.success(),
            "createdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let data = self.data();
        let stop = [
            "-D",
            data.to_str().unwrap_or_default(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ];
        let exe = self.bin.join("pg_ctl");
        let mut cmd = match &self.runas {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let _ = cmd.args(stop).output();
        std::thread::sleep(Duration::from_millis(50));
    }
}
