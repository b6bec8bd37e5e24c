//! The `startblok` command. Thin on purpose: it parses arguments, opens the database and calls
//! the app (zero2prod's "thin main, real lib").

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};
use startblok_app::{Actor, App, Settings, demo};
use startblok_db::Db;
use startblok_domain::{Brin, Dependance, Role, SchoolCode};

const HELP_TEMPLATE: &str = "{about-with-newline}\nGebruik: {usage}\n\n{all-args}{after-help}";

/// Startblok: leerlingvolgsysteem voor nieuwkomersonderwijs.
#[derive(Parser)]
#[command(
    name = "startblok",
    version,
    help_template = HELP_TEMPLATE,
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    subcommand_help_heading = "Opdrachten",
    subcommand_value_name = "OPDRACHT",
    next_help_heading = "Opties",
    after_help = "Snel beginnen: startblok serve --demo, en open http://127.0.0.1:8080.\nHulp bij een opdracht: startblok OPDRACHT --help."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[arg(short = 'h', long = "help", action = ArgAction::Help, global = true, help = "Toon deze hulp")]
    help: Option<bool>,
    #[arg(short = 'V', long = "version", action = ArgAction::Version, help = "Toon het versienummer")]
    version: Option<bool>,
}

#[derive(Subcommand)]
enum Command {
    /// Start de webserver (maakt de database aan en werkt hem bij als dat nodig is).
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Serve(ServeArgs),
    /// Werk de database bij naar de nieuwste versie en stop.
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Migrate(DbArgs),
    /// Operators: beheerders van deze Startblok-installatie.
    #[command(help_template = HELP_TEMPLATE, subcommand_help_heading = "Opdrachten", subcommand_value_name = "OPDRACHT")]
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Scholen (vestigingen).
    #[command(help_template = HELP_TEMPLATE, subcommand_help_heading = "Opdrachten", subcommand_value_name = "OPDRACHT")]
    School {
        #[command(subcommand)]
        command: SchoolCommand,
    },
    /// Gebruikers van een school.
    #[command(help_template = HELP_TEMPLATE, subcommand_help_heading = "Opdrachten", subcommand_value_name = "OPDRACHT")]
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// De koppeling van een school met een educatieve applicatie (Boom testcentrum) en haar autorisatiesleutel.
    #[command(help_template = HELP_TEMPLATE, subcommand_help_heading = "Opdrachten", subcommand_value_name = "OPDRACHT")]
    Koppeling {
        #[command(subcommand)]
        command: KoppelingCommand,
    },
    /// UWLR: toetsresultaten versturen naar een Startblok (om een koppeling uit te proberen).
    #[command(help_template = HELP_TEMPLATE, subcommand_help_heading = "Opdrachten", subcommand_value_name = "OPDRACHT")]
    Uwlr {
        #[command(subcommand)]
        command: UwlrCommand,
    },
    /// Gegevens inlezen uit de leerlingadministratie.
    #[command(help_template = HELP_TEMPLATE, subcommand_help_heading = "Opdrachten", subcommand_value_name = "OPDRACHT")]
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Lees een EDEXML-export (ParnasSys, ESIS, Magister) in: toont wat er verandert en past het toe.
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Edexml {
        /// Het EDEXML-bestand
        #[arg(value_name = "BESTAND")]
        file: PathBuf,
        /// School als BRIN-dependance, bijvoorbeeld 99ZZ-00
        #[arg(long, value_name = "BRIN-DEPENDANCE")]
        school: String,
        /// Laat alleen zien wat er zou veranderen; verander niets
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum UwlrCommand {
    /// Verstuur een levering (BrengLeerresultaten): een bestaand bericht zoals het is, of een
    /// gegenereerde levering voor de leerlingen van een school. Zegt of Startblok het bericht
    /// aannam en zo niet, de foutcode en de uitleg.
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Send(UwlrSendArgs),
}

#[derive(Args)]
struct UwlrSendArgs {
    /// Het bericht (een SOAP-envelop); weglaten met --generate
    #[arg(value_name = "BESTAND", required_unless_present = "generate")]
    file: Option<PathBuf>,
    /// Adres van het eindpunt, bijvoorbeeld http://127.0.0.1:8080/uwlr/v2/leerresultaten
    #[arg(long, value_name = "URL")]
    url: String,
    /// Maak een levering voor de leerlingen (met Boom-leerlingnummer) van --school
    #[arg(long, conflicts_with = "file")]
    generate: bool,
    /// Bij --generate: de school als BRIN-dependance, bijvoorbeeld 99ZZ-00
    #[arg(
        long,
        value_name = "BRIN-DEPENDANCE",
        required_if_eq("generate", "true")
    )]
    school: Option<String>,
    /// Bij --generate: de autorisatiesleutel van de koppeling
    #[arg(
        long,
        value_name = "SLEUTEL",
        env = "STARTBLOK_UWLR_SLEUTEL",
        hide_env_values = true,
        required_if_eq("generate", "true")
    )]
    sleutel: Option<String>,
    /// Bij --generate: klantcode van de educatieve applicatie [standaard: BOOM]
    #[arg(
        long,
        value_name = "CODE",
        default_value = "BOOM",
        hide_default_value = true
    )]
    klantcode: String,
    /// Bij --generate: klantnaam van de educatieve applicatie [standaard: Boom testcentrum]
    #[arg(
        long,
        value_name = "NAAM",
        default_value = "Boom testcentrum",
        hide_default_value = true
    )]
    klantnaam: String,
    /// Bij --generate: zoveel resultaten voor bekende leerlingen [standaard: 100]
    #[arg(
        long,
        value_name = "AANTAL",
        default_value_t = 100,
        hide_default_value = true
    )]
    resultaten: usize,
    /// Bij --generate: zoveel resultaten van onbekende Boom-leerlingnummers (999001, …) erbij
    #[arg(
        long,
        value_name = "AANTAL",
        default_value_t = 0,
        hide_default_value = true
    )]
    onbekende_leerlingen: usize,
    /// Bij --generate: één resultaat van een toets die niet in de toetsenlijst staat erbij
    #[arg(long)]
    onbekende_toets: bool,
    /// Bij --generate: schrijf het bericht ook naar dit bestand
    #[arg(long, value_name = "BESTAND")]
    opslaan: Option<PathBuf>,
    /// Bij --generate: alleen het bericht maken en opslaan (met --opslaan), niet versturen
    #[arg(long)]
    niet_versturen: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct KoppelingArgs {
    /// School als BRIN-dependance, bijvoorbeeld 99ZZ-00
    #[arg(long, value_name = "BRIN-DEPENDANCE")]
    school: String,
    /// De applicatie, bijvoorbeeld boom (Boom testcentrum)
    #[arg(long, value_name = "APPLICATIE")]
    applicatie: String,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum KoppelingCommand {
    /// Geef de eerste sleutel uit en druk hem één keer af (alleen de sleutel op standaarduitvoer).
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Activeer(KoppelingArgs),
    /// Maak een nieuwe sleutel; de oude blijft nog 14 dagen geldig. Drukt de nieuwe sleutel één keer af.
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Roteer(KoppelingArgs),
    /// Trek de koppeling in: elke sleutel ervan werkt meteen niet meer.
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Intrek(KoppelingArgs),
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Database")]
struct DbArgs {
    /// Database: sqlite://PAD of postgres://GEBRUIKER@HOST/NAAM; ook via DATABASE_URL [standaard: sqlite://MAP/startblok.db]
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env = true)]
    database_url: Option<String>,
    /// Map voor de SQLite-database en andere bestanden [standaard: ./data]
    #[arg(
        long,
        env = "STARTBLOK_DATA_DIR",
        value_name = "MAP",
        default_value = "./data",
        hide_default_value = true
    )]
    data_dir: PathBuf,
}

