"""``makersync``: the command line for the makersync daemon.

Tables for people by default, ``--json`` for scripts. Errors print as one
line on stderr (``error: INVALID_ARGUMENT: start_date: ...``) and the exit
code tells scripts what happened:

====  ==============================================================
0     ok
1     anything else (a pull that failed or was cancelled, a deadline)
2     usage error, INVALID_ARGUMENT
3     NOT_FOUND
4     FAILED_PRECONDITION, RESOURCE_EXHAUSTED, ALREADY_EXISTS
5     UNAUTHENTICATED, PERMISSION_DENIED
6     UNAVAILABLE (the daemon is not running or not reachable)
141   stdout closed early (``makersync orders 1 | head -1``): quiet, as
      a process ended by SIGPIPE
====  ==============================================================
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import grpc

from makersync.clients import cli_commands as cmd
from makersync.clients.cli_output import Output
from makersync.clients.client import (
    DEFAULT_ADDRESS,
    DEFAULT_TIMEOUT_S,
    MakersyncClient,
    MakersyncError,
)

EXIT_CODES: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 2,
    grpc.StatusCode.NOT_FOUND: 3,
    grpc.StatusCode.FAILED_PRECONDITION: 4,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 4,
    grpc.StatusCode.ALREADY_EXISTS: 4,
    grpc.StatusCode.UNAUTHENTICATED: 5,
    grpc.StatusCode.PERMISSION_DENIED: 5,
    grpc.StatusCode.UNAVAILABLE: 6,
}
EXIT_OTHER, EXIT_USAGE = 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # as a shell reports a process ended by SIGPIPE (13)
_DAEMON_DOWN_HINTS = ("failed to connect", "connection refused", "connect failed", "dns resolution")


def _global_flags(*, after_command: bool) -> argparse.ArgumentParser:
    """The flags every command takes, before or after its name.

    After the command they default to SUPPRESS, so a flag given only before
    it (or its default) is not overwritten when the subcommand is parsed."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if after_command else value

    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("global options (before or after the command)")
    group.add_argument("--address", default=default(None),
                       help=f"daemon address (env MAKERSYNC_ADDRESS, default {DEFAULT_ADDRESS})")
    group.add_argument("--key", default=default(None),
                       help="API key, sent as 'authorization: Bearer <key>' (env MAKERSYNC_KEY)")
    group.add_argument("--timeout", type=float, default=default(DEFAULT_TIMEOUT_S),
                       help=f"seconds per call (default {DEFAULT_TIMEOUT_S:g})")
    group.add_argument("--json", action="store_true", default=default(False),
                       help="print JSON for scripts instead of tables")
    return flags


_COMMAND_FLAGS = _global_flags(after_command=True)


def _add(sub: argparse._SubParsersAction, name: str, func: object, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text,
                                                     parents=[_COMMAND_FLAGS])
    parser.set_defaults(func=func)
    return parser


def _group(sub: argparse._SubParsersAction, name: str, help_text: str) -> argparse._SubParsersAction:
    """A command of several actions (``accounts create``, ``order get``)."""
    parser = sub.add_parser(name, help=help_text, description=help_text, parents=[_COMMAND_FLAGS])
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")


