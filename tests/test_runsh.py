"""run.sh's set-up decisions, with fake programs on a PATH of our own (no real install).

run.sh's functions are sourced (it only runs main when executed); GRAPH500_DRY_RUN=1 makes
set-up print the pip commands instead of running them, and a stub "python" stands in for the
interpreter and the venv's python, so every case takes milliseconds. The real paths (a real
install, the Debian MPICH) are exercised by hand: see the README's set-up section.
"""
import os
import pathlib
import shutil
import stat
import subprocess
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNSH = ROOT / "run.sh"

# What the real launchers and libraries print (abridged).
MPICH_EXEC = "HYDRA build details:\n    Version:                                 4.0.2\n"
OPENMPI_EXEC = "mpiexec (Open MPI) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/\n"
INTEL_EXEC = "Intel(R) MPI Library for Linux* OS, Version 2021.6 Build 20220227 (id: 28877f3f32)\n"
MPICH_LIB = "MPICH Version:      4.0.2"
OPENMPI_LIB = "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4"
INTEL_LIB = "Intel(R) MPI Library 2021.6 for Linux* OS"

# The tools run.sh itself needs; the test PATH holds only these (so a real mpiexec on this
# machine, e.g. a distribution's MPICH, cannot leak into a case).
TOOLS = ["bash", "sh", "awk", "cat", "dirname", "head", "rm", "mkdir", "rmdir", "sleep",
         "flock", "touch", "env", "printf", "nproc", "tr", "basename", "cp"]

# A stand-in for python: `-m venv DIR` makes a venv whose python is this script again (the
# bin folder with a plain mkdir, so two unserialised creations fail as python's venv does with
# "File exists"); a venv python with a file `broken` beside it does not run, one with `no-pip`
# beside it has no pip (a re-created venv has neither); `-` (run.sh's library probe) prints
# FAKE_MPI_LIB; anything else (pip install, graph500) is logged and succeeds.
FAKE_PYTHON = textwrap.dedent("""\
    #!/bin/bash
    here=$(cd "$(dirname "$0")" && pwd)
    [ -n "$FAKE_LOG" ] && echo "python $*" >> "$FAKE_LOG"
    if [ "$1" = -m ] && [ "$2" = venv ]; then
        sleep 0.3
        mkdir -p "$3" && mkdir "$3/bin" || exit 1
        cp "$here/$(basename "$0")" "$3/bin/python"
        exit 0
    fi
    [ -f "$here/broken" ] && exit 127
    if [ "$1" = -c ]; then exit 0; fi
    if [ "$1" = -m ] && [ "$2" = pip ] && [ "$3" = --version ]; then
        [ ! -f "$here/no-pip" ]
        exit $?
    fi
    if [ "$1" = -m ] && [ "$2" = ensurepip ]; then exit 1; fi
    if [ "$1" = - ]; then cat > /dev/null; echo "$FAKE_MPI_LIB"; exit 0; fi
    exit 0
    """)


