"""`python3 course.py lab` hands its process over to JupyterLab: stopping the command stops JupyterLab, and
JupyterLab starts without nbgrader's missing-configuration warning."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(os.name != "posix", reason="the hand-over uses exec, which is POSIX; elsewhere lab waits on a child")
def test_stopping_the_lab_command_stops_jupyterlab_and_nbgrader_is_configured(tmp_path):
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        lab = subprocess.Popen([sys.executable, "course.py", "lab", "--no-browser", "--ip", "127.0.0.1",
                                f"--port={_free_port()}", "--ServerApp.token=''"], cwd=ROOT, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "is running at" not in log.read_text() and "http://127.0.0.1" not in log.read_text():
            assert lab.poll() is None, f"JupyterLab exited early:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab did not start:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        lab.send_signal(signal.SIGTERM)  # what `kill` sends to the command's process
        lab.wait(timeout=30)
        time.sleep(1)
        survivors = subprocess.run(["pgrep", "-s", str(lab.pid)], capture_output=True, text=True).stdout.split()
        assert survivors == [], f"processes of the lab command still running after it was stopped: {survivors}"
        assert "No nbgrader_config.py" not in log.read_text()
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGKILL)