impl DbArgs {
    fn url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.trim().is_empty() => u.trim().to_string(),
            _ => format!("sqlite://{}", self.data_dir.join("startblok.db").display()),
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Adres en poort waarop de server luistert [standaard: 127.0.0.1:8080]
    #[arg(
        long,
        env = "STARTBLOK_ADDR",
        value_name = "ADRES:POORT",
        default_value = "127.0.0.1:8080",
        hide_default_value = true
    )]
    addr: SocketAddr,
    /// Adres waarop mensen Startblok bereiken, voor links en e-mails [standaard: http://ADRES:POORT]
    #[arg(long, env = "STARTBLOK_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Vul de database met de demoschool en demo-accounts (alleen voor uitproberen)
    #[arg(long)]
    demo: bool,
    /// SMTP-server voor e-mail, bijvoorbeeld smtp://gebruiker:wachtwoord@mail.example.nl:587?tls=required [standaard: geen; e-mails gaan naar MAP/outbox en staan bij Verzonden e-mail]
    #[arg(long, env = "STARTBLOK_SMTP_URL", value_name = "URL", hide_env = true)]
    smtp_url: Option<String>,
    /// Afzender van e-mails [standaard: Startblok <startblok@localhost>]
    #[arg(
        long,
        env = "STARTBLOK_MAIL_FROM",
        value_name = "ADRES",
        hide_env = true
    )]
    mail_from: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Maak een operator aan. Het wachtwoord komt van standaardinvoer; zonder invoer krijg je een eenmalige link.
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Create {
        /// E-mailadres van de operator
        #[arg(long, value_name = "E-MAIL")]
        email: String,
        /// Naam van de operator
        #[arg(long)]
        naam: Option<String>,
        /// Adres van Startblok voor de eenmalige link [standaard: http://127.0.0.1:8080]
        #[arg(long, env = "STARTBLOK_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum SchoolCommand {
    /// Maak een school aan.
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Create {
        /// Naam van de school
        #[arg(long)]
        naam: String,
        /// BRIN-nummer, bijvoorbeeld 99ZZ
        #[arg(long)]
        brin: String,
        /// Dependancecode (vestigingsnummer), bijvoorbeeld 00 [standaard: 00]
        #[arg(long, default_value = "00", hide_default_value = true)]
        dependance: String,
        /// Schoolkey uit de administratie (optioneel)
        #[arg(long)]
        schoolkey: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Geef iemand een rol op een school (maakt het account aan als het nog niet bestaat).
    /// Het wachtwoord komt van standaardinvoer; zonder invoer krijg je een uitnodigingslink.
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "Opties")]
    Create {
        /// School als BRIN-dependance, bijvoorbeeld 99ZZ-00
        #[arg(long, value_name = "BRIN-DEPENDANCE")]
        school: String,
        /// E-mailadres
        #[arg(long, value_name = "E-MAIL")]
        email: String,
        /// Rol op de school: beheerder, leerkracht of ib
        #[arg(long, value_name = "ROL")]
        rol: String,
        /// Naam (optioneel; anders het deel van het e-mailadres vóór de @)
        #[arg(long)]
        naam: Option<String>,
        /// Adres van Startblok voor de uitnodigingslink [standaard: http://127.0.0.1:8080]
        #[arg(long, env = "STARTBLOK_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STARTBLOK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&format!("kan niet starten: {e}")),
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// Help and version as clap writes them; mistakes in the command line in Dutch.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ErrorKind};
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let context = |k: ContextKind| e.get(k).map(|v| v.to_string()).unwrap_or_default();
    let message = match e.kind() {
        ErrorKind::InvalidSubcommand => format!(
            "onbekende opdracht '{}'",
            context(ContextKind::InvalidSubcommand)
        ),
        ErrorKind::UnknownArgument => {
            format!("onbekende optie '{}'", context(ContextKind::InvalidArg))
        }
        ErrorKind::MissingRequiredArgument => {
            format!("deze optie ontbreekt: {}", context(ContextKind::InvalidArg))
        }
        ErrorKind::MissingSubcommand => "kies een opdracht".to_string(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            format!(
                "ongeldige waarde '{}' voor {}",
                context(ContextKind::InvalidValue),
                context(ContextKind::InvalidArg)
            )
        }
        _ => e.kind().to_string(),
    };
    eprintln!("startblok: {message}. Zie startblok --help of startblok OPDRACHT --help.");
    ExitCode::from(2)
}

