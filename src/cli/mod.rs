//! The command line of DESIGN.md §3, one function per subcommand.

mod construct;
mod kb;
mod logs;
mod lookup;
mod monitor;
mod report;
mod session;
mod ticket;

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use crate::client::{ApiClient, Connection};
use crate::config::{self, Config, Settings};
use crate::domain::people::Role;
use crate::domain::report::ReportKind;
use crate::lookups::sources::{Lookups, Source};
use crate::service::Desk;
use crate::service::demo::DemoCredentials;
use crate::service::demo_logs;
use crate::service::import::RowOutcome;
use crate::store::{DB_FILE, Store, users};

#[derive(Debug, Parser)]
#[command(
    name = "opsdesk",
    version,
    about = "Incident desk for a brokerage's production-incident team"
)]
pub struct Cli {
    /// The companion server to work with (default: an embedded one on 127.0.0.1:7878).
    #[arg(long, global = true, env = "OPSDESK_SERVER")]
    pub server: Option<String>,
    /// API token for --server.
    #[arg(long, global = true, env = "OPSDESK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Configuration file (default: opsdesk.toml in the platform config dir).
    #[arg(long, global = true, env = "OPSDESK_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the companion server.
    Serve(ServeArgs),
    /// Administer users and the data dir.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Work with tickets from scripts.
    #[command(subcommand)]
    Ticket(TicketCommand),
    /// Search with the knowledge base's matcher.
    #[command(subcommand)]
    Kb(kb::KbCommand),
    /// Look a customer's log lines up in the configured sources.
    #[command(subcommand)]
    Logs(logs::LogsCommand),
    /// Run a data source's named query (customer profile, cards, orders) for a customer.
    #[command(subcommand)]
    Lookup(lookup::LookupCommand),
    /// UAT account construction: build test accounts from recipes, follow and resume runs,
    /// draw test identities (`construct gen`).
    #[command(subcommand)]
    Construct(construct::ConstructCommand),
    /// The service center's weekly and monthly reports, and the facts export.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Knowledge sessions (知识分享): record them, list them, and the topics to give next.
    #[command(subcommand)]
    Session(session::SessionCommand),
    /// Proactive monitors: list them, run one now, its history; check monitor files.
    #[command(subcommand)]
    Monitor(monitor::MonitorCommand),
    /// The alerts monitors raised: list, show, acknowledge, silence, resolve, open or link
    /// their parent incident.
    #[command(subcommand)]
    Alerts(monitor::AlertsCommand),
}

