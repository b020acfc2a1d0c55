"""Render one generation directory: haproxy.cfg, maps, ACL lists, certificates, pages.

Each apply that needs a reload writes a fresh `gen-<n>/` directory (with hold.lua, which holds
a paused host's requests); haproxy.cfg in the work dir is a symlink switched to it only after
`haproxy -c` accepted it.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from yoda_proxy.certs import write_private
from yoda_proxy.model import GLOBAL_BLACK_LIST
from yoda_proxy.plan import MAPS, ListenerSpec, Plan
from yoda_proxy.settings import Bind, ProxySettings

ENV = Environment(
    loader=PackageLoader("yoda_proxy", "templates"),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
STATUS_LINES = {"503": "503 Service Unavailable"}


def server_addr(address: tuple[str, int]) -> str:
    return str(Bind(*address))


def map_text(entries: dict[str, str]) -> str:
    return "".join(f"{key} {value}\n" for key, value in sorted(entries.items()))


def page(plan: Plan, code: str) -> str:
    return plan.pages.get(code) or ENV.get_template(f"pages/{code}.html").render()


def render_config(plan: Plan, opts: ProxySettings, work: Path, gen: Path, default_cert: Path) -> str:
    def listener_bind(listener: ListenerSpec) -> str:
        return Bind(listener.address or opts.http.host, listener.port).haproxy

    return ENV.get_template("haproxy.cfg.j2").render(
        plan=plan,
        opts=opts,
        work=work,
        gen=gen,
        default_cert=default_cert,
        listener_bind=listener_bind,
        server_addr=server_addr,
        black_list=GLOBAL_BLACK_LIST if any(name == GLOBAL_BLACK_LIST for name, _ in plan.acls) else None,
    )


def write_generation(plan: Plan, opts: ProxySettings, work: Path, gen: Path, default_cert: Path) -> Path:
    for sub in ("pages", "acls", "certs"):
        (gen / sub).mkdir(parents=True, exist_ok=True)
    for name in MAPS:
        (gen / f"{name}.map").write_text(map_text(plan.maps[name]))
    for name, cidrs in plan.acls:
        (gen / "acls" / f"{name}.lst").write_text("".join(f"{c}\n" for c in cidrs))
    for name, pem in plan.certs.items():
        write_private(gen / "certs" / f"{name}.pem", pem)
    for code in ("403", "404", "503", "maintenance"):
        (gen / "pages" / f"{code}.html").write_text(page(plan, code))
    (gen / "hold.lua").write_text(ENV.get_template("hold.lua.j2").render(flags_map=gen / "flags.map"))
    body = page(plan, "503").encode()
    head = (
        f"HTTP/1.1 {STATUS_LINES['503']}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Cache-Control: no-cache\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    (gen / "pages" / "503.http").write_bytes(head.encode() + body)
    cfg = gen / "haproxy.cfg"
    cfg.write_text(render_config(plan, opts, work, gen, default_cert))
    return cfg