/// One line on standard error, and a non-zero exit.
fn fail(message: &str) -> ExitCode {
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("startblok: {one_line}");
    ExitCode::FAILURE
}

async fn open(db: &DbArgs) -> Result<Db, String> {
    let url = db.url();
    let handle = Db::connect(&url)
        .await
        .map_err(|e| format!("database {}: {e}", redact(&url)))?;
    handle
        .migrate()
        .await
        .map_err(|e| format!("database {}: {e}", redact(&url)))?;
    Ok(handle)
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A password piped in on standard input, or `None` (then a one-time link is printed).
fn password_from_stdin() -> Result<Option<String>, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut input = String::new();
    stdin
        .lock()
        .read_to_string(&mut input)
        .map_err(|e| format!("kan standaardinvoer niet lezen: {e}"))?;
    let pw = input
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&input);
    Ok(if pw.is_empty() {
        None
    } else {
        Some(pw.to_string())
    })
}

fn app(db: Db, public_url: Option<&str>) -> App {
    let url = public_url
        .map(String::from)
        .or_else(|| std::env::var("STARTBLOK_PUBLIC_URL").ok())
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_string());
    App::new(db, Settings::new(url))
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(db) => {
            open(&db).await?;
            println!("De database is bijgewerkt.");
            Ok(())
        }
        Command::Operator {
            command:
                OperatorCommand::Create {
                    email,
                    naam,
                    public_url,
                    db,
                },
        } => {
            let password = password_from_stdin()?;
            let app = app(open(&db).await?, public_url.as_deref());
            let acc = app
                .create_operator(&email, naam.as_deref(), password.as_deref(), &Actor::cli())
                .await
                .map_err(|e| e.to_string())?;
            report_account(&acc, "operator", password.is_some());
            Ok(())
        }
        Command::School {
            command:
                SchoolCommand::Create {
                    naam,
                    brin,
                    dependance,
                    schoolkey,
                    db,
                },
        } => {
            let brin = Brin::parse(&brin).map_err(|e| e.to_string())?;
            let dependance = Dependance::parse(&dependance).map_err(|e| e.to_string())?;
            let code = SchoolCode::new(brin, dependance);
            let app = app(open(&db).await?, None);
            let school = app
                .create_school(&naam, &code, schoolkey.as_deref(), &Actor::cli())
                .await
                .map_err(|e| e.to_string())?;
            println!("School aangemaakt: {} ({})", school.naam, school.code);
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    school,
                    email,
                    rol,
                    naam,
                    public_url,
                    db,
                },
        } => {
            let code: SchoolCode = school
                .parse()
                .map_err(|e: startblok_domain::SchoolCodeError| e.to_string())?;
            let role: Role = rol
                .parse()
                .map_err(|e: startblok_domain::RoleParseError| e.to_string())?;
            let password = password_from_stdin()?;
            let app = app(open(&db).await?, public_url.as_deref());
            let acc = app
                .create_school_user(
                    &code,
                    &email,
                    naam.as_deref(),
                    role,
                    password.as_deref(),
                    &Actor::cli(),
                )
                .await
                .map_err(|e| e.to_string())?;
            report_account(
                &acc,
                &format!("{} op {code}", role.label().to_lowercase()),
                password.is_some(),
            );
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Edexml {
                    file,
                    school,
                    dry_run,
                    db,
                },
        } => import_edexml(&file, &school, dry_run, &db).await,
        Command::Koppeling { command } => koppeling(command).await,
        Command::Uwlr {
            command: UwlrCommand::Send(args),
        } => uwlr_send(args).await,
    }
}

