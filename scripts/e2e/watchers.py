"""One `cargo lambda watch` per function (their environments differ), on loopback ports.

The watcher process itself gets only what cargo needs (PATH, HOME, the toolchain's
folders); the function's environment goes in through `--env-file`, so nothing of the
caller's environment leaks into a function. Each watcher runs in a process group of its
own and is stopped with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

KEEP = ("PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "CARGO_TARGET_DIR", "TMPDIR", "USER", "LANG")


_GIVEN: set[int] = set()


def free_port() -> int:
    """A free loopback port not handed out before in this run: a port probed and closed here
    can come back from the kernel at once, and two watchers given the same port would have
    the second one exit when it cannot listen."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


class Watcher:
    def __init__(self, binary: str, port: int, env: dict[str, str], folder: Path, root: Path):
        self.binary = binary
        self.port = port
        self.env = env
        self.folder = folder
        self.root = root
        self.proc: subprocess.Popen | None = None
        self.log_path = folder / f"{binary}.log"

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        env_file = self.folder / f"{self.binary}.env"
        with open(env_file, "w") as f:
            for k, v in sorted(self.env.items()):
                # Single quotes: taken literally by the .env parser (no escapes, no $).
                if "\n" in v or "'" in v:
                    raise ValueError(f"{self.binary}: {k} holds a newline or a single quote")
                f.write(f"{k}='{v}'\n")
        base = {k: os.environ[k] for k in KEEP if k in os.environ}
        cmd = [
            "cargo", "lambda", "watch", "--ignore-changes", "--quiet",
            "--invoke-address", "127.0.0.1", "--invoke-port", str(self.port),
            "--env-file", str(env_file), "--bin", self.binary,
        ]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            cmd, cwd=self.root, env=base, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        return self

    def wait_listening(self, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cargo lambda watch for {self.binary} exited ({self.log_path})")
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"cargo lambda watch for {self.binary} did not listen within {timeout:.0f}s")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
