"""Each hook, exercised by a plugin the way third parties use it; and the guard that keeps
every hook documented and tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from headwater import hookspecs

from conftest import run_cli, write_dist

DOCS = Path(__file__).parents[2] / "docs"
TESTS = Path(__file__).parent

COMMAND_PLUGIN = """
    import click
    from headwater import hookimpl

    @click.command("hello")
    @click.argument("who")
    def hello(who):
        '''Say hello.'''
        click.echo(f"hello {who}")

    @click.command("connectors")
    def impostor():
        click.echo("not the real connectors command")

    @hookimpl
    def register_commands(cli):
        cli.add_command(hello)
        cli.add_command(impostor)
"""

LAZY_COMMAND_PLUGIN = """
    from headwater import hookimpl
    from headwater.cli import LazyCommand

    @hookimpl
    def register_commands(cli):
        cli.add_command(LazyCommand("hello", "hello_commands:hello"))
"""

LAZY_COMMAND_MODULE = """
    import sys
    import click

    print("hello_commands imported", file=sys.stderr)

    @click.command("hello")
    @click.argument("who")
    def hello(who):
        '''Say hello.'''
        click.echo(f"hello {who}")
"""

RESOLVER_PLUGIN = """
    from headwater import hookimpl

    VAULT = {"github/token": "s3cr3t"}

    def from_vault(key):
        try:
            return VAULT[key]
        except KeyError:
            raise LookupError(f"vault has no entry {key!r}") from None

    @hookimpl
    def register_secret_resolvers():
        return {"vault": from_vault}
"""


def hook_names() -> list[str]:
    return sorted(
        name
        for name, obj in vars(hookspecs).items()
        if callable(obj) and hasattr(obj, f"{hookspecs.PROJECT_NAME}_spec")
    )


def test_register_commands_adds_a_command_and_cannot_replace_a_builtin(site):
    write_dist(
        site,
        "headwater-hello",
        "0.2.0",
        entry_points={"hello": "hello_plugin"},
        files={"hello_plugin.py": COMMAND_PLUGIN},
    )

    hello = run_cli("hello", "world")
    listing = run_cli("connectors", "--json")
    helptext = run_cli("--help")

    assert hello.stdout == "hello world\n"
    assert "not the real" not in listing.stdout
    assert "command 'connectors' is already provided" in listing.stdout
    assert "hello" in helptext.stdout


def test_a_lazy_command_is_imported_only_when_it_runs_or_help_lists_it(site):
    write_dist(
        site,
        "headwater-hello",
        "0.2.0",
        entry_points={"hello": "hello_plugin"},
        files={"hello_plugin.py": LAZY_COMMAND_PLUGIN, "hello_commands.py": LAZY_COMMAND_MODULE},
    )

    listing = run_cli("connectors")
    hello = run_cli("hello", "world")
    helptext = run_cli("--help")

    assert listing.returncode == 0
    assert "hello_commands imported" not in listing.stderr
    assert (hello.stdout, hello.stderr) == ("hello world\n", "hello_commands imported\n")
    assert "hello       Say hello." in helptext.stdout


def test_register_secret_resolvers_adds_a_reference_prefix(site, registry):
    write_dist(
        site,
        "headwater-vault",
        "0.1.0",
        entry_points={"vault": "vault_plugin"},
        files={"vault_plugin.py": RESOLVER_PLUGIN},
    )
    registry = registry()

    builtin_only = registry.secret_resolvers()
    everything = registry.secret_resolvers(all_plugins=True)

    assert set(builtin_only) == {"env", "file"}
    assert everything["vault"]("github/token") == "s3cr3t"
    with pytest.raises(LookupError, match="no entry"):
        everything["vault"]("missing")


def test_a_raising_hook_is_reported_not_fatal(site):
    write_dist(
        site,
        "headwater-bad-commands",
        "0.1.0",
        entry_points={"badcmd": "badcmd_plugin"},
        files={
            "badcmd_plugin.py": """
                   from headwater import hookimpl

                   @hookimpl
                   def register_commands(cli):
                       raise RuntimeError("boom")
               """
        },
    )

    result = run_cli("--help")
    listing = run_cli("connectors", "--json")

    assert result.returncode == 0
    assert "connectors" in result.stdout
    assert "hook register_commands raised RuntimeError: boom" in listing.stdout


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_typed_and_has_a_docstring_and_versionadded(name):
    spec = getattr(hookspecs, name)
    doc = inspect.getdoc(spec) or ""
    assert doc.splitlines()[0].endswith("."), f"{name}: first docstring line must be a sentence"
    assert ".. versionadded::" in doc
    assert "return" in spec.__annotations__


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_documented(name):
    reference = (DOCS / "hooks.md").read_text(encoding="utf-8")
    assert re.search(rf"^#+ `{name}\(", reference, re.MULTILINE), (
        f"hook {name} has no section in docs/hooks.md"
    )


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_tested(name):
    # A hook counts as tested when a test module other than this guard implements it in a
    # plugin (the `def name(` of a hookimpl inside a plugin source string or module).
    users = [
        path.name
        for path in TESTS.glob("test_*.py")
        if path.name != Path(__file__).name
        and re.search(rf"def {name}\(", path.read_text(encoding="utf-8"))
    ]
    users += (
        ["test_hooks.py"]
        if re.search(
            rf"def {name}\(", Path(__file__).read_text(encoding="utf-8").split("def hook_names")[0]
        )
        else []
    )
    assert users, f"no test implements the hook {name}"