/// `startblok uwlr send`: sends a prepared or generated delivery and says what the server
/// answered. A refusal is an error (exit code 1) with the fault code and text.
async fn uwlr_send(args: UwlrSendArgs) -> Result<(), String> {
    use startblok_uwlr::client::{self, Answer, Generate};
    let envelope = if args.generate {
        let code: SchoolCode = args
            .school
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e: startblok_domain::SchoolCodeError| e.to_string())?;
        let app = app(open(&args.db).await?, None);
        let s = app
            .school_by_code(&code)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("er is geen school {code} (BRIN en dependance)"))?;
        let leerlingids: Vec<String> = app
            .boom_table(s.id)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter_map(|r| r.pupil.boom_leerlingnummer)
            .collect();
        if leerlingids.is_empty() && args.resultaten > 0 {
            eprintln!(
                "Let op: geen leerling van {code} heeft een Boom-leerlingnummer; alleen de foutgevallen worden verstuurd."
            );
        }
        let req = client::generate(&Generate {
            autorisatie: startblok_uwlr::Autorisatie {
                autorisatiesleutel: args.sleutel.clone().unwrap_or_default(),
                klantcode: args.klantcode.clone(),
                klantnaam: args.klantnaam.clone(),
            },
            brincode: code.brin.as_str().to_string(),
            dependancecode: code.dependance.as_str().to_string(),
            leerlingids,
            resultaten: args.resultaten,
            onbekende_leerlingen: args.onbekende_leerlingen,
            onbekende_toets: args.onbekende_toets,
            tot: startblok_domain::today_nl(startblok_app::now()),
            seed: 7,
        });
        let xml = startblok_uwlr::write_request(&req);
        if let Some(path) = &args.opslaan {
            std::fs::write(path, &xml)
                .map_err(|e| format!("kan {} niet schrijven: {}", path.display(), io_nl(&e)))?;
            eprintln!("Bericht opgeslagen in {}.", path.display());
        }
        if args.niet_versturen {
            return Ok(());
        }
        xml.into_bytes()
    } else {
        let file = args
            .file
            .as_ref()
            .expect("clap requires a file without --generate");
        std::fs::read(file)
            .map_err(|e| format!("kan {} niet lezen: {}", file.display(), io_nl(&e)))?
    };
    let size = envelope.len();
    match client::send(&args.url, envelope)
        .await
        .map_err(|e| e.to_string())?
    {
        Answer::Bevestiging => {
            println!(
                "Aangenomen: Startblok heeft de levering ontvangen en opgeslagen ({size} bytes)."
            );
            Ok(())
        }
        Answer::Fault { code, text } => Err(format!("geweigerd: {code}: {text}")),
        Answer::Other { status, body } => Err(format!(
            "onverwacht antwoord (HTTP {status}); is {} het UWLR-adres van een Startblok? Begin van het antwoord: {body}",
            args.url
        )),
    }
}

