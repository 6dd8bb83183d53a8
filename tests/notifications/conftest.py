from tests.webhooks import receiver, slack, webhook  # noqa: F401 - fixtures
