"""`mmexec shadow`: a deterministic shadow session against the simulated exchange."""

from mmexec.cli.run_command import build_run_app

app = build_run_app(
    "shadow",
    "shadow",
    "Run a deterministic shadow session (JSON report on stdout).",
)
