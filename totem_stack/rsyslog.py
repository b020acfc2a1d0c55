"""The log collector of the stack and the tests: Debian's rsyslogd, in the foreground, with its own
config, pid file and work dir, listening for RFC 5424 over TCP (octet-counted or not) on one
address and writing ONE FILE PER APP: `<logs>/apps/<app>.log`, named by the message's APP-NAME.

An APP-NAME that is not an app name (a DNS label, as the deploy request allows) goes to
`<logs>/apps/_other.log`, so no message can name a path. No system log socket is opened (no
imuxsock, imklog); rsyslogd's own messages go to `<work dir>/rsyslogd.log`.

Each stored line: `RECEIVED REPORTED HOST APP NODE [structured data] message`, RECEIVED being when
the collector took the line and REPORTED the instance's own time (Docker's), both RFC 3339.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

APP_PATTERN = "^[a-z0-9][a-z0-9-]{0,127}$"  # the deploy request's NAME_PATTERN
OTHER = "_other"
LINE = (
    "%timegenerated:::date-rfc3339% %timereported:::date-rfc3339% %hostname% %app-name% %procid% "
    "%structured-data% %msg%\\n"
)


def app_log(logs: Path, app: str) -> Path:
    """Where the collector writes `app`'s lines."""
    return logs / "apps" / f"{app}.log"


def _quoted(value: object) -> str:
    text = str(value)
    if any(c in text for c in '"\\\n'):
        raise ValueError(f"cannot be written into rsyslog.conf: {text!r}")
    return f'"{text}"'


@dataclass(frozen=True)
class Tls:
    """A TLS collector's files (PEM): the CA that signed its certificate, the certificate, its key.
    rsyslogd serves TLS through its GnuTLS driver (Debian package rsyslog-gnutls)."""

    ca: Path
    cert: Path
    key: Path


TLS_PACKAGE = "rsyslog-gnutls"


def render_config(host: str, port: int, logs: Path, work: Path, tls: Tls | None = None) -> str:
    """rsyslog.conf (RainerScript) for a collector on `host`:`port` writing under `logs`; with `tls`,
    RFC 5425 (TLS, any client: the senders check the collector, not the other way round)."""
    apps = logs / "apps"
    driver, stream = "", ""
    if tls is not None:
        driver = (
            f' defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile={_quoted(tls.ca)}'
            f" defaultNetstreamDriverCertFile={_quoted(tls.cert)} defaultNetstreamDriverKeyFile={_quoted(tls.key)}"
        )
        stream = ' streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"'
    return f"""# written by totem_stack.rsyslog: Totem's log collector (docs/logging.md)
global(workDirectory={_quoted(work)} maxMessageSize="64k" processInternalMessages="on"{driver})
module(load="imtcp" maxSessions="1000"{stream})

template(name="totemLine" type="string" string="{LINE}")
template(name="totemAppFile" type="string" string={_quoted(str(apps) + "/%app-name%.log")})

ruleset(name="totemApps") {{
  if re_match($app-name, '{APP_PATTERN}') then {{
    action(type="omfile" dynaFile="totemAppFile" template="totemLine" dynaFileCacheSize="100"
           createDirs="on" dirCreateMode="0750" fileCreateMode="0640" flushOnTXEnd="on")
  }} else {{
    action(type="omfile" file={_quoted(apps / (OTHER + ".log"))} template="totemLine"
           createDirs="on" dirCreateMode="0750" fileCreateMode="0640" flushOnTXEnd="on")
  }}
}}

input(type="imtcp" address={_quoted(host)} port={_quoted(port)} ruleset="totemApps")

# rsyslogd's own messages
action(type="omfile" file={_quoted(work / "rsyslogd.log")})
"""


def argv(config: Path, pidfile: Path) -> tuple[str, ...]:
    """rsyslogd in the foreground (-n) with this config and pid file, nothing from /etc."""
    return ("rsyslogd", "-n", "-f", str(config), "-i", str(pidfile))