/// Issues, rotates or revokes a koppeling's key. A new key goes to standard output alone (for
/// scripts: `KEY=$(startblok koppeling activeer …)`); everything said about it goes to standard
/// error. The key is printed this once and never stored.
async fn koppeling(command: KoppelingCommand) -> Result<(), String> {
    use startblok_app::koppelingen::DEFAULT_GRACE;
    let (args, what) = match &command {
        KoppelingCommand::Activeer(a) => (a, "activeer"),
        KoppelingCommand::Roteer(a) => (a, "roteer"),
        KoppelingCommand::Intrek(a) => (a, "intrek"),
    };
    let code: SchoolCode = args
        .school
        .parse()
        .map_err(|e: startblok_domain::SchoolCodeError| e.to_string())?;
    let app = app(open(&args.db).await?, None);
    let school = app
        .school_by_code(&code)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("er is geen school {code} (BRIN en dependance)"))?;
    let slug = args.applicatie.trim().to_lowercase();
    let actor = Actor::cli();
    let issued = match what {
        "activeer" => app.activate_koppeling(school.id, &slug, &actor).await,
        "roteer" => app.rotate_key(school.id, &slug, DEFAULT_GRACE, &actor).await,
        _ => {
            let n = app
                .revoke_koppeling(school.id, &slug, &actor)
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                eprintln!(
                    "De koppeling van {} ({code}) met {slug} was al ingetrokken; er werkte geen sleutel meer.",
                    school.naam
                );
            } else {
                eprintln!(
                    "De koppeling van {} ({code}) met {slug} is ingetrokken; {n} {} niet meer.",
                    school.naam,
                    if n == 1 { "sleutel werkt" } else { "sleutels werken" }
                );
            }
            return Ok(());
        }
    }
    .map_err(|e| e.to_string())?;
    println!("{}", issued.reveal());
    eprintln!(
        "Nieuwe autorisatiesleutel voor {} ({code}), eindigt op …{}. Hij wordt niet bewaard en nooit meer getoond: geef hem nu door.",
        school.naam, issued.last4
    );
    if let Some(until) = issued.previous_valid_until {
        eprintln!(
            "De vorige sleutel blijft geldig tot {}.",
            startblok_domain::format_moment(until)
        );
    }
    Ok(())
}

