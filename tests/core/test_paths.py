"""The output policy (core.paths): atomic files, links written through, devices, FIFOs
and standard output written directly, inputs refused, long names, errors naming OUT."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest

from core import paths
from core.errors import OutputError, WriteError

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_python(code, **kwargs):
    """Run ``code`` in a fresh interpreter with this checkout first on the path."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-c", code], env=env, timeout=120, **kwargs)


def listing(folder):
    return sorted(os.listdir(folder))


def strays(folder):
    return [n for n in os.listdir(folder) if ".tmp" in n]


# ------------------------------------------------------------------ regular files
def test_success_writes_and_leaves_nothing_else(tmp_path):
    paths.write_text(tmp_path / "out.csv", "a,b\r\n1,2\n")
    assert (tmp_path / "out.csv").read_bytes() == b"a,b\r\n1,2\n"
    assert listing(tmp_path) == ["out.csv"]
    assert paths.live_temporary_files() == []


def test_exception_inside_keeps_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old content\n")
    with pytest.raises(RuntimeError, match="boom"), paths.open_output(target) as stream:
        stream.write("half of the new")
        raise RuntimeError("boom")
    assert target.read_text() == "old content\n"
    assert listing(tmp_path) == ["out.csv"]


def test_keyboard_interrupt_inside_keeps_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), paths.open_output(target, "wb") as stream:
        stream.write(b"new" * 1000)
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old" and listing(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_names_out_never_the_temporary_file(tmp_path, monkeypatch, failing):
    target = tmp_path / "x.json"
    target.write_text("previous\n")

    def broken(*args, **kwargs):
        name = args[0] if isinstance(args[0], str | bytes) else None
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setattr(paths.os, failing, broken)
    with pytest.raises(WriteError, match="No space left") as info:
        paths.write_text(target, "new\n")
    monkeypatch.undo()
    message = str(info.value)
    assert message.startswith(f"{target}: cannot be written")
    assert ".tmp" not in message and "previous file is left untouched" in message
    assert info.value.errno == errno.ENOSPC
    assert target.read_text() == "previous\n" and listing(tmp_path) == ["x.json"]


def test_keeps_the_mode_of_the_replaced_file(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("a")
    os.chmod(target, 0o640)
    paths.write_text(target, "b")
    assert target.read_text() == "b"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


def test_new_file_gets_the_umask_default(tmp_path):
    old = os.umask(0o027)
    try:
        paths.write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o640


def test_bad_mode():
    with pytest.raises(ValueError, match="mode"), paths.open_output("x", "a"):
        pass


# ------------------------------------------------------------------ links
def test_symbolic_link_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "data.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(os.path.join("real", "data.csv"))  # relative link
    paths.write_text(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "data.csv")
    assert target.read_text() == "new\n"
    assert listing(tmp_path) == ["link.csv", "real"] and listing(tmp_path / "real") == [
        "data.csv"]


def test_chain_of_links_and_dangling_link(tmp_path):
    final = tmp_path / "final.txt"
    (tmp_path / "b").symlink_to(final)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    paths.write_text(tmp_path / "a", "created")  # the chain ends nowhere yet: created there
    assert final.read_text() == "created"
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


def test_symbolic_link_loop_is_refused(tmp_path):
    (tmp_path / "x").symlink_to(tmp_path / "y")
    (tmp_path / "y").symlink_to(tmp_path / "x")
    with pytest.raises(OutputError, match="symbolic link loop"):
        paths.check_output(tmp_path / "x")


def test_hard_link_is_replaced_and_the_other_name_keeps_its_content(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("old")
    os.link(a, tmp_path / "b.txt")
    paths.write_text(a, "new")
    assert a.read_text() == "new" and (tmp_path / "b.txt").read_text() == "old"


# ------------------------------------------------------------------ inputs
@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "other spelling"])
def test_an_input_is_refused(tmp_path, how):
    source = tmp_path / "a.flac"
    source.write_bytes(b"audio")
    out = {"same": source, "symlink": tmp_path / "l.flac", "hardlink": tmp_path / "h.flac",
           "other spelling": tmp_path / "." / "sub" / ".." / "a.flac"}[how]
    (tmp_path / "sub").mkdir()
    if how == "symlink":
        out.symlink_to(source)
    elif how == "hardlink":
        os.link(source, out)
    with pytest.raises(OutputError, match="is the same file as an input") as info:
        paths.check_output(out, inputs=[tmp_path / "b.flac", source])
    assert str(info.value).startswith(str(out))
    assert source.read_bytes() == b"audio"


