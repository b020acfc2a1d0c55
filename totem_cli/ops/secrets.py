"""`totem secrets encrypt|rotate|keys|retire --env ENV`: encrypted totem.yml values and the key ring
of an environment, on the deployer (TOTEM_DEPLOYER_URL) with TOTEM_TOKEN or TOTEM_API_TOKEN.

`encrypt` reads the value from stdin when it is not given (an argument shows in `ps` and the shell's
history) and prints the YAML to paste; `rotate FILE...` makes a new primary key and rewrites, in
place, every encrypted value of the files that a key of the environment decrypts, leaving every
other character of the files as it was."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from totem_cli.ops.output import FAILED, command, emit_json, table
from totem_client import ServiceError


def register(subparsers) -> None:
    secrets = subparsers.add_parser("secrets", help="encrypt totem.yml values; rotate and retire environment keys")
    actions = secrets.add_subparsers(dest="secrets_command", metavar="ACTION")
    actions.required = True
    encrypt = actions.add_parser("encrypt", help="encrypt a value (stdin when not given): the YAML to paste")
    encrypt.add_argument("value", nargs="?", help="the plaintext (default: read from stdin)")
    encrypt.add_argument("--name", metavar="VAR", help="the variable: print `VAR: {value, encrypted}`")
    encrypt.set_defaults(handler=_encrypt)
    rotate = actions.add_parser("rotate", help="a new primary key; re-encrypt the values of the given files")
    rotate.add_argument("files", nargs="*", metavar="FILE", help="totem.yml files rewritten in place")
    rotate.set_defaults(handler=_rotate)
    keys = actions.add_parser("keys", help="the environment's keys, newest (the primary) first")
    keys.set_defaults(handler=_keys)
    retire = actions.add_parser("retire", help="remove an old key: the values it encrypted no longer decrypt")
    retire.add_argument("key_id", metavar="KEY_ID")
    retire.set_defaults(handler=_retire)
    for parser in (encrypt, rotate, keys, retire):
        parser.add_argument("--env", required=True, help="the environment (meta-info env) whose keys to use")
        parser.add_argument("--json", action="store_true", help="print the answer as JSON")


def snippet(answer: dict, name: str | None) -> str:
    """The YAML of an encrypted value (under `name` when given), its key in a comment."""
    body = {"value": answer["value"], "encrypted": True}
    text = yaml.safe_dump({name: body} if name else body, default_flow_style=False, sort_keys=False, width=10_000)
    return f"# encrypted for {answer.get('env', '')} with key {answer['key']}\n{text}"


@command
def _encrypt(args, clients, settings) -> int:
    plaintext = args.value if args.value is not None else sys.stdin.read().removesuffix("\n")
    if not plaintext:
        print("totem secrets encrypt: nothing to encrypt (give VALUE or pipe it to stdin)", file=sys.stderr)
        return FAILED
    answer = clients.deployer.encrypt_secret(args.env, plaintext)
    del plaintext
    if args.json:
        emit_json(answer)
    else:
        print(snippet({**answer, "env": args.env}, args.name), end="")
    return 0


def encrypted_tokens(node: Any) -> list[str]:
    """Every `{value: <token>, encrypted: true}` token of a parsed totem.yml, in document order."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("encrypted") is True and isinstance(node.get("value"), str):
            return [node["value"]]
        for child in node.values():
            found += encrypted_tokens(child)
    elif isinstance(node, list):
        for child in node:
            found += encrypted_tokens(child)
    return found


def _reencrypted(clients, env: str, tokens: list[str]) -> dict[str, str]:
    """{old: new} for the tokens the environment decrypts (all at once; one by one when some are not its)."""
    try:
        return dict(zip(tokens, clients.deployer.reencrypt_secrets(env, tokens), strict=True))
    except ServiceError as exc:
        if exc.code != "undecryptable":
            raise
    found = {}
    for token in tokens:
        try:
            found[token] = clients.deployer.reencrypt_secrets(env, [token])[0]
        except ServiceError as exc:
            if exc.code != "undecryptable":
                raise
    return found


def rewrite(path: Path, replacements: dict[str, str]) -> None:
    """The file with each old token replaced, written atomically with its mode kept."""
    text = path.read_text()
    for old, new in replacements.items():
        text = text.replace(old, new)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _rotate_file(clients, env: str, path: Path) -> dict:
    text = path.read_text()
    tokens = list(dict.fromkeys(encrypted_tokens(yaml.safe_load(text))))
    unplaced = [t for t in tokens if t not in text]  # folded over lines: not rewritten
    replacements = _reencrypted(clients, env, [t for t in tokens if t in text]) if tokens else {}
    if replacements:
        rewrite(path, replacements)
    return {
        "file": str(path),
        "reencrypted": len(replacements),
        "skipped": len(tokens) - len(replacements) - len(unplaced),
        "unplaced": len(unplaced),
    }


@command
def _rotate(args, clients, settings) -> int:
    paths = [Path(f) for f in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"totem secrets rotate: no such file: {', '.join(missing)}", file=sys.stderr)
        return FAILED
    rotated = clients.deployer.rotate_secret_key(args.env)
    files = [_rotate_file(clients, args.env, p) for p in paths]
    if args.json:
        emit_json({**rotated, "files": files})
        return 0
    print(f"{args.env}: new primary key {rotated['primary']['id']}")
    for done in files:
        note = f"{done['file']}: {done['reencrypted']} value(s) re-encrypted"
        if done["skipped"]:
            note += f", {done['skipped']} left as they are (not encrypted for {args.env})"
        if done["unplaced"]:
            note += f", {done['unplaced']} not rewritten (split over lines: put each token on one line)"
        print(note)
    return FAILED if any(d["unplaced"] for d in files) else 0


@command
def _keys(args, clients, settings) -> int:
    keys = clients.deployer.secret_keys(args.env)
    if args.json:
        emit_json(keys)
        return 0
    print(table([[k["id"], k["created"], "primary" if k["primary"] else ""] for k in keys], ["KEY", "CREATED", ""]))
    return 0


@command
def _retire(args, clients, settings) -> int:
    answer = clients.deployer.retire_secret_key(args.env, args.key_id)
    if args.json:
        emit_json(answer)
    else:
        print(f"{args.env}: key {answer['retired']} retired; {len(answer['keys'])} key(s) left")
    return 0
