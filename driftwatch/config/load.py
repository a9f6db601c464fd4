"""Read a configuration file into a validated ``Config``, or say exactly what is wrong.

The YAML is composed into a node tree first (safe loader), so every problem can
be reported with the file, the key path as written (``targets[0].schedule.intreval``)
and its line: duplicate keys (YAML forbids them; PyYAML would keep the last),
unknown keys (with the closest known key suggested), wrong types and missing keys.
All problems are reported at once.

Relative file paths in the configuration (a local ``repo``, ``kubeconfig``,
``snapshot``, token and SSH key files, ``stateDir``, ``cacheDir``) are relative
to the configuration file's directory and come back absolute.  Helm values
files are the exception: a relative one is relative to the chart directory in
the repository (``driftwatch.config.model.HelmOptions``), and is resolved at
render time; an absolute one may live anywhere.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from driftwatch.config.model import Config, UnknownClusterError
from driftwatch.errors import ConfigError, truncate

MAX_CONFIG_BYTES = 4 * 1024 * 1024
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def is_local_path(repo: str) -> bool:
    """Whether a ``repo`` value names a directory rather than a remote URL.

    URLs have a scheme (``https://``, ``ssh://``, ``file://``); scp-like
    ``host:path`` / ``user@host:path`` is remote, as git reads it (a colon
    before the first slash).
    """
    if _SCHEME.match(repo):
        return False
    colon, slash = repo.find(":"), repo.find("/")
    return not (colon > 0 and (slash == -1 or colon < slash))


def load_config(path: str | Path) -> Config:
    """Load and validate the configuration file at ``path`` (see the module doc)."""
    path = Path(path)
    shown = str(path)
    root = _compose(path, shown)
    problems = _duplicates(root)
    if not isinstance(root, MappingNode):
        problems.append((_line(root), "the file must be a mapping of configuration keys"))
        raise _error(shown, problems)
    loader = _LOADER("")
    try:
        data = loader.construct_document(root)
    except yaml.YAMLError as e:
        raise ConfigError(f"{shown}: {truncate(str(e))}") from e
    finally:
        loader.dispose()
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        problems.extend(_validation_problems(root, e))
        raise _error(shown, problems) from e
    if problems:
        raise _error(shown, problems)
    return absolutize(config, path.resolve().parent)


def _compose(path: Path, shown: str) -> Node:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{shown}: cannot read: {e.strerror or e}") from e
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{shown}: file is over {MAX_CONFIG_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{shown}:{line}: not valid UTF-8") from e
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{shown}:{mark.line + 1}" if mark is not None else shown
        detail = "; ".join(p for p in (e.context, e.problem) if p) or str(e)
        raise ConfigError(f"{where}: YAML syntax error: {truncate(detail)}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{shown}: {truncate(str(e))}") from e
    finally:
        loader.dispose()
    if node is None:
        raise ConfigError(f"{shown}: the file is empty (at least `targets:` is required)")
    result: Node = node
    return result


def _line(node: Node) -> int:
    return node.start_mark.line + 1 if node.start_mark is not None else 1


def _duplicates(root: Node) -> list[tuple[int, str]]:
    """(line, message) for every key that appears twice in one mapping."""
    found: list[tuple[int, str]] = []
    stack: list[tuple[Node, tuple[int | str, ...]]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(getattr(key, "value", ""))
                if isinstance(key, ScalarNode):
                    if name in seen:
                        path = _key_path((*loc, name))
                        found.append((_line(key), f"{path}: duplicate key (given twice)"))
                    seen.add(name)
                stack.append((value, (*loc, name)))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(node.value))
    return sorted(found)


def _error(shown: str, problems: list[tuple[int, str]]) -> ConfigError:
    problems = sorted(set(problems))
    lines = [f"  {shown}:{line}: {message}" for line, message in problems]
    count = f"{len(problems)} problems" if len(problems) != 1 else "1 problem"
    return ConfigError(f"{shown}: invalid configuration ({count}):\n" + "\n".join(lines))


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _locate(root: Node, loc: tuple[int | str, ...], want_key: bool) -> Node:
    """The deepest node of ``loc`` present in the file (the key node itself if asked)."""
    node = root
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, MappingNode):
            match = next(
                (kv for kv in node.value if getattr(kv[0], "value", None) == str(part)), None
            )
            if match is None:
                return node
            node = match[0] if (last and want_key) else match[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _validation_problems(root: Node, error: ValidationError) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    for err in error.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, UnknownClusterError):
            node = _locate(root, ("targets", cause.index, "cluster"), want_key=False)
            problems.append((_line(node), f"targets[{cause.index}].cluster: {cause}"))
            continue
        node = _locate(root, loc, want_key=kind == "extra_forbidden")
        path = _key_path(loc)
        if kind == "extra_forbidden":
            message = f"{path}: unknown key{_suggestion(loc)}"
        elif kind == "missing":
            message = f"{path}: required key is missing"
        else:
            message = f"{path}: {str(err['msg']).removeprefix('Value error, ')}"
        problems.append((_line(node), message))
    return problems


def _suggestion(loc: tuple[int | str, ...]) -> str:
    """`` (did you mean 'interval'?)`` for a misspelt key, from the model's field aliases."""
    model: Any = Config
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return ""
        model = _model_in(field.annotation)
        if model is None:
            return ""
    names = [f.alias or n for n, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _abs(value: str | None, base: Path) -> str | None:
    if value is None:
        return None
    expanded = Path(value).expanduser()
    return str(expanded if expanded.is_absolute() else (base / expanded).resolve())


def absolutize(config: Config, base: Path) -> Config:
    """``config`` with its relative file paths resolved against ``base``."""
    targets = []
    for target in config.targets:
        creds = target.credentials
        repo = target.repo
        if is_local_path(repo):
            repo = _abs(repo, base) or repo
        targets.append(
            target.model_copy(
                update={
                    "repo": repo,
                    "credentials": creds.model_copy(
                        update={
                            "token_file": _abs(creds.token_file, base),
                            "ssh_key_file": _abs(creds.ssh_key_file, base),
                            "known_hosts_file": _abs(creds.known_hosts_file, base),
                        }
                    ),
                }
            )
        )
    clusters = tuple(
        c.model_copy(
            update={"kubeconfig": _abs(c.kubeconfig, base), "snapshot": _abs(c.snapshot, base)}
        )
        for c in config.clusters
    )
    return config.model_copy(
        update={
            "targets": tuple(targets),
            "clusters": clusters,
            "state_dir": _abs(config.state_dir, base),
            "cache_dir": _abs(config.cache_dir, base),
            "server": config.server.model_copy(
                update={"token_file": _abs(config.server.token_file, base)}
            ),
        }
    )