def test_a_different_file_is_fine(tmp_path):
    (tmp_path / "a").write_text("x")
    target = paths.check_output(tmp_path / "b", inputs=[tmp_path / "a", tmp_path / "nope"])
    assert target.kind == "atomic" and not target.exists


# ------------------------------------------------------------------ devices, FIFOs, stdout
def test_device_is_written_directly_never_replaced(null_device):
    before = os.stat(null_device)
    target = paths.check_output(null_device)
    assert target.kind == "direct"
    paths.write_text(null_device, "x" * 10_000)
    after = os.stat(null_device)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_output_path_copies_through_to_a_device(null_device):
    with paths.output_path(null_device, suffix=".wav") as tmp:
        assert tmp.endswith(".wav") and os.path.dirname(tmp) != str(null_device.parent)
        with open(tmp, "wb") as handle:
            handle.write(b"RIFF")
    assert not os.path.exists(tmp)
    assert stat.S_ISCHR(os.stat(null_device).st_mode)


def test_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    paths.write_bytes(fifo, b"through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and listing(tmp_path) == ["pipe"]


def test_dash_is_standard_output(capsysbinary):
    paths.write_text("-", "t_a,t_b\n")
    with paths.open_output("-", "wb") as stream:
        stream.write(b"\x00\x01")
    assert capsysbinary.readouterr().out == b"t_a,t_b\n\x00\x01"


def test_dev_stdout_in_a_subprocess_is_standard_output(tmp_path):
    # /dev/stdout on a pipe and on a redirected regular file: fd 1 is written, the
    # redirected file is not replaced by a rename (its inode stays the same)
    code = "from core import paths; paths.write_text('/dev/stdout', 'hello\\n')"
    proc = run_python(code, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"hello\n"
    out = tmp_path / "redirected.txt"
    with open(out, "wb") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        proc = run_python(code, stdout=handle)
    assert proc.returncode == 0
    assert out.read_bytes() == b"hello\n" and os.stat(out).st_ino == inode


def test_closed_standard_output_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    with pytest.raises(OutputError, match="standard output: is closed"):
        paths.check_output("-")


# ------------------------------------------------------------------ refusals before work
def test_missing_folder_and_folder_and_not_a_folder(tmp_path):
    with pytest.raises(OutputError, match="does not exist") as info:
        paths.check_output(tmp_path / "nope" / "x.csv")
    assert str(info.value).startswith(str(tmp_path / "nope" / "x.csv"))
    with pytest.raises(OutputError, match="is a folder"):
        paths.check_output(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="not a folder"):
        paths.check_output(tmp_path / "file" / "x.csv")
    assert not (tmp_path / "nope").exists()


@pytest.mark.skipif(IS_ROOT, reason="root may write anywhere")
def test_read_only_folder_and_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "x.csv").write_text("keep")
    os.chmod(folder / "x.csv", 0o444)
    with pytest.raises(OutputError, match="read-only"):
        paths.check_output(folder / "x.csv")
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            paths.check_output(folder / "new.csv")
    finally:
        os.chmod(folder, 0o755)


@pytest.mark.parametrize("length", [200, 242, 250, 255])
def test_long_names_up_to_the_limit_work(tmp_path, length):
    name = "n" * (length - 4) + ".csv"
    target = tmp_path / name
    target.write_text("old")
    paths.write_text(target, "new")
    assert target.read_text() == "new" and listing(tmp_path) == [name]
    with paths.output_path(target) as tmp:
        assert len(os.path.basename(tmp).encode()) <= 255 and tmp.endswith(".csv")
        with open(tmp, "w") as handle:
            handle.write("lib")
    assert target.read_text() == "lib" and listing(tmp_path) == [name]


def test_a_name_beyond_the_limit_is_refused_before_work(tmp_path):
    with pytest.raises(OutputError, match="256 bytes long; this file system allows at "
                                          "most 255"):
        paths.check_output(tmp_path / ("n" * 252 + ".csv"))


def test_multibyte_name_at_the_limit(tmp_path):
    name = "é" * 125 + ".csv"  # 254 bytes
    paths.write_text(tmp_path / name, "x")
    assert listing(tmp_path) == [name]


# ------------------------------------------------------------------ file names with any bytes
def test_non_utf8_names_are_written_and_shown(tmp_path):
    folder = os.fsencode(tmp_path)
    name = os.path.join(folder, b"caf\xe9\xff.csv")
    paths.write_text(name, "x")
    paths.write_text(os.fsdecode(name), "y")  # the same file as str (surrogate escapes)
    assert os.listdir(folder) == [b"caf\xe9\xff.csv"]
    assert paths.display_path(os.fsdecode(name)).endswith("caf\\xe9\\xff.csv")
    assert not paths.is_utf8_name(name) and paths.is_utf8_name(tmp_path / "ok.csv")


def test_output_path_utf8_stages_outside_a_non_utf8_folder(tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"d\xff")
    os.mkdir(folder)
    out = os.path.join(folder, b"video.avi")
    with paths.output_path(out, utf8=True) as tmp:
        assert paths.is_utf8_name(tmp) and tmp.endswith(".avi")
        with open(tmp, "wb") as handle:
            handle.write(b"frames")
    assert os.listdir(folder) == [b"video.avi"]
    with open(out, "rb") as handle:
        assert handle.read() == b"frames"


def test_output_path_with_a_library_writer(tmp_path):
    import soundfile

    target = tmp_path / "take.wav"
    target.write_bytes(b"old")
    with paths.output_path(target) as tmp:
        soundfile.write(tmp, np.zeros(100, np.float32), 8000)
    assert soundfile.info(str(target)).frames == 100
    assert listing(tmp_path) == ["take.wav"]
    with pytest.raises(RuntimeError), paths.output_path(target) as tmp:
        soundfile.write(tmp, np.ones(50, np.float32), 8000)
        raise RuntimeError("the renderer failed")
    assert soundfile.info(str(target)).frames == 100 and listing(tmp_path) == ["take.wav"]


def test_output_path_without_a_file_is_an_error(tmp_path):
    with pytest.raises(WriteError, match="produced no file"), \
            paths.output_path(tmp_path / "x.wav") as tmp:
        os.unlink(tmp)
    assert listing(tmp_path) == []


# ------------------------------------------------------------------ real file systems
@contextlib.contextmanager
def tmpfs(folder, size="64k"):
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root in a privileged container)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.skipif(not IS_ROOT or not sys.platform.startswith("linux"), reason="mounts")
def test_full_disk_keeps_the_old_file_and_names_out(tmp_path):
    with tmpfs(tmp_path / "small") as small:
        target = small / "x.json"
        target.write_text("previous\n")
        with pytest.raises(WriteError, match="No space left on device") as info:
            paths.write_bytes(target, b"\x00" * (1 << 20))
        assert str(info.value).startswith(f"{target}: cannot be written")
        assert target.read_text() == "previous\n" and listing(small) == ["x.json"]


