"""SdPath parsing and formatting, and the guards that keep downloaded keys inside their target directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgui.core import paths
from sdgui.core.errors import InvalidPathError
from sdgui.core.paths import SdPath, relative_key, safe_local_target, safe_relative_key

CLOUD_CASES = [
    # text, volume, path, is_dir, formatted back
    ("s3:photos/cat.jpg", "s3", "photos/cat.jpg", False, "s3:photos/cat.jpg"),
    ("s3:photos/", "s3", "photos", True, "s3:photos/"),
    ("s3:", "s3", "", True, "s3:"),
    ("s3:/", "s3", "", True, "s3:"),
    ("s3:/a//b///c", "s3", "a/b/c", False, "s3:a/b/c"),
    ("s3://a//b//", "s3", "a/b", True, "s3:a/b/"),
    ("my-vol.2_x:key", "my-vol.2_x", "key", False, "my-vol.2_x:key"),
    ("9:k", "9", "k", False, "9:k"),
    ("r2:a:b", "r2", "a:b", False, "r2:a:b"),
    ("r2:with space/ünïcode.txt", "r2", "with space/ünïcode.txt", False, "r2:with space/ünïcode.txt"),
    ("r2:..hidden/.x", "r2", "..hidden/.x", False, "r2:..hidden/.x"),
    ("C:/foo", "C", "foo", False, "C:/foo" if os.name == "nt" else "C:foo"),
]


@pytest.mark.parametrize(("text", "volume", "path", "is_dir", "formatted"), CLOUD_CASES)
def test_parse_cloud(text: str, volume: str, path: str, is_dir: bool, formatted: str) -> None:
    if os.name == "nt" and volume == "C":
        pytest.skip("a drive letter on Windows")
    parsed = SdPath.parse(text)
    assert parsed == SdPath(volume, path, is_dir)
    assert not parsed.is_local
    assert str(parsed) == formatted
    assert SdPath.parse(str(parsed)) == parsed


LOCAL_CASES = [
    # text, expected absolute path (before abspath), is_dir
    ("/tmp/x.txt", "/tmp/x.txt", False),
    ("/tmp/dir/", "/tmp/dir", True),
    ("/", "/", True),
    ("/a/../b", "/b", False),
    ("relative.txt", "relative.txt", False),
    ("sub/dir/", "sub/dir", True),
    ("./s3:key", "s3:key", False),
    ("dir/name:with-colon", "dir/name:with-colon", False),
    ("../up", "../up", False),
    (".", ".", True),
    ("~/docs/", "~/docs", True),
    ("~", "~", True),
]


@pytest.mark.parametrize(("text", "expected", "is_dir"), LOCAL_CASES)
def test_parse_local(text: str, expected: str, is_dir: bool) -> None:
    parsed = SdPath.parse(text)
    assert parsed.is_local
    assert parsed.volume is None
    assert parsed.path == os.path.abspath(os.path.expanduser(expected))
    assert parsed.is_dir is is_dir
    assert SdPath.parse(str(parsed)) == parsed


def test_parse_local_keeps_symlinks(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    parsed = SdPath.parse(f"{tmp_path}/link/file")
    assert parsed.path == f"{tmp_path}/link/file"


def test_parse_local_formats_with_trailing_separator(tmp_path: Path) -> None:
    assert str(SdPath.parse(f"{tmp_path}/d/")) == f"{tmp_path}{os.sep}d{os.sep}"
    assert str(SdPath.parse(f"{tmp_path}/f")) == f"{tmp_path}{os.sep}f"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty path"),
        ("s3:a\0b", "NUL"),
        ("/tmp/a\0b", "NUL"),
        (":foo", "empty volume name"),
        (":", "empty volume name"),
        ("my vol:x", "invalid volume name"),
        ("-vol:x", "invalid volume name"),
        ("_vol:x", "invalid volume name"),
        ("vol!:x", "invalid volume name"),
        ("v" * 65 + ":x", "invalid volume name"),
        ("s3:a/../b", "'..' segment"),
        ("s3:..", "'..' segment"),
        ("s3:a/./b", "'.' segment"),
        ("s3:./", "'.' segment"),
        ("s3:a\\b", "backslash"),
        ("s3:a\nb", "control character"),
        ("s3:a\tb", "control character"),
        ("s3:a\x7fb", "control character"),
        ("s3:a\x85b", "control character"),
    ],
)
def test_parse_refuses(text: str, fragment: str) -> None:
    with pytest.raises(InvalidPathError) as info:
        SdPath.parse(text)
    assert fragment in str(info.value)
    # The user sees what they typed (NUL and control characters escaped by repr).
    if text:
        assert repr(text)[1:-1][:10] in str(info.value)


def test_parse_windows_drive_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "_is_windows", lambda: True)
    assert SdPath.parse("C:\\Users\\me").is_local
    assert SdPath.parse("d:/data/").is_local
    assert SdPath.parse("d:/data/").is_dir
    # A longer name is still a volume, and a bare "C:" is the root of a volume called C.
    assert SdPath.parse("cd:/x") == SdPath("cd", "x")
    assert SdPath.parse("C:") == SdPath("C", "", True)


def test_volume_name_length_limit() -> None:
    name = "v" * 64
    assert SdPath.parse(f"{name}:x").volume == name


def test_constructor_keeps_invariants() -> None:
    with pytest.raises(InvalidPathError):
        SdPath("s3", "/leading")
    with pytest.raises(InvalidPathError):
        SdPath("s3", "trailing/")
    with pytest.raises(InvalidPathError):
        SdPath("s3", "a/../b")
    with pytest.raises(InvalidPathError):
        SdPath("bad name", "k")
    with pytest.raises(InvalidPathError):
        SdPath("s3", "", is_dir=False)
    with pytest.raises(InvalidPathError):
        SdPath(None, "")


def test_name_and_parent() -> None:
    key = SdPath.parse("s3:a/b/c.txt")
    assert key.name == "c.txt"
    assert key.parent() == SdPath("s3", "a/b", True)
    assert key.parent().parent() == SdPath("s3", "a", True)
    assert key.parent().parent().parent() == SdPath("s3", "", True)
    root = SdPath.parse("s3:")
    assert root.name == ""
    assert root.is_root
    assert root.parent() == root
    local = SdPath.parse("/tmp/x/y")
    assert local.name == "y"
    assert local.parent() == SdPath(None, "/tmp/x", True)
    assert SdPath.parse("/").parent() == SdPath(None, "/", True)
    assert SdPath.parse("/").name == ""


def test_join() -> None:
    root = SdPath.parse("s3:")
    assert root.join("a", "b.txt") == SdPath("s3", "a/b.txt", False)
    assert root.join("a/", "b/") == SdPath("s3", "a/b", True)
    assert SdPath.parse("s3:x/").join("/y//z") == SdPath("s3", "x/y/z", False)
    # Joining onto a file treats it as a directory, as pathlib does.
    assert SdPath.parse("s3:x").join("y") == SdPath("s3", "x/y", False)
    assert root.join() == root
    assert SdPath.parse("s3:x").join("") == SdPath("s3", "x", True)
    assert SdPath.parse("/tmp/").join("a", "b/") == SdPath(None, os.path.join("/tmp", "a", "b"), True)


@pytest.mark.parametrize("part", ["..", "a/../b", ".", "a\\b", "a\nb", "a\0b"])
@pytest.mark.parametrize("base", ["s3:x/", "/tmp/"])
def test_join_refuses(base: str, part: str) -> None:
    with pytest.raises(InvalidPathError):
        SdPath.parse(base).join("ok", part)


def test_as_dir_as_file() -> None:
    key = SdPath.parse("s3:a/b")
    assert key.as_dir() == SdPath("s3", "a/b", True)
    assert key.as_dir().as_file() == key
    assert str(key.as_dir()) == "s3:a/b/"
    with pytest.raises(InvalidPathError):
        SdPath.parse("s3:").as_file()
    with pytest.raises(InvalidPathError):
        SdPath.parse("/").as_file()


def test_key_prefix() -> None:
    assert SdPath.parse("s3:").key_prefix == ""
    assert SdPath.parse("s3:a/b/").key_prefix == "a/b/"


def test_normalise_key() -> None:
    assert paths.normalise_key("//a//b/") == ("a/b", True)
    assert paths.normalise_key("a") == ("a", False)
    assert paths.normalise_key("") == ("", False)


# --- safe_local_target ---------------------------------------------------------------------------------


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        ("a.txt", ("a.txt",)),
        ("dir/sub/a.txt", ("dir", "sub", "a.txt")),
        ("dir/", ("dir",)),
        ("..hidden", ("..hidden",)),
        (".git/config", (".git", "config")),
        ("a..b/c", ("a..b", "c")),
        ("é" * 127, ("é" * 127,)),
        ("name:with:colons", ("name:with:colons",)),
    ],
)
def test_safe_local_target_accepts(tmp_path: Path, key: str, parts: tuple[str, ...]) -> None:
    root = tmp_path / "dest"
    root.mkdir()
    assert safe_local_target(root, key) == root.joinpath(*parts)
    assert safe_relative_key(key) == "/".join(parts)  # the same place, as a key under the root
    assert _tree(tmp_path) == {"dest"}


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/",
        "..",
        "../escape.txt",
        "a/../../escape.txt",
        "a/../b",
        "./a",
        "a/./b",
        "/etc/passwd",
        "//etc/passwd",
        "a\\..\\..\\escape.txt",
        "a\0b",
        "a\nb",
        "a\x1bb",
        "a//b",
        "a//",
        "x" * 256,
        "é" * 128,
        "ok/" + "x" * 256 + "/f",
    ],
)
def test_safe_local_target_refuses(tmp_path: Path, key: str) -> None:
    root = tmp_path / "dest"
    root.mkdir()
    with pytest.raises(InvalidPathError):
        safe_local_target(root, key)
    with pytest.raises(InvalidPathError):
        safe_relative_key(key)
    # Nothing was created, inside root or next to it.
    assert _tree(tmp_path) == {"dest"}


def test_safe_local_target_relative_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert safe_local_target(Path("dest"), "a/b") == tmp_path / "dest" / "a" / "b"
    with pytest.raises(InvalidPathError):
        safe_local_target(Path("dest"), "../dest2/x")


@pytest.mark.parametrize(
    "key",
    ["CON", "con.txt", "dir/NUL", "Com1.log", "lpt9", "aux .txt", "a:b", "a<b", 'a"b', "a|b", "a?b", "a*b", "a.", "a "],
)
def test_windows_rules(key: str) -> None:
    with pytest.raises(InvalidPathError):
        paths._validate_relative_key(key, windows=True)
    # The same names are ordinary files elsewhere.
    if not any(ch in key for ch in '<>:"|?*'):
        paths._validate_relative_key(key, windows=False)


@pytest.mark.parametrize("key", ["CONSOLE", "conx.txt", "COM0", "LPT10", "nul_file", "a.b"])
def test_windows_rules_allow_lookalikes(key: str) -> None:
    assert paths._validate_relative_key(key, windows=True) == [key]


def test_windows_join_refuses_drive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "_is_windows", lambda: True)
    with pytest.raises(InvalidPathError):
        SdPath(None, "/tmp", True).join("D:evil")


# --- relative_key ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "key", "expected"),
    [
        ("", "a/b.txt", "a/b.txt"),
        ("a", "a/b.txt", "b.txt"),
        ("a/", "a/b/c.txt", "b/c.txt"),
        ("/a/b/", "a/b/c", "c"),
        ("a", "a/", ""),
    ],
)
def test_relative_key(prefix: str, key: str, expected: str) -> None:
    assert relative_key(prefix, key) == expected


@pytest.mark.parametrize(("prefix", "key"), [("a", "ab/c"), ("a", "a"), ("a/b", "a/c"), ("a", "b/a/c")])
def test_relative_key_refuses(prefix: str, key: str) -> None:
    with pytest.raises(ValueError):
        relative_key(prefix, key)
