"""A real Dovecot IMAP server on 127.0.0.1, configured and run from a temporary directory.

`Dovecot.start(tmp)` writes a self-contained config (facts in
../shared/docs/testing-with-real-servers.md), starts `dovecot -F` and waits for the port;
`add_user()` creates a fresh mailbox per test; `stop()` ends it. The server never leaves
loopback and dies with the test session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "secret-imap-pass"
# Dovecot re-reads passwd-file only when it notices a change, which can lag a write by a
# second; a fixed set of users written before start avoids racing it.
USER_SLOTS = 400


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (("/usr/sbin/dovecot") if Path("/usr/sbin/dovecot").exists() else None)


@dataclass
class Dovecot:
    root: Path
    port: int  # plain IMAP, STARTTLS offered
    tls_port: int  # implicit TLS (imaps)
    ca_file: Path  # the test CA that signed the server's certificate for 127.0.0.1 / localhost
    process: subprocess.Popen[bytes]
    users: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, root: Path) -> Dovecot:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)
        for parent in root.parents:  # the mail user must be able to traverse to its home
            if str(parent).startswith(("/tmp", "/var/tmp")) and parent != Path("/tmp"):
                os.chmod(parent, os.stat(parent).st_mode | 0o711)
        port, tls_port = free_port(), free_port()
        ca_file = _certificates(root)
        (root / "passwd").write_text("".join(f"t{n}@example.test:{{PLAIN}}{PASSWORD}::::::\n"
                                             for n in range(1, USER_SLOTS + 1)))
        (root / "mail").mkdir(exist_ok=True)
        shutil.chown(root / "mail", "dovecot", "dovecot")
        conf = root / "dovecot.conf"
        conf.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return cls(root, port, tls_port, ca_file, process)
            except OSError:
                time.sleep(0.05)
        process.kill()
        raise RuntimeError("dovecot did not start listening within 15 s")

    def add_user(self) -> str:
        """A mailbox no test has used yet (each user's Maildir is created on first login)."""
        if len(self.users) >= USER_SLOTS:
            raise RuntimeError(f"more than {USER_SLOTS} test mailboxes in one session")
        user = f"t{len(self.users) + 1}@example.test"
        self.users.append(user)
        return user

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _certificates(root: Path) -> Path:
    """A throw-away CA and a server certificate for 127.0.0.1 and localhost (trustme)."""
    import trustme

    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_pem.write_to_path(str(root / "server.key"))
    server.cert_chain_pems[0].write_to_path(str(root / "server.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    for name in ("server.key", "server.pem", "ca.pem"):
        os.chmod(root / name, 0o644)
    return root / "ca.pem"
