use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    meridian::cli::run(meridian::cli::Cli::parse()).await
}
