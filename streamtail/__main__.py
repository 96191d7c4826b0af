"""How a process runs streamtail: the console script `streamtail` and `python -m streamtail`."""

from streamtail import memory


def entry() -> None:
    """`cli.main`, then the process ends with its exit status at once (`cli_boundary.leave`);
    `cli.main` itself ends in SystemExit, for a program that runs it in-process. The collector is
    tuned first (`memory.own_process`), so that the imports below already run under it."""
    memory.own_process()
    from streamtail.cli import main
    from streamtail.cli_boundary import leave

    try:
        main()
    except SystemExit as exc:
        leave(exc)


if __name__ == "__main__":
    entry()
