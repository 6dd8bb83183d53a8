"""Clusters, scans and the scan engine.

The Celery app is loaded by the app config (Django processes) and by
``celery -A posture`` (workers), not here: the scan engine and the
``scan_manifests`` command import this package and must not pay for Celery.
"""