#[derive(Debug, Args)]
pub struct DataArg {
    /// The server's data dir.
    #[arg(long, env = "OPSDESK_DATA")]
    pub data: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:7878).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    #[command(flatten)]
    pub data: DataArg,
    /// Seed the demo data into an empty data dir and print the demo credentials.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Online backup through SQLite's backup API (safe while the server runs).
    Backup {
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user and print an API token for them (alone on stdout's last line).
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The name people see (default: NAME).
        #[arg(long)]
        display_name: Option<String>,
        /// Read a password from stdin's first line (for the MSS pages).
        #[arg(long)]
        password_stdin: bool,
        /// Where the user is told of replies and resolutions (submitters) by mail.
        #[arg(long, value_parser = parse_email)]
        email: Option<String>,
        /// The user's WeCom user id, mentioned in the group robot's messages for them.
        #[arg(long, value_parser = parse_wecom)]
        wecom: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Issue a new API token for an existing user (revokes their earlier CLI token).
    Token {
        name: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Set a user's password from stdin's first line; their page sessions end.
    Password {
        name: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Set a user's e-mail address, or clear it when none is given.
    Email {
        name: String,
        #[arg(value_parser = parse_email)]
        address: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Set a user's WeCom user id, or clear it when none is given.
    Wecom {
        name: String,
        #[arg(value_parser = parse_wecom)]
        id: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// List users.
    List {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// List tickets on the server (exit 1 when none match).
    List(ticket::ListArgs),
    /// Show one ticket (customer data masked).
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Create a ticket; prints its id.
    New(ticket::NewArgs),
    /// Import tickets from an ITSM CSV export (columns in the README).
    Import {
        file: PathBuf,
        /// Print one JSON object per row instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArg,
    },
}

/// Reads a password from stdin's first line and hashes it; refuses one under 8 characters.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    if line.chars().count() < 8 {
        bail!("the password must be at least 8 characters");
    }
    Ok(users::hash_password(&line)?)
}

fn parse_wecom(s: &str) -> Result<String, String> {
    let id = s.trim();
    if crate::domain::notify::valid_wecom_userid(id) {
        Ok(id.to_string())
    } else {
        Err(format!(
            "'{s}' is not a WeCom user id (1–64 of letters, digits, _ . @ -)"
        ))
    }
}

fn parse_email(s: &str) -> Result<String, String> {
    s.trim()
        .parse::<lettre::Address>()
        .map(|a| a.to_string())
        .map_err(|e| format!("'{s}' is not an e-mail address: {e}"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("'{s}' is not a role; use handler, submitter or admin"))
}

/// Runs the command line; errors are printed by the caller with exit code 2.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The filter reads no configuration and needs no runtime: it is measured as a whole process.
    if let Some(Command::Kb(kb::KbCommand::Filter { query, limit })) = &cli.command {
        return kb::filter(query, *limit);
    }
    let (config_path, required) = match &cli.config {
        Some(p) => (p.clone(), true),
        None => (config::default_config_path(), false),
    };
    let cfg = Config::load(&config_path, required)?;
    let settings = Arc::new(cfg.settings(&config_path)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    match cli.command {
        None => {
            if cli.server.is_some() || settings.client.server.is_some() {
                let client = client(&cli.server, &cli.token, &settings)?;
                let launch = crate::tui::Launch {
                    client,
                    settings,
                    embedded: false,
                    greeting: None,
                };
                runtime.block_on(crate::tui::run(launch))?;
                return Ok(ExitCode::SUCCESS);
            }
            runtime.block_on(embedded(settings))
        }
        Some(Command::Serve(args)) => runtime.block_on(serve(settings, args)),
        Some(Command::Admin(AdminCommand::Backup { file, data })) => {
            backup(&settings, &data, &file)
        }
        Some(Command::Admin(AdminCommand::User(cmd))) => runtime.block_on(user(settings, cmd)),
        Some(Command::Ticket(cmd)) => {
            runtime.block_on(ticket_command(&cli.server, &cli.token, settings, cmd))
        }
        Some(Command::Kb(kb::KbCommand::Filter { query, limit })) => kb::filter(&query, limit),
        Some(Command::Kb(kb::KbCommand::Import { dir, data, json })) => {
            runtime.block_on(kb::import(settings, &data, &dir, json))
        }
        Some(Command::Kb(kb::KbCommand::Export { dir, data })) => {
            runtime.block_on(kb::export(settings, &data, &dir))
        }
        Some(Command::Kb(kb::KbCommand::Image { file, json })) => {
            let client = client(&cli.server, &cli.token, &settings)?;
            runtime.block_on(kb::image(&client, &file, json))
        }
        Some(Command::Kb(kb::KbCommand::Search { query, limit, json })) => {
            let client = client(&cli.server, &cli.token, &settings)?;
            runtime.block_on(kb::search(&client, &query, limit, json))
        }
        Some(Command::Logs(cmd)) => {
            let local = match &cmd {
                logs::LogsCommand::Search(args) => args.local,
                logs::LogsCommand::Sources { local, .. } => *local,
            };
            let configured = !settings.lookups.is_empty();
            let client = lookup_client(local, configured, (&cli.server, &cli.token), &settings)?;
            runtime.block_on(async {
                match cmd {
                    logs::LogsCommand::Search(args) => {
                        logs::search(client.as_ref(), &settings, args).await
                    }
                    logs::LogsCommand::Sources { json, .. } => {
                        logs::sources_list(client.as_ref(), &settings, json).await
                    }
                }
            })
        }
        Some(Command::Construct(cmd)) => match cmd {
            construct::ConstructCommand::Gen(args) => {
                construct::identities(args, settings.calendar.tz())
            }
            construct::ConstructCommand::Check { recipe, env } => {
                construct::check_recipe(&settings, &recipe, env.as_deref())
            }
            construct::ConstructCommand::Run(args) if args.local => {
                runtime.block_on(construct::run_local(&settings, args))
            }
            cmd => {
                let client = client(&cli.server, &cli.token, &settings)?;
                runtime.block_on(construct::on_server(&client, cmd))
            }
        },
        Some(Command::Report(cmd)) => {
            let client = client(&cli.server, &cli.token, &settings)?;
            let zone = settings.calendar.tz();
            runtime.block_on(async {
                match cmd {
                    report::ReportCommand::Weekly(args) => {
                        report::report(&client, ReportKind::Weekly, args, zone).await
                    }
                    report::ReportCommand::Monthly(args) => {
                        report::report(&client, ReportKind::Monthly, args, zone).await
                    }
                    report::ReportCommand::Export(args) => {
                        report::export(&client, args, zone).await
                    }
                }
            })
        }
        Some(Command::Monitor(monitor::MonitorCommand::Check { paths })) => {
            monitor::check(&settings, &paths)
        }
        Some(Command::Monitor(cmd)) => {
            let client = client(&cli.server, &cli.token, &settings)?;
            runtime.block_on(monitor::monitor(&client, cmd, settings.calendar.tz()))
        }
        Some(Command::Alerts(cmd)) => {
            let client = client(&cli.server, &cli.token, &settings)?;
            runtime.block_on(monitor::alerts(&client, cmd, settings.calendar.tz()))
        }
        Some(Command::Session(cmd)) => {
            let client = client(&cli.server, &cli.token, &settings)?;
            runtime.block_on(session::run(&client, cmd, settings.calendar.tz()))
        }
        Some(Command::Lookup(cmd)) => {
            let local = match &cmd {
                lookup::LookupCommand::Run(args) => args.local,
                lookup::LookupCommand::List { local, .. } => *local,
            };
            let configured = !settings.lookups.queries().is_empty();
            let client = lookup_client(local, configured, (&cli.server, &cli.token), &settings)?;
            runtime.block_on(async {
                match cmd {
                    lookup::LookupCommand::Run(args) => {
                        lookup::run(client.as_ref(), &settings, args).await
                    }
                    lookup::LookupCommand::List { json, .. } => {
                        lookup::list(client.as_ref(), &settings, json).await
                    }
                }
            })
        }
    }
}

/// The server a lookup command goes through, or `None` to run it in this process: when
/// asked (`--local`), or when this host's config has the sources (`configured`) and names no
/// server.
fn lookup_client(
    local: bool,
    configured: bool,
    (server, token): (&Option<String>, &Option<String>),
    settings: &Settings,
) -> anyhow::Result<Option<ApiClient>> {
    let here = local || (configured && server.is_none() && settings.client.server.is_none());
    if here {
        Ok(None)
    } else {
        client(server, token, settings).map(Some)
    }
}

async fn ticket_command(
    server: &Option<String>,
    token: &Option<String>,
    settings: Arc<Settings>,
    cmd: TicketCommand,
) -> anyhow::Result<ExitCode> {
    // The import works on the data dir; the others talk to a server.
    if let TicketCommand::Import { file, json, data } = cmd {
        return import(settings, &data, &file, json).await;
    }
    let client = client(server, token, &settings)?;
    match cmd {
        TicketCommand::List(args) => ticket::list(&client, &args).await,
        TicketCommand::Show { id, json } => {
            ticket::show(&client, id, json, settings.calendar.tz()).await
        }
        TicketCommand::New(args) => ticket::new(&client, args).await,
        TicketCommand::Import { .. } => Ok(ExitCode::SUCCESS), // answered above
    }
}

/// A fresh `Idempotency-Key` for one invocation: a retry after a lost answer then creates
/// once.
pub(crate) fn fresh_key() -> anyhow::Result<String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| anyhow!("no randomness: {e}"))?;
    Ok(format!("cli-{}", hex::encode(raw)))
}

/// The workstation's log file, `opsdesk.log` in the platform state (or cache) dir.
pub fn log_file() -> Option<std::fs::File> {
    let dirs = config::project_dirs()?;
    let dir = dirs
        .state_dir()
        .unwrap_or_else(|| dirs.cache_dir())
        .to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("opsdesk.log"))
        .ok()
}

/// The server to talk to: `--server`, `OPSDESK_SERVER`, the config, else the embedded default.
fn client(
    server: &Option<String>,
    token: &Option<String>,
    settings: &Settings,
) -> anyhow::Result<ApiClient> {
    let base = server
        .clone()
        .or_else(|| settings.client.server.clone())
        .unwrap_or_else(|| format!("http://{}", settings.server.listen));
    let Some(token) = token.clone().or_else(|| settings.client.token.clone()) else {
        bail!(
            "no API token: pass --token, set OPSDESK_TOKEN or client.token in opsdesk.toml \
             (`opsdesk admin user add NAME --role handler` prints one)"
        );
    };
    Ok(ApiClient::new(Connection { base, token })?)
}

fn data_dir(settings: &Settings, arg: &DataArg) -> PathBuf {
    arg.data
        .clone()
        .or_else(|| settings.server.data_dir.clone())
        .unwrap_or_else(config::default_data_dir)
}

fn open_desk(settings: &Arc<Settings>, dir: &Path) -> anyhow::Result<Desk> {
    let store =
        Store::open(dir).with_context(|| format!("opening the data dir {}", dir.display()))?;
    Ok(Desk::new(store, settings.clone()))
}

/// Opens a data dir that must already hold opsdesk data (commands that only read or add to it).
fn open_existing(settings: &Arc<Settings>, data: &DataArg) -> anyhow::Result<Desk> {
    let dir = data_dir(settings, data);
    if !dir.join(DB_FILE).exists() {
        bail!("no opsdesk data in {}", dir.display());
    }
    open_desk(settings, &dir)
}

/// One change to an existing data dir's users, with the writer stopped (and the WAL
/// checkpointed) whether or not the change was taken.
async fn change_user(
    settings: &Arc<Settings>,
    data: &DataArg,
    f: impl FnOnce(&rusqlite::Connection) -> Result<(), crate::store::StoreError> + Send + 'static,
) -> anyhow::Result<()> {
    let desk = open_existing(settings, data)?;
    let done = desk.store.write(move |ctx| f(ctx.conn)).await;
    desk.store.shutdown();
    Ok(done?)
}

fn print_demo(creds: &DemoCredentials, base: &str) {
    if creds.seeded {
        eprintln!("Seeded the demo data: {} tickets.", creds.tickets);
    }
    eprintln!("Demo credentials (demo data only):");
    eprintln!(
        "  handler   {}  token {}",
        creds.handler, creds.handler_token
    );
    eprintln!(
        "  submitter {}  password {}",
        creds.submitter, creds.password
    );
    eprintln!("  every demo user's password is '{}'", creds.password);
    eprintln!(
        "MSS pages for submitters (phone or desktop browser): {base}/mss/ (log in as {})",
        creds.submitter
    );
    eprintln!(
        "Try: curl -H 'Authorization: Bearer {}' {base}/api/v1/tickets?open=true",
        creds.handler_token
    );
}

async fn serve(settings: Arc<Settings>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let dir = data_dir(&settings, &args.data);
    let listen = args.listen.unwrap_or(settings.server.listen);
    let desk = open_desk(&settings, &dir)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let mut desk = desk;
    if args.demo {
        let creds = desk.seed_demo().await.map_err(|e| anyhow!("--demo: {e}"))?;
        print_demo(&creds, &format!("http://{addr}"));
        desk = with_demo_systems(desk, &dir).await?;
        desk = with_sandbox(desk, addr).await?;
    } else if dir.join(demo_logs::DIR).exists() {
        desk = with_demo_systems(desk, &dir).await?;
        desk = with_sandbox(desk, addr).await?;
    }
    // A data dir from before the knowledge base: its help-center articles join it.
    desk.adopt_help_center()
        .await
        .map_err(|e| anyhow!("adopting the help center's articles: {e}"))?;
    // A data dir from before the reports: its tickets' facts are kept now.
    desk.adopt_reports()
        .await
        .map_err(|e| anyhow!("keeping the reports' facts of earlier tickets: {e}"))?;
    tracing::info!(%addr, data = %dir.display(), "opsdesk serving");
    eprintln!(
        "opsdesk serving on http://{addr} (data in {})",
        dir.display()
    );
    crate::server::launch(listener, desk, crate::signals::shutdown()).await?;
    Ok(ExitCode::SUCCESS)
}

/// The bare `opsdesk`: the embedded server with the demo data on first run. The terminal
/// workstation (issue 5) will open on top of it; until then it serves in the foreground.
async fn embedded(settings: Arc<Settings>) -> anyhow::Result<ExitCode> {
    let dir = settings
        .server
        .data_dir
        .clone()
        .unwrap_or_else(config::default_data_dir);
    let desk = open_desk(&settings, &dir)?;
    let listener = tokio::net::TcpListener::bind(settings.server.listen)
        .await
        .with_context(|| {
            format!(
                "starting the embedded server on {} (is another opsdesk running?)",
                settings.server.listen
            )
        })?;
    let base = format!("http://{}", listener.local_addr()?);
    let demo = desk.seed_demo().await.ok();
    desk.adopt_reports()
        .await
        .map_err(|e| anyhow!("keeping the reports' facts of earlier tickets: {e}"))?;
    let desk = if demo.is_some() {
        let desk = with_demo_systems(desk, &dir).await?;
        with_sandbox(desk, listener.local_addr()?).await?
    } else {
        desk
    };
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !interactive {
        // No terminal to draw on (a script, a service manager): serve in the foreground.
        if let Some(creds) = &demo {
            print_demo(creds, &base);
        }
        eprintln!(
            "opsdesk embedded server on {base} (data in {})",
            dir.display()
        );
        eprintln!("  API {base}/api/v1/openapi.json · health {base}/healthz · Ctrl-C to stop");
        crate::server::launch(listener, desk, crate::signals::shutdown()).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let token = match &demo {
        Some(creds) => creds.handler_token.clone(),
        None => local_handler_token(&desk).await?,
    };
    let greeting = demo.as_ref().map(|c| {
        format!(
            "演示数据 demo: 提交人 {} / {} · {base}/mss/",
            c.submitter, c.password
        )
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::server::launch(listener, desk, async {
        let _ = stop_rx.await;
    }));
    let client = ApiClient::new(Connection { base, token })?;
    let result = crate::tui::run(crate::tui::Launch {
        client,
        settings,
        embedded: true,
        greeting,
    })
    .await;
    let _ = stop_tx.send(());
    let _ = server.await;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// The demo's sample logs, its small account system, trading system and account-opening
/// history as the lookups' sources, and the demo monitors over them, when the config declares
/// no source; written into the data dir beside the demo data the first time.
async fn with_demo_systems(desk: Desk, dir: &Path) -> anyhow::Result<Desk> {
    if !desk.settings.lookups.is_none() {
        return Ok(desk);
    }
    desk.write_demo_logs(dir).await?;
    let tz = desk.settings.calendar.tz();
    let data = crate::monitor::demo_data_sources(dir, chrono::Utc::now(), tz)
        .with_context(|| format!("writing the demo business databases in {}", dir.display()))?;
    let mut sources = vec![Source::Files(demo_logs::source(dir, tz))];
    sources.extend(data.into_iter().map(Source::Sql));
    let lookups = Lookups::new(sources);
    let monitors = desk
        .settings
        .monitors
        .clone()
        .merged(crate::monitor::demo_monitors(
            &lookups,
            &desk.settings.system_keys(),
        ));
    let settings = Arc::new(Settings {
        lookups,
        monitors,
        ..(*desk.settings).clone()
    });
    Ok(Desk { settings, ..desk })
}

/// The demo's sandbox brokerage, mounted under `/uat-sandbox/`, and the environment
/// `sandbox` that reaches it through this server's own address (unless the config names
/// an environment `sandbox` itself).
async fn with_sandbox(desk: Desk, addr: std::net::SocketAddr) -> anyhow::Result<Desk> {
    let key = crate::server::sandbox::key(&desk)
        .await
        .map_err(|e| anyhow!("setting up the sandbox brokerage: {e}"))?;
    let host = if addr.ip().is_unspecified() {
        std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let mut construct = desk.settings.construct.clone();
    construct.sandbox = true;
    if construct.environment("sandbox").is_none() {
        let env = crate::construct::config::Environment::sandbox(&format!("http://{host}"), key);
        construct.environments.push(env);
    }
    let settings = Arc::new(Settings {
        construct,
        ..(*desk.settings).clone()
    });
    Ok(Desk { settings, ..desk })
}

/// A token for the workstation on the embedded server: the first handler or admin of the data
/// dir, under the label `embedded` (replaced at each start).
async fn local_handler_token(desk: &Desk) -> anyhow::Result<String> {
    let token = desk
        .store
        .write(|ctx| {
            let all = users::all(ctx.conn)?;
            let Some(user) = all
                .into_iter()
                .filter(|u| u.role.works_tickets())
                .min_by_key(|u| u.id)
            else {
                return Ok(None);
            };
            users::issue_token(ctx.conn, &user, "embedded", ctx.now).map(Some)
        })
        .await?;
    token.ok_or_else(|| anyhow!("this data dir has no handler; add one with `opsdesk admin user add NAME --role handler`"))
}

fn backup(settings: &Arc<Settings>, data: &DataArg, file: &Path) -> anyhow::Result<ExitCode> {
    let dir = data_dir(settings, data);
    if !dir.join(DB_FILE).exists() {
        bail!("no opsdesk data in {}", dir.display());
    }
    if file.exists() {
        bail!("{} exists; choose a new file name", file.display());
    }
    crate::store::backup(&dir, file)
        .with_context(|| format!("backing up to {}", file.display()))?;
    eprintln!("backed up {} to {}", dir.display(), file.display());
    Ok(ExitCode::SUCCESS)
}

async fn user(settings: Arc<Settings>, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add {
            name,
            role,
            display_name,
            password_stdin,
            email,
            wecom,
            data,
        } => {
            let password = if password_stdin {
                Some(password_from_stdin()?)
            } else {
                None
            };
            let desk = open_desk(&settings, &data_dir(&settings, &data))?;
            let display = display_name.unwrap_or_else(|| name.clone());
            let token = desk
                .store
                .write(move |ctx| {
                    let user = users::insert(
                        ctx.conn,
                        &name,
                        &display,
                        role,
                        None,
                        password.as_deref(),
                        ctx.now,
                    )?;
                    if let Some(email) = &email {
                        users::set_email(ctx.conn, &user.username, Some(email))?;
                    }
                    if let Some(id) = &wecom {
                        users::set_wecom(ctx.conn, &user.username, Some(id))?;
                    }
                    users::issue_token(ctx.conn, &user, "cli", ctx.now)
                })
                .await;
            // Stop the writer (checkpointing the WAL) whether or not the write succeeded.
            desk.store.shutdown();
            let token = token?;
            if std::io::stdout().is_terminal() {
                eprintln!("Token (shown once; keep it safe):");
            }
            println!("{token}");
        }
        UserCommand::Token { name, data } => {
            let desk = open_existing(&settings, &data)?;
            let token = desk
                .store
                .write(move |ctx| {
                    let user = users::by_username(ctx.conn, &name)?.ok_or_else(|| {
                        crate::store::Rejected::NotFound(format!("user '{name}'"))
                    })?;
                    let token = users::issue_token(ctx.conn, &user, "cli", ctx.now)?;
                    ctx.credentials_changed();
                    Ok::<_, crate::store::StoreError>(token)
                })
                .await;
            // Stop the writer (checkpointing the WAL) whether or not the write succeeded.
            desk.store.shutdown();
            let token = token?;
            println!("{token}");
        }
        UserCommand::Password { name, data } => {
            let hash = password_from_stdin()?;
            let desk = open_existing(&settings, &data)?;
            let done = desk
                .store
                .write(move |ctx| {
                    users::set_password(ctx.conn, &name, &hash)?;
                    ctx.credentials_changed();
                    Ok::<_, crate::store::StoreError>(())
                })
                .await;
            desk.store.shutdown();
            done?;
        }
        UserCommand::Email {
            name,
            address,
            data,
        } => {
            change_user(&settings, &data, move |conn| {
                users::set_email(conn, &name, address.as_deref())
            })
            .await?;
        }
        UserCommand::Wecom { name, id, data } => {
            change_user(&settings, &data, move |conn| {
                users::set_wecom(conn, &name, id.as_deref())
            })
            .await?;
        }
        UserCommand::List { data } => {
            let desk = open_existing(&settings, &data)?;
            let all = desk
                .store
                .read(|conn| {
                    let mut rows = Vec::new();
                    for u in users::all(conn)? {
                        let email = users::email_of(conn, &u.username)?;
                        let wecom = users::wecom_of(conn, &u.username)?;
                        rows.push((u, email, wecom));
                    }
                    Ok(rows)
                })
                .await;
            desk.store.shutdown();
            for (u, email, wecom) in all? {
                let contact = [
                    email.map(|e| format!("mail {e}")),
                    wecom.map(|w| format!("wecom {w}")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("  ");
                println!(
                    "{:<20} {:<10} {}  {contact}",
                    u.username,
                    u.role.as_str(),
                    u.display_name
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn import(
    settings: Arc<Settings>,
    data: &DataArg,
    file: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let input = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // A file that cannot be imported at all must not create or touch a data dir.
    crate::service::import::read_header(&input)?;
    let desk = open_desk(&settings, &data_dir(&settings, data))?;
    let outcomes = desk.import_itsm_csv(&input).await;
    desk.store.shutdown();
    let outcomes = outcomes?;
    let (mut imported, mut skipped, mut refused) = (0, 0, 0);
    for o in &outcomes {
        if json {
            println!("{}", serde_json::to_string(o)?);
        }
        match o {
            RowOutcome::Imported {
                line,
                external_ref,
                ticket,
            } => {
                imported += 1;
                if !json {
                    println!("line {line}: imported {external_ref} as #{ticket}");
                }
            }
            RowOutcome::AlreadyImported {
                line,
                external_ref,
                ticket,
            } => {
                skipped += 1;
                if !json {
                    println!(
                        "line {line}: {external_ref} was already imported as #{ticket}; skipped"
                    );
                }
            }
            RowOutcome::Refused {
                line,
                external_ref,
                reason,
            } => {
                refused += 1;
                if !json {
                    println!(
                        "line {line}: refused {}: {reason}",
                        external_ref.as_deref().unwrap_or("(no external_ref)")
                    );
                }
            }
        }
    }
    eprintln!("{imported} imported, {skipped} already imported, {refused} refused");
    Ok(if refused > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
