class CollectionError(Exception):
    """The cluster could not be read at all. The message is one line for the user;
    details go to the logs where the error is raised."""

    transient = False


class TransientCollectionError(CollectionError):
    """Worth another try shortly: connection refused or reset, a timeout, a 5xx from the API server."""

    transient = True
