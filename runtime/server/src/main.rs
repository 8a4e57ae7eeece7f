//! The `edgeshim` command.

use std::process::ExitCode;

use clap::Parser;
use edgeshim::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

// Counts heap bytes so that the snapshot copy serving a request can be held to Compute's
// heap limit.
#[cfg(unix)]
#[global_allocator]
static ALLOCATOR: edgeshim_engine::CountingAllocator = edgeshim_engine::CountingAllocator;

/// The log filter the server chose, for the snapshot process it starts.
const LOG_FILTER_ENV: &str = "EDGESHIM_LOG_FILTER";

fn init_logging(verbose: u8, quiet: bool) {
    let default = match verbose {
        // `edgeshim test` prints its report; the server it runs says only what is wrong.
        0 if quiet => "warn",
        0 => "info",
        1 => "debug,hyper=info,boa_engine=info",
        _ => "trace",
    };
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_owned());
    // Set before any thread exists; the snapshot process logs as the server does.
    std::env::set_var(LOG_FILTER_ENV, &filter);
    init_logging_with(&filter);
}

fn init_logging_with(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // With stderr closed (a log pipe that went away) the subscriber would report its
        // write error with eprintln!, which panics: keep serving instead.
        .log_internal_errors(false)
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!("cannot listen for SIGTERM: {e}");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The async runtime of `serve` and `test`, or `None` (said in the log) when it cannot start.
fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .inspect_err(|e| tracing::error!("cannot start the async runtime: {e}"))
        .ok()
}

/// `edgeshim test`: 0 when every test passed, 1 when one failed, 2 when they could not run.
fn test(args: edgeshim::testing::TestArgs) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    // This program runs the app's snapshot process too.
    let program = std::env::current_exe().ok();
    let outcome = runtime.block_on(async move {
        let stdout = std::io::stdout();
        edgeshim::testing::run(args, program, &mut stdout.lock()).await
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {e}");
            }
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    // Started again by the server as its snapshot process: no command line, no runtime.
    #[cfg(unix)]
    if std::env::args_os().nth(1).as_deref()
        == Some(std::ffi::OsStr::new(edgeshim_engine::SNAPSHOT_PROCESS_ARG))
    {
        init_logging_with(&std::env::var(LOG_FILTER_ENV).unwrap_or_else(|_| "info".to_owned()));
        return edgeshim_engine::run_snapshot_process();
    }
    let cli = Cli::parse();
    init_logging(cli.verbose, matches!(cli.command, Command::Test(_)));
    let args = match cli.command {
        Command::Serve(args) => args,
        Command::Test(args) => return test(args),
        Command::Kv(args) => {
            let stdout = std::io::stdout();
            let stdin = std::io::stdin();
            return match edgeshim::kv_cli::run(&args, &mut stdout.lock(), &mut stdin.lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    // A command's answer, not a server's log line.
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!("error: {e}");
                    }
                    ExitCode::FAILURE
                }
            };
        }
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async {
        let mut options = args.into_options();
        // This program runs the app's snapshot process too.
        options.pool.snapshot_program = std::env::current_exe().ok();
        let mut server = match edgeshim::start(options).await {
            Ok(server) => server,
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let stopper = server.stopper();
        tokio::spawn(async move {
            shutdown_signal().await;
            if let Some(stop) = stopper {
                let _ = stop.send(());
            }
            // A second Ctrl-C or SIGTERM does not wait for open requests.
            shutdown_signal().await;
            tracing::warn!("second signal: exiting without waiting");
            std::process::exit(130);
        });
        server.wait().await;
        tracing::info!("stopped");
        ExitCode::SUCCESS
    })
}
