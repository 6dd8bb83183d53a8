"""Load one YAML document as Kubernetes reads it, in about half the time of PyYAML's loader.

Scalars are typed as Kubernetes types them (kubernetes_scalars): ``privileged: y``
is true, ``1:20`` a string, ``0o17`` an integer, a timestamp its text.

PyYAML's C parser composes the node tree quickly, but its constructor then turns
nodes into Python objects through several generic method calls per node: about
half the time of reading a large manifest. A Kubernetes document is almost always
mappings, sequences and scalars of the core tags. Those are built here by one
tight function that calls the loader's own scalar constructors, so the result is
the one PyYAML's constructor gives with this loader, aliases included (an alias
is the very object of its anchor). Anything else (merge keys, explicit tags
beyond the core ones, a structure that contains itself, unhashable keys, nesting
too deep for recursion) goes to PyYAML's constructor on the same node tree, so
its result and its error messages stay PyYAML's.
"""

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from posture.scanning.collectors import kubernetes_scalars
from posture.scanning.collectors.kubernetes_scalars import BOOL, FLOAT, INT, MAP, NULL, SEQ, STR
from posture.scanning.collectors.limits import MAX_ALIAS_EXPANSION

try:  # the C loader is about ten times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader

_MAX_RESOLVED = 50_000  # distinct plain scalars remembered; a hostile file cannot grow it further


class KubernetesLoader(_SafeLoader):
    """Safe YAML, with plain scalars typed as Kubernetes types them."""

    # A plain scalar's tag depends on its text alone, and manifests repeat the same
    # keys and values endlessly: remember each text's tag.
    _resolved: dict[str, str] = {}
    bool_values = {text.lower(): value for text, value in kubernetes_scalars.BOOLEANS.items()}

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0]:
            tag = self._resolved.get(value)
            if tag is None:
                if len(self._resolved) >= _MAX_RESOLVED:
                    self._resolved.clear()
                tag = self._resolved[value] = kubernetes_scalars.tag_of(value)
            return tag
        return super().resolve(kind, value, implicit)

    def construct_yaml_int(self, node):
        value = kubernetes_scalars.to_int(self.construct_scalar(node))
        if value is None:  # only with an explicit !!int: a plain scalar resolves to int only if it is one
            raise ConstructorError(None, None, f"{node.value!r} is not an integer", node.start_mark)
        return value

    def construct_yaml_float(self, node):
        value = kubernetes_scalars.to_float(self.construct_scalar(node))
        if value is None:
            integer = kubernetes_scalars.to_int(node.value)
            if integer is None:
                raise ConstructorError(None, None, f"{node.value!r} is not a number", node.start_mark)
            value = float(integer)
        return value


KubernetesLoader.add_constructor(INT, KubernetesLoader.construct_yaml_int)
KubernetesLoader.add_constructor(FLOAT, KubernetesLoader.construct_yaml_float)


def load_document(data: bytes | str):
    """The one document in ``data`` (None when empty); raises what ``yaml.load`` raises."""
    loader = KubernetesLoader(data)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        scalars = {
            INT: loader.construct_yaml_int,
            FLOAT: loader.construct_yaml_float,
            BOOL: loader.construct_yaml_bool,
            NULL: loader.construct_yaml_null,
        }
        # Without an anchor there is no alias: every node is built once, nothing to remember.
        anchored = (b"&" if isinstance(data, bytes) else "&") in data
        aliases = _Aliases(node) if anchored else None
        try:
            return _build(node, scalars, aliases)
        except (_LeftToPyYAML, TypeError, RecursionError):
            pass  # TypeError: an unhashable key, which PyYAML reports; PyYAML's constructor does not recurse
        if aliases is not None:
            aliases.refuse_bombs()  # PyYAML's constructor would share aliases without counting them
        return loader.construct_document(node)
    finally:
        loader.dispose()


class _LeftToPyYAML(Exception):
    pass


_BUILDING = object()


class _Aliases:
    """The objects built for anchored nodes, and how much their aliases expand the document.

    Aliases are shared objects here, but every later step (the JSON a snapshot is stored
    as, the checks' walks) sees them expanded: a 700-byte file of nested aliases
    ("billion laughs") expands to gigabytes. Each alias met adds its node's expanded size;
    past ``MAX_ALIAS_EXPANSION`` the document is refused.
    """

    __slots__ = ("root", "built", "sizes", "added")

    def __init__(self, root):
        self.root = root
        self.built: dict[int, object] = {}
        self.sizes: dict[int, int] = {}  # node id -> values in its expansion
        self.added = 0

    def met_alias(self, node) -> None:
        self.added += _expanded_size(node, self.sizes)
        if self.added > MAX_ALIAS_EXPANSION:
            self._refuse()

    def refuse_bombs(self) -> None:
        if _expanded_size(self.root, self.sizes) - len(self.sizes) > MAX_ALIAS_EXPANSION:
            self._refuse()

    def _refuse(self):
        raise ConstructorError(
            None,
            None,
            f"aliases expand the document by more than {MAX_ALIAS_EXPANSION:,} values",
            self.root.start_mark,
        )


def _expanded_size(node, sizes: dict[int, int]) -> int:
    """Values in ``node`` with every alias expanded; a structure containing itself counts once."""
    stack = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if children_done:
            sizes[key] = 1 + sum(sizes.get(id(child), 1) for child in _children(current))
        elif key not in sizes:
            sizes[key] = 1  # until its children are counted
            stack.append((current, True))
            stack.extend((child, False) for child in _children(current) if id(child) not in sizes)
    return sizes[id(node)]


def _children(node) -> list:
    if node.__class__ is MappingNode:
        return [item for pair in node.value for item in pair]
    if node.__class__ is SequenceNode:
        return node.value
    return []


def _build(node, scalars: dict, aliases: _Aliases | None):
    kind = node.__class__
    tag = node.tag
    if kind is ScalarNode:
        if tag == STR:
            return node.value
        construct = scalars.get(tag)
        if construct is None:  # a merge key, !!binary, !!timestamp, a custom tag...
            raise _LeftToPyYAML
        return construct(node)
    if aliases is not None:  # the same node must give the same object
        built = aliases.built
        done = built.get(id(node))
        if done is _BUILDING:  # a structure that contains itself
            raise _LeftToPyYAML
        if done is not None:
            aliases.met_alias(node)
            return done
        built[id(node)] = _BUILDING
    if kind is MappingNode and tag == MAP:
        result = {}
        for key_node, value_node in node.value:
            result[_build(key_node, scalars, aliases)] = _build(value_node, scalars, aliases)
    elif kind is SequenceNode and tag == SEQ:
        result = [_build(item, scalars, aliases) for item in node.value]
    else:
        raise _LeftToPyYAML  # !!set, !!omap, !!pairs, or a tag PyYAML refuses
    if aliases is not None:
        aliases.built[id(node)] = result
    return result


YAMLError = yaml.YAMLError  # what load_document raises for a document it cannot read


def describe(exc: yaml.YAMLError, first_line: int = 1) -> str:
    """A one-line reason for the user, with the line of the file where reading stopped.

    ``first_line``: the file's line where the document's text starts, for a document read on its
    own out of a multi-document file (PyYAML counts from the document's start).
    """
    if isinstance(exc, yaml.reader.ReaderError):
        return "not a text file (unreadable characters)"
    problem = getattr(exc, "problem", None) or type(exc).__name__
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML: {problem} (line {mark.line + first_line} of the file)"
