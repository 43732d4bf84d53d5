"""`mmexec bybit-dryrun`: the same run through the Bybit V5 client in dry-run (no network, ever)."""

from mmexec.cli.run_command import build_run_app

app = build_run_app(
    "bybit_dryrun",
    "bybit-dryrun",
    "Run the session through the Bybit V5 dry-run client.",
)