def _exe(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def box(tmp_path):
    """A repo copy (run.sh, pyproject.toml), a bin folder of tools, a folder for fakes."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(RUNSH, repo / "run.sh")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    tools = tmp_path / "tools"
    tools.mkdir()
    for t in TOOLS:
        real = shutil.which(t)
        if real is None:
            pytest.skip("no %s on this machine" % t)
        (tools / t).symlink_to(real)
    fake = tmp_path / "fake"
    fake.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    py = _exe(home / "python3", FAKE_PYTHON)
    env = {"PATH": "%s:%s" % (fake, tools), "HOME": str(tmp_path), "PYTHON": str(py),
           "FAKE_HOME": str(home), "FAKE_LOG": str(tmp_path / "log"), "LC_ALL": "C"}
    return repo, fake, env


def sh(box, script, extra_env=None, venv=".venv"):
    """Source run.sh in the repo copy and run `script` with its functions."""
    repo, _, env = box
    e = dict(env, **(extra_env or {}))
    cmd = 'cd "%s" && VENV=%s && PYTHON="$PYTHON" && source ./run.sh && %s' % (repo, venv, script)
    return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=e,
                          timeout=60)


def fake_mpi(fake, exec_text=MPICH_EXEC, compiler="cc", with_mpicc=True, with_cc=True):
    _exe(fake / "mpiexec", "#!/bin/bash\n[ \"$1\" = --version ] && printf '%%s' '%s' && exit 0\n"
         "echo \"mpiexec $*\"\n" % exec_text)
    if with_mpicc:
        _exe(fake / "mpicc", "#!/bin/bash\n[ \"$1\" = -show ] && echo '%s -I/x -L/x -lmpi'\n"
             "exit 0\n" % compiler)
    if with_cc:
        _exe(fake / compiler, "#!/bin/bash\nexit 0\n")


# --- the decision --------------------------------------------------------------------------

def test_no_system_mpi_takes_pypi_mpich(box):
    r = sh(box, "mpi_plan")
    assert r.returncode == 0 and r.stdout.strip() == "pypi", r.stderr


def test_system_mpi_with_mpicc_and_compiler_builds_mpi4py(box):
    repo, fake, _ = box
    fake_mpi(fake)
    r = sh(box, "mpi_plan")
    assert r.stdout.strip() == "system %s" % (fake / "mpicc"), r.stderr


def test_system_mpi_without_mpicc_falls_back_with_the_reason(box):
    repo, fake, _ = box
    fake_mpi(fake, with_mpicc=False)
    r = sh(box, "mpi_plan")
    assert r.stdout.startswith("fallback no mpicc"), r.stdout


def test_system_mpi_without_compiler_falls_back(box):
    repo, fake, _ = box
    fake_mpi(fake, compiler="gcc-not-installed", with_cc=False)
    r = sh(box, "mpi_plan")
    assert r.stdout.startswith("fallback no C compiler") and "gcc-not-installed" in r.stdout


def test_mpicc_from_the_environment_is_used(box, tmp_path):
    repo, fake, _ = box
    fake_mpi(fake, with_mpicc=False)
    other = tmp_path / "elsewhere"
    other.mkdir()
    _exe(other / "mpicc", "#!/bin/bash\necho 'cc -lmpi'\n")
    r = sh(box, "mpi_plan", {"MPICC": str(other / "mpicc")})
    assert r.stdout.strip() == "system %s" % (other / "mpicc")


def test_the_venvs_own_mpiexec_is_not_a_system_mpi(box):
    repo, fake, env = box
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    _exe(venv_bin / "mpiexec", "#!/bin/bash\n")
    r = sh(box, "mpi_plan", {"PATH": "%s:%s" % (venv_bin, env["PATH"])})
    assert r.stdout.strip() == "pypi"


def test_another_venvs_pypi_mpi_is_not_a_system_mpi(box, tmp_path):
    repo, fake, env = box
    other = tmp_path / "other-venv"
    (other / "bin").mkdir(parents=True)
    (other / "pyvenv.cfg").write_text("home = /usr/bin\n")
    _exe(other / "bin" / "mpiexec", "#!/bin/bash\n")
    _exe(other / "bin" / "mpicc", "#!/bin/bash\necho 'cc -lmpi'\n")
    r = sh(box, "mpi_plan", {"PATH": "%s:%s" % (other / "bin", env["PATH"])})
    assert r.stdout.strip() == "pypi"


@pytest.mark.parametrize("text, family", [
    (MPICH_EXEC, "mpich"), (OPENMPI_EXEC, "openmpi"), (INTEL_EXEC, "intel"),
    (MPICH_LIB, "mpich"), (OPENMPI_LIB, "openmpi"), (INTEL_LIB, "intel"),
    ("MVAPICH2 Version: 2.3.7", "mpich"), ("something else", "unknown")])
def test_mpi_family(box, text, family):
    r = sh(box, "printf '%%s' '%s' | mpi_family" % text)
    assert r.stdout.strip() == family


# --- the check after installing -------------------------------------------------------------

def _venv_with_python(box):
    repo, _, env = box
    (repo / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(env["PYTHON"], repo / ".venv" / "bin" / "python")


def test_check_accepts_a_matching_library(box):
    repo, fake, _ = box
    fake_mpi(fake)
    _venv_with_python(box)
    (repo / ".venv" / ".mpi").write_text("system\n")
    r = sh(box, "check_mpi", {"FAKE_MPI_LIB": MPICH_LIB})
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("lib, exec_text", [(MPICH_LIB, OPENMPI_EXEC), (OPENMPI_LIB, MPICH_EXEC),
                                            (INTEL_LIB, OPENMPI_EXEC)])
def test_check_refuses_a_library_of_another_mpi_and_says_what_to_do(box, lib, exec_text):
    repo, fake, _ = box
    fake_mpi(fake, exec_text=exec_text)
    _venv_with_python(box)
    (repo / ".venv" / ".mpi").write_text("system\n")
    r = sh(box, "check_mpi", {"FAKE_MPI_LIB": lib})
    assert r.returncode == 1
    assert "ranks would not join one job" in r.stderr and "fix:" in r.stderr
    assert "--no-binary mpi4py" in r.stderr and "Traceback" not in r.stderr


def test_check_reports_a_library_that_does_not_load(box):
    repo, fake, _ = box
    fake_mpi(fake)
    _venv_with_python(box)
    (repo / ".venv" / ".mpi").write_text("system\n")
    msg = "ERROR: ImportError: libmpi.so.12: cannot open shared object file"
    r = sh(box, "check_mpi", {"FAKE_MPI_LIB": msg})
    assert r.returncode == 1
    assert "cannot load its MPI library" in r.stderr and "libmpi.so.12" in r.stderr
    assert "fix:" in r.stderr and "Traceback" not in r.stderr


def test_the_real_probe_prints_no_traceback_when_mpi4py_is_missing(box, tmp_path):
    """mpi4py_library with a real python that has no mpi4py: one ERROR line."""
    repo, _, _ = box
    real = shutil.which("python3")
    if real is None:
        pytest.skip("no python3")
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").symlink_to(real)
    r = sh(box, "mpi4py_library", {"PYTHONPATH": str(tmp_path / "nothing"),
                                   "PYTHONNOUSERSITE": "1"})
    out = r.stdout.strip()
    if not out.startswith("ERROR"):
        pytest.skip("this python has an mpi4py of its own")
    assert len(out.splitlines()) == 1 and "Traceback" not in r.stdout + r.stderr


# --- set-up, dry-run ------------------------------------------------------------------------

def run_sh(box, args, extra_env=None):
    repo, _, env = box
    e = dict(env, GRAPH500_DRY_RUN="1", **(extra_env or {}))
    return subprocess.Popen(["./run.sh"] + args, cwd=repo, env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(p):
    out, err = p.communicate(timeout=60)
    return p.returncode, out, err


def test_system_mpi_setup_builds_mpi4py_from_source_then_launches_with_it(box):
    repo, fake, _ = box
    fake_mpi(fake)
    rc, out, err = finish(run_sh(box, ["-n", "2", "-s", "8"]))
    assert rc == 0, err
    assert "MPICC=%s" % (fake / "mpicc") in err
    assert "--no-binary mpi4py --no-cache-dir mpi4py" in err
    assert "graph500[plot]" in err and "mpich" not in err.split("graph500[plot")[1][:10]
    assert out.strip().startswith("mpiexec -n 2 ") and out.strip().endswith("-m graph500 -s 8")
    assert (fake / "mpiexec").exists() and (repo / ".venv" / ".mpi").read_text().strip() == "system"


def test_fallback_says_so_in_one_line_and_launches_the_venvs_mpiexec(box):
    repo, fake, _ = box
    fake_mpi(fake, with_mpicc=False)
    rc, out, err = finish(run_sh(box, ["-n", "2"]))
    notes = [l for l in err.splitlines() if "using the MPICH from PyPI" in l]
    assert len(notes) == 1 and "no mpicc" in notes[0]
    assert "graph500[plot,mpich]" in err
    # dry run: the venv's mpiexec was not installed, so nothing to launch with but the system one
    assert (repo / ".venv" / ".mpi").read_text().strip() == "pypi"


def test_two_setups_at_once_both_succeed(box):
    """The second waits for the first (flock) and finds the venv made."""
    repo, fake, _ = box
    fake_mpi(fake)
    a = run_sh(box, ["-n", "1"])
    b = run_sh(box, ["-n", "1"])
    ra, rb = finish(a), finish(b)
    assert ra[0] == 0 and rb[0] == 0, (ra[2], rb[2])
    assert (ra[2] + rb[2]).count("creating .venv") == 1
    assert (ra[2] + rb[2]).count("installing graph500") == 1


def test_a_broken_python_in_our_venv_is_recreated(box):
    repo, fake, env = box
    fake_mpi(fake)
    rc, _, err = finish(run_sh(box, ["-n", "1"]))
    assert rc == 0, err
    (repo / ".venv" / "bin" / "broken").write_text("")
    rc, out, err = finish(run_sh(box, ["-n", "1"]))
    assert rc == 0, err
    assert "is broken (its python does not run): re-creating it" in err
    assert not (repo / ".venv" / "bin" / "broken").exists() and "mpiexec -n 1" in out


def test_a_broken_venv_that_is_not_ours_is_reported_with_the_fix(box, tmp_path):
    repo, fake, env = box
    fake_mpi(fake)
    other = tmp_path / "theirs"
    (other / "bin").mkdir(parents=True)          # no python in it
    rc, _, err = finish(run_sh(box, ["-n", "1"], {"GRAPH500_VENV": str(other)}))
    assert rc == 1
    assert "is broken" in err and "rm -rf %s" % other in err and "Traceback" not in err
    assert (other / "bin").is_dir()               # left alone


def _venv(box, where, ours):
    _, _, env = box
    (where / "bin").mkdir(parents=True)
    shutil.copy(env["PYTHON"], where / "bin" / "python")
    if ours:
        (where / ".graph500-venv").write_text("")


def test_a_venv_without_pip_is_recreated(box):
    repo, fake, env = box
    fake_mpi(fake)
    _venv(box, repo / ".venv", ours=True)
    (repo / ".venv" / "bin" / "no-pip").write_text("")
    rc, out, err = finish(run_sh(box, ["-n", "1"]))
    assert rc == 0, err
    assert "is broken (no pip): re-creating it" in err and "Traceback" not in err
    assert "pip install" in err and "mpiexec -n 1" in out


def test_a_venv_without_pip_that_is_not_ours_says_how_to_fix(box, tmp_path):
    repo, fake, env = box
    fake_mpi(fake)
    other = tmp_path / "theirs"
    _venv(box, other, ours=False)
    (other / "bin" / "no-pip").write_text("")
    rc, _, err = finish(run_sh(box, ["-n", "1"], {"GRAPH500_VENV": str(other)}))
    assert rc == 1
    assert "is broken (no pip)" in err and "rm -rf %s" % other in err
    assert (other / "bin" / "python").exists()