def _range(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("--from", dest="start_date", required=required, metavar="YYYY-MM-DD", help="first day")
    p.add_argument("--to", dest="end_date", required=required, metavar="YYYY-MM-DD", help="last day (inclusive)")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    root = argparse.ArgumentParser(prog="makersync", description="Talk to the makersync daemon.",
                                   parents=[_global_flags(after_command=False)])
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    accounts = _group(sub, "accounts", "create, read and change accounts")
    p = _add(accounts, "create", cmd.accounts_create, "create an account")
    p.add_argument("--name", required=True)
    p.add_argument("--plan", required=True, help="a plan of the daemon's plan table, e.g. trial")
    p.add_argument("--start-date", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--time-zone", required=True, help="IANA zone, e.g. Europe/Berlin")
    p.add_argument("--daily-pull-hour", type=int)
    p = _add(accounts, "get", cmd.accounts_get, "show an account")
    p.add_argument("account")
    p = _add(accounts, "update", cmd.accounts_update, "change an account's plan, start date or zone")
    p.add_argument("account")
    p.add_argument("--plan")
    p.add_argument("--start-date", metavar="YYYY-MM-DD")
    p.add_argument("--time-zone")
    p.add_argument("--daily-pull-hour", type=int)
    _add(accounts, "list", cmd.accounts_list, "list accounts")

    locations = _group(sub, "locations", "an account's locations")
    p = _add(locations, "create", cmd.locations_create, "create a location")
    p.add_argument("account")
    p.add_argument("name")
    p = _add(locations, "list", cmd.locations_list, "list an account's locations")
    p.add_argument("account")

    _add(sub, "channels", cmd.channels, "list the installed channel plugins")
    p = _add(sub, "connect", cmd.connect, "connect a store")
    p.add_argument("account")
    p.add_argument("channel")
    p.add_argument("--cred", action="append", metavar="NAME=VALUE",
                   help="a credential; NAME=@FILE reads the value from a file (repeat)")
    p.add_argument("--name", help="name to show for the store")
    p = _add(sub, "disconnect", cmd.disconnect, "disconnect a store and remove what was pulled from it")
    p.add_argument("store")
    p = _add(sub, "configure", cmd.configure, "change an integration's settings")
    p.add_argument("account")
    p.add_argument("channel")
    p.add_argument("--automatic-updates", choices=("on", "off"))
    p.add_argument("--automatic-shipped-date", choices=("on", "off"))
    p.add_argument("--default-location", metavar="ID", help="a location id; '' clears it")
    p = _add(sub, "integrations", cmd.integrations, "list an account's integrations and stores")
    p.add_argument("account")
    p = _add(sub, "store", cmd.store, "show a store")
    p.add_argument("store")

    p = _add(sub, "pull", cmd.pull, "pull a store for a date range and follow it")
    p.add_argument("store")
    _range(p, required=True)
    p.add_argument("--dry-run", action="store_true", help="write nothing, report what would change")
    p.add_argument("--no-wait", action="store_true", help="queue the pull and return at once")
    p = _add(sub, "sync", cmd.sync, "pull what changed since the store's last pull, now, and follow it")
    p.add_argument("store")
    p.add_argument("--no-wait", action="store_true", help="queue the pull and return at once")
    p = _add(sub, "pulls", cmd.pulls, "list a store's pulls, newest first")
    p.add_argument("store")
    p.add_argument("--limit", type=int, default=50, help="at most this many (0 = all)")
    p = _add(sub, "watch", cmd.watch, "follow a pull until it ends")
    p.add_argument("pull")
    p = _add(sub, "status", cmd.status, "the daemon's status and each store's pulls")
    p.add_argument("--account")
    p.add_argument("--watch", action="store_true", help="refresh every second until Ctrl-C")
    p.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)

    p = _add(sub, "orders", cmd.orders, "list an account's orders, newest first")
    p.add_argument("account")
    p.add_argument("--store")
    _range(p)
    p.add_argument("--limit", type=int, default=100, help="at most this many (0 = all)")
    order = _group(sub, "order", "one order: get, edit, copy, delete")
    for name, func, text in (("get", cmd.order_get, "show an order"), ("copy", cmd.order_copy,
                             "copy an order into a local one"), ("delete", cmd.order_delete, "delete an order")):
        _add(order, name, func, text).add_argument("order")
    p = _add(order, "edit", cmd.order_edit, "edit an order (a pull overwrites status and shipped-date edits to pulled orders)")
    p.add_argument("order")
    p.add_argument("--status", choices=("pending", "paid", "partially_shipped", "shipped", "cancelled",
                                        "partially_refunded", "refunded"))
    p.add_argument("--shipped-at", metavar="ISO-TIME")
    p.add_argument("--clear-shipped-at", action="store_true")
    p.add_argument("--location", metavar="ID", help="a location id; '' clears it")
    p.add_argument("--note")

    p = _add(sub, "products", cmd.products, "list an account's products")
    p.add_argument("account")
    p.add_argument("--limit", type=int, default=100, help="at most this many (0 = all)")
    product = _group(sub, "product", "one product: create, get")
    p = _add(product, "create", cmd.product_create, "create a product of your own")
    p.add_argument("account")
    p.add_argument("--title", required=True)
    p.add_argument("--sku")
    _add(product, "get", cmd.product_get, "show a product and its listings").add_argument("product")
    p = _add(sub, "move-listing", cmd.move_listing, "link a listing to another product")
    p.add_argument("listing")
    p.add_argument("product")

    p = _add(sub, "fees", cmd.fees, "list an account's fees, newest first")
    p.add_argument("account")
    p.add_argument("--store")
    _range(p)
    p.add_argument("--limit", type=int, default=100, help="at most this many (0 = all)")
    fee = _group(sub, "fee", "one fee: delete")
    _add(fee, "delete", cmd.fee_delete, "delete a fee").add_argument("fee")
    admin = _group(sub, "admin", "operator commands (an admin key)")
    p = _add(admin, "rotate-key", cmd.admin_rotate_key,
             "rotate the key that encrypts stored credentials and re-encrypt every store with it")
    p.add_argument("--keep-previous-keys", action="store_true",
                   help="leave the old keys in the key file (they still decrypt; only the new key encrypts)")
    p = _add(sub, "export", cmd.export, "write an account's books as CSV files")
    p.add_argument("account")
    p.add_argument("--out", required=True, metavar="DIR")
    return root


def error_line(err: MakersyncError, address: str) -> str:
    """The one line printed for a failed call."""
    line = f"error: {err.code.name}: {err.details}"
    if err.code == grpc.StatusCode.UNAVAILABLE and any(h in err.details.lower() for h in _DAEMON_DOWN_HINTS):
        line = (f"error: UNAVAILABLE: no makersync daemon answers at {address}; start it with "
                "`makersyncd` (or point --address / MAKERSYNC_ADDRESS at it)")
    return line


def _detach_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's own flush at exit does
    not fail again on the closed pipe (the SIGPIPE note in the ``signal`` docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # a stdout without a file descriptor: nothing left to flush there
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    try:
        code = _run(argv)
        sys.stdout.flush()  # a reader gone early shows here, not at interpreter exit
        return code
    except BrokenPipeError:  # stdout's reader left (`| head`): what it read was all it wanted
        _detach_stdout()
        return EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    out = Output(args.json)
    client = MakersyncClient(args.address, args.key, args.timeout)
    try:
        return int(args.func(client, args, out))
    except cmd.UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MakersyncError as err:
        print(error_line(err, client.address), file=sys.stderr)
        return EXIT_CODES.get(err.code, EXIT_OTHER)
    except OSError as exc:  # a file the command reads or writes (a full disk mid-export)
        if isinstance(exc, BrokenPipeError) and exc.filename is None:
            raise  # stdout's, not a file's: main() ends quietly
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_OTHER
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
