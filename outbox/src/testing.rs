//! A local PostgreSQL cluster of the installed binaries, for tests, benchmarks and trying workers
//! out (feature `postgres`): not part of the crate's API.
//!
//! [`LocalPostgres`] runs the installed PostgreSQL's `initdb` in a directory (as the unprivileged
//! user `nobody` when run as root, since `initdb` refuses root) and starts `postgres` on
//! 127.0.0.1 with its socket in that directory, trusting loopback connections: for a machine of
//! one's own only. `hero outbox local-db start|stop` is it on the command line.
//! [`TempPostgres::start`] does the same in a temporary directory, on a free port, and stops it and
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

/// How a cluster is started.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// `fsync` on (for measuring what a durable commit costs; a [`LocalPostgres`] has it on).
    pub durable: bool,
    /// TLS with this certificate and key (PEM files, copied into the cluster's directory).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// With TLS: connections without it are refused (`hostnossl ... reject`).
    pub tls_only: bool,
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

/// A cluster in a directory of its own (`data/`, its socket, `log`, `port`), on 127.0.0.1.
pub struct LocalPostgres {
    root: PathBuf,
    bin: PathBuf,
    port: u16,
    runas: Option<String>,
    /// The server's `-o` options.
    options: String,
}

impl std::fmt::Debug for LocalPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPostgres")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl LocalPostgres {
    /// Starts the cluster in `root` (created with `initdb` the first time; `root` is created if
    /// missing) on `port` (the one it had, else a free one), unless it runs already; makes the
    /// database `outbox` in it. Fails with the step that failed and what it printed.
    pub fn start(root: &Path, port: Option<u16>, setup: &Setup) -> Result<LocalPostgres, String> {
        let bin = binaries().ok_or(
            "the PostgreSQL server binaries are not installed (Debian and Ubuntu: apt-get install postgresql)",
        )?;
        std::fs::create_dir_all(root).map_err(|e| format!("cannot create the directory: {e}"))?;
        let root = root
            .canonicalize()
            .map_err(|e| format!("cannot read the directory: {e}"))?;
        let runas = is_root().then(|| "nobody".to_owned());
        let port_file = root.join("port");
        let port = match port.or_else(|| {
            std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
        }) {
            Some(port) => port,
            None => std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free port: {e}"))?
                .port(),
        };
        let mut pg = LocalPostgres {
            root,
            bin,
            port,
            runas,
            options: String::new(),
        };
        let data = pg.data();
        if !data.join("PG_VERSION").is_file() {
            if pg.runas.is_some() {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let status = Command::new("chown")
                        .args(["-R", "nobody"])
                        .arg(&pg.root)
                        .status()
                        .map_err(|e| format!("chown did not start: {e}"))?;
                    if !status.success() {
                        return Err("chown of the cluster's directory failed".into());
                    }
                    std::fs::set_permissions(&pg.root, std::fs::Permissions::from_mode(0o700))
                        .map_err(|e| format!("chmod: {e}"))?;
                }
            }
            pg.run(
                "initdb",
                &[
                    "-D",
                    path(&data)?,
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ],
            )?;
        }
        std::fs::write(&port_file, port.to_string())
            .map_err(|e| format!("cannot write the port file: {e}"))?;
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync={} -c max_connections=200",
            path(&pg.root)?,
            if setup.durable { "on" } else { "off" }
        );
        if let Some((cert, key)) = &setup.tls {
            let (to_cert, to_key) = (pg.root.join("server.crt"), pg.root.join("server.key"));
            std::fs::copy(cert, &to_cert).map_err(|e| format!("copy the certificate: {e}"))?;
            std::fs::copy(key, &to_key).map_err(|e| format!("copy the key: {e}"))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&to_key, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| format!("chmod the key: {e}"))?;
            }
            if let Some(user) = &pg.runas {
                Command::new("chown")
                    .arg(user)
                    .args([&to_cert, &to_key])
                    .status()
                    .map_err(|e| format!("chown did not start: {e}"))?;
            }
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                path(&to_cert)?,
                path(&to_key)?
            ));
            if setup.tls_only {
                let hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n";
                std::fs::write(data.join("pg_hba.conf"), hba)
                    .map_err(|e| format!("write pg_hba.conf: {e}"))?;
            }
        }
        pg.options = options;
        if !pg.running() {
            pg.pg_ctl("start")?;
        }
        if pg.psql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname = 'outbox'",
        )? == "0"
        {
            pg.createdb("outbox")?;
        }
        Ok(pg)
    }

    /// Stops the cluster running in `root` (`pg_ctl stop -m fast`), if it runs.
    pub fn stop(root: &Path) -> Result<(), String> {
        let bin = binaries().ok_or("the PostgreSQL server binaries are not installed")?;
        let root = root
            .canonicalize()
            .map_err(|e| format!("cannot read the directory: {e}"))?;
        let pg = LocalPostgres {
            bin,
            port: 0,
            runas: is_root().then(|| "nobody".to_owned()),
            options: String::new(),
            root,
        };
        if !pg.data().join("PG_VERSION").is_file() {
            return Err("no cluster in that directory".into());
        }
        if pg.running() {
            pg.run(
                "pg_ctl",
                &["-D", path(&pg.data())?, "-m", "fast", "-w", "stop"],
            )?;
        }
        Ok(())
    }

    /// The URL of the database `outbox`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/outbox", self.port)
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn running(&self) -> bool {
        self.data().join("postmaster.pid").is_file()
            && path(&self.data()).is_ok_and(|d| self.run("pg_ctl", &["-D", d, "status"]).is_ok())
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
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
            .current_dir(&self.root)
            .output()
            .map_err(|e| format!("{program} did not start: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }

    /// Runs `pg_ctl ACTION` on the cluster (waiting for it), with the cluster's options.
    fn pg_ctl(&self, action: &str) -> Result<(), String> {
        let data = self.data();
        let log = self.root.join("log");
        let mut args = vec![
            "-D",
            path(&data)?,
            "-l",
            path(&log)?,
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
        self.run("pg_ctl", &args)
    }

    /// Runs `sql` in database `db` with `psql` (as the superuser, over TCP) and returns its
    /// output (unaligned, tuples only).
    fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
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
            .map_err(|e| format!("psql did not start: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "psql failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn createdb(&self, name: &str) -> Result<(), String> {
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
            .map_err(|e| format!("createdb did not start: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "createdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }
}

fn path(p: &Path) -> Result<&str, String> {
    p.to_str()
        .ok_or_else(|| "the directory's path is not UTF-8".to_owned())
}

/// A running throwaway cluster; stopped and removed when dropped.
pub struct TempPostgres {
    pg: LocalPostgres,
    // Removed after the cluster is stopped (the field order of `drop`).
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for TempPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempPostgres")
            .field("port", &self.pg.port)
            .finish()
    }
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
        if binaries().is_none() {
            let line = format!(
                "!!!!! SKIPPED: {what}: the PostgreSQL server binaries (Debian package `postgresql`) are not installed, so this was NOT run !!!!!"
            );
            if std::env::var_os(REQUIRE).is_some_and(|v| v != "0" && !v.is_empty()) {
                panic!("{line} ({REQUIRE} is set: PostgreSQL tests must run)");
            }
            eprintln!("{line}");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("herohealth-pg-")
            .tempdir()
            .expect("a temporary directory");
        let pg = LocalPostgres::start(dir.path(), None, &setup)
            .unwrap_or_else(|e| panic!("the throwaway cluster: {e}"));
        Some(TempPostgres { pg, _dir: dir })
    }

    /// Stops the server at once (`pg_ctl restart -m immediate`: as a crash would) and starts it
    /// again; every connection is cut.
    pub fn restart_immediately(&self) {
        self.pg.pg_ctl("restart").expect("pg_ctl restart");
    }

    /// Stops the server at once (`-m immediate`), until [`start_again`](Self::start_again).
    pub fn stop(&self) {
        self.pg.pg_ctl("stop").expect("pg_ctl stop");
    }

    /// Starts the server stopped by [`stop`](Self::stop).
    pub fn start_again(&self) {
        self.pg.pg_ctl("start").expect("pg_ctl start");
    }

    /// Runs `sql` in database `db` with `psql` (as the superuser, over TCP) and returns its
    /// output (unaligned, tuples only).
    pub fn psql(&self, db: &str, sql: &str) -> String {
        self.pg.psql(db, sql).expect("psql")
    }

    /// Ends the server process `pid` as an administrator would (`pg_terminate_backend`): its
    /// client's connection is cut.
    pub fn terminate(&self, pid: i32) {
        let ended = self.psql("postgres", &format!("SELECT pg_terminate_backend({pid})"));
        assert_eq!(ended, "t", "the backend {pid} was not there to end");
    }

    /// A connection URL for a new, empty database of the cluster (each test its own), made
    /// with the installed `createdb`.
    pub fn database(&self, name: &str) -> String {
        self.pg.createdb(name).expect("createdb");
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.pg.port)
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.pg.port
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let _ = self.pg.run(
            "pg_ctl",
            &[
                "-D",
                path(&self.pg.data()).unwrap_or_default(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
