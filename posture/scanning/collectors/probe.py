"""Check from a shell what Rampart can read from a cluster, without Django or a database.

    python -m posture.scanning.collectors.probe --kubeconfig ~/.kube/rampart.yaml [--context NAME] [--scan]
    python -m posture.scanning.collectors.probe --api-url https://10.0.0.1:6443 --token-file t --ca-file c
    python -m posture.scanning.collectors.probe --in-cluster

Prints the "Test connection" report; ``--scan`` also collects everything and
runs the checks. The exit status is 0 when the cluster was read, 1 when not.
"""

import argparse
import logging
import sys
from pathlib import Path

from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.live import collect_with_details, connection_from
from posture.scanning.collectors.live import test_connection as check_access


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _read(path: str | None) -> str:
    return Path(path).read_text() if path else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posture.scanning.collectors.probe", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--kubeconfig", metavar="FILE")
    mode.add_argument("--api-url", metavar="URL")
    mode.add_argument("--in-cluster", action="store_true")
    parser.add_argument("--context", default="", help="kubeconfig context (default: its current-context)")
    parser.add_argument("--token-file", metavar="FILE", help="bearer token, with --api-url")
    parser.add_argument("--ca-file", metavar="FILE", help="CA bundle (PEM), with --api-url")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    parser.add_argument("--scan", action="store_true", help="collect everything and run the checks")
    parser.add_argument("--verbose", action="store_true", help="log each request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )

    try:
        if args.kubeconfig:
            connection = connection_from(
                "kubeconfig", credentials=_read(args.kubeconfig), kube_context=args.context
            )
        elif args.api_url:
            connection = connection_from(
                "token",
                api_url=args.api_url,
                credentials=_read(args.token_file),
                ca_bundle=_read(args.ca_file),
            )
        else:
            connection = connection_from("in_cluster")
    except (CollectionError, OSError) as exc:
        _out(f"cannot use these settings: {exc}")
        return 1

    report = check_access(connection, request_timeout=args.timeout)
    _out(f"API server  {report.api_url} ({connection.description}, {connection.auth_method})")
    for warning in report.warnings:
        _out(f"warning     {warning}")
    if not report.ok:
        _out(f"FAILED      {report.error}")
        return 1
    _out(f"version     {report.server_version or 'unknown'}")
    # A secret manager is named once one of its kinds was read; on a slow server they may be left.
    unknown = "not known: the test stopped before trying them all" if report.not_tried else "none detected"
    managers = ", ".join(report.secret_managers.values()) or unknown
    _out(f"secrets     managed by: {managers}")
    for access in report.resources:
        if access.status != "not_installed":
            label = f"{access.group}/{access.plural}" if access.group else access.plural
            _out(f"  {access.status:<10} {label:<45} {access.reason}")
    if not args.scan:
        return 0

    try:
        result = collect_with_details(connection, request_timeout=max(args.timeout, 30.0))
    except CollectionError as exc:
        _out(f"FAILED      {exc}")
        return 1
    inventory = result.inventory
    _out()
    _out(f"collected   {len(inventory)} objects in {result.seconds:.2f} s ({result.requests} requests)")
    for kind, count in inventory.counts_by_kind().items():
        _out(f"  {count:>7}  {kind}")
    for kind, reason in inventory.coverage_gaps.items():
        _out(f"  not read  {kind}: {reason}")
    from posture.scanning import engine

    results = engine.run(inventory)
    by_severity: dict[str, int] = {}
    for finding in results.findings:
        by_severity[str(finding.severity)] = by_severity.get(str(finding.severity), 0) + 1
    _out(
        f"findings    {len(results.findings)} " + " ".join(f"{k}={v}" for k, v in sorted(by_severity.items()))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
