"""Load one YAML document the way PyYAML's safe loader does, in about half the time.

PyYAML's C parser composes the node tree quickly, but its constructor then turns
nodes into Python objects through several generic method calls per node: about
half the time of reading a large manifest. A Kubernetes document is almost always
mappings, sequences and scalars of the core tags. Those are built here by one
tight function that calls PyYAML's own scalar constructors, so the result is the
one PyYAML gives, aliases included (an alias is the very object of its anchor).
Anything else (merge keys, explicit tags beyond the core ones, a structure that
contains itself, unhashable keys, nesting too deep for recursion) goes to PyYAML's
constructor on the same node tree, so its result and its error messages stay PyYAML's.
"""

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:  # the C loader is about ten times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = f"{_TAG}str", f"{_TAG}map", f"{_TAG}seq"
_MAX_RESOLVED = 50_000  # distinct plain scalars remembered; a hostile file cannot grow it further


class KubernetesLoader(_SafeLoader):
    """Safe YAML as Kubernetes reads it: a timestamp stays the string it is in the API.

    (JSON snapshots carry strings; a YAML one must not carry datetimes instead, or
    checks that read ages would judge the same object differently by its format.)
    """

    # Which tag a plain scalar resolves to depends on its text alone (no path resolvers
    # are registered), and manifests repeat the same keys and values endlessly.
    _resolved: dict[str, str] = {}

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0]:
            tag = self._resolved.get(value)
            if tag is None:
                if len(self._resolved) >= _MAX_RESOLVED:
                    self._resolved.clear()
                tag = self._resolved[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


KubernetesLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != f"{_TAG}timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}


def load_document(data: bytes | str):
    """The one document in ``data`` (None when empty); raises what ``yaml.load`` raises."""
    loader = KubernetesLoader(data)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        scalars = {
            f"{_TAG}int": loader.construct_yaml_int,
            f"{_TAG}float": loader.construct_yaml_float,
            f"{_TAG}bool": loader.construct_yaml_bool,
            f"{_TAG}null": loader.construct_yaml_null,
        }
        # Without an anchor there is no alias: every node is built once, nothing to remember.
        anchored = (b"&" if isinstance(data, bytes) else "&") in data
        try:
            return _build(node, scalars, {} if anchored else None)
        except (_LeftToPyYAML, TypeError, RecursionError):
            pass  # TypeError: an unhashable key, which PyYAML reports; PyYAML's constructor does not recurse
        return loader.construct_document(node)
    finally:
        loader.dispose()


class _LeftToPyYAML(Exception):
    pass


_BUILDING = object()


def _build(node, scalars: dict, built: dict | None):
    kind = node.__class__
    tag = node.tag
    if kind is ScalarNode:
        if tag == _STR:
            return node.value
        construct = scalars.get(tag)
        if construct is None:  # a merge key, "=", !!binary, !!timestamp, a custom tag...
            raise _LeftToPyYAML
        return construct(node)
    if built is not None:  # aliases: the same node must give the same object
        done = built.get(id(node))
        if done is _BUILDING:  # a structure that contains itself
            raise _LeftToPyYAML
        if done is not None:
            return done
        built[id(node)] = _BUILDING
    if kind is MappingNode and tag == _MAP:
        result = {}
        for key_node, value_node in node.value:
            result[_build(key_node, scalars, built)] = _build(value_node, scalars, built)
    elif kind is SequenceNode and tag == _SEQ:
        result = [_build(item, scalars, built) for item in node.value]
    else:
        raise _LeftToPyYAML  # !!set, !!omap, !!pairs, or a tag PyYAML refuses
    if built is not None:
        built[id(node)] = result
    return result