async fn import_edexml(
    file: &std::path::Path,
    school: &str,
    dry_run: bool,
    db: &DbArgs,
) -> Result<(), String> {
    use startblok_app::edexml_import::{ImportState, MAX_IMPORT_BYTES};
    let code: SchoolCode = school
        .parse()
        .map_err(|e: startblok_domain::SchoolCodeError| e.to_string())?;
    let size = std::fs::metadata(file)
        .map_err(|e| format!("kan {} niet lezen: {}", file.display(), io_nl(&e)))?
        .len();
    if size > MAX_IMPORT_BYTES as u64 {
        return Err(format!(
            "{} is groter dan 64 MB; een EDEXML-export van een school is veel kleiner",
            file.display()
        ));
    }
    let bytes = std::fs::read(file)
        .map_err(|e| format!("kan {} niet lezen: {}", file.display(), io_nl(&e)))?;
    let app = app(open(db).await?, None);
    let s = app
        .school_by_code(&code)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("er is geen school {code} (BRIN en dependance)"))?;
    let who = startblok_app::pupils::InSchool {
        school: s.id,
        actor: Actor::cli(),
        roles: vec![Role::Beheerder],
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let id = app
        .stage_import(&who, &code, &name, &bytes)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let view = app
        .import_view(s.id, &id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("de import is verdwenen")?;
    let ImportState::Preview { plan, fingerprint } = view.state else {
        return Err("de import is geen voorvertoning meer".into());
    };
    println!("{name} voor {} ({code}):", s.naam);
    let counts = plan.report().counts();
    if plan.is_empty() {
        println!("  Geen wijzigingen: alles is al bijgewerkt.");
    }
    for (n, what) in counts {
        println!("  {n:>6} {what}");
    }
    const SHOWN: usize = 50;
    if !plan.changed_pupils.is_empty() {
        println!("Gewijzigd:");
        for c in plan.changed_pupils.iter().take(SHOWN) {
            let what: Vec<String> = c
                .changes
                .iter()
                .map(|f| format!("{}: {} -> {}", f.field, f.old, f.new))
                .collect();
            println!("  {}: {}", c.naam, what.join("; "));
        }
    }
    if !plan.left_pupils.is_empty() {
        println!("Worden uitgeschreven (niet meer in de export):");
        for l in plan.left_pupils.iter().take(SHOWN) {
            println!("  {}", l.naam);
        }
    }
    if !plan.warnings.is_empty() {
        println!("Waarschuwingen:");
        for w in &plan.warnings {
            println!("  - {w}");
        }
    }
    if dry_run {
        app.discard_import(&who, &id)
            .await
            .map_err(|e| e.to_string())?;
        println!("Niets veranderd (--dry-run).");
        return Ok(());
    }
    app.claim_import(s.id, &id, &fingerprint)
        .await
        .map_err(|e| e.to_string())?;
    match app
        .apply_import(&who, &id, &fingerprint, &Default::default())
        .await
        .map_err(|e| e.to_string())?
    {
        startblok_app::edexml_import::ApplyOutcome::Applied(_) => {
            println!("Ingelezen.");
            Ok(())
        }
        _ => Err("er veranderde tegelijk iets anders; probeer het opnieuw".into()),
    }
}

fn report_account(acc: &startblok_app::provisioning::Account, what: &str, password_given: bool) {
    if acc.existed && !acc.changed {
        println!("{} is al {what}; er is niets veranderd.", acc.user.email);
    } else if acc.existed {
        println!("{} bestond al en is nu {what}.", acc.user.email);
    } else {
        println!("Account aangemaakt: {} ({what}).", acc.user.email);
    }
    if acc.existed && password_given {
        println!("Het wachtwoord van een bestaand account wordt hier niet gewijzigd.");
    }
    if let Some(link) = &acc.link {
        println!("Eenmalige link om een wachtwoord te kiezen (7 dagen geldig):\n{link}");
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let url = args.db.url();
    let db = open(&args.db).await?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.addr));
    let from = args
        .mail_from
        .clone()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| startblok_app::mail::DEFAULT_FROM.to_string());
    let mailer = match args.smtp_url.as_deref().map(str::trim) {
        Some(smtp) if !smtp.is_empty() => {
            startblok_app::mail::Mailer::smtp(smtp, &from).map_err(|e| format!("e-mail: {e}"))?
        }
        _ => startblok_app::mail::Mailer::outbox(args.db.data_dir.join("outbox"), &from)
            .map_err(|e| format!("e-mail: {e}"))?,
    };
    let delivers = mailer.delivers();
    let app = App::new(db.clone(), Settings::new(public_url.clone())).with_mailer(mailer);
    if args.demo {
        app.seed_demo()
            .await
            .map_err(|e| format!("demo vullen mislukt: {e}"))?;
    }
    let server = startblok_web::Server::bind(app.clone(), args.addr)
        .await
        .map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (de poort is al in gebruik; kies een andere met bijvoorbeeld --addr 127.0.0.1:8081)"
            } else {
                ""
            };
            format!("kan niet luisteren op {}: {e}{hint}", args.addr)
        })?;

    if args.demo {
        // The example Boom delivery, sent over HTTP to this server once it listens, as Boom
        // would (only while the demo school has none).
        tokio::spawn(startblok_web::send_demo_levering(
            app.clone(),
            server.local_addr(),
        ));
    }
    println!("Startblok draait op {public_url}");
    println!("Database: {}", redact(&url));
    if !delivers {
        println!(
            "E-mail: geen SMTP-server ingesteld; e-mails staan in {} en bij Verzonden e-mail (operator).",
            args.db.data_dir.join("outbox").display()
        );
    }
    if args.demo {
        println!(
            "\nDemo-accounts (wachtwoord voor allemaal: {}):",
            demo::DEMO_PASSWORD
        );
        for a in &demo::DEMO_ACCOUNTS {
            println!("  {:<32} {}", a.email, a.description);
        }
        println!("\nInloggen: {public_url}/inloggen");
    } else if !app.any_operator().await.map_err(|e| e.to_string())? {
        let db_flag = match &args.db.database_url {
            Some(u) if !u.trim().is_empty() => " --database-url URL".to_string(),
            _ if args.db.data_dir != std::path::Path::new("./data") => {
                format!(" --data-dir {}", args.db.data_dir.display())
            }
            _ => String::new(),
        };
        println!(
            "\nEr is nog geen operator. Maak er een aan met:\n  startblok operator create --email JOUW@ADRES.NL{db_flag}"
        );
    }
    println!("Stoppen: Ctrl+C");

    server
        .run_until(shutdown_signal())
        .await
        .map_err(|e| format!("server gestopt: {e}"))?;
    db.close().await;
    Ok(())
}

/// Ctrl+C or SIGTERM: stop taking new requests and let those in flight finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("stoppen: lopende verzoeken worden afgemaakt");
}

/// An operating-system error in Dutch, for messages to people (the English original is what
/// `std::io::Error` says).
fn io_nl(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "het bestand bestaat niet".into(),
        PermissionDenied => "geen toegang (rechten)".into(),
        IsADirectory => "dit is een map, geen bestand".into(),
        _ => format!("systeemfout ({e})"),
    }
}
