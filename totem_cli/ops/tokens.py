"""`totem token create|list|revoke` (admin) and `totem whoami`: the tokens services accept.

The CLI itself acts with TOTEM_TOKEN, else TOTEM_API_TOKEN (the bootstrap admin token)."""

from __future__ import annotations

import sys
import time

from totem_cli.ops.output import command, emit_json, table


def register(subparsers) -> None:
    token = subparsers.add_parser("token", help="create, list and revoke API tokens (admin)")
    actions = token.add_subparsers(dest="token_command", metavar="ACTION")
    actions.required = True
    create = actions.add_parser("create", help="issue a token; it is printed once")
    create.add_argument("--name", required=True, help="who or what uses it (audit records name it)")
    create.add_argument("--role", required=True, choices=("viewer", "deployer", "admin"))
    create.add_argument("--scope", action="append", metavar="OWNER/REPO", help="repo glob, repeatable (default *)")
    create.add_argument("--env", action="append", metavar="ENV", help="environment glob, repeatable (default *)")
    create.add_argument("--ttl", metavar="DURATION", help="expire after this long: 90d, 12h (default never)")
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="every token's name, role, scopes and expiry (never its value)")
    listing.set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="refuse a token from now on, on every service")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_revoke)
    whoami = subparsers.add_parser("whoami", help="the name, role and scopes of the token the CLI uses")
    whoami.set_defaults(handler=_whoami)
    for parser in (create, listing, revoke, whoami):
        parser.add_argument("--json", action="store_true", help="print the answer as JSON")


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(stamp)) if stamp else "never"


@command
def _create(args, clients, settings) -> int:
    created = clients.orchestrator.create_token(args.name, args.role, args.scope, args.env, args.ttl)
    if args.json:
        emit_json(created)
        return 0
    print(created["token"])
    print(
        f"token {created['name']}: {created['role']} on {', '.join(created['scopes'])} "
        f"in {', '.join(created['envs'])}, expires {_when(created['expires'])}. It is shown only now.",
        file=sys.stderr,
    )
    return 0


@command
def _list(args, clients, settings) -> int:
    tokens = clients.orchestrator.tokens()
    if args.json:
        emit_json(tokens)
        return 0
    rows = [
        [
            t["name"],
            t.get("role", "-"),
            ",".join(t.get("scopes", [])),
            ",".join(t.get("envs", [])),
            "expired" if t.get("expired") else _when(t.get("expires")),
            t.get("created-by", ""),
        ]
        for t in tokens
    ]
    print(table(rows, ["NAME", "ROLE", "SCOPES", "ENVS", "EXPIRES", "CREATED BY"]))
    return 0


@command
def _revoke(args, clients, settings) -> int:
    answer = clients.orchestrator.revoke_token(args.name)
    if args.json:
        emit_json(answer)
    else:
        print(f"token {args.name} revoked")
    return 0


@command
def _whoami(args, clients, settings) -> int:
    me = clients.orchestrator.whoami()
    if args.json:
        emit_json(me)
    else:
        print(f"{me['name']}: {me['role']} on {', '.join(me['scopes'])} in {', '.join(me['envs'])}")
    return 0