@pytest.mark.skipif(not IS_ROOT or not sys.platform.startswith("linux"), reason="mounts")
def test_read_only_file_system_is_refused_before_work(tmp_path):
    with tmpfs(tmp_path / "ro") as ro:
        (ro / "x.json").write_text("keep")
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
        for name in ("x.json", "new.json"):
            with pytest.raises(OutputError, match="read-only file system") as info:
                paths.check_output(ro / name)
            assert str(info.value).startswith(str(ro / name))
        assert (ro / "x.json").read_text() == "keep"


def test_file_too_large_in_a_subprocess(tmp_path):
    # RLIMIT_FSIZE makes the kernel refuse the write (EFBIG) once SIGXFSZ is ignored
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    code = ("import resource, signal\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
            "from core import paths\n"
            "try:\n"
            f"    paths.write_bytes({str(target)!r}, b'x' * 100000)\n"
            "except OSError as err:\n"
            "    print(err)\n")
    proc = run_python(code, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{target}: cannot be written (File too large)")
    assert target.read_bytes() == b"old" and listing(tmp_path) == ["big.bin"]


# ------------------------------------------------------------------ signals
def test_cleanup_on_signals_raises_terminated_and_sweeps(tmp_path):
    import signal

    restore = paths.cleanup_on_signals()
    target = tmp_path / "x.txt"
    target.write_text("old")
    try:
        with pytest.raises(paths.Terminated) as info, paths.open_output(target) as stream:
            stream.write("partial")
            assert len(paths.live_temporary_files()) == 1
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        restore()
    assert info.value.signum == signal.SIGTERM and "SIGTERM" in str(info.value)
    assert isinstance(info.value, KeyboardInterrupt)
    assert target.read_text() == "old" and listing(tmp_path) == ["x.txt"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_descriptor_path_to_a_regular_file_is_written_in_place(tmp_path):
    # /dev/fd/N held by the caller (a shell's 3> file): the same inode, no rename
    out = tmp_path / "held.txt"
    with open(out, "wb") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        alias = f"/proc/self/fd/{handle.fileno()}"
        assert paths.check_output(alias).kind == "direct"
        paths.write_text(alias, "through the descriptor")
    assert out.read_text() == "through the descriptor" and os.stat(out).st_ino == inode
    assert listing(tmp_path) == ["held.txt"]
