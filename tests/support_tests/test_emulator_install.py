"""Installing the Node emulators: a caller never starts one from a tree another process is still unpacking.

npm writes the top-level packages (dynalite, local-aws-sqs, s3rver) before their dependencies, so a second process
that looked only for the top-level ``package.json`` files could start dynalite while ``classic-level`` was not yet
there ("Cannot find module 'classic-level'"). A fake ``npm`` on PATH reproduces that order with a pause between the two.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.emulators.launch import INSTALL_STAMP, NODE_PACKAGES, EmulatorUnavailable, ensure_node_packages

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake npm is a POSIX shell script")

# Unpacks the top-level packages, pauses, then the dependency they need; counts its runs; fails on request.
FAKE_NPM = """#!/bin/sh
prefix=""
while [ "$#" -gt 0 ]; do
  if [ "$1" = "--prefix" ]; then prefix="$2"; shift; fi
  shift
done
echo run >> "$prefix/npm-runs"
if [ -f "$prefix/npm-fails" ]; then echo "npm ERR! network unreachable" >&2; exit 1; fi
for name in {packages}; do
  mkdir -p "$prefix/node_modules/$name" && echo '{{}}' > "$prefix/node_modules/$name/package.json"
done
sleep {pause}
mkdir -p "$prefix/node_modules/classic-level" && echo '{{}}' > "$prefix/node_modules/classic-level/package.json"
"""
PAUSE = 1.0


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An emulators directory with a manifest, and a PATH whose npm and node are fakes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (
        ("npm", FAKE_NPM.format(packages=" ".join(NODE_PACKAGES), pause=PAUSE)),
        ("node", "#!/bin/sh\nexit 0\n"),
    ):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/bin{os.pathsep}/usr/bin")
    emulators_dir = tmp_path / "emulators"
    emulators_dir.mkdir()
    (emulators_dir / "package.json").write_text('{"dependencies": {"dynalite": "3"}}\n')
    (emulators_dir / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    return emulators_dir


def npm_runs(emulators_dir: Path) -> int:
    runs = emulators_dir / "npm-runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def dependency_installed(emulators_dir: Path) -> bool:
    return (emulators_dir / "node_modules" / "classic-level" / "package.json").is_file()


def test_a_caller_arriving_mid_install_waits_for_the_whole_tree(project: Path) -> None:
    errors: list[BaseException] = []

    def first() -> None:
        try:
            ensure_node_packages(project)
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    installer = threading.Thread(target=first)
    installer.start()
    deadline = time.monotonic() + 10
    while not (project / "node_modules" / NODE_PACKAGES[0] / "package.json").is_file():
        assert time.monotonic() < deadline, "the fake npm never unpacked the top-level packages"
        time.sleep(0.01)
    assert not dependency_installed(project), "the fake npm must pause between the packages and their dependency"

    ensure_node_packages(project)  # the second caller, while npm is between the two steps

    assert dependency_installed(project), "returned while npm was still unpacking the dependencies"
    installer.join(timeout=10)
    assert not errors
    assert npm_runs(project) == 1
    assert (project / "node_modules" / INSTALL_STAMP).is_file()


def test_a_complete_install_is_not_repeated(project: Path) -> None:
    ensure_node_packages(project)
    ensure_node_packages(project)
    assert npm_runs(project) == 1


def test_a_tree_without_the_stamp_is_installed_again(project: Path) -> None:
    """A tree left by an interrupted install (or an older layout) has the packages but no stamp."""
    ensure_node_packages(project)
    (project / "node_modules" / INSTALL_STAMP).unlink()
    ensure_node_packages(project)
    assert npm_runs(project) == 2


def test_a_changed_lock_file_is_installed_again(project: Path) -> None:
    ensure_node_packages(project)
    (project / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}\n')
    ensure_node_packages(project)
    assert npm_runs(project) == 2


def test_a_failed_install_raises_and_leaves_no_stamp(project: Path) -> None:
    (project / "npm-fails").touch()
    with pytest.raises(EmulatorUnavailable, match="network unreachable"):
        ensure_node_packages(project)
    assert not (project / "node_modules" / INSTALL_STAMP).exists()
    (project / "npm-fails").unlink()
    ensure_node_packages(project)
    assert dependency_installed(project)


def test_without_npm_a_tree_put_there_by_other_means_is_used_and_an_absent_one_is_reported(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = project.parent / "bin"
    (bin_dir / "npm").unlink()
    monkeypatch.setenv("PATH", str(bin_dir))  # node (the fake) only: the machine's npm is out of reach
    with pytest.raises(EmulatorUnavailable, match="npm is not on PATH"):
        ensure_node_packages(project)
    for name in NODE_PACKAGES:
        (project / "node_modules" / name).mkdir(parents=True)
        (project / "node_modules" / name / "package.json").write_text("{}")
    assert ensure_node_packages(project).name == "node"
